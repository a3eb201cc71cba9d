"""A lock on one person's dialog step shared by every process on the database.

SQLite: nothing to take. Every process's step ends in one write transaction with a version check (the draft's
version and the update's key), and SQLite runs one write transaction at a time: a step that lost the race is
refused whole and worked out again on the newer state (bot/conversation/core.py), so each update is applied
exactly once, one after the other.

PostgreSQL: the same check holds, and a transaction-scoped advisory lock keyed by the person is held for the
whole step, so that processes take turns instead of computing a step only to have it refused. The lock is
taken on its own connection by a helper task that keeps the transaction open until the step ends (the step's
own reads and writes use the pool as usual); it is released by that transaction's end, even if the process
dies.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

from storage.db import Database


def lock_number(key: Hashable) -> int:
    """A stable signed 64-bit number for a lock key (PostgreSQL's advisory locks take a bigint)."""
    digest = hashlib.blake2b(repr(key).encode("utf-8"), digest_size=8, person=b"person-step").digest()
    return int.from_bytes(digest, "big", signed=True)


@asynccontextmanager
async def person_step(db: Database, key: Hashable) -> AsyncIterator[None]:
    """Hold the cross-process lock of `key` (a person, or an identity not yet linked) around one step."""
    if getattr(db, "dialect", "sqlite") != "postgresql":
        yield
        return
    taken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def hold() -> None:
        async with db.transaction() as tx:
            await tx.fetchall("SELECT pg_advisory_xact_lock(?)", (lock_number(key),))
            taken.set_result(None)
            await done.wait()  # the transaction's end releases the lock

    holder = asyncio.create_task(hold())
    try:
        await asyncio.wait({holder, taken}, return_when=asyncio.FIRST_COMPLETED)
        if not taken.done():
            await holder  # it failed before the lock was taken: its error is raised here
        yield
    finally:
        done.set()
        if not taken.done():
            holder.cancel()
        await asyncio.gather(holder, return_exceptions=True)
