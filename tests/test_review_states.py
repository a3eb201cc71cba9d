"""Review states in completeness, summaries and reminders (issue 15, item 6 and the end of item 3): a returned report
counts as "returned", not as submitted, and its chair is reminded like one who has not submitted; an approved one
counts as submitted; summaries count the four states per upper level and can add up approved reports only."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import datetime, time, timedelta
from pathlib import Path

from openpyxl import load_workbook

from bot.config import ReviewConfig
from bot.conversation import Command, Press
from bot.demo_review import RETURN_REASONS
from bot.domain import Role
from bot.i18n import Translator
from bot.review_rules import open_children
from bot.summary import files as summary_files
from bot.summary.compute import rollup_rows
from bot.summary.service import build_summary
from bot.summary.text import completeness_text, summary_text
from scheduler.service import ReminderPlanner
from storage import campaigns as campaign_store
from storage import outbox, reviews
from storage.db import Database
from tests import conftest, test_demo, test_pushed_summary, test_reminders
from tests.conftest import VN
from tests.test_conversation import OFFICER, text_of
from tests.test_conversation import World as ConvWorld
from tests.test_demo import NOW as DEMO_NOW
from tests.test_demo import Demo
from tests.test_pushed_summary import DAKLAK_95, Province
from tests.test_reminders import World, vn

world = test_reminders.world
province = test_pushed_summary.province
conv_world = conftest.world
demo = test_demo.demo


async def _reviewer(db: Database) -> int:
    """A person recorded as the one deciding (who may decide is the conversation's part, tested there)."""
    async with db.transaction() as tx:
        return await tx.execute("INSERT INTO people(full_name, created_at) VALUES ('Lê Văn Duyệt', 'a')")


async def _decide(db: Database, period_id: int, unit_id: int, action: str, actor: int, now: datetime,
                  reason: str | None = None) -> None:
    status = await reviews.status_for(db, period_id, unit_id)
    assert status is not None
    await reviews.decide(db, status.submission_id, status.revision, action, actor, reason, (), now)


# --- counts by state ---------------------------------------------------------------------------------------------

async def test_summary_counts_by_state_agree_with_the_database_over_hundreds_of_reports(province: Province) -> None:
    db = province.db
    period_id = next(p.id for p in await campaign_store.periods_of(db, DAKLAK_95) if p.key == "dot-1")
    reviewer = await _reviewer(db)
    rng = random.Random(15)
    subs = await db.fetchall("SELECT id, revision FROM submissions WHERE period_id = ? ORDER BY id", (period_id,))
    assert len(subs) > 150
    for r in subs:
        action = rng.choice(["approved", "returned", None, "returned-then-resubmitted"])
        if action is None:
            continue
        first = "returned" if action.startswith("returned") else action
        await reviews.decide(db, r["id"], r["revision"], first, reviewer, "Số liệu chưa khớp" if first == "returned"
                             else None, (), province.now)
    summary = await build_summary(db, DAKLAK_95, "dot-1", scope_roots=None, scope_name="Đắk Lắk", now=province.now)
    states = {r["unit_id"]: r["review_state"] for r in await db.fetchall(
        "SELECT unit_id, review_state FROM submissions WHERE period_id = ?", (period_id,))}
    assert Counter(states.values())["returned"] > 20
    assert Counter(states.values())["approved"] > 20
    for upper in summary.uppers:
        ids = [u.unit_id for u in summary.units if u.upper_code == upper.code]
        found = Counter(states.get(uid, "missing") for uid in ids)
        assert (upper.missing, upper.waiting, upper.returned, upper.approved) == (
            found["missing"], found["submitted"], found["returned"], found["approved"]), upper.code
        assert upper.missing + upper.waiting + upper.returned + upper.approved == upper.expected
        assert upper.reported == found["submitted"] + found["approved"]  # a returned report is not counted
    everything = Counter(states.get(u.unit_id, "missing") for u in summary.units)
    assert summary.reported == everything["submitted"] + everything["approved"]
    assert summary.on_time + summary.late + summary.missing + summary.count_state("returned") == summary.expected
    text = summary_text(summary, Translator("vi", province.planner.locales_dir), VN)
    assert (f"Chưa nộp {everything['missing']} · đã nộp chờ duyệt {everything['submitted']} · "
            f"trả lại {everything['returned']} · đã duyệt {everything['approved']}") in text


async def test_approved_only_adds_up_approved_reports_and_the_workbook_shows_state_and_reason(
        province: Province, tmp_path: Path) -> None:
    db = province.db
    period_id = next(p.id for p in await campaign_store.periods_of(db, DAKLAK_95) if p.key == "dot-1")
    reviewer = await _reviewer(db)
    subs = await db.fetchall("SELECT id, unit_id, revision, latest_answers FROM submissions WHERE period_id = ? "
                             "ORDER BY id", (period_id,))
    approved_answers: dict[int, int] = {}
    for i, r in enumerate(subs):
        if i % 3 == 0:
            await reviews.decide(db, r["id"], r["revision"], "approved", reviewer, None, (), province.now)
            approved_answers[r["unit_id"]] = json.loads(r["latest_answers"])["propaganda_sessions"]
        elif i % 3 == 1:
            await reviews.decide(db, r["id"], r["revision"], "returned", reviewer, f"Thiếu số buổi, lần {i}", (),
                                 province.now)
    everyone = await build_summary(db, DAKLAK_95, "dot-1", scope_roots=None, scope_name="Đắk Lắk",
                                   now=province.now)
    approved = await build_summary(db, DAKLAK_95, "dot-1", scope_roots=None, scope_name="Đắk Lắk",
                                   now=province.now, approved_only=True)
    total = {x.field.name: x for x in approved.totals}["propaganda_sessions"]
    # An upper level's own report stands for its units (rollup_rows): among approved reports, as in any summary.
    counted = rollup_rows([u for u in everyone.units if u.unit_id in approved_answers])
    approved_total = sum(approved_answers[u.unit_id] for u in counted)
    assert total.answered == len(counted)
    assert total.sum == approved_total
    assert {x.field.name: x for x in everyone.totals}["propaganda_sessions"].sum != approved_total
    assert [(u.code, u.state) for u in approved.units] == [(u.code, u.state) for u in everyone.units]
    t = Translator("vi", province.planner.locales_dir)
    assert "Số liệu chỉ tính các báo cáo đã duyệt" in summary_text(approved, t, VN)
    path = summary_files.write(everyone, "xlsx", tmp_path, t, VN)
    sheet = load_workbook(path).worksheets[1]
    header = [c.value for c in sheet[1]]
    state_col, reason_col = header.index("Duyệt"), header.index("Lý do gần nhất của người duyệt")
    code_col = header.index("Mã đơn vị") if "Mã đơn vị" in header else 0
    rows = {r[code_col]: (r[state_col], r[reason_col]) for r in sheet.iter_rows(min_row=2, values_only=True)}
    by_unit = {r["unit_id"]: i for i, r in enumerate(subs)}
    for u in everyone.units:
        if u.unit_id not in by_unit:
            continue
        i = by_unit[u.unit_id]
        expected = ("Đã duyệt", None) if i % 3 == 0 else (("Trả lại", f"Thiếu số buổi, lần {i}") if i % 3 == 1
                                                          else ("Chờ duyệt", None))
        assert rows[u.code] == expected, u.code


async def test_pushed_completeness_mentions_reports_waiting_longer_than_the_configured_days(
        province: Province) -> None:
    db = province.db
    t = Translator("vi", province.planner.locales_dir)
    later = province.now + timedelta(days=8)  # every report (the latest came on 06/08) has waited more than 3 days
    summary = await build_summary(db, DAKLAK_95, "dot-1", scope_roots=None, scope_name="Đắk Lắk", now=later,
                                  waiting_days=3)
    waiting = summary.count_state("waiting")
    assert waiting > 0
    assert f"⏳ {waiting} báo cáo đã chờ duyệt quá 3 ngày." in completeness_text(summary, t, VN)
    patient = await build_summary(db, DAKLAK_95, "dot-1", scope_roots=None, scope_name="Đắk Lắk", now=later,
                                  waiting_days=12)
    assert "chờ duyệt quá" not in completeness_text(patient, t, VN)
    # The planner's push reads [review] waiting_days.
    planner = ReminderPlanner(db, province.planner.config, province.planner.zone, province.planner.locales_dir,
                              review=ReviewConfig(waiting_days=3))
    await province.bind("DL", Role.DEPARTMENT)
    items = await planner.summary_items(datetime(2024, 8, 8, 9, 0, tzinfo=VN))
    assert items
    assert all("chờ duyệt quá 3 ngày" in i.payload["text"] for i in items)


# --- reminders ---------------------------------------------------------------------------------------------------

async def test_a_returned_report_is_reminded_like_one_not_submitted_and_an_approved_one_is_not(world: World) -> None:
    for code in ("DL-BMT-001", "DL-BMT-002", "DL-BMT-003"):
        await world.add_member(code)
    period_id = await world.period_id()
    reviewer = await _reviewer(world.db)
    for code in ("DL-BMT-001", "DL-BMT-002", "DL-BMT-003"):
        await world.submit(code, period_id)
    await _decide(world.db, period_id, world.units["DL-BMT-001"].id, "returned", reviewer, world.clock.now(),
                  "Sai số đoàn viên")
    await _decide(world.db, period_id, world.units["DL-BMT-002"].id, "approved", reviewer, world.clock.now())
    [task] = [t for t in await world.planner.tasks(world.clock.now()) if t.period_id == period_id]
    late = {u.code for u in task.late_units}
    assert "DL-BMT-001" in late
    assert not late & {"DL-BMT-002", "DL-BMT-003"}


async def test_a_return_since_the_last_tick_moves_the_fingerprint_and_is_reminded_on_the_next(world: World) -> None:
    await world.staff_everyone()
    period_id = await world.period_id()
    await world.submit("DL-BMT-001", period_id)
    reviewer = await _reviewer(world.db)  # before the first tick: a new person alone would move the fingerprint
    first = await world.planner.plan_once(world.clock.now())
    returned = world.units["DL-BMT-001"].id
    assert returned not in {p.item.unit_id for p in first.planned}
    world.clock.advance(minutes=1)
    assert (await world.planner.plan_once(world.clock.now())).planned == []
    await _decide(world.db, period_id, returned, "returned", reviewer, world.clock.now(), "Thiếu ảnh minh chứng")
    result = await world.planner.plan_once(world.clock.now())
    assert {p.item.unit_id for p in result.planned if p.item.period_id == period_id} == {returned}


async def test_a_reminder_of_a_report_returned_before_it_is_sent_is_not_skipped_as_submitted(world: World) -> None:
    for code in ("DL-BMT-001", "DL-BMT-002"):
        await world.add_member(code)
    await world.planner.plan_once(world.clock.now())
    period_id = await world.period_id()
    reviewer = await _reviewer(world.db)
    for code in ("DL-BMT-001", "DL-BMT-002"):
        await world.submit(code, period_id)
    await _decide(world.db, period_id, world.units["DL-BMT-001"].id, "returned", reviewer, world.clock.now(),
                  "Số liệu chưa đúng")
    channel, fake = world.fakes()
    stats = await world.sender(channel, fake).drain()
    sent_to = {d.chat_id for d in channel.sent}
    assert world.members["DL-BMT-001"][0].chat_id in sent_to
    assert world.members["DL-BMT-002"][0].chat_id not in sent_to
    assert stats.skipped >= 1


# --- /tonghop ----------------------------------------------------------------------------------------------------

async def test_tonghop_offers_a_summary_from_approved_reports_only(conv_world: ConvWorld) -> None:
    w = conv_world
    await w.register(OFFICER, "DL-BMT", Role.OFFICER)
    menu = await w.conv.handle(OFFICER, Command("tonghop"))
    [approved_button] = [b for r in menu.replies for b in r.choices if b.label == "Chỉ báo cáo đã duyệt"]
    again = await w.conv.handle(OFFICER, Press(menu.version, approved_button.action))
    assert "chỉ từ báo cáo đã duyệt" in text_of(again)
    periods = [b.action for r in again.replies for b in r.choices]
    assert periods
    assert all(a.startswith("a:") for a in periods)
    response = await w.conv.handle(OFFICER, Press(again.version, periods[0]))
    assert "Số liệu chỉ tính các báo cáo đã duyệt" in text_of(response)
    plain = await w.conv.handle(OFFICER, Command("tonghop"))
    first = next(b.action for r in plain.replies for b in r.choices if b.action.startswith("m:"))
    assert "chỉ tính các báo cáo đã duyệt" not in text_of(await w.conv.handle(OFFICER, Press(plain.version, first)))


# --- the demo ----------------------------------------------------------------------------------------------------

async def test_the_demo_leaves_reports_approved_returned_with_reasons_and_waiting(demo: Demo, repo: Path) -> None:
    db = demo.db
    counts = Counter(r["review_state"] for r in await db.fetchall("SELECT review_state FROM submissions"))
    assert counts["approved"] == demo.result.approved > 0
    assert counts["returned"] == demo.result.returned > 0
    assert counts["submitted"] > 0
    for r in await db.fetchall("SELECT s.id FROM submissions s WHERE s.review_state = 'returned'"):
        event = await reviews.last_event(db, r["id"], "returned")
        assert event is not None
        assert event.reason in RETURN_REASONS
        assert event.fields  # the questions concerned
    # Every upper level's approved report had its units approved first (the roll-up rule).
    for r in await db.fetchall("SELECT s.id FROM submissions s JOIN units u ON u.id = s.unit_id "
                               "WHERE u.kind = 'upper' AND s.review_state = 'approved'"):
        assert await open_children(db, r["id"]) == []
    campaign, key, _pid = demo.periods[0]
    summary = await build_summary(db, campaign.id, key, scope_roots=None, scope_name="Đắk Lắk", now=DEMO_NOW)
    text = summary_text(summary, Translator("vi", repo / "locales"), VN)
    assert f"trả lại {summary.count_state('returned')} · đã duyệt {summary.count_state('approved')}" in text


# --- the reviewers' daily digest ---------------------------------------------------------------------------------

async def _digests(world: World) -> list[outbox.OutboxRow]:
    return [r for r in await outbox.all_rows(world.db) if r.kind == "review_digest"]


def _digest_planner(world: World, **review: object) -> ReminderPlanner:
    return ReminderPlanner(world.db, world.config.reminders, world.config.app.zone, world.config.locales_dir,
                           review=ReviewConfig(**review))  # type: ignore[arg-type]


async def test_the_daily_digest_reaches_reviewers_once_a_day_and_the_department_after_escalate_days(
        world: World) -> None:
    await world.staff_everyone()
    dept = await world.add_member("DL", role=Role.DEPARTMENT)
    officer = world.members["DL-BMT"][0]
    period_id = await world.period_id()
    sent = vn(2024, 8, 1, 10)
    for code in ("DL-BMT-001", "DL-BMT-002"):
        await world.submit(code, period_id, sent)
    planner = _digest_planner(world, waiting_days=3, escalate_days=7)
    world.clock.set(vn(2024, 8, 3, 9))  # two days: not yet
    await planner.plan_once(world.clock.now())
    assert await _digests(world) == []
    world.clock.set(vn(2024, 8, 5, 7, 30))  # four days, but before the digest's hour
    await planner.plan_once(world.clock.now())
    assert await _digests(world) == []
    world.clock.set(vn(2024, 8, 5, 8, 1))
    await planner.plan_once(world.clock.now())
    [row] = await _digests(world)
    assert row.person_id == officer.person_id
    assert "2 báo cáo đã chờ đồng chí duyệt quá 3 ngày" in row.payload["text"]
    assert "Công đoàn Công ty TNHH MTV Cà phê Buôn Ma Thuột" in row.payload["text"]
    # Later the same day, and a restarted planner (a second process): nothing doubled.
    world.clock.set(vn(2024, 8, 5, 15))
    await planner.plan_once(world.clock.now())
    await _digest_planner(world, waiting_days=3, escalate_days=7).plan_once(world.clock.now())
    assert len(await _digests(world)) == 1
    # Eight days: the officer again, and the department with the escalated reports.
    world.clock.set(vn(2024, 8, 9, 8, 30))
    await planner.plan_once(world.clock.now())
    today = [r for r in await _digests(world) if r.planned_for >= vn(2024, 8, 9)]
    assert {r.person_id for r in today} == {officer.person_id, dept.person_id}
    [to_dept] = [r for r in today if r.person_id == dept.person_id]
    assert "quá 7 ngày" in to_dept.payload["text"]
    # Approved reports leave the digest.
    reviewer = await _reviewer(world.db)
    for code in ("DL-BMT-001", "DL-BMT-002"):
        await _decide(world.db, period_id, world.units[code].id, "approved", reviewer, world.clock.now())
    world.clock.set(vn(2024, 8, 10, 8, 30))
    await planner.plan_once(world.clock.now())
    assert [r for r in await _digests(world) if r.planned_for >= vn(2024, 8, 10)] == []


async def test_a_digest_hour_in_quiet_hours_waits_for_the_morning(world: World) -> None:
    await world.staff_everyone()
    period_id = await world.period_id()
    await world.submit("DL-BMT-001", period_id, vn(2024, 8, 1, 10))
    planner = _digest_planner(world, digest_time=time(22, 0))
    world.clock.set(vn(2024, 8, 6, 22, 30))
    await planner.plan_once(world.clock.now())
    world.clock.set(vn(2024, 8, 7, 7, 1))
    await planner.plan_once(world.clock.now())
    rows = await _digests(world)
    assert rows
    assert all(r.planned_for.astimezone(VN).time() == time(7, 0) for r in rows)
