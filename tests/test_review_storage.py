"""storage/reviews.py: the states of a report, every transition a row, the compare-and-set that lets one decision
win, and the tables the locks and the roll-up rule read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import reviews
from storage import submissions as submission_store
from storage.db import Database

T0 = datetime(2024, 8, 1, 3, 0, tzinfo=UTC)


async def _setup(db: Database) -> dict[str, int]:
    """A campaign with two periods (p1 before p2), units U, V, W, a chair and two reviewers."""
    ids: dict[str, int] = {}
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO campaigns(id, title, definition, sha256, loaded_at) "
                         "VALUES ('c', 'C', '{}', 'x', 'a')")
        for key, start in (("p1", "2024-06-01"), ("p2", "2024-07-01")):
            ids[key] = await tx.execute(
                "INSERT INTO periods(campaign_id, key, name, covers_start, covers_end, due_at, closes_at, "
                "due_source) VALUES ('c', ?, ?, ?, ?, '2024-08-05T00:00:00+00:00', '2024-09-04T00:00:00+00:00', "
                "'plan')", (key, f"Kỳ {key}", start, start))
        for code in ("U", "V", "W"):
            ids[code] = await tx.execute(
                "INSERT INTO units(code, name, kind, created_at, updated_at) VALUES (?, ?, 'upper', 'a', 'a')",
                (code, code))
        for name in ("chair", "rev1", "rev2"):
            ids[name] = await tx.execute("INSERT INTO people(full_name, created_at) VALUES (?, 'a')", (name,))
    return ids


async def _submit(db: Database, ids: dict[str, int], unit: str, answers: dict[str, object], now: datetime = T0,
                  period: str = "p2") -> submission_store.SubmissionRow:
    async with db.transaction() as tx:
        return await submission_store.record(tx, period_id=ids[period], unit_id=ids[unit], person_id=ids["chair"],
                                             channel="telegram", answers=answers, now=now, late=False)


async def test_a_new_report_is_submitted_and_waits_in_the_queue_oldest_first(db: Database) -> None:
    ids = await _setup(db)
    later = await _submit(db, ids, "U", {"n": 1}, T0 + timedelta(hours=2))
    first = await _submit(db, ids, "V", {"n": 1}, T0)
    await _submit(db, ids, "W", {"n": 1}, T0 - timedelta(days=1))  # not in the reviewer's units
    assert later.review_state == "submitted"
    waiting = await reviews.queue(db, [ids["U"], ids["V"]])
    assert [w.submission_id for w in waiting] == [first.id, later.id]
    assert waiting[0].waiting_since == T0
    assert not waiting[0].late
    assert await reviews.queue(db, [ids["U"], ids["V"]], [ids["p1"]]) == []
    assert await reviews.queue(db, []) == []


async def test_approve_writes_the_state_and_an_event_and_leaves_the_queue(db: Database) -> None:
    ids = await _setup(db)
    sub = await _submit(db, ids, "U", {"n": 1})
    status = await reviews.decide(db, sub.id, 1, "approved", ids["rev1"], None, (), T0 + timedelta(hours=1))
    assert (status.state, status.revision, status.since) == ("approved", 1, T0 + timedelta(hours=1))
    [event] = await reviews.history(db, sub.id)
    assert (event.action, event.state_after, event.actor_name, event.revision) == ("approved", "approved", "rev1", 1)
    assert await reviews.queue(db, [ids["U"]]) == []
    assert await reviews.state_counts(db, ids["p2"], [ids["U"], ids["V"]]) == {
        "submitted": 0, "approved": 1, "returned": 0}


async def test_return_then_resubmission_puts_the_report_back_with_every_step_recorded(db: Database) -> None:
    ids = await _setup(db)
    sub = await _submit(db, ids, "U", {"n": 1})
    await reviews.decide(db, sub.id, 1, "returned", ids["rev1"], "Số liệu sai", ["n"], T0 + timedelta(hours=1))
    assert (await reviews.status_for(db, ids["p2"], ids["U"])).state == "returned"  # type: ignore[union-attr]
    assert await reviews.queue(db, [ids["U"]]) == []
    again = await _submit(db, ids, "U", {"n": 2}, T0 + timedelta(hours=3))
    assert (again.revision, again.review_state) == (2, "submitted")
    events = await reviews.history(db, sub.id)
    assert [(e.action, e.state_after, e.revision) for e in events] == [
        ("returned", "returned", 1), ("resubmitted", "submitted", 2)]
    assert events[0].reason == "Số liệu sai"
    assert events[0].fields == ("n",)
    [waiting] = await reviews.queue(db, [ids["U"]])
    assert (waiting.revision, waiting.waiting_since) == (2, T0 + timedelta(hours=3))
    await reviews.decide(db, sub.id, 2, "approved", ids["rev2"], None, (), T0 + timedelta(hours=4))
    assert (await reviews.last_event(db, sub.id, "returned")).reason == "Số liệu sai"  # type: ignore[union-attr]


async def test_an_approved_report_refuses_a_correction_until_reopened(db: Database) -> None:
    ids = await _setup(db)
    sub = await _submit(db, ids, "U", {"n": 1})
    await reviews.decide(db, sub.id, 1, "approved", ids["rev1"], None, (), T0 + timedelta(hours=1))
    with pytest.raises(reviews.ReportApprovedError) as refused:
        await _submit(db, ids, "U", {"n": 5}, T0 + timedelta(hours=2))
    assert (refused.value.by_name, refused.value.at) == ("rev1", T0 + timedelta(hours=1))
    assert await submission_store.latest_answers(db, sub.id) == {"n": 1}  # nothing of it stored
    assert len(await submission_store.revisions(db, sub.id)) == 1
    await reviews.decide(db, sub.id, 1, "reopened", ids["rev1"], "Cần sửa mục n", (), T0 + timedelta(hours=3))
    again = await _submit(db, ids, "U", {"n": 5}, T0 + timedelta(hours=4))
    assert (again.revision, again.review_state) == (2, "submitted")
    assert [e.action for e in await reviews.history(db, sub.id)] == ["approved", "reopened"]


async def test_two_reviewers_at_once_exactly_one_decision_wins(db: Database) -> None:
    ids = await _setup(db)
    sub = await _submit(db, ids, "U", {"n": 1})
    results = await asyncio.gather(
        reviews.decide(db, sub.id, 1, "approved", ids["rev1"], None, (), T0),
        reviews.decide(db, sub.id, 1, "returned", ids["rev2"], "Sai", ["n"], T0),
        return_exceptions=True)
    won = [r for r in results if isinstance(r, reviews.ReviewStatus)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1
    assert len(lost) == 1
    assert isinstance(lost[0], reviews.AlreadyDecidedError)
    assert lost[0].state == won[0].state
    assert len(await reviews.history(db, sub.id)) == 1


async def test_a_decision_on_a_replaced_revision_is_refused(db: Database) -> None:
    ids = await _setup(db)
    sub = await _submit(db, ids, "U", {"n": 1})
    await _submit(db, ids, "U", {"n": 2})  # the chair corrected it while the reviewer read revision 1
    with pytest.raises(reviews.RevisionReplacedError) as refused:
        await reviews.decide(db, sub.id, 1, "approved", ids["rev1"], None, (), T0)
    assert refused.value.revision == 2
    assert (await reviews.status_of(db, sub.id)).state == "submitted"  # type: ignore[union-attr]
    assert await reviews.history(db, sub.id) == []


async def test_only_the_allowed_transitions_apply(db: Database) -> None:
    ids = await _setup(db)
    sub = await _submit(db, ids, "U", {"n": 1})
    with pytest.raises(reviews.AlreadyDecidedError):  # reopening needs an approved report
        await reviews.decide(db, sub.id, 1, "reopened", ids["rev1"], "x", (), T0)
    with pytest.raises(ValueError, match="resubmitted"):  # only a new revision resubmits
        await reviews.decide(db, sub.id, 1, "resubmitted", ids["rev1"], None, (), T0)
    await reviews.decide(db, sub.id, 1, "returned", ids["rev1"], "x", (), T0)
    with pytest.raises(reviews.AlreadyDecidedError):  # a returned report is not approved before it comes back
        await reviews.decide(db, sub.id, 1, "approved", ids["rev1"], None, (), T0)


async def test_the_previous_periods_answers_of_the_unit(db: Database) -> None:
    ids = await _setup(db)
    await _submit(db, ids, "U", {"n": 10}, period="p1")
    await _submit(db, ids, "U", {"n": 12}, period="p1")
    await _submit(db, ids, "U", {"n": 40})
    previous = await reviews.previous_period_answers(db, ids["U"], ids["p2"])
    assert previous is not None
    assert (previous.period_id, previous.answers) == (ids["p1"], {"n": 12})
    assert await reviews.previous_period_answers(db, ids["V"], ids["p2"]) is None  # V did not report in p1
    assert await reviews.previous_period_answers(db, ids["U"], ids["p1"]) is None  # p1 is the first


async def test_lock_exceptions_and_excuses(db: Database) -> None:
    ids = await _setup(db)
    until = T0 + timedelta(days=3)
    exc_id = await reviews.grant_lock_exception(db, period_id=ids["p2"], unit_id=ids["U"], until=until,
                                                reason="Trả lại sau hạn", granted_by=ids["rev1"], now=T0)
    active = await reviews.active_lock_exception(db, ids["p2"], ids["U"], T0 + timedelta(days=1))
    assert active is not None
    assert (active.id, active.until, active.granted_by) == (exc_id, until, ids["rev1"])
    assert await reviews.active_lock_exception(db, ids["p2"], ids["U"], until) is None
    assert await reviews.active_lock_exception(db, ids["p2"], ids["V"], T0) is None
    assert [e.id for e in await reviews.lock_exceptions(db, ids["p2"])] == [exc_id]
    await reviews.excuse(db, period_id=ids["p2"], unit_id=ids["V"], reason="Giải thể", excused_by=ids["rev1"], now=T0)
    await reviews.excuse(db, period_id=ids["p2"], unit_id=ids["V"], reason="Sáp nhập", excused_by=ids["rev2"], now=T0)
    got = await reviews.excuses(db, ids["p2"])
    assert list(got) == [ids["V"]]
    assert (got[ids["V"]].reason, got[ids["V"]].excused_by) == ("Sáp nhập", ids["rev2"])
    assert await reviews.remove_excuse(db, ids["p2"], ids["V"]) is True
    assert await reviews.excuses(db, ids["p2"]) == {}


async def test_a_decision_and_its_extra_writes_commit_together_or_not_at_all(db: Database) -> None:
    from storage import outbox

    ids = await _setup(db)
    sub = await _submit(db, ids, "U", {"n": 1})
    item = outbox.OutboxItem(f"review:{sub.id}:1:returned", "review", ids["chair"], ids["U"], ids["p2"], "telegram",
                             "42", T0, {"text": "Trả lại", "title": None, "columns": 1, "choices": []})
    await reviews.decide(db, sub.id, 1, "returned", ids["rev1"], "Sai", [], T0,
                         extra=[outbox.item_write(item, T0)])
    [row] = await outbox.claim(db, T0, 10)  # queued like any message, ready for the sender
    assert (row.kind, row.person_id, row.payload["chat_id"], row.payload["text"]) == ("review", ids["chair"], "42",
                                                                                      "Trả lại")
    other = outbox.OutboxItem("review:other", "review", ids["chair"], ids["U"], ids["p2"], "telegram", "42", T0, {})
    with pytest.raises(reviews.AlreadyDecidedError):  # refused: its message is not queued either
        await reviews.decide(db, sub.id, 1, "approved", ids["rev2"], None, [], T0,
                             extra=[outbox.item_write(other, T0)])
    assert await db.fetchval("SELECT count(*) FROM outbox") == 1


async def test_reports_stored_before_the_review_migration_wait_for_review(tmp_path: Path) -> None:
    from storage.migrations import MIGRATIONS, REVIEW_STATES, migrate

    async with await Database.open(tmp_path / "old.sqlite3") as db:
        await migrate(db, tuple(m for m in MIGRATIONS if m is not REVIEW_STATES))
        ids = await _setup(db)
        async with db.transaction() as tx:  # a submission as the code before review states stored it
            await tx.execute("INSERT INTO submissions(period_id, unit_id, reference, first_submitted_at, "
                             "last_submitted_at) VALUES (?, ?, 'BC-OLD', ?, ?)",
                             (ids["p2"], ids["U"], T0.isoformat(), T0.isoformat()))
        assert await migrate(db) == [REVIEW_STATES.name]
        [waiting] = await reviews.queue(db, [ids["U"]])
        assert (waiting.reference, waiting.waiting_since) == ("BC-OLD", T0)
