"""Summaries: figures computed from a fixed data set (golden), the scope applied in the query, roll-up
through the hierarchy, and the completeness pushed at the due date."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.app import prepare
from bot.campaigns import load_campaign_file
from bot.config import Config
from bot.demo import fill_demo
from bot.domain import Channel, Role, UnitKind
from bot.i18n import Translator
from bot.summary.compute import compute_summary
from bot.summary.model import Summary, UnitRow
from bot.summary.service import build_summary, scope_for_code
from bot.summary.text import completeness_text, summary_text
from scheduler.service import ReminderPlanner
from storage import people as people_store
from storage import submissions as submission_store
from storage import units as unit_store
from tests.conftest import VN
from tests.fakes import FakeClock

AS_OF = datetime(2024, 6, 20, 9, 30, tzinfo=VN)


def row(
    code: str, name: str, kind: UnitKind, upper: str, status: str, answers: dict, reachable: bool = True
) -> UnitRow:
    submitted = None if status == "missing" else datetime(2024, 6, 10 if status == "on_time" else 17, 9, tzinfo=VN)
    return UnitRow(
        hash(code) % 10_000,
        code,
        name,
        kind,
        upper,
        f"LĐLĐ {upper}",
        status,
        submitted,
        0 if status == "missing" else 1,
        None if status == "missing" else f"BC-{code[-3:]}",
        answers,
        reachable,
    )


def fixed_summary(repo: Path) -> Summary:
    campaign = load_campaign_file(repo / "campaigns" / "phongtho-thang-cong-nhan-2024.toml").campaign
    period = campaign.periods[0]
    ent = {
        "activities_organised": 2,
        "care_activities": 1,
        "agreements_expiring": 4,
        "agreements_resigned": 4,
        "agreements_rated_b": 2,
        "news_items": 1,
        "gifts_people": 10,
        "gifts_money": 2_000_000,
    }
    units = [
        row(
            "PT",
            "Liên đoàn Lao động huyện Phong Thổ",
            UnitKind.UPPER,
            "PT",
            "on_time",
            {"activities_organised": 3, "care_activities": 2, "news_items": 3, "unions_founded": 1},
        ),
        row("PT-001", "Công đoàn Công ty <A&B>", UnitKind.ENTERPRISE_PRIVATE, "PT", "on_time", ent),
        row(
            "PT-002",
            "Công đoàn Công ty Thủy điện Nậm Na",
            UnitKind.ENTERPRISE_STATE,
            "PT",
            "late",
            {
                **ent,
                "activities_organised": 0,
                "agreements_resigned": 2,
                "agreements_rated_b": 0,
                "news_items": 0,
                "highlights": '=HYPERLINK("http://x","y")',
            },
        ),
        row(
            "PT-003",
            "Công đoàn Trường THPT Phong Thổ",
            UnitKind.PUBLIC_AGENCY,
            "PT",
            "on_time",
            {"activities_organised": 1, "document_issued": True, "care_activities": 1, "news_items": 2},
        ),
        row("PT-004", "Công đoàn Trạm Y tế xã Mường So", UnitKind.PUBLIC_AGENCY, "PT", "missing", {}, reachable=False),
    ]
    return compute_summary(
        campaign=campaign,
        period=period,
        period_id=1,
        due_at=datetime(2024, 6, 15, tzinfo=VN),
        closes_at=datetime(2024, 7, 15, tzinfo=VN),
        as_of=AS_OF,
        scope_name="Huyện Phong Thổ",
        units=units,
    )


def test_completeness_and_targets_of_a_fixed_data_set(repo: Path) -> None:
    s = fixed_summary(repo)
    assert (s.expected, s.on_time, s.late, s.missing) == (5, 3, 1, 1)
    assert s.completeness == Decimal("80.0")
    results = {r.target.key: r for r in s.targets}
    # 1 of the 2 enterprise unions organised an activity: 50% against "≥ 50%".
    assert results["dn-hoat-dong-50"].value == Decimal("50.00")
    assert results["dn-hoat-dong-50"].met is True
    # 1 of the 2 public-agency unions issued a document and acted; the missing one counts against it.
    assert results["hcsn-van-ban-hoat-dong-30"].value == Decimal("50.00")
    # Agreements re-signed: (4 + 2) / (4 + 4) = 75% < 100%; rated B: 2 / 6.
    assert results["tuldtt-ky-lai-100"].value == Decimal("75.00")
    assert results["tuldtt-ky-lai-100"].met is False
    assert results["tuldtt-ky-lai-100"].units_meeting == 1
    assert results["tuldtt-loai-b-45"].value == Decimal("33.33")
    # The district's own news items: 3 ≥ 2.
    assert results["ldld-huyen-tin-bai-2"].value == Decimal(3)
    assert results["ldld-huyen-tin-bai-2"].met is True


def test_an_upper_report_stands_for_its_subtree_in_the_totals(repo: Path) -> None:
    s = fixed_summary(repo)
    totals = {t.field.name: t for t in s.totals}
    # The district filed its rolled-up report, so its grassroots unions are not added again.
    assert totals["activities_organised"].sum == Decimal(3)
    assert totals["news_items"].sum == Decimal(3)


GOLDEN_VI = """📊 Tháng Công nhân 2024 – LĐLĐ huyện Phong Thổ
Đợt: Kết quả Tháng Công nhân 5/2024 (báo cáo 6 tháng đầu năm)
Hạn nộp: trước Thứ Bảy, 15/06/2024; số liệu tính đến 09:30 20/06/2024
Phạm vi: Huyện Phong Thổ

