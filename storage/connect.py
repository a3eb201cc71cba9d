"""Open the database a URL names: `sqlite:///path` (the embedded default) or `postgresql://user@host:port/db`.

The password of a server never sits in a URL (a config file is read by many, and ends up in backups): it comes
from BOT_DB_PASSWORD, or from what libpq reads itself (PGPASSWORD, ~/.pgpass).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from bot.errors import N_, TranslatableError
from storage.db import DEFAULT_SYNCHRONOUS, Database

PASSWORD_ENV = "BOT_DB_PASSWORD"  # noqa: S105 - a variable name, not a secret
SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")


class StorageUrlError(TranslatableError):
    """A database URL that cannot be used; the message says what is expected."""


def sqlite_path(url: str, base_dir: Path | None = None) -> Path | None:
    """The file of a sqlite:/// URL (relative to base_dir; sqlite:////abs/path is absolute), else None."""
    if not url.startswith(SQLITE_PREFIX):
        return None
    rest = url[len(SQLITE_PREFIX):]
    if not rest:
        raise StorageUrlError(N_("{url}: the SQLite URL names no file; expected e.g. sqlite:///data/congdoan.sqlite3"),
                              url=url)
    path = Path(rest)
    return path if path.is_absolute() or base_dir is None else base_dir / path


def check_url(url: str) -> str:
    """The URL if usable: sqlite:///… or postgresql://user@host[:port]/database without a password."""
    if url.startswith(SQLITE_PREFIX):
        sqlite_path(url)
        return url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in POSTGRES_SCHEMES or not parts.path.strip("/"):
        raise StorageUrlError(N_("{url}: expected sqlite:///path/to/file.sqlite3 or "
                                 "postgresql://user@host:5432/database"), url=redact(url))
    if parts.password is not None:
        raise StorageUrlError(N_("The database URL contains a password. Remove it from the URL and put it in the "
                                 "environment variable {variable} (or PGPASSWORD) instead."), variable=PASSWORD_ENV)
    return url


def redact(url: str) -> str:
    """The URL as it may be shown: any password replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unreadable URL)"
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


async def open_url(url: str, *, base_dir: Path | None = None, busy_timeout_ms: int = 5000,
                   synchronous: str = DEFAULT_SYNCHRONOUS, pool_size: int = 10,
                   environ: Mapping[str, str] | None = None) -> Database:
    """The database of `url`, opened (not migrated: storage.migrations.migrate does that)."""
    environ = os.environ if environ is None else environ
    check_url(url)
    path = sqlite_path(url, base_dir)
    if path is not None:
        return await Database.open(path, busy_timeout_ms, synchronous)
    import psycopg  # loaded only for a server

    from storage.pg import PostgresDatabase

    conninfo = "postgresql" + url[url.index("://"):]
    try:
        return await PostgresDatabase.connect(conninfo, password=environ.get(PASSWORD_ENV) or None,
                                              pool_size=pool_size, display_url=url)
    except psycopg.Error as exc:  # told in the reader's language, with the server's reason
        raise StorageUrlError(N_("Cannot open the database {url}: {reason}"), url=redact(url),
                              reason=str(exc).strip()) from exc
