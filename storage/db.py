"""One SQLite database, one connection, one writer at a time.

WAL lets a backup or a second reader run beside the bot; foreign keys are enforced; a busy
timeout absorbs a concurrent CLI write. All statements of this process go through one aiosqlite
connection guarded by a lock, so a transaction never interleaves with another coroutine's work.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

# A receipt promises that the report is kept. In WAL mode NORMAL syncs the log only at checkpoints, which survives
# a killed process but not a power cut: the last commits could vanish. FULL syncs the log at every commit. Ordinary
# commits (a dialog step's draft) run at NORMAL; a transaction opened with durable=True (the one before a receipt)
# runs at FULL, and its sync of the log also makes every earlier commit in the log durable.
SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")  # PRAGMA synchronous reads back their index
DEFAULT_SYNCHRONOUS = "NORMAL"
T = TypeVar("T")


def _synchronous_level(level: str) -> str:
    if level not in SYNCHRONOUS_LEVELS[1:]:
        raise ValueError(f"synchronous={level!r}: expected NORMAL, FULL or EXTRA")
    return level


@dataclass(frozen=True, slots=True)
class Write:
    """One write statement of a batch. `refusal`, when set, is raised (after the whole batch is rolled
    back) if the statement changes no row: a version check or a first-time mark that did not hold."""

    sql: str
    params: Sequence[Any] = ()
    refusal: Exception | None = None


def _write_batch(conn: sqlite3.Connection, *, writes: Sequence[Write]) -> Exception | None:
    # Runs on the database thread: BEGIN, the statements and COMMIT without a trip back in between.
    if conn.in_transaction:  # left open by an interrupted transaction(): start clean
        conn.execute("ROLLBACK")
    if len(writes) == 1:
        # One statement is atomic on its own in autocommit mode, and a refused one changed nothing: BEGIN and
        # COMMIT would only add their cost (a third of a lone outbox update's).
        w = writes[0]
        return w.refusal if conn.execute(w.sql, w.params).rowcount == 0 and w.refusal is not None else None
    conn.execute("BEGIN IMMEDIATE")
    try:
        for w in writes:
            if conn.execute(w.sql, w.params).rowcount == 0 and w.refusal is not None:
                conn.execute("ROLLBACK")
                return w.refusal
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return None


async def on_database_thread(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn(the sqlite3 connection)` on aiosqlite's thread, in the queue every execute goes through: the
    one place this project uses aiosqlite's private API (`_execute`, `_conn`), hence the `<1` pin.

    Why: a batch of writes (BEGIN, the statements with their refusal checks, COMMIT) in one trip to the database
    thread. The public API would take one trip per statement plus two (a dialog step's save: six instead of
    one), and each trip costs about as much as the statement itself. tests/test_storage.py fails loudly if a
    new aiosqlite changes either name."""
    return await conn._execute(fn, conn._conn)


