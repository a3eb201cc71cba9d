from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import drafts as draft_store
from storage.db import Database, Write
from storage.migrations import MIGRATIONS, Migration, MigrationError, applied_migrations, migrate


async def tables(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r["name"] for r in rows}


async def test_migrations_create_the_schema_once(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "a.sqlite3") as db:
        assert await migrate(db) == [m.name for m in MIGRATIONS]
        assert await migrate(db) == []  # the second run is a no-op
        assert await applied_migrations(db) == [m.name for m in MIGRATIONS]
        expected = {"units", "people", "identities", "memberships", "invites", "campaigns", "periods", "drafts",
                    "submissions", "submission_revisions", "answers", "attachments", "outbox",
                    "processed_updates", "audit_log", "schema_migrations"}
        assert expected <= await tables(db)


async def test_a_failing_migration_rolls_back_whole(tmp_path: Path) -> None:
    broken = Migration("0099_broken", ("CREATE TABLE half_done (id INTEGER PRIMARY KEY)", "CREATE TABLE oops ("))
    async with await Database.open(tmp_path / "b.sqlite3") as db:
        await migrate(db)
        with pytest.raises(MigrationError, match="0099_broken failed and was rolled back"):
            await migrate(db, (*MIGRATIONS, broken))
        assert "half_done" not in await tables(db)
        assert "0099_broken" not in await applied_migrations(db)
        # A fixed step applies afterwards.
        fixed = Migration("0099_broken", ("CREATE TABLE half_done (id INTEGER PRIMARY KEY)",))
        assert await migrate(db, (*MIGRATIONS, fixed)) == ["0099_broken"]


async def test_connection_settings(db: Database) -> None:
    assert await db.fetchval("PRAGMA journal_mode") == "wal"
    assert await db.fetchval("PRAGMA foreign_keys") == 1
    assert await db.fetchval("PRAGMA busy_timeout") == 5000


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO units(code, name, kind, parent_id, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                ("X", "X", "upper", 999, "2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00+00:00"),
            )


async def insert_then_fail(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO units(code, name, kind, created_at, updated_at) VALUES ('P', 'P', 'province', 'a', 'a')"
        )
        raise RuntimeError("boom")


async def test_a_transaction_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        await insert_then_fail(db)
    assert await db.fetchval("SELECT count(*) FROM units") == 0


async def test_backup_is_a_consistent_copy_taken_while_open(db: Database, tmp_path: Path) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO units(code, name, kind, created_at, updated_at) VALUES ('P', 'Tỉnh', 'province', 'a', 'a')"
        )
    target = tmp_path / "backup" / "copy.sqlite3"
    await db.backup_to(target)
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("SELECT name FROM units").fetchall() == [("Tỉnh",)]
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        copy.close()


# --- one-trip write batches (the dialog's save after every step) ---------------------------------

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
ADD_UNIT = "INSERT INTO units(code, name, kind, created_at, updated_at) VALUES (?, ?, 'province', 'a', 'a')"


async def unit_codes(db: Database) -> list[str]:
    return [r["code"] for r in await db.fetchall("SELECT code FROM units ORDER BY code")]


async def test_a_write_batch_commits_all_of_its_statements(db: Database) -> None:
    await db.write([Write(ADD_UNIT, ("A", "A")), Write(ADD_UNIT, ("B", "B"))])
    assert await unit_codes(db) == ["A", "B"]


async def test_a_refused_write_rolls_back_the_whole_batch(db: Database) -> None:
    class RefusedError(Exception):
        pass

    nothing = Write("UPDATE units SET name = 'x' WHERE code = 'none'", refusal=RefusedError("no such unit"))
    with pytest.raises(RefusedError, match="no such unit"):
        await db.write([Write(ADD_UNIT, ("A", "A")), nothing, Write(ADD_UNIT, ("B", "B"))])
    assert await unit_codes(db) == []
    # A statement that changes nothing without a refusal is fine.
    await db.write([Write(ADD_UNIT, ("C", "C")), Write("UPDATE units SET name = 'x' WHERE code = 'none'")])
    assert await unit_codes(db) == ["C"]


async def test_a_failing_statement_rolls_back_the_batch_and_the_database_stays_usable(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await db.write([Write(ADD_UNIT, ("A", "A")), Write(ADD_UNIT, ("A", "again"))])  # code is unique
    assert await unit_codes(db) == []
    async with db.transaction() as tx:
        await tx.execute(ADD_UNIT, ("B", "B"))
    assert await unit_codes(db) == ["B"]


async def test_a_cancelled_write_is_all_or_nothing_and_later_writes_follow_it(db: Database) -> None:
    task = asyncio.create_task(db.write([Write(ADD_UNIT, ("A", "A")), Write(ADD_UNIT, ("B", "B"))]))
    await asyncio.sleep(0)  # let it queue its batch on the database thread
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await db.write([Write(ADD_UNIT, ("C", "C"))])
    assert await unit_codes(db) in (["A", "B", "C"], ["C"])
    assert await db.fetchval("SELECT count(*) FROM units WHERE code IN ('A', 'B')") in (0, 2)


async def test_a_draft_save_is_refused_when_stale_and_an_update_is_marked_once(db: Database) -> None:
    person_id = 1
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO people(id, full_name, created_at) VALUES (?, 'Lan', 'a')", (person_id,))

    def save(version: int, state: dict[str, str]) -> Write:
        return draft_store.state_save(person_id=person_id, expected_version=version, state=state, unit_id=None,
                                      period_id=None, step=1, steps_total=15, now=NOW)

    await db.write([draft_store.update_mark("telegram", "u1", NOW), save(0, {"at": "q1"})])
    with pytest.raises(draft_store.StaleVersionError):  # someone else created the draft first
        await db.write([draft_store.update_mark("telegram", "u2", NOW), save(0, {"at": "other"})])
    assert not await draft_store.seen(db, "telegram", "u2")  # the refused batch left no mark either
    with pytest.raises(draft_store.DuplicateUpdateError):  # the same update again
        await db.write([draft_store.update_mark("telegram", "u1", NOW), save(1, {"at": "again"})])
    await db.write([draft_store.update_mark("telegram", "u3", NOW), save(1, {"at": "q2"})])
    draft = await draft_store.load(db, person_id)
    assert draft is not None
    assert (draft.version, draft.state) == (2, {"at": "q2"})
