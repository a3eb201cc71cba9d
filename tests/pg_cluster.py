"""A throwaway PostgreSQL server for the tests: TEST_POSTGRES_URL when set, else a cluster started from the
PostgreSQL 15 binaries in a temporary folder (initdb + pg_ctl, trust authentication, a unix socket and
127.0.0.1 on a free port) and removed at the end. PostgreSQL refuses to run as root: as root the server runs
as the `postgres` user (or `nobody`)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path(os.environ.get("TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
URL_ENV = "TEST_POSTGRES_URL"


class PostgresUnavailableError(Exception):
    """No PostgreSQL for the tests; the message says why."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> tuple[list[str], int | None, int | None]:
    """The command prefix, uid and gid to run the server with: itself unless root."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", "--"], \
            entry.pw_uid, entry.pw_gid
    raise PostgresUnavailableError("running as root and there is neither a postgres nor a nobody user to run PostgreSQL as")


@contextmanager
def server() -> Iterator[str]:
    """The URL of a server (without a database name) for the whole test session."""
    if os.environ.get(URL_ENV):
        yield os.environ[URL_ENV].rstrip("/").rsplit("/", 1)[0] if _has_database(os.environ[URL_ENV]) \
            else os.environ[URL_ENV].rstrip("/")
        return
    if not (PG_BIN / "initdb").exists():
        raise PostgresUnavailableError(f"no {URL_ENV} and no PostgreSQL 15 binaries in {PG_BIN} (apt-get install postgresql-15)")
    prefix, uid, gid = _run_as()
    root = Path(tempfile.mkdtemp(prefix="pgtest-"))
    try:
        data, sock = root / "data", root / "sock"
        data.mkdir()
        sock.mkdir()
        if uid is not None and gid is not None:
            for path in (root, data, sock):
                os.chown(path, uid, gid)
        # --locale=C: text sorts and compares byte by byte, as in SQLite.
        _call([*prefix, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
               "--locale=C", "--no-sync"])
        port = _free_port()
        options = (f"-p {port} -k {sock} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB")
        _call([*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w",
               "start"])
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}"
        finally:
            _call([*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _has_database(url: str) -> bool:
    rest = url.split("://", 1)[-1]
    return "/" in rest and bool(rest.split("/", 1)[1])


def _call(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/")
    if done.returncode != 0:
        raise PostgresUnavailableError(f"{Path(cmd[cmd.index('--') + 1] if '--' in cmd else cmd[0]).name} failed: "
                          f"{(done.stderr or done.stdout).strip()[-500:]}")