class _Reads:
    """fetchone and fetchval, written once over each class's own fetchall."""

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class Database(_Reads):
    """SQLite; storage/pg.py has the PostgreSQL one with the same API. `dialect` lets a repository choose a
    statement where the two cannot share one (e.g. FOR UPDATE SKIP LOCKED, advisory locks)."""

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self._in_tx: asyncio.Task[Any] | None = None
        self._level = DEFAULT_SYNCHRONOUS  # of ordinary commits; a durable transaction raises it to FULL

    @classmethod
    async def open(cls, path: Path, busy_timeout_ms: int = 5000, synchronous: str = DEFAULT_SYNCHRONOUS) -> Database:
        """`synchronous` is the level of ordinary commits; durable transactions are always FULL. FULL everywhere
        is for measuring what that would cost (bench/dialog.py)."""
        level = _synchronous_level(synchronous)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)  # explicit BEGIN/COMMIT only
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute(f"PRAGMA synchronous = {level}")
        await conn.execute("PRAGMA foreign_keys = ON")
        db = cls(conn, path)
        db._level = level
        return db

    @property
    def integrity_error(self) -> type[Exception]:
        """The driver's exception for a broken constraint (unique, foreign key, check)."""
        return sqlite3.IntegrityError

    async def close(self) -> None:
        await self._conn.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self, *, durable: bool = False) -> AsyncIterator[Transaction]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception (a failing COMMIT included).

        `durable=True`: the COMMIT is synced to disk before this returns (synchronous = FULL for this transaction;
        SQLite reads the level at COMMIT and cannot change it inside a transaction, so it is set before BEGIN and
        put back after). Use it for a commit the bot then promises, such as the one before a receipt.

        Not re-entrant: inside it, use the Transaction's own methods; another write() or transaction() from
        the same task raises RuntimeError instead of waiting for itself forever."""
        self._refuse_nested("transaction()")
        raise_level = durable and SYNCHRONOUS_LEVELS.index(self._level) < SYNCHRONOUS_LEVELS.index("FULL")
        async with self._lock:
            self._in_tx = asyncio.current_task()
            try:
                # Left inside a transaction by an earlier BEGIN or COMMIT that did not finish its own cleanup:
                # start from a clean connection rather than fail on "cannot start a transaction within a transaction".
                if self._conn.in_transaction:
                    await asyncio.shield(self._rollback())
                if raise_level:
                    await asyncio.shield(self._conn.execute("PRAGMA synchronous = FULL"))
                # A task cancelled while BEGIN is queued in aiosqlite's thread must still roll back once BEGIN has
                # run, or the one connection would stay inside a transaction for everyone after it.
                begin = asyncio.ensure_future(self._begin())
                try:
                    await asyncio.shield(begin)
                    yield Transaction(self._conn)
                except BaseException:
                    await self._settle(begin)
                    raise
                # COMMIT can fail (SQLITE_BUSY, a deferred constraint) or be cancelled while queued: either way the
                # transaction must not stay open on the shared connection.
                commit = asyncio.ensure_future(self._commit())
                try:
                    await asyncio.shield(commit)
                except BaseException:
                    await self._settle(commit)
                    raise
            finally:
                if raise_level:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(self._conn.execute(f"PRAGMA synchronous = {self._level}"))
                self._in_tx = None

    async def _settle(self, step: asyncio.Future[None]) -> None:
        """After a failure or a cancellation: let the queued BEGIN/COMMIT finish, then roll back if still open."""
        if not step.done():
            with contextlib.suppress(BaseException):
                await step
        if self._conn.in_transaction:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._rollback())

    def _refuse_nested(self, what: str) -> None:
        if self._in_tx is not None and self._in_tx is asyncio.current_task():
            raise RuntimeError(
                f"Database.{what} called inside this task's own transaction(): it would wait for the lock that "
                "transaction holds, forever. Use the Transaction's methods (execute, apply, ...) instead."
            )

    async def write(self, writes: Sequence[Write]) -> None:
        """Run the statements in one transaction and one trip to the database thread: a dialog step's
        save is four statements, and each trip costs about as much as the statement itself. One statement
        is fine too.

        Not for use inside transaction() (use Transaction.apply there): that raises RuntimeError. A task
        cancelled while the batch runs does not undo it: the batch commits or rolls back as a whole on the
        database thread, and anything queued after it runs after it."""
        self._refuse_nested("write()")
        async with self._lock:
            # aiosqlite's own queue (the one every execute goes through) runs the function on its thread.
            refusal = await on_database_thread(self._conn, partial(_write_batch, writes=writes))
        if refusal is not None:
            raise refusal

    async def _begin(self) -> None:
        await self._conn.execute("BEGIN IMMEDIATE")

    async def _commit(self) -> None:
        await self._conn.execute("COMMIT")

    async def _rollback(self) -> None:
        await self._conn.execute("ROLLBACK")

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        # execute_fetchall is one trip to the database thread; a cursor takes three.
        async with self._reading():
            return list(await self._conn.execute_fetchall(sql, params))

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[None]:
        # Inside our own transaction the lock is already held by this task.
        if self._in_tx is not None and self._in_tx is asyncio.current_task():
            yield
            return
        async with self._lock:
            yield

    async def synchronous(self) -> str:
        """The durability level in force on the connection: NORMAL, FULL..."""
        return SYNCHRONOUS_LEVELS[int(await self.fetchval("PRAGMA synchronous"))]

    async def set_synchronous(self, level: str) -> None:
        """Change the level of ordinary commits (SQLite ignores it inside a transaction, so not there)."""
        self._refuse_nested("set_synchronous()")
        level = _synchronous_level(level)
        async with self._lock:
            await self._conn.execute(f"PRAGMA synchronous = {level}")
            self._level = level

    async def backup_to(self, target: Path) -> None:
        """A consistent copy through SQLite's online backup, while the bot keeps running."""
        target.parent.mkdir(parents=True, exist_ok=True)
        self._refuse_nested("backup_to()")
        async with self._lock:
            dest = sqlite3.connect(target, check_same_thread=False)
            try:
                await self._conn.backup(dest)
            finally:
                dest.close()


class Transaction(_Reads):
    """The statements of one transaction; obtained from Database.transaction()."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    # A write statement's cursor is left to the garbage collector, as aiosqlite's own execute_fetchall
    # does: closing it explicitly would cost a second trip to the database thread for nothing.

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return lastrowid (for INSERT)."""
        cur = await self._conn.execute(sql, params)
        return cur.lastrowid or 0

    async def execute_rowcount(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = await self._conn.execute(sql, params)
        return cur.rowcount

    async def apply(self, write: Write) -> None:
        """A Write inside this transaction; its refusal is raised (the transaction then rolls back)."""
        if await self.execute_rowcount(write.sql, write.params) == 0 and write.refusal is not None:
            raise write.refusal

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run the statement once per row; return how many rows it changed in all (an ignored insert: none)."""
        cur = await self._conn.executemany(sql, rows)
        return max(cur.rowcount, 0)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql, params))  # one trip; a cursor takes three
