"""A lock on one person's dialog step shared by every process on the database.

SQLite: nothing to take. Every process's step ends in one write transaction with a version check (the draft's
version and the update's key), and SQLite runs one write transaction at a time: a step that lost the race is
refused whole and worked out again on the newer state (bot/conversation/core.py), so each update is applied
exactly once, one after the other.

PostgreSQL: the same check holds, and a transaction-scoped advisory lock keyed by the person is held for the
whole step, so that processes take turns instead of computing a step only to have it refused. The lock is
held on a connection of its own (PostgresDatabase.advisory_lock, a pool of lock connections) while the step's
own reads and transactions use the main pool: had it been taken inside transaction(), the step's own
transaction would wait for the database-wide transaction lock that one holds, forever. It is released by that
transaction's end, even if the process dies.
"""

from __future__ import annotations

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
    async with db.advisory_lock(lock_number(key)):  # type: ignore[attr-defined]
        yield
