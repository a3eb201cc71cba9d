"""Drafting from the documents unions really send (issue 17): công văn, thông báo, hướng dẫn, school-union
notices, news reports, giao ước thi đua. The texts here are written for these tests, in the style of real
ones and unlike the corpus in tests/plans/corpus/ (scored by tests/plans/score.py)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.common import state
from bot.cli.plans_cmd import app as plans_app
from bot.i18n import Translator
from bot.plans.chat import apply_edit, problems_of, read_plan, review_text
from bot.plans.draft import draft_campaign
from bot.plans.extract import ZONE, extract_plan
from tests.plans.score import score

REPO = Path(__file__).resolve().parent.parent
VI = Translator("vi", REPO / "locales")


def _targets(text: str) -> set[tuple[str, Decimal, str]]:
    out = set()
    for t in extract_plan(text).targets:
        if t.companion_of:
            continue
        if t.count_at_least is not None:
            out.add((t.measure, Decimal(t.count_at_least), "count"))
        else:
            out.add((t.measure, t.threshold, t.unit))
    return out


# ================================================================ the corpus
def test_the_corpus_of_union_texts_reaches_the_issues_recall_and_deadline_precision() -> None:
    s = score()
    for kind in ("deadlines", "milestones", "rounds", "targets"):
        assert s.recall(kind) >= 0.8, (kind, s.notes)
    assert s.precision("deadlines") >= 0.9, s.notes


# ================================================================ deadlines
@pytest.mark.parametrize(("words", "due"), [
    ("trước 17h00 ngày 12/9/2024", datetime(2024, 9, 12, 17, 0, tzinfo=ZONE)),
    ("trước 16 giờ 30 ngày 12/9/2024", datetime(2024, 9, 12, 16, 30, tzinfo=ZONE)),
    ("chậm nhất 8h ngày 12/9/2024", datetime(2024, 9, 12, 8, 0, tzinfo=ZONE)),
])
def test_a_time_of_day_makes_the_due_instant_that_time_not_midnight(words: str, due: datetime) -> None:
    p = extract_plan(f"Số: 3/TB-CĐ   Hà Tĩnh, ngày 02 tháng 9 năm 2024\nCác tổ công đoàn gửi báo cáo về "
                     f"Ban Chấp hành {words}.\n")
    assert [d.due_at for d in p.deadlines] == [due]
    assert p.deadlines[0].time == time(due.hour, due.minute)


@pytest.mark.parametrize("words", [
    "chậm nhất đến ngày 18/10/2024", "chậm nhất là thứ Sáu, ngày 18/10/2024", "hạn cuối: ngày 18/10/2024",
    "chậm nhất vào ngày 18-10", "hạn chót 18/10",
])
def test_deadline_wordings_unions_use_are_read_as_on_or_before(words: str) -> None:
    p = extract_plan(f"Số: 71/LĐLĐ   Vĩnh Long, ngày 01 tháng 10 năm 2024\nĐề nghị các CĐCS nộp báo cáo "
                     f"sơ kết về LĐLĐ huyện, {words}.\n")
    assert [(d.date, d.wording) for d in p.deadlines] == [(date(2024, 10, 18), "on_or_before")]


def test_a_day_month_date_takes_the_documents_year_and_says_the_year_was_inferred() -> None:
    p = extract_plan("Số: 9/HD-CĐN   Cần Thơ, ngày 05 tháng 11 năm 2023\nCác CĐCS gửi báo cáo trước ngày 10-1 "
                     "và bản đăng ký thi đua trước ngày 20/11/2023.\n")
    got = {(d.date, d.confidence) for d in p.deadlines}
    assert got == {(date(2024, 1, 10), "inferred_year"), (date(2023, 11, 20), "stated")}


def test_a_yearly_deadline_recurs_from_the_document_date_and_never_before_it() -> None:
    p = extract_plan("Số: 2/KH-CĐ   Huế, ngày 20 tháng 12 năm 2024\nKẾ HOẠCH\nChăm lo cho đoàn viên giai đoạn "
                     "2024 - 2026\nCông đoàn cơ sở báo cáo kết quả trước ngày 10/12 hàng năm.\n")
    dates = [(d.date, d.confidence) for d in p.deadlines]
    # 10/12/2024 is before the document: the first is 2025, the next ones are the importer's proposals.
    assert dates == [(date(2025, 12, 10), "inferred_year"), (date(2026, 12, 10), "proposed")]


def test_a_task_to_finish_is_a_milestone_and_the_report_in_the_same_sentence_a_deadline() -> None:
    p = extract_plan("Số: 14/CĐ   Nam Định, ngày 02 tháng 3 năm 2024\nCác CĐCS kết thúc đợt tuyên truyền "
                     "trước ngày 30/4/2024; sau đó nộp báo cáo kết quả về Công đoàn ngành trước ngày 10/5/2024.\n"
                     "Tổ chức xong đại hội công đoàn bộ phận trước ngày 15/3/2024.\n")
    assert [d.date for d in p.deadlines] == [date(2024, 5, 10)]
    assert sorted(m.date for m in p.milestones) == [date(2024, 3, 15), date(2024, 4, 30)]
    assert all(m.evidence.sentence and m.evidence.line for m in p.milestones)


# ================================================================ rounds
@pytest.mark.parametrize(("words", "start", "end"), [
    ("báo cáo Quý IV/2024", date(2024, 10, 1), date(2024, 12, 31)),
    ("báo cáo quý 2 năm 2025", date(2025, 4, 1), date(2025, 6, 30)),
    ("báo cáo sơ kết 6 tháng đầu năm 2025", date(2025, 1, 1), date(2025, 6, 30)),
    ("báo cáo tổng kết năm học 2024-2025", date(2024, 9, 1), date(2025, 8, 31)),
    ("Giai đoạn 2: từ tháng 4/2025 đến tháng 9/2025, gửi báo cáo", date(2025, 4, 1), date(2025, 9, 30)),
    ("đợt thăm hỏi từ sau ngày 20/1/2025 đến 05/2/2025, gửi báo cáo", date(2025, 1, 21), date(2025, 2, 5)),
])
def test_named_periods_are_rounds(words: str, start: date, end: date) -> None:
    p = extract_plan(f"Số: 5/CĐ   Huế, ngày 02 tháng 01 năm 2025\nCác CĐCS {words} về Công đoàn ngành.\n")
    assert [(r.start, r.end) for r in p.rounds] == [(start, end)]


def test_an_activity_time_named_by_quarter_is_not_a_round() -> None:
    p = extract_plan("Số: 5/CĐ   Huế, ngày 02 tháng 01 năm 2025\n- Thời gian: Quý 1/2025.\n")
    assert p.rounds == ()


# ================================================================ targets
def test_targets_whose_measure_comes_before_the_number() -> None:
    got = _targets("Chỉ tiêu năm 2025 của Công đoàn Viên chức tỉnh:\n"
                   "- Tỷ lệ CBCCVCLĐ được học tập nghị quyết đạt 97%.\n"
                   "- Tỷ lệ công đoàn cơ sở xếp loại vững mạnh đạt từ 75% trở lên.\n"
                   "- Phấn đấu hoàn thành và vượt chỉ tiêu được giao về phát triển đoàn viên.\n")
    assert got == {("ratio", Decimal(97), "%"), ("share_of_units", Decimal(75), "%"), ("ratio", Decimal(100), "%")}


def test_large_counts_and_counts_in_words_are_targets_of_the_whole_or_of_each_unit() -> None:
    got = _targets("Năm 2025 toàn tỉnh phấn đấu kết nạp mới 4.500 đoàn viên, thành lập mới 40 CĐCS.\n"
                   "Mỗi tổ công đoàn có hai sáng kiến được công nhận.\n"
                   "Toàn ngành có 1,5 triệu đoàn viên.\n")
    assert ("total", Decimal(4500), "count") in got
    assert ("total", Decimal(40), "count") in got
    assert ("share_of_units", Decimal(2), "count") in got


@pytest.mark.parametrize(("line", "scope"), [
    ("Công đoàn cấp trên cơ sở hướng dẫn để 80% CĐCS khối hành chính sự nghiệp tổ chức hội nghị.", ("public_agency",)),
    ("Ở CĐCS doanh nghiệp, tỷ lệ đoàn viên là người lao động đạt 85%.", ("enterprise",)),
    ("LĐLĐ huyện chỉ đạo 60% CĐCS doanh nghiệp tổ chức đối thoại.", ("enterprise",)),
])
def test_the_scope_of_a_target_is_the_unit_kind_it_names(line: str, scope: tuple[str, ...]) -> None:
    p = extract_plan(f"Chỉ tiêu:\n- {line}\n")
    assert [t.scope for t in p.targets if not t.companion_of] == [scope]


# ================================================================ identity
def test_identity_kind_issuer_over_two_lines_with_blank_lines_and_not_the_cited_document() -> None:
    p = extract_plan("CÔNG ĐOÀN NGÀNH GIÁO DỤC TỈNH\n\nCÔNG ĐOÀN TRƯỜNG\n\nTIỂU HỌC KIM ĐỒNG\n\nSố: 08/HD-CĐ\n\n"
                     "Đà Lạt, ngày 11 tháng 10 năm 2024\n\nHƯỚNG DẪN\n\nTỔ CHỨC HỘI THI GIÁO VIÊN DẠY GIỎI CẤP TRƯỜNG\n\n"
                     "Căn cứ Hướng dẫn số 30/HD-CĐN ngày 01/10/2024 của Công đoàn ngành, các tổ công đoàn gửi "
                     "báo cáo trước ngày 30/10/2024.\n")
    ident = p.identity
    assert (ident.kind, ident.number, ident.date) == ("huong_dan", "08/HD-CĐ", date(2024, 10, 11))
    assert ident.issuer == "Công đoàn trường tiểu học Kim Đồng"
    assert ident.title == "Hướng dẫn tổ chức hội thi giáo viên dạy giỏi cấp trường"


@pytest.mark.parametrize(("text", "kind"), [
    ("LIÊN ĐOÀN LAO ĐỘNG HUYỆN A\nSố: 1/LĐLĐ\nV/v báo cáo số liệu đoàn viên\n", "cong_van"),
    ("CÔNG ĐOÀN CƠ SỞ X\nSố: 2/QĐ-CĐCS\nQUYẾT ĐỊNH\nVề việc khen thưởng\n", "quyet_dinh"),
    ("(LĐ) - Sáng 5/3, Liên đoàn Lao động tỉnh tổ chức hội nghị. Các CĐCS báo cáo trước ngày 20/3.\n", "bao"),
])
def test_the_kind_of_document_is_read(text: str, kind: str) -> None:
    assert extract_plan(text).identity.kind == kind


# ================================================================ a draft without a reporting date
NO_DATE = ("LIÊN ĐOÀN LAO ĐỘNG HUYỆN HÒA VANG\nSố: 11/KH-LĐLĐ      Hòa Vang, ngày 15 tháng 01 năm 2025\n\nKẾ HOẠCH\n"
           "Phát triển đoàn viên năm 2025\n\nI. CHỈ TIÊU\n1. Kết nạp mới 600 đoàn viên.\n"
           "2. 100% CĐCS doanh nghiệp tổ chức tuyên truyền về lợi ích đoàn viên.\n")


def test_a_plan_with_targets_but_no_date_is_a_draft_whose_first_item_is_to_add_the_due_date() -> None:
    p = extract_plan(NO_DATE)
    assert p.targets
    draft = draft_campaign(p, name="kh.txt")
    assert "thêm hạn nộp" in draft.to_fill[0].msgid
    assert problems_of(draft.toml, draft.campaign_id)  # it cannot be published before the date is typed
    toml = apply_edit(draft.toml, "hạn ket-qua 10/12/2025", 2025)
    assert problems_of(toml, draft.campaign_id) == []
    assert "date = 2025-12-10" in toml


def test_chat_review_shows_the_missing_date_and_inferred_values_first() -> None:
    found = read_plan(("Số: 4/TB-CĐ   Huế, ngày 03 tháng 3 năm 2025\nTHÔNG BÁO\nVề hội thao\n"
                       "Các tổ công đoàn gửi báo cáo trước ngày 20/3.\nHoàn thành đăng ký trước ngày 10/3/2025.\n"
                       ).encode(), "tb.txt")
    text = review_text(VI, found, [])
    assert text.index("[năm suy ra]") < text.index("Các đợt của bản nháp")
    assert "Mốc hoàn thành" in text
    missing = read_plan(NO_DATE.encode(), "kh.txt")
    lines = review_text(VI, missing, problems_of(missing.draft.toml, missing.draft.campaign_id)).splitlines()
    first_to_fill = lines[lines.index(VI("To fill in before the draft loads:")) + 1]
    assert "thêm hạn nộp" in first_to_fill


@pytest.fixture
def cli(config_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(state, "config_path", config_path)
    monkeypatch.setenv("BOT__APP__LANGUAGE", "en")
    return CliRunner()


def test_cli_json_prints_everything_found_and_why_it_cannot_be_published_yet(cli: CliRunner, tmp_path: Path) -> None:
    plan = tmp_path / "kh.txt"
    plan.write_text(NO_DATE + "3. Các CĐCS hoàn thành rà soát danh sách trước ngày 28/2/2025.\n", encoding="utf-8")
    result = cli.invoke(plans_app, ["import", str(plan), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["identity"]["type"] == "ke_hoach"
    assert {t["threshold"] for t in data["targets"]} == {600.0, 100.0}
    assert all(t["sentence"] and t["line"] for t in data["targets"])
    assert [m["date"] for m in data["milestones"]] == ["2025-02-28"]
    assert data["publishable"] is False
    assert "add the due date" in data["not_publishable_because"][0]


async def test_in_chat_the_department_types_the_missing_date_then_publishes(config, clock, tmp_path: Path) -> None:
    from bot.app import prepare
    from bot.conversation import Command, Conversation, PlanFile, Press, Sender
    from bot.dialog.model import TextInput
    from bot.domain import Channel, Role
    from bot.invites import issue_invite
    from storage import units as unit_store
    from tests.conftest import VN

    prepared = await prepare(config, clock.now())
    db = prepared.db
    try:
        campaigns_dir = tmp_path / "campaigns"
        conv = Conversation(db, clock, VN, config.locales_dir, campaigns_dir=campaigns_dir)
        province = await unit_store.by_code(db, "DL")
        assert province is not None
        invite = await issue_invite(db, unit=province, role=Role.DEPARTMENT, lifetime=timedelta(days=1),
                                    created_by="t", now=clock.now(), bot_username="X")
        staff = Sender(Channel.TELEGRAM, "911", "911", "Ban TC", None, "vi")
        await conv.handle(staff, Command("start", invite.code))
        review = await conv.handle(staff, PlanFile("kh.txt", NO_DATE.encode()))
        text = "\n".join(r.text for r in review.replies)
        assert "thêm hạn nộp" in text
        early = await conv.handle(staff, Press(review.version, "plan:publish"))
        assert "Đã công bố" not in "\n".join(r.text for r in early.replies)
        assert not list(campaigns_dir.glob("*.toml"))
        key = re.search(r"hạn ([a-z0-9-]+) \d", text)
        assert key is not None
        edited = await conv.handle(staff, TextInput(f"hạn {key.group(1)} 10/12/2025"))
        done = await conv.handle(staff, Press(edited.version, "plan:publish"))
        assert "Đã công bố" in "\n".join(r.text for r in done.replies)
        assert len(list(campaigns_dir.glob("*.toml"))) == 1
    finally:
        await db.close()
