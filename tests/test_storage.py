from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.campaigns import load_campaign_file
from bot.summary import rollup
from storage import audit, outbox
from storage import campaigns as campaign_store
from storage import drafts as draft_store
from storage import submissions as submission_store
from storage.db import Database, Write
from storage.migrations import MIGRATIONS, Migration, MigrationError, applied_migrations, migrate


async def tables(db: Database) -> set[str]:
    if db.dialect == "postgresql":
        rows = await db.fetchall("SELECT table_name AS name FROM information_schema.tables "
                                 "WHERE table_schema = current_schema()")
    else:
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r["name"] for r in rows}


async def test_migrations_create_the_schema_once(fresh_db: Database) -> None:
    async with fresh_db as db:
        assert await migrate(db) == [m.name for m in MIGRATIONS]
        assert await migrate(db) == []  # the second run is a no-op
        assert await applied_migrations(db) == [m.name for m in MIGRATIONS]
        expected = {"units", "people", "identities", "memberships", "invites", "campaigns", "periods", "drafts",
                    "submissions", "submission_revisions", "answers", "attachments", "outbox",
                    "processed_updates", "audit_log", "schema_migrations"}
        assert expected <= await tables(db)


async def test_a_failing_migration_rolls_back_whole(fresh_db: Database) -> None:
    broken = Migration("0099_broken", ("CREATE TABLE half_done (id INTEGER PRIMARY KEY)", "CREATE TABLE oops ("))
    async with fresh_db as db:
        await migrate(db)
        with pytest.raises(MigrationError, match="0099_broken failed and was rolled back"):
            await migrate(db, (*MIGRATIONS, broken))
        assert "half_done" not in await tables(db)
        assert "0099_broken" not in await applied_migrations(db)
        # A fixed step applies afterwards.
        fixed = Migration("0099_broken", ("CREATE TABLE half_done (id INTEGER PRIMARY KEY)",))
        assert await migrate(db, (*MIGRATIONS, fixed)) == ["0099_broken"]


@pytest.mark.sqlite_only("PRAGMAs are SQLite's")
async def test_connection_settings(db: Database) -> None:
    assert await db.fetchval("PRAGMA journal_mode") == "wal"
    assert await db.fetchval("PRAGMA foreign_keys") == 1
    assert await db.fetchval("PRAGMA busy_timeout") == 5000


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(db.integrity_error):
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


@pytest.mark.sqlite_only("SQLite's online backup; PostgreSQL is backed up with pg_dump")
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
    with pytest.raises(db.integrity_error):
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


# --- transaction(): left open, failing COMMIT, nested use ------------------------------------------

ADD_ORPHAN = (  # a unit whose parent does not exist: refused at COMMIT once foreign keys are deferred
    "INSERT INTO units(code, name, kind, parent_id, created_at, updated_at) VALUES ('O', 'O', 'upper', 999, 'a', 'a')"
)


@pytest.mark.sqlite_only("the one aiosqlite connection; PostgreSQL's pool hands out clean connections")
async def test_a_connection_left_inside_a_transaction_is_rolled_back_before_the_next_one(db: Database) -> None:
    # As an interrupted BEGIN or COMMIT leaves it: the lock free, the one connection still in a transaction.
    await db._conn.execute("BEGIN IMMEDIATE")
    await db._conn.execute(ADD_UNIT, ("STRAY", "stray"))
    async with db.transaction() as tx:
        await tx.execute(ADD_UNIT, ("A", "A"))
    assert await unit_codes(db) == ["A"]  # the stray write was rolled back, not committed with A
    await db._conn.execute("BEGIN IMMEDIATE")
    await db.write([Write(ADD_UNIT, ("B", "B"))])  # a write batch starts clean too
    assert await unit_codes(db) == ["A", "B"]


