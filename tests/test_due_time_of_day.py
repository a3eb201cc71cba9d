"""A deadline at a time of day ("trước 17h00 ngày D", "chậm nhất 16 giờ 30 ngày D"), end to end: the campaign
file's `due.time`, the plan importer's draft, the chat review, every text that shows a deadline, the reminder
slots and the late marking. A campaign without a time keeps its midnight due instant (the other tests)."""

from __future__ import annotations

import datetime as dt
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.campaign_model import Campaign, DueWording, Period, due_instant
from bot.campaigns import CampaignFileError, load_campaign_bytes, load_campaign_file
from bot.conversation import Command, Press, Sender
from bot.domain import Channel
from bot.i18n import Translator
from bot.parsing import ParseError
from bot.plans.chat import apply_edit, problems_of, read_plan, review_text
from bot.reminder_text import reminder_reply
from scheduler.policy import escalation_slot, slots
from storage import campaigns as campaign_store
from tests.conftest import VN
from tests.test_conversation import World, text_of
from tests.test_reminders import policy

REPO = Path(__file__).resolve().parent.parent
VI = Translator("vi", REPO / "locales")
EN = Translator("en", REPO / "locales")
DAKLAK_95 = "daklak-95-nam-cdvn-2024"
DOT1_DUE = 'due = { date = 2024-08-05, wording = "before", '


def daklak_text(time_value: str | None) -> str:
    """Đắk Lắk's campaign file with its first period due at `time_value` (a TOML value) on 5/8/2024."""
    text = (REPO / "campaigns" / f"{DAKLAK_95}.toml").read_text(encoding="utf-8")
    assert text.count(DOT1_DUE) == 1
    return text if time_value is None else text.replace(DOT1_DUE, DOT1_DUE + f"time = {time_value}, ")


def load_daklak(time_value: str | None, tmp_path: Path) -> Campaign:
    return load_campaign_bytes(daklak_text(time_value).encode(), tmp_path / f"{DAKLAK_95}.toml")


# ================================================================ the campaign file
@pytest.mark.parametrize(("written", "at"), [
    ('"17:00"', dt.time(17, 0)), ('"17h00"', dt.time(17, 0)), ('"16 giờ 30"', dt.time(16, 30)),
    ('"7h"', dt.time(7, 0)), ("17:00:00", dt.time(17, 0)),  # the last one a TOML local time
])
def test_a_due_time_is_read_as_hours_and_minutes_and_makes_the_due_instant(written: str, at: dt.time,
                                                                           tmp_path: Path) -> None:
    campaign = load_daklak(written, tmp_path)
    period = campaign.period("dot-1")
    assert period.due.time == at
    assert period.due_at(campaign.zone) == datetime.combine(dt.date(2024, 8, 5), at, tzinfo=VN)
    assert period.closes_at(campaign.zone) == period.due_at(campaign.zone) + timedelta(days=period.close_after_days)


@pytest.mark.parametrize("written", ['"25:00"', '"17:75"', '"chiều"', '""', "17:00:30", "1700"])
def test_a_bad_due_time_is_refused_with_its_key_an_example_and_in_the_readers_language(
        written: str, tmp_path: Path) -> None:
    with pytest.raises(CampaignFileError) as caught:
        load_daklak(written, tmp_path)
    [problem] = caught.value.problems
    assert problem.key == "periods[0](dot-1).due.time"
    assert 'e.g. time = "17:00"' in problem.render(EN)
    assert 'ví dụ time = "17:00"' in problem.render(VI)
    assert "không phải giờ trong ngày" in problem.render(VI)


