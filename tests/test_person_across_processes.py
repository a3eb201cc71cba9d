"""Two bot processes on one database, each handling an update of the same person at the same moment: both
updates are applied, each exactly once, one after the other (the second on the state the first left), and a
re-delivery of either to either process does nothing. On SQLite the step's one write transaction and its
version check serialise them; on PostgreSQL an advisory lock keyed by the person is held around the step too
(storage/locks.py), shown here on a real server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.conversation import Conversation
from bot.dialog.model import TextInput
from storage import locks
from storage import people as people_store
from storage.db import Database
from tests.conftest import VN
from tests.test_conversation import World
from tests.test_one_person_racing import CHAIR, assert_applied_once_each, draft_version, open_report


async def test_two_processes_on_one_database_file_apply_one_persons_two_updates_once_each_in_turn(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    await open_report(world.conv, CHAIR)
    before = await draft_version(world.db, CHAIR)
    second_db = await Database.open(world.db.path)  # the other process's own connection to the file
    try:
        other = Conversation(second_db, world.clock, VN, world.config.locales_dir)
        # Both processes read the person's state before either writes: the race at its worst.
        both_read = asyncio.Barrier(2)
        original = people_store.turn_context
        first_reads: set[int] = set()

        async def read_then_meet(db: Any, *args: Any, **kw: Any) -> Any:
            context = await original(db, *args, **kw)
            if id(db) not in first_reads:
                first_reads.add(id(db))
                await both_read.wait()
            return context

        monkeypatch.setattr(people_store, "turn_context", read_then_meet)
        sent = [(CHAIR, "upd-1", "5"), (CHAIR, "upd-2", "40")]
        responses = await asyncio.gather(world.conv.handle(CHAIR, TextInput("5"), update_key="upd-1"),
                                         other.handle(CHAIR, TextInput("40"), update_key="upd-2"))
        monkeypatch.setattr(people_store, "turn_context", original)
        assert first_reads == {id(world.db), id(second_db)}  # each process did read the old state
        # Re-delivered, to the other process each: nothing happens twice.
        again = await asyncio.gather(other.handle(CHAIR, TextInput("5"), update_key="upd-1"),
                                     world.conv.handle(CHAIR, TextInput("40"), update_key="upd-2"))
        assert all(r.duplicate for r in again)
        await assert_applied_once_each(world, list(responses), sent, before)
    finally:
        await second_db.close()


async def test_a_persons_step_lock_lets_the_step_run_its_own_transactions_and_makes_the_other_wait(
        db: Database) -> None:
    """On PostgreSQL the lock is real (two steps of one person take turns) and the step inside it can write: a lock
    taken inside transaction() made the step's own transaction wait for it forever. On SQLite it takes nothing."""
    order: list[str] = []
    first_in = asyncio.Event()

    async def step(name: str, write: bool) -> None:
        async with locks.person_step(db, ("person", 42)):
            order.append(f"{name} in")
            first_in.set()
            if write:
                async with db.transaction() as tx:  # the step's own transaction, as write_turn's
                    await tx.execute("INSERT INTO leases(name, owner, expires_at, acquired_at) VALUES (?, ?, ?, ?)",
                                     (name, name, "2030-01-01", "2030-01-01"))
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    first = asyncio.create_task(step("a", write=True))
    await asyncio.wait_for(first_in.wait(), timeout=10)
    await asyncio.wait_for(asyncio.gather(first, step("b", write=False)), timeout=20)
    assert await db.fetchval("SELECT count(*) FROM leases WHERE name = 'a'") == 1
    if db.dialect == "postgresql":
        assert order == ["a in", "a out", "b in", "b out"]  # one person's steps take turns across connections


async def test_different_people_hold_different_locks() -> None:
    assert locks.lock_number(("person", 42)) != locks.lock_number(("person", 43))
    number = locks.lock_number(("person", 42))
    assert -2**63 <= number < 2**63


@pytest.mark.sqlite_only("looks at the SQLite connection's own transaction state")
async def test_on_sqlite_no_lock_is_taken_the_write_transaction_serialises(db: Database) -> None:
    async with locks.person_step(db, ("person", 1)):
        assert not db._conn.in_transaction  # nothing held open across the step
