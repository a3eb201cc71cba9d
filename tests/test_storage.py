from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.db import Database
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
