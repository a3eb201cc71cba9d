"""A lock on one person's dialog step shared by every process on the database.

SQLite: nothing to take. Every process's step ends in one write transaction with a version check (the draft's
version and the update's key), and SQLite runs one write transaction at a time: a step that lost the race is
refused whole and worked out again on the newer state (bot/conversation/core.py), so each update is applied
exactly once, one after the other.

PostgreSQL: the same check holds, and a transaction-scoped advisory lock keyed by the person is held for the
whole step, so that processes take turns instead of computing a step only to have it refused. The lock is
held on a pooled connection of its own (PostgresDatabase.advisory_lock), outside the database-wide lock of
transaction(): a step that ends in a transaction (a submission, a registration) runs it as usual, and other
people's steps and the sender's claims are not held up. It is released by that connection's transaction's
end, even if the process dies. No deadlock: a transaction never waits for a person's lock, and at most half
the pool holds person locks.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, cast

from storage.db import Database

if TYPE_CHECKING:
    from storage.pg import PostgresDatabase


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
    async with cast("PostgresDatabase", db).advisory_lock(lock_number(key)):
        yield
