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
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.db import Database

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
def server(*, durable: bool = False) -> Iterator[str]:
    """The URL of a server (without a database name) for the whole test session. Not `durable` (the tests):
    nothing is synced to disk, which a throwaway cluster does not need; durable (a bench): the defaults."""
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
        options = f"-p {port} -k {sock} -h 127.0.0.1 -c max_connections=200 -c shared_buffers=32MB"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
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


class PostgresForTests:
    """A server with a migrated template: each test gets its own database, copied from it (fast)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._made = 0
        self._template_ready = False
        self.TEMPLATE = f"congdoan_template_{os.getpid()}"  # one per session: a shared server may run several

    def close(self) -> None:
        """Drop the template (the per-test databases are dropped after each test)."""
        if self._template_ready:
            self._admin(f"DROP DATABASE IF EXISTS {self.TEMPLATE} WITH (FORCE)")
            self._template_ready = False

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    async def _prepare_template(self) -> None:
        from storage.migrations import migrate
        from storage.pg import PostgresDatabase

        self._admin(f"DROP DATABASE IF EXISTS {self.TEMPLATE}")
        self._admin(f"CREATE DATABASE {self.TEMPLATE} TEMPLATE template0")
        template = await PostgresDatabase.connect(f"{self.url}/{self.TEMPLATE}", pool_size=1)
        try:
            await migrate(template)
        finally:
            await template.close()
        self._template_ready = True

    @asynccontextmanager
    async def database(self, *, migrated: bool) -> AsyncIterator[Database]:
        from storage.pg import PostgresDatabase

        if migrated and not self._template_ready:
            await self._prepare_template()
        async with self._new(self.TEMPLATE if migrated else "template0") as url:
            db = await PostgresDatabase.connect(url, pool_size=4)
            try:
                yield db
            finally:
                await db.close()

    @asynccontextmanager
    async def empty_database_url(self) -> AsyncIterator[str]:
        """The URL of a new empty database, for code that opens its own (prepare(), the command line)."""
        async with self._new("template0") as url:
            yield url

    @asynccontextmanager
    async def _new(self, template: str) -> AsyncIterator[str]:
        self._made += 1
        name = f"t{os.getpid()}_{self._made}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {template}")
        try:
            yield f"{self.url}/{name}"
        finally:
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