TIẾN ĐỘ: 4/5 đơn vị đã nộp (80%)
Đúng hạn 3 · muộn 1 · chưa nộp 1
Chưa nộp 1 · đã nộp chờ duyệt 4 · trả lại 0 · đã duyệt 0

CHỈ TIÊU:
✅ CĐCS doanh nghiệp có ít nhất 01 hoạt động: 50% (≥ 50%) — Đạt · 1/2 đơn vị
✅ CĐCS HCSN có văn bản và hoạt động: 50% (≥ 30%) — Đạt · 1/2 đơn vị
❌ TƯLĐTT hết hạn được ký lại, ký mới: 75% (≥ 100%) — Chưa đạt · 1/2 đơn vị
❌ TƯLĐTT ký lại, ký mới xếp loại B: 33,3% (≥ 45%) — Chưa đạt · 1/2 đơn vị
✅ Tin, bài của LĐLĐ huyện: 3 (≥ 2) — Đạt · 1/1 đơn vị
❌ Đơn vị có ít nhất 01 việc làm chăm lo: 80% (≥ 100%) — Chưa đạt · 4/5 đơn vị
❌ CĐCS doanh nghiệp có tin, bài: 50% (≥ 100%) — Chưa đạt · 1/2 đơn vị
"""


def test_the_text_summary_matches_the_golden_text(repo: Path) -> None:
    text = summary_text(fixed_summary(repo), Translator("vi", repo / "locales"), VN)
    assert text.startswith(GOLDEN_VI)
    assert "CHƯA NỘP (1):\n• LĐLĐ PT: Công đoàn Trạm Y tế xã Mường So ⚠️" in text
    assert "⚠️ bot không liên lạc được" in text
    assert "=HYPERLINK" in text  # plain text here; each channel escapes it for its own medium
    assert len(text) <= 4096


def test_the_pushed_completeness_text_is_short(repo: Path) -> None:
    text = completeness_text(fixed_summary(repo), Translator("vi", repo / "locales"), VN)
    assert "TIẾN ĐỘ: 4/5" in text
    assert "CHỈ TIÊU" not in text
    assert "CHƯA NỘP (1)" in text


@pytest.fixture
async def demo_db(config: Config, clock: FakeClock):
    prepared = await prepare(config, clock.now())
    await fill_demo(prepared.db, datetime(2024, 12, 31, tzinfo=VN), config.locales_dir)
    try:
        yield prepared.db
    finally:
        await prepared.db.close()


async def test_an_officer_sees_only_their_subtree(demo_db, config: Config) -> None:
    roots, name = await scope_for_code(demo_db, "DL-KP")
    s = await build_summary(demo_db, "daklak-95-nam-cdvn-2024", "dot-1", scope_roots=roots, scope_name=name, now=AS_OF)
    assert {u.upper_code for u in s.units} == {"DL-KP"}
    assert len(s.units) == 13
    everything = await build_summary(
        demo_db, "daklak-95-nam-cdvn-2024", "dot-1", scope_roots=None, scope_name="Tỉnh", now=AS_OF
    )
    assert len(everything.units) == 39
    assert {u.upper_code for u in everything.units} == {"DL-BMT", "DL-KP", "DL-CDVC"}


async def test_the_upper_level_report_starts_from_its_subtree_totals(config: Config, clock: FakeClock) -> None:
    from bot.conversation import Command, Conversation, Sender
    from bot.invites import issue_invite

    prepared = await prepare(config, clock.now())
    db = prepared.db
    try:
        period_id = await db.fetchval(
            "SELECT id FROM periods WHERE campaign_id = 'daklak-95-nam-cdvn-2024' AND key = 'dot-1'"
        )
        for code, sessions in (("DL-KP-001", 3), ("DL-KP-002", 4)):
            unit = await unit_store.by_code(db, code)
            assert unit is not None
            async with db.transaction() as tx:
                await submission_store.record(
                    tx,
                    period_id=period_id,
                    unit_id=unit.id,
                    person_id=None,
                    channel="telegram",
                    answers={"propaganda_sessions": sessions},
                    now=clock.now(),
                    late=False,
                )
        upper = await unit_store.by_code(db, "DL-KP")
        assert upper is not None
        invite = await issue_invite(
            db,
            unit=upper,
            role=Role.OFFICER,
            lifetime=timedelta(days=1),
            created_by="t",
            now=clock.now(),
            bot_username="X",
        )
        conv = Conversation(db, clock, VN, config.locales_dir)
        officer = Sender(Channel.TELEGRAM, "77", "77", "Cán bộ LĐLĐ huyện", None, "vi")
        await conv.handle(officer, Command("start", invite.code))
        response = await conv.handle(officer, Command("baocao"))
        labels = [b for r in response.replies for b in r.choices if "120 năm tỉnh Đắk Lắk — Đợt 1" in b.label]
        from bot.conversation import Press

        opened = await conv.handle(officer, Press(response.version, labels[0].action))
        text = "\n".join(r.text for r in opened.replies)
        assert "tổng của 2 đơn vị trực thuộc" in text
        state = (
            await db.fetchone(
                "SELECT state FROM drafts WHERE person_id = (SELECT person_id FROM identities WHERE external_id = '77')"
            )
        )["state"]
        assert '"propaganda_sessions":7' in state
    finally:
        await db.close()


async def test_completeness_is_pushed_once_at_the_due_date(config: Config, clock: FakeClock) -> None:
    prepared = await prepare(config, clock.now())
    db = prepared.db
    try:
        province = await unit_store.by_code(db, "DL")
        assert province is not None
        await people_store.ensure_local_member(
            db,
            channel=Channel.TELEGRAM,
            external_id="dept-1",
            display_name="Ban TG-NC",
            unit=province,
            role=Role.DEPARTMENT,
            locale="vi",
            now=clock.now(),
            chat_id="9001",
        )
        planner = ReminderPlanner(db, config.reminders, VN, config.locales_dir)
        due = datetime(2024, 8, 5, 8, 5, tzinfo=VN)  # the first waking moment after the due instant
        first = await planner.plan_once(due)
        again = await planner.plan_once(due + timedelta(minutes=1))
        rows = await db.fetchall("SELECT key, payload FROM outbox WHERE kind = 'summary'")
        keys = [r["key"] for r in rows]
        assert any(k.endswith(":summary-0") for k in keys)
        assert len(keys) == len(set(keys))
        assert first.pending >= 1
        assert again.pending == 0
        assert "TIẾN ĐỘ: 0/39 đơn vị đã nộp" in rows[0]["payload"]
    finally:
        await db.close()


def test_a_large_organisation_still_fits_one_message(repo: Path) -> None:
    campaign = load_campaign_file(repo / "campaigns" / "phongtho-thang-cong-nhan-2024.toml").campaign
    units = [
        row(
            f"U{i:03d}-{j}",
            f"Công đoàn Công ty số {i}-{j} có tên khá dài để thử độ dài tin nhắn",
            UnitKind.PUBLIC_AGENCY,
            f"U{i:03d}",
            "missing" if j == 0 else "on_time",
            {"activities_organised": 1},
        )
        for i in range(300)
        for j in range(3)
    ]
    s = compute_summary(
        campaign=campaign,
        period=campaign.periods[0],
        period_id=1,
        due_at=datetime(2024, 6, 15, tzinfo=VN),
        closes_at=datetime(2024, 7, 15, tzinfo=VN),
        as_of=AS_OF,
        scope_name="Tỉnh",
        units=units,
    )
    text = summary_text(s, Translator("vi", repo / "locales"), VN)
    assert len(text) <= 4096
    assert "12 đơn vị có tỷ lệ nộp thấp nhất" in text
    assert "còn 292 đơn vị thuộc các công đoàn cấp trên khác" in text


def test_upper_levels_furthest_behind_are_the_same_in_every_view(repo: Path) -> None:
    campaign = load_campaign_file(repo / "campaigns" / "phongtho-thang-cong-nhan-2024.toml").campaign
    # Upper level U00 reports 0 of 2, U01 1 of 2, ..., so the lowest shares come first.
    units = [
        row(f"U{i:02d}-{j}", f"CĐ {i}-{j}", UnitKind.PUBLIC_AGENCY, f"U{i:02d}", "on_time" if j < i % 3 else "missing", {})
        for i in range(20)
        for j in range(2)
    ]
    s = compute_summary(campaign=campaign, period=campaign.periods[0], period_id=1,
                        due_at=datetime(2024, 6, 15, tzinfo=VN), closes_at=datetime(2024, 7, 15, tzinfo=VN),
                        as_of=AS_OF, scope_name="Tỉnh", units=units)
    behind = s.furthest_behind(12)
    assert [u.completeness for u in behind] == sorted(u.completeness for u in behind)
    assert [u.code for u in behind[:3]] == ["U00", "U03", "U06"]
    assert {u.completeness for u in s.uppers} == {Decimal(0), Decimal("50.0"), Decimal("100.0")}
    text = summary_text(s, Translator("vi", repo / "locales"), VN)
    shown = [line for line in text.splitlines() if line.startswith("• LĐLĐ U") and "/2 (" in line]
    assert [line.split(":")[0] for line in shown] == [f"• {u.name}" for u in behind]
    # An upper level expecting no report counts as 0%, as the whole summary does, never as complete.
    empty = dataclasses.replace(s.uppers[0], expected=0, on_time=0, late=0)
    assert empty.completeness == Decimal(0)


def test_a_target_without_figures_reads_the_same_in_text_and_report(repo: Path) -> None:
    from bot.summary.docx_report import report_context

    s = fixed_summary(repo)
    nobody = [dataclasses.replace(u, status="missing", answers={}) for u in s.units]
    s = dataclasses.replace(s, units=nobody, targets=[dataclasses.replace(r, value=None, met=None) for r in s.targets])
    vi = Translator("vi", repo / "locales")
    text = summary_text(s, vi, VN)
    assert "TƯLĐTT hết hạn được ký lại, ký mới: — (≥ 100%) — Chưa đủ số liệu" in text
    row = next(r for r in report_context(s, vi, VN)["targets"] if r["label"].startswith("TƯLĐTT hết hạn"))
    assert (row["value"], row["threshold"], row["verdict"]) == ("chưa có số liệu", "≥ 100%", "Chưa đủ số liệu")


@pytest.mark.parametrize(("answer", "number"), [
    (3, Decimal(3)), ("2.5", Decimal("2.5")), (1.5, Decimal("1.5")), (True, None), (None, None), ("abc", None),
    ("NaN", None), ("Infinity", None), (float("-inf"), None), ([1], None),
])
def test_an_answer_is_a_finite_number_or_nothing(answer: object, number: Decimal | None) -> None:
    from bot.summary.compute import to_decimal

    assert to_decimal(answer) == number


def test_a_non_finite_answer_is_left_out_of_the_totals(repo: Path) -> None:
    s = fixed_summary(repo)
    upper = dataclasses.replace(s.units[0], answers={**s.units[0].answers, "news_items": "NaN"})
    s = compute_summary(campaign=s.campaign, period=s.period, period_id=1, due_at=s.due_at, closes_at=s.closes_at,
                        as_of=AS_OF, scope_name="x", units=[upper, *s.units[1:]])
    news = next(x for x in s.totals if x.field.name == "news_items")
    assert (news.answered, news.sum) == (0, None)


def test_units_with_equal_answers_of_other_types_are_judged_each_on_its_own(repo: Path) -> None:
    """A share-of-units target judges units with the same answers once (bot/summary/compute.py): True, 1, 1.0
    and "1" are equal or alike but read differently, and a list is no key at all; each unit counts as if alone."""
    from bot.campaign_model import Measure
    from bot.expressions import compile_expression
    from bot.summary.compute import target_result

    campaign = load_campaign_file(repo / "campaigns" / "daklak-95-nam-cdvn-2024.toml").campaign
    target = next(t for t in campaign.targets if t.measure is Measure.SHARE_OF_UNITS)
    assert target.condition is not None
    (name,) = compile_expression(target.condition).fields
    kind = campaign.target_scope(target).kinds[0]
    answers: list[object] = [True, 1, 1.0, "1", [1], None, 2, "2.5", 0, False, 1, True, [1], "x", 1.0, 3]
    units = [row(f"DL-{i:03d}", f"CĐ {i}", kind, "DL-A", "on_time", {name: a}) for i, a in enumerate(answers)]
    alone = [target_result(campaign, target, [u]).units_meeting for u in units]
    assert 0 < sum(alone) < len(units)  # the data set has units on both sides of the condition
    assert target_result(campaign, target, units).units_meeting == sum(alone)
    assert target_result(campaign, target, units[::-1]).units_meeting == sum(alone)
