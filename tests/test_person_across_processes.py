"""Two bot processes on one database, each handling an update of the same person at the same moment: both
updates are applied, each exactly once, one after the other (the second on the state the first left), and a
re-delivery of either to either process does nothing. On SQLite the step's one write transaction and its
version check serialise them; on PostgreSQL an advisory lock keyed by the person is held around the step too
(storage/locks.py), shown here on a real server with a second pool as the other process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from bot.conversation import Conversation
from bot.dialog.model import TextInput
from storage import leases, locks, outbox
from storage import people as people_store
from storage.db import Database
from storage.pg import PostgresDatabase
from tests import conftest
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


@pytest.fixture
async def pg(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[PostgresDatabase]:
    """A migrated PostgreSQL database (the advisory locks are PostgreSQL's own), or the suite's skip reason."""
    async for database in conftest._open("postgresql", tmp_path, conftest._server(request), migrated=True):
        yield cast(PostgresDatabase, database)


@asynccontextmanager
async def another_process(pg: PostgresDatabase, pool_size: int = 4) -> AsyncIterator[PostgresDatabase]:
    """A second pool on the same database, as another bot process has."""
    other = await PostgresDatabase.connect(pg.url, pool_size=pool_size)
    try:
        yield other
    finally:
        await other.close()


async def test_on_postgresql_the_persons_advisory_lock_is_held_for_the_whole_step(pg: PostgresDatabase) -> None:
    events: list[str] = []
    async with another_process(pg) as other:
        async def second_process_step(key: tuple[str, int], name: str) -> None:
            async with locks.person_step(other, key):
                events.append(name)

        async with locks.person_step(pg, ("person", 42)):
            same = asyncio.create_task(second_process_step(("person", 42), "same person"))
            await asyncio.wait_for(second_process_step(("person", 43), "other person"), 10)
            await asyncio.sleep(0.3)
            assert not same.done()  # waits for the first step's end
            events.append("first step ends")
        await asyncio.wait_for(same, 10)
    assert events == ["other person", "first step ends", "same person"]
    assert locks.lock_number(("person", 42)) != locks.lock_number(("person", 43))
    assert -2**63 <= locks.lock_number(("person", 42)) < 2**63


async def test_a_step_holding_the_persons_lock_runs_its_own_transaction_and_others_go_on(
        pg: PostgresDatabase) -> None:
    """A submission or a registration ends its step in a transaction(): the person's lock must not hold the
    database-wide transaction lock, or the step waits for itself and every process's transactions wait too."""
    now = datetime.now(UTC)
    async with another_process(pg) as other, locks.person_step(pg, ("person", 7)):
        async with asyncio.timeout(10):
            async with pg.transaction() as tx:  # this step's own transaction
                await tx.execute("INSERT INTO leases(name, owner, expires_at, acquired_at) VALUES (?,?,?,?)",
                                 ("step", "p", "9999", "0000"))
            # Another process's claim and role renewal go on while the step holds its person.
            assert (await leases.acquire(other, "sender", "other", now, timedelta(seconds=6))).held
            assert await outbox.claim(other, now, 10, owner="other") == []
    assert await pg.fetchval("SELECT count(*) FROM leases") == 2


async def test_more_steps_at_once_than_the_pool_has_connections_all_finish(pg: PostgresDatabase) -> None:
    """Each held person lock keeps a pooled connection: the steps' own reads and transactions must still find
    one when more people write at once than the pool has connections."""
    now = datetime.now(UTC)
    async with another_process(pg, pool_size=2) as small:
        async def step(person: int) -> None:
            async with locks.person_step(small, ("person", person)):
                await small.fetchval("SELECT count(*) FROM leases")
                await leases.acquire(small, f"role-{person}", f"p{person}", now, timedelta(seconds=6))

        async with asyncio.timeout(20):
            await asyncio.gather(*(step(p) for p in range(8)))
    assert await pg.fetchval("SELECT count(*) FROM leases") == 8


@pytest.mark.sqlite_only("looks at the SQLite connection's own transaction state")
async def test_on_sqlite_no_lock_is_taken_the_write_transaction_serialises(db: Database) -> None:
    async with locks.person_step(db, ("person", 1)):
        assert not db._conn.in_transaction  # nothing held open across the step