def test_the_cli_check_tells_a_bad_due_time_in_the_configured_language(campaigns_copy: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    (campaigns_copy / f"{DAKLAK_95}.toml").write_text(daklak_text('"25h"'), encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[app]\ncampaigns_dir = "{campaigns_copy.as_posix()}"\n'
                      f'locales_dir = "{(REPO / "locales").as_posix()}"\ndata_dir = "{tmp_path.as_posix()}"\n',
                      encoding="utf-8")
    result = CliRunner().invoke(app, ["--config", str(config), "campaigns", "check"])
    assert result.exit_code == 1
    assert "due.time: không phải giờ trong ngày: '25h'" in result.output


@pytest.mark.parametrize("wording", list(DueWording))
def test_without_a_time_the_due_instant_stays_at_midnight(wording: DueWording) -> None:
    day = dt.date(2024, 8, 5)
    expected = day if wording is DueWording.BEFORE else day + timedelta(days=1)
    assert due_instant(day, wording, VN) == datetime.combine(expected, dt.time(0, 0), tzinfo=VN)
    # With a time, that time on the day written, whatever the wording ("chậm nhất 17h ngày D" too).
    assert due_instant(day, wording, VN, dt.time(17, 0)) == datetime(2024, 8, 5, 17, 0, tzinfo=VN)


# ================================================================ the plan importer
NOTICE = """CÔNG ĐOÀN GIÁO DỤC THÀNH PHỐ QUY NHƠN
CÔNG ĐOÀN TRƯỜNG THCS LÊ LỢI
Số: 05/TB-CĐ                 Quy Nhơn, ngày 20 tháng 3 năm 2026

THÔNG BÁO
Về việc báo cáo kết quả phong trào thi đua quý I năm 2026

Các tổ công đoàn gửi báo cáo kết quả phong trào thi đua về Văn phòng Công đoàn trường trước 17h00 ngày 10/4/2026.
Phấn đấu 100% tổ công đoàn có báo cáo.
"""


def test_the_importers_time_reaches_the_draft_the_published_campaign_and_its_period_due_at(tmp_path: Path) -> None:
    found = read_plan(NOTICE.encode(), "tb-05.txt")
    [period] = found.proposal.periods
    assert period.time == dt.time(17, 0)
    assert period.last_day == dt.date(2026, 4, 10)  # the day itself, not the day before
    assert 'time = "17:00"' in found.draft.toml
    assert problems_of(found.draft.toml, found.draft.campaign_id) == []
    path = tmp_path / f"{found.draft.campaign_id}.toml"
    path.write_text(found.draft.toml, encoding="utf-8")
    campaign = load_campaign_file(path).campaign
    assert campaign.periods[0].due_at(campaign.zone) == datetime(2026, 4, 10, 17, 0, tzinfo=VN)
    assert campaign.periods[0].due_at(campaign.zone).utcoffset() == timedelta(hours=7)
    assert "hạn trước 17:00, Thứ Sáu, 10/04/2026" in review_text(VI, found, [])
    assert "due before 17:00 on Friday, 10/04/2026" in review_text(EN, found, [])


def test_a_deadline_at_midnight_keeps_no_time_in_the_draft() -> None:
    found = read_plan(NOTICE.replace("trước 17h00 ngày", "trước ngày").encode(), "tb-05.txt")
    assert found.proposal.periods[0].time is None
    assert "time =" not in found.draft.toml
    assert "ngày cuối Thứ Năm, 09/04/2026" in review_text(VI, found, [])


def test_a_time_typed_in_chat_goes_into_the_draft_and_a_bad_one_is_refused_with_an_example(tmp_path: Path) -> None:
    found = read_plan(NOTICE.encode(), "tb-05.txt")
    key = found.proposal.periods[0].key
    edited = apply_edit(found.draft.toml, f"hạn {key} 12/4/2026 16h30", 2026)
    assert 'date = 2026-04-12' in edited
    assert 'time = "16:30"' in edited
    assert 'time = "17:00"' not in edited
    assert problems_of(edited, found.draft.campaign_id) == []
    midnight = read_plan(NOTICE.replace("trước 17h00 ngày", "trước ngày").encode(), "tb-05.txt")
    timed = apply_edit(midnight.draft.toml, f"hạn {key} 12/4/2026 lúc 8:00", 2026)
    assert 'time = "08:00" }' in timed
    assert problems_of(timed, midnight.draft.campaign_id) == []
    with pytest.raises(ParseError) as caught:
        apply_edit(found.draft.toml, f"hạn {key} 12/4/2026 25h", 2026)
    assert caught.value.render(VI) == ("“25h” không phải giờ trong ngày: hãy gõ giờ và phút, "
                                       "ví dụ hạn dot-1 10/4/2026 17:00.")


# ================================================================ the texts that show a deadline
def test_a_due_instant_reads_with_its_time_and_a_midnight_one_as_before() -> None:
    five = datetime(2026, 4, 10, 17, 0, tzinfo=VN)
    midnight = datetime(2026, 4, 10, 0, 0, tzinfo=VN)
    assert VI.due_date(five, VN) == "17:00 ngày 10/04/2026"
    assert EN.due_date(five, VN) == "17:00 on 10/04/2026"
    assert VI.due_weekday_date(five, VN) == "17:00, Thứ Sáu, 10/04/2026"
    assert EN.due_weekday_date(five, VN) == "17:00 on Friday, 10/04/2026"
    assert VI.due_date(midnight, VN) == "10/04/2026"
    assert VI.due_weekday_date(midnight, VN) == "Thứ Sáu, 10/04/2026"
    assert VI.due_date(five.astimezone(dt.UTC), VN) == "17:00 ngày 10/04/2026"  # judged on the local clock


def _reminder(t: Translator, campaign: Campaign, period: Period, at: datetime) -> str:
    return reminder_reply(t, campaign=campaign, period=period, period_id=1, unit_id=1, unit_name="CĐCS A",
                          due_at=period.due_at(campaign.zone), at=at, zone=campaign.zone, draft=None,
                          buttons=False).text


def test_a_reminder_shows_the_time_and_on_the_day_says_it_is_the_last_day(tmp_path: Path) -> None:
    campaign = load_daklak('"17:00"', tmp_path)
    period = campaign.period("dot-1")
    morning = datetime(2024, 8, 5, 8, 0, tzinfo=VN)
    assert "Hạn nộp: trước 17:00, Thứ Hai, 05/08/2024 — hôm nay là ngày cuối" in _reminder(VI, campaign, period,
                                                                                           morning)
    assert "Due before 17:00 on Monday, 05/08/2024 — today is the last day" in _reminder(EN, campaign, period,
                                                                                         morning)
    evening = datetime(2024, 8, 5, 17, 30, tzinfo=VN)
    assert "— quá hạn 1 ngày" in _reminder(VI, campaign, period, evening)


# ================================================================ the reminder slots
def test_the_day_of_reminder_falls_before_a_17_00_deadline_and_overdue_ones_after_it() -> None:
    pol = policy()
    due = datetime(2024, 8, 5, 17, 0, tzinfo=VN)
    found = {s.name: s.at for s in slots(pol, due)}
    assert found["before-0"] == datetime(2024, 8, 5, 8, 0, tzinfo=VN)  # the morning of the day itself
    assert found["before-1"] == datetime(2024, 8, 4, 8, 0, tzinfo=VN)
    assert all(at < due for name, at in found.items() if name.startswith("before-"))
    assert found["after-1"] == datetime(2024, 8, 6, 8, 0, tzinfo=VN)  # the first morning after 17:00
    assert found["after-3"] == datetime(2024, 8, 8, 8, 0, tzinfo=VN)
    assert escalation_slot(pol, due).at == datetime(2024, 8, 8, 8, 0, tzinfo=VN)


# ================================================================ late marking, in the dialog
CHAIR_A = Sender(Channel.TELEGRAM, "1001", "1001", "Nguyễn Thị Hoa", "hoa", "vi")
CHAIR_B = Sender(Channel.TELEGRAM, "1002", "1002", "Lê Văn Bình", None, "en")


async def _sync_daklak(world: World, tmp_path: Path, time_value: str | None) -> None:
    path = tmp_path / f"{DAKLAK_95}.toml"
    path.write_text(daklak_text(time_value), encoding="utf-8")
    loaded = load_campaign_file(path)
    await campaign_store.sync_campaigns(world.db, [(loaded.campaign, loaded.sha256, path.name)], actor="test",
                                        now=world.clock.now())


async def _report_at(world: World, sender: Sender, unit_code: str, at: datetime) -> str:
    world.clock.set(at)
    await world.register(sender, unit_code)
    response = await world.open_report(sender, "Đợt 1" if sender.language_code == "vi" else "Round 1")
    response = await world.answer_all(sender, response)
    return text_of(await world.conv.handle(sender, Press(response.version, "submit")))


async def test_a_report_at_16_59_is_on_time_and_one_at_17_01_is_late_when_due_at_17_00(
        world: World, tmp_path: Path) -> None:
    await _sync_daklak(world, tmp_path, '"17:00"')
    [row] = [p for p in await campaign_store.periods_of(world.db, DAKLAK_95) if p.key == "dot-1"]
    assert row.due_at == datetime(2024, 8, 5, 17, 0, tzinfo=VN)  # the sync stored the instant with its time

    on_time = await _report_at(world, CHAIR_A, "DL-BMT-001", datetime(2024, 8, 5, 16, 59, tzinfo=VN))
    assert "Nộp sau hạn" not in on_time
    late = await _report_at(world, CHAIR_B, "DL-BMT-002", datetime(2024, 8, 5, 17, 1, tzinfo=VN))
    assert "Submitted after the due date (1 day late)." in late
    assert "You can correct it until 17:00 on 04/09/2024 with /danop." in late
    rows = await world.db.fetchall("SELECT late FROM submissions ORDER BY id")
    assert [r["late"] for r in rows] == [0, 1]


async def test_the_deadlines_command_shows_the_time_of_the_deadline(world: World, tmp_path: Path) -> None:
    await _sync_daklak(world, tmp_path, '"17:00"')
    world.clock.set(datetime(2024, 8, 5, 10, 0, tzinfo=VN))
    await world.register(CHAIR_A, "DL-BMT-001")
    text = text_of(await world.conv.handle(CHAIR_A, Command("hannop")))
    assert "hạn trước 17:00, Thứ Hai, 05/08/2024 — còn 1 ngày" in text
    world.clock.set(datetime(2024, 8, 5, 18, 0, tzinfo=VN))
    text = text_of(await world.conv.handle(CHAIR_A, Command("hannop")))
    assert "quá hạn 1 ngày — vẫn nhận đến 17:00 ngày 04/09/2024" in text
    menu = await world.conv.handle(CHAIR_A, Command("baocao"))
    assert any("hạn trước 17:00 ngày 05/08/2024" in b.label for r in menu.replies for b in r.choices)


# ================================================================ the summary and its files
def test_the_summary_its_workbook_and_its_bao_cao_show_the_time_of_the_deadline(tmp_path: Path) -> None:
    from dataclasses import replace

    from openpyxl import load_workbook

    from bot.summary.docx_report import report_context
    from bot.summary.text import summary_text
    from bot.summary.xlsx import write_summary_xlsx
    from tests.test_summary import fixed_summary

    base = fixed_summary(REPO)
    timed = replace(base, due_at=datetime(2024, 5, 25, 17, 0, tzinfo=VN))
    assert "Hạn nộp: trước 17:00, Thứ Bảy, 25/05/2024; số liệu tính đến" in summary_text(timed, VI, VN)
    assert "Due before 17:00 on Saturday, 25/05/2024; figures as of" in summary_text(timed, EN, VN)
    assert report_context(timed, VI, VN)["due_date"] == "25/05/2024, lúc 17:00"
    assert report_context(base, VI, VN)["due_date"] == VI.date(base.due_at, VN)  # midnight: the date alone
    for t, words in ((VI, "trước 17:00 ngày 25/05/2024"), (EN, "before 17:00 on 25/05/2024")):
        path = tmp_path / f"{t.locale}.xlsx"
        write_summary_xlsx(path, timed, t, VN)
        cells = [c.value for row in load_workbook(path).worksheets[0].iter_rows() for c in row]
        assert words in cells


def test_a_plan_to_send_by_a_time_of_day_names_the_time_in_its_period() -> None:
    """The period's name is what chairs read in menus and reminders: "trước 16:30 ngày 5/3/2026", not a bare day
    that reads as the whole day."""
    text = ("CÔNG ĐOÀN GIÁO DỤC HUYỆN X\nSố: 12/TB-CĐGD\nTHÔNG BÁO\nVề việc xây dựng kế hoạch Tháng Công nhân năm 2026\n"
            "Đề nghị công đoàn cơ sở các trường gửi kế hoạch về Công đoàn Giáo dục huyện trước 16h30 ngày 5/3/2026.\n"
            "Báo cáo kết quả thực hiện gửi về trước ngày 10/6/2026.\n")
    plan, results = read_plan(text.encode(), "tb-12.txt").proposal.periods
    assert plan.name == "Gửi kế hoạch (trước 16:30 ngày 5/3/2026)"
    assert plan.time == dt.time(16, 30)
    assert results.time is None