async def add_then_orphan_checked_at_commit(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("PRAGMA defer_foreign_keys = ON")  # the check moves to COMMIT
        await tx.execute(ADD_UNIT, ("A", "A"))
        await tx.execute(ADD_ORPHAN)


@pytest.mark.sqlite_only("PRAGMA defer_foreign_keys")
async def test_a_failing_commit_rolls_back_and_the_database_stays_usable(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await add_then_orphan_checked_at_commit(db)
    assert not db._conn.in_transaction
    assert await unit_codes(db) == []
    async with db.transaction() as tx:
        await tx.execute(ADD_UNIT, ("B", "B"))
    assert await unit_codes(db) == ["B"]


async def test_a_transaction_cancelled_while_its_begin_is_queued_leaves_the_connection_clean(db: Database) -> None:
    async def add(code: str) -> None:
        async with db.transaction() as tx:
            await tx.execute(ADD_UNIT, (code, code))

    task = asyncio.create_task(add("A"))
    await asyncio.sleep(0)  # now waiting for its BEGIN IMMEDIATE on the database thread
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    if db.dialect == "sqlite":
        assert not db._conn.in_transaction
    await add("B")
    assert await unit_codes(db) == ["B"]


async def test_a_write_or_transaction_inside_the_same_tasks_transaction_is_refused_not_a_deadlock(
        db: Database) -> None:
    async with asyncio.timeout(5):  # before: each of these waited for the lock its own transaction held
        async with db.transaction() as tx:
            await tx.execute(ADD_UNIT, ("A", "A"))
            with pytest.raises(RuntimeError, match=r"write\(\) called inside this task's own transaction"):
                await db.write([Write(ADD_UNIT, ("B", "B"))])
            with pytest.raises(RuntimeError, match=r"transaction\(\) called inside this task's own transaction"):
                async with db.transaction():
                    pass
            with pytest.raises(RuntimeError, match="own transaction"):
                await db.backup_to(Path("/nonexistent/never-written.sqlite3"))
            assert await db.fetchval("SELECT count(*) FROM units") == 1  # reads are fine
            await tx.execute(ADD_UNIT, ("C", "C"))  # and the transaction goes on
    assert await unit_codes(db) == ["A", "C"]


async def test_another_task_waits_for_the_transaction_instead_of_being_refused(db: Database) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with db.transaction() as tx:
            await tx.execute(ADD_UNIT, ("A", "A"))
            started.set()
            await release.wait()

    async def add_b() -> None:
        if db.dialect == "sqlite":  # one writer at a time: even a write batch waits
            await db.write([Write(ADD_UNIT, ("B", "B"))])
            return
        async with db.transaction() as tx:  # PostgreSQL serialises transactions; batches run beside them
            await tx.execute(ADD_UNIT, ("B", "B"))

    holder = asyncio.create_task(hold())
    await started.wait()
    writer = asyncio.create_task(add_b())
    await asyncio.sleep(0.05)
    assert not writer.done()
    release.set()
    await asyncio.gather(holder, writer)
    assert await unit_codes(db) == ["A", "B"]


# --- periods retired when their campaign file drops them -----------------------------------------


async def test_migration_0002_adds_retired_at_to_a_database_made_before_it(fresh_db: Database) -> None:
    async with fresh_db as db:
        assert await migrate(db, MIGRATIONS[:1]) == ["0001_initial_schema"]
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO campaigns(id, title, definition, sha256, loaded_at) "
                             "VALUES ('c', 'C', '{}', 'x', 'a')")
            await tx.execute("INSERT INTO periods(campaign_id, key, name, covers_start, covers_end, due_at, "
                             "closes_at, due_source) VALUES ('c', 'p', 'P', 'a', 'b', "
                             "'2024-08-05T00:00:00+00:00', '2024-09-04T00:00:00+00:00', 'plan')")
        assert await migrate(db, MIGRATIONS[:2]) == ["0002_retired_periods"]
        assert [p.key for p in await campaign_store.periods_of(db, "c")] == ["p"]  # existing periods stay live


async def test_a_period_lost_before_retiring_existed_is_retired_at_the_next_start(db: Database, repo: Path) -> None:
    loaded = load_campaign_file(repo / "campaigns" / "daklak-95-nam-cdvn-2024.toml")
    campaign, sha = loaded.campaign, loaded.sha256
    await campaign_store.sync_campaigns(db, [(campaign, sha, "f.toml")], actor="test", now=NOW)
    one = campaign.model_copy(update={"periods": campaign.periods[1:]})  # dot-1 dropped, sha unchanged
    async with db.transaction() as tx:  # as a database synced before 0002 holds it
        await tx.execute("UPDATE campaigns SET definition = ? WHERE id = ?", (one.model_dump_json(), campaign.id))
    result = await campaign_store.sync_campaigns(db, [(one, sha, "f.toml")], actor="test", now=NOW)
    assert (result.unchanged, result.retired) == ([campaign.id], [f"{campaign.id}/dot-1"])
    assert [p.key for p in await campaign_store.periods_of(db, campaign.id)] == ["dot-2"]
    again = await campaign_store.sync_campaigns(db, [(one, sha, "f.toml")], actor="test", now=NOW)
    assert again.retired == []  # retired once
    log = await audit.entries(db, "campaign", campaign.id)
    assert [e["action"] for e in log] == ["load", "retire_periods"]


async def test_a_single_statement_write_is_refused_or_committed_on_its_own(db: Database) -> None:
    class RefusedError(Exception):
        pass

    with pytest.raises(RefusedError):
        await db.write([Write("UPDATE units SET name = 'x' WHERE code = 'none'", refusal=RefusedError())])
    with pytest.raises(db.integrity_error):
        await db.write([Write(ADD_ORPHAN)])
    await db.write([Write(ADD_UNIT, ("A", "A"))])
    if db.dialect == "sqlite":
        assert not db._conn.in_transaction
    assert await unit_codes(db) == ["A"]


# --- the latest answers, read from the submission's JSON copy -------------------------------------


async def _tree_with_submissions(db: Database) -> tuple[int, dict[str, int]]:
    """A period still open at NOW (a revision after closing is refused: issue 15), the tree P > (A > A1, B) and X
    outside it, with a person to submit for them."""
    ids: dict[str, int] = {}
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO campaigns(id, title, definition, sha256, loaded_at) VALUES ('c', 'C', '{}', 'x', 'a')")
        period_id = await tx.execute(
            "INSERT INTO periods(campaign_id, key, name, covers_start, covers_end, due_at, closes_at, due_source) "
            "VALUES ('c', 'p', 'P', 'a', 'b', '2024-08-05T00:00:00+00:00', '2099-09-04T00:00:00+00:00', 'plan')")
        for code, kind, parent in (("P", "upper", None), ("A", "upper", "P"), ("A1", "public_agency", "A"),
                                   ("B", "enterprise_state", "P"), ("X", "enterprise_private", None)):
            ids[code] = await tx.execute(
                "INSERT INTO units(code, name, kind, parent_id, created_at, updated_at) VALUES (?, ?, ?, ?, 'a', 'a')",
                (code, code, kind, ids.get(parent or "")))
        ids["person"] = await tx.execute("INSERT INTO people(full_name, created_at) VALUES ('N', 'a')")
    return period_id, ids


async def _submit(db: Database, period_id: int, unit_id: int, person_id: int, answers: dict) -> int:
    async with db.transaction() as tx:
        row = await submission_store.record(tx, period_id=period_id, unit_id=unit_id, person_id=person_id,
                                            channel="telegram", answers=answers, now=NOW, late=False)
    return row.id


async def test_subtree_sums_add_the_latest_numeric_answers_below_the_unit(db: Database) -> None:
    period_id, ids = await _tree_with_submissions(db)
    first = await _submit(db, period_id, ids["A1"], ids["person"], {"n": 1})
    assert await _submit(db, period_id, ids["A1"], ids["person"],
                         {"n": 2, "d": "1.5", "flag": True, "text": "abc", "nan": "NaN"}) == first  # a revision
    await _submit(db, period_id, ids["B"], ids["person"], {"n": 3, "d": 2.25, "flag": 7})
    await _submit(db, period_id, ids["A"], ids["person"], {"text": "only words"})  # counted, adds nothing
    await _submit(db, period_id, ids["P"], ids["person"], {"n": 1000})  # the unit itself: left out
    await _submit(db, period_id, ids["X"], ids["person"], {"n": 100})  # outside the subtree
    fields = ["n", "d", "flag", "text", "nan", "absent"]
    assert await rollup.subtree_sums(db, period_id, ids["P"], fields) == (
        {"n": "5", "d": "3.75", "flag": "7"}, 3)
    assert await rollup.subtree_sums(db, period_id, ids["A"], fields) == ({"n": "2", "d": "1.5"}, 1)
    assert await rollup.subtree_sums(db, period_id, ids["B"], fields) == ({}, 0)
    assert await rollup.subtree_sums(db, period_id, ids["P"], []) == ({}, 0)
    assert await submission_store.latest_answers(db, first) == {
        "n": 2, "d": "1.5", "flag": True, "text": "abc", "nan": "NaN"}
    assert await submission_store.latest_answers(db, 999) == {}


async def test_outbox_add_counts_only_the_new_keys(db: Database) -> None:
    def item(key: str) -> outbox.OutboxItem:
        return outbox.OutboxItem(key, "manual", None, None, None, "telegram", "1", NOW, {})

    assert await outbox.add(db, [item("a"), item("b")], NOW) == 2
    assert await outbox.add(db, [item("a"), item("c"), item("c")], NOW) == 1
    assert await outbox.add(db, [item("b")], NOW, status="superseded") == 0
    assert await outbox.add(db, [], NOW) == 0
    assert [r.key for r in await outbox.all_rows(db)] == ["a", "b", "c"]


async def test_a_durable_transaction_commits_at_full_and_ordinary_commits_stay_normal(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    try:
        assert await db.synchronous() == "NORMAL"
        async with db.transaction(durable=True) as tx:
            assert int(await tx.fetchval("PRAGMA synchronous")) == 2  # FULL at this transaction's COMMIT
        assert await db.synchronous() == "NORMAL"
        with pytest.raises(RuntimeError, match="boom"):
            async with db.transaction(durable=True):
                raise RuntimeError("boom")
        assert await db.synchronous() == "NORMAL"  # put back after a rollback too
        await db.set_synchronous("FULL")  # every commit synced: what bench/dialog.py compares against
        async with db.transaction(durable=True) as tx:
            assert int(await tx.fetchval("PRAGMA synchronous")) == 2
        assert await db.synchronous() == "FULL"
        with pytest.raises(ValueError, match="expected NORMAL, FULL or EXTRA"):
            await db.set_synchronous("OFF; DROP TABLE people")
    finally:
        await db.close()
    full = await Database.open(tmp_path / "full.sqlite3", synchronous="FULL")
    try:
        assert await full.synchronous() == "FULL"
    finally:
        await full.close()
    with pytest.raises(ValueError, match="synchronous='OFF'"):
        await Database.open(tmp_path / "off.sqlite3", synchronous="OFF")


@pytest.mark.sqlite_only("aiosqlite's thread")
async def test_aiosqlite_still_runs_a_function_on_its_thread_for_the_one_trip_write(db: Database) -> None:
    """storage.db.on_database_thread uses aiosqlite's private `_execute` and `_conn` (the `<1` pin): a new
    aiosqlite that renames or changes them must fail here, loudly, not somewhere in a dialog step."""
    import threading

    import aiosqlite

    from storage.db import on_database_thread

    assert callable(getattr(aiosqlite.Connection, "_execute", None)), "aiosqlite.Connection._execute is gone"
    conn = db._conn
    assert isinstance(conn._conn, sqlite3.Connection), "aiosqlite.Connection._conn is no longer the sqlite3 one"
    thread, value = await on_database_thread(
        conn, lambda c: (threading.get_ident(), c.execute("SELECT 41 + 1").fetchone()[0]))
    assert value == 42
    assert thread != threading.get_ident()  # on aiosqlite's thread, in its queue
