"""The conversation around the form: registration, who may report, saving, submitting, correcting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.campaign_model import FormField
from bot.commands import COMMANDS, menu
from bot.config import Config
from bot.conversation import Command, Conversation, Press, Response, Sender
from bot.deadlines import days_left_or_late
from bot.dialog.model import TextInput
from bot.domain import Channel, Role
from bot.i18n import Translator
from bot.invites import issue_invite
from bot.reminder_text import reminder_reply
from storage import campaigns as campaign_store
from storage import drafts as draft_store
from storage import submissions as submission_store
from storage import units as unit_store
from storage.db import Database
from tests.conftest import VN
from tests.dialog_driver import answer_current, current_field
from tests.fakes import FakeClock

# The dialog is the path that leans on storage the hardest (a step's first read, its one-batch save, the durable
# submit): it runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

DAKLAK_95 = "daklak-95-nam-cdvn-2024"


@dataclass
class World:
    db: Database
    conv: Conversation
    clock: FakeClock
    config: Config

    async def invite(self, unit_code: str, role: Role = Role.CHAIR) -> str:
        unit = await unit_store.by_code(self.db, unit_code)
        assert unit is not None
        issued = await issue_invite(
            self.db,
            unit=unit,
            role=role,
            lifetime=timedelta(days=14),
            created_by="test",
            now=self.clock.now(),
            bot_username="CongDoanBaoCaoBot",
        )
        return issued.code

    async def register(self, sender: Sender, unit_code: str, role: Role = Role.CHAIR) -> Response:
        return await self.conv.handle(sender, Command("start", await self.invite(unit_code, role)))

    async def state(self, sender: Sender) -> dict:
        person_id = await self.db.fetchval(
            "SELECT person_id FROM identities WHERE channel = ? AND external_id = ?",
            (sender.channel.value, sender.external_id),
        )
        draft = await draft_store.load(self.db, person_id)
        assert draft is not None
        return draft.state

    async def current_field(self, sender: Sender) -> FormField | None:
        state = await self.state(sender)
        if state.get("mode") != "form":
            return None
        campaign = await campaign_store.campaign(self.db, state["form"]["campaign_id"])
        assert campaign is not None
        return current_field(state, {f.name: f for f in campaign.fields})

    async def answer_all(self, sender: Sender, response: Response) -> Response:
        for _ in range(60):
            field = await self.current_field(sender)
            if field is None:
                return response
            response = await answer_current(self.conv, sender, response, field)
        raise AssertionError("the form did not end")

    async def open_report(self, sender: Sender, label_part: str) -> Response:
        response = await self.conv.handle(sender, Command("baocao"))
        return await press_label(self.conv, sender, response, label_part)


async def press_label(conv: Conversation, sender: Sender, response: Response, part: str) -> Response:
    for reply in response.replies:
        for button in (*reply.choices, *reply.nav):
            if part in button.label:
                return await conv.handle(sender, Press(response.version, button.action))
    raise AssertionError(f"no button with {part!r} in {[b.label for r in response.replies for b in r.choices]}")


def text_of(response: Response) -> str:
    return "\n".join(r.text for r in response.replies)


CHAIR = Sender(Channel.TELEGRAM, "1001", "1001", "Nguyễn Thị Hoa", "hoa", "vi")
OFFICER = Sender(Channel.TELEGRAM, "2002", "2002", "Trần Văn Nam", None, "vi")
STRANGER = Sender(Channel.TELEGRAM, "3003", "3003", "Người lạ", None, "en")


async def test_an_unknown_person_is_told_how_to_join_and_nothing_is_stored(world: World) -> None:
    response = await world.conv.handle(STRANGER, TextInput("hello"))
    assert "invite link" in text_of(response)
    assert await world.db.fetchval("SELECT count(*) FROM people") == 0


async def test_invite_registers_and_greets_by_name_and_unit(world: World) -> None:
    response = await world.register(CHAIR, "DL-BMT-001")
    assert "Chào mừng Nguyễn Thị Hoa" in text_of(response)
    assert "Công đoàn Công ty TNHH MTV Cà phê Buôn Ma Thuột" in text_of(response)
    again = await world.conv.handle(STRANGER, Command("start", "not-a-valid-code-at-all"))
    assert "không hợp lệ" in text_of(again) or "not valid" in text_of(again)


async def test_the_invite_code_typed_as_a_message_also_registers(world: World) -> None:
    code = await world.invite("DL-BMT-002")
    zalo = Sender(Channel.ZALO, "z-1", "z-1", "Lê Văn Bình", None, "vi")
    response = await world.conv.handle(zalo, TextInput(code))
    assert "Chào mừng Lê Văn Bình" in text_of(response)


async def test_a_full_report_gives_a_receipt_and_one_submission(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    response = await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    assert "Hạn nộp: trước Thứ Hai, 05/08/2024" in text_of(response)
    response = await world.answer_all(CHAIR, response)
    assert "Xin đồng chí kiểm tra lại báo cáo" in text_of(response)
    receipt = await world.conv.handle(CHAIR, Press(response.version, "submit"))
    text = text_of(receipt)
    assert "✅ Đã nhận báo cáo" in text
    assert "Số biên nhận: BC-" in text
    assert "Thời gian: 08:00 02/08/2024" in text
    assert "Nộp sau hạn" not in text
    assert await world.db.fetchval("SELECT count(*) FROM submissions") == 1
    # A second tap on the same "Gửi" button is out of date and sends nothing.
    again = await world.conv.handle(CHAIR, Press(response.version, "submit"))
    assert "Nút này đã cũ" in text_of(again)
    assert await world.db.fetchval("SELECT count(*) FROM submission_revisions") == 1


async def test_a_late_report_is_accepted_and_marked_late(world: World) -> None:
    world.clock.set(world.clock.now() + timedelta(days=5))  # 7 August: two days after "trước ngày 5/8"
    await world.register(CHAIR, "DL-BMT-001")
    response = await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    response = await world.answer_all(CHAIR, response)
    receipt = await world.conv.handle(CHAIR, Press(response.version, "submit"))
    assert "Nộp sau hạn (3 ngày)" in text_of(receipt)
    row = await world.db.fetchone("SELECT late FROM submissions")
    assert row is not None
    assert row["late"] == 1


async def test_a_correction_keeps_every_revision(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    response = await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    response = await world.answer_all(CHAIR, response)
    await world.conv.handle(CHAIR, Press(response.version, "submit"))
    world.clock.advance(days=1)
    listing = await world.conv.handle(CHAIR, Command("danop"))
    assert "Các báo cáo đã nộp" in text_of(listing)
    review = await press_label(world.conv, CHAIR, listing, "BC-")
    assert "Báo cáo đã nộp. Sửa câu trả lời" in text_of(review)
    edit = await world.conv.handle(CHAIR, Press(review.version, "edit"))
    question = await world.conv.handle(CHAIR, Press(edit.version, "e:1"))
    assert "Câu trả lời hiện tại: 12 buổi" in text_of(question)
    back_at_review = await world.conv.handle(CHAIR, TextInput("7"))
    receipt = await world.conv.handle(CHAIR, Press(back_at_review.version, "submit"))
    assert "Đã nhận bản sửa (lần 2)" in text_of(receipt)
    submission_id = await world.db.fetchval("SELECT id FROM submissions")
    revisions = await submission_store.revisions(world.db, submission_id)
    assert [r.revision for r in revisions] == [1, 2]
    assert revisions[0].answers["propaganda_sessions"] == 12
    assert revisions[1].answers["propaganda_sessions"] == 7
    assert revisions[1].submitted_at - revisions[0].submitted_at == timedelta(days=1)


async def test_a_restart_continues_at_the_same_question(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    response = await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    for _ in range(3):
        field = await world.current_field(CHAIR)
        assert field is not None
        response = await answer_current(world.conv, CHAIR, response, field)
    before = await world.current_field(CHAIR)
    assert before is not None
    restarted = Conversation(world.db, world.clock, VN, world.config.locales_dir)  # a new process, same database
    world.clock.advance(days=2)
    resumed = await restarted.handle(CHAIR, Command("baocao"))
    assert "Câu 4/" in text_of(resumed)
    assert (await world.current_field(CHAIR)) == before


async def test_a_redelivered_update_is_handled_once(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    response = await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    first = await world.conv.handle(CHAIR, TextInput("5"), update_key="777")
    again = await world.conv.handle(CHAIR, TextInput("9"), update_key="777")
    assert again.duplicate
    assert again.replies == []
    state = await world.state(CHAIR)
    assert state["form"]["answers"] == {"propaganda_sessions": 5}
    assert first.version > response.version


async def test_two_updates_racing_for_one_person_are_both_applied_in_turn(world: World) -> None:
    """Both read the same draft; the second save finds the version moved on, and that update is worked
    out again on the newer state: each answer lands on its own question, none overwrites the other."""
    await world.register(CHAIR, "DL-BMT-001")
    response = await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    first, second = await asyncio.gather(world.conv.handle(CHAIR, TextInput("5"), update_key="801"),
                                         world.conv.handle(CHAIR, TextInput("40"), update_key="802"))
    assert sorted([first.version, second.version]) == [response.version + 1, response.version + 2]
    state = await world.state(CHAIR)
    assert state["form"]["answers"] == {"propaganda_sessions": 5, "propaganda_participants": 40}
    assert "Câu 3/" in text_of(first if first.version > second.version else second)
    assert await draft_store.seen(world.db, "telegram", "801")
    assert await draft_store.seen(world.db, "telegram", "802")


async def test_a_button_never_offered_is_refused(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    response = await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    before = await world.state(CHAIR)
    forged = await world.conv.handle(CHAIR, Press(response.version, "submit"))
    assert "Nút này đã cũ" in text_of(forged)
    assert (await world.state(CHAIR))["form"] == before["form"]
    assert await world.db.fetchval("SELECT count(*) FROM submissions") == 0


async def test_a_chair_reports_only_for_their_own_unit(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    response = await world.conv.handle(CHAIR, Command("baocao", "DL-BMT-002"))
    assert "không có quyền báo cáo cho đơn vị DL-BMT-002" in text_of(response)


async def test_an_officer_may_report_for_a_unit_of_their_subtree_only(world: World) -> None:
    await world.register(OFFICER, "DL-BMT", Role.OFFICER)
    own = await world.conv.handle(OFFICER, Command("baocao", "DL-BMT-003"))
    assert "Đồng chí muốn nộp báo cáo nào cho" in text_of(own)
    await world.conv.handle(OFFICER, Command("huy"))
    other = await world.conv.handle(OFFICER, Command("baocao", "DL-KP-003"))
    assert "không có quyền" in text_of(other)


async def test_department_staff_do_not_file_reports(world: World) -> None:
    staff = Sender(Channel.TELEGRAM, "4004", "4004", "Phạm Thu", None, "vi")
    await world.register(staff, "DL", Role.DEPARTMENT)
    response = await world.conv.handle(staff, Command("baocao"))
    assert "không nộp báo cáo" in text_of(response)


async def test_deadlines_and_words_instead_of_commands(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    for typed in ("Hạn nộp", "han nop", "HẠN  NỘP!", "hannop"):  # with or without marks, any case
        response = await world.conv.handle(CHAIR, TextInput(typed))
        assert "hạn trước Thứ Hai, 05/08/2024 — còn 3 ngày" in text_of(response), typed


async def test_deadlines_while_a_form_is_open_keep_the_form(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    await world.conv.handle(CHAIR, TextInput("5"))
    response = await world.conv.handle(CHAIR, Command("hannop"))
    assert "đang dừng ở câu 2/" in text_of(response)
    assert (await world.state(CHAIR))["form"]["answers"] == {"propaganda_sessions": 5}


async def test_cancel_with_confirmation_deletes_the_draft(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    await world.conv.handle(CHAIR, TextInput("5"))
    ask = await world.conv.handle(CHAIR, TextInput("hủy"))
    assert "Hủy báo cáo này?" in text_of(ask)
    done = await world.conv.handle(CHAIR, Press(ask.version, "yes"))
    assert "Đã hủy báo cáo" in text_of(done)
    assert (await world.state(CHAIR))["mode"] == "idle"


async def test_a_closed_period_refuses_the_report(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    response = await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    response = await world.answer_all(CHAIR, response)
    world.clock.advance(days=40)  # past 30 days after the due date
    refused = await world.conv.handle(CHAIR, Press(response.version, "submit"))
    assert "đã khóa sổ" in text_of(refused)
    assert await world.db.fetchval("SELECT count(*) FROM submissions") == 0


async def test_language_can_be_switched_to_english(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    menu = await world.conv.handle(CHAIR, Command("ngonngu"))
    done = await press_label(world.conv, CHAIR, menu, "English")
    assert done.locale == "en"
    response = await world.conv.handle(CHAIR, Command("hannop"))
    assert "3 days left" in text_of(response)


async def test_the_language_choice_is_confirmed_in_the_language_chosen(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    english = await press_label(world.conv, CHAIR, await world.conv.handle(CHAIR, Command("ngonngu")), "English")
    assert text_of(english) == "Language set to English."
    vietnamese = await press_label(world.conv, CHAIR, await world.conv.handle(CHAIR, Command("ngonngu")),
                                   "Tiếng Việt")
    assert vietnamese.locale == "vi"
    assert text_of(vietnamese) == "Đã chuyển ngôn ngữ sang tiếng Việt."


@pytest.mark.sqlite_only("SQLite's synchronous levels; every PostgreSQL commit is synced")
async def test_a_receipt_is_sent_only_after_a_commit_synced_to_disk(world: World,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """WAL with synchronous=NORMAL loses the last commits on a power cut: a receipt must not promise one of them."""
    levels: list[int] = []
    transaction = world.db.transaction

    @asynccontextmanager
    async def recording(**kwargs: Any) -> AsyncIterator[Any]:
        async with transaction(**kwargs) as tx:
            yield tx
            levels.append(int(await tx.fetchval("PRAGMA synchronous")))  # in force at this COMMIT

    monkeypatch.setattr(world.db, "transaction", recording)
    await world.register(CHAIR, "DL-BMT-001")
    response = await world.answer_all(CHAIR, await world.open_report(CHAIR, "Đợt 1"))
    levels.clear()
    receipt = await world.conv.handle(CHAIR, Press(response.version, "submit"))
    assert "✅ Đã nhận báo cáo" in text_of(receipt)
    assert levels, "the submission was stored without a transaction"
    assert set(levels) == {2}  # FULL: the write-ahead log is synced at the commit the receipt promises
    assert await world.db.synchronous() == "NORMAL"  # and ordinary steps go back to syncing at checkpoints


async def test_numbered_answers_on_channels_without_buttons(world: World) -> None:
    zalo = Sender(Channel.ZALO, "z-9", "z-9", "Đỗ Minh", None, "vi")
    await world.conv.handle(zalo, TextInput(await world.invite("DL-BMT-001")))
    menu = await world.conv.handle(zalo, Command("baocao"))
    labels = [b.label for r in menu.replies for b in r.choices]
    number = next(i for i, label in enumerate(labels, start=1) if "120 năm tỉnh Đắk Lắk — Đợt 1" in label)
    first = await world.conv.handle(zalo, TextInput(str(number)))
    assert "Câu 1/" in text_of(first)
    await world.conv.handle(zalo, TextInput("0"))  # "0" on a number question is an answer, not "back"
    assert (await world.state(zalo))["form"]["answers"] == {"propaganda_sessions": 0}


async def test_an_officer_reminds_the_late_units_of_their_subtree_only(world: World) -> None:
    await world.register(OFFICER, "DL-BMT", Role.OFFICER)
    chairs = []
    for i, code in enumerate(("DL-BMT-001", "DL-BMT-002", "DL-KP-001"), start=1):
        chair = Sender(Channel.TELEGRAM, f"50{i}", f"50{i}", f"Chủ tịch {i}", None, "vi")
        await world.register(chair, code)
        chairs.append(chair)
    menu = await world.conv.handle(OFFICER, Command("nhacnho"))
    ask = await press_label(world.conv, OFFICER, menu, "120 năm tỉnh Đắk Lắk — Đợt 1")
    text = text_of(ask)
    assert "13 đơn vị chưa nộp" in text  # DL-BMT itself and its 12 grassroots unions
    # DL-BMT reports through its officer, two grassroots through their chairs; ten have no one registered.
    assert "Gửi lời nhắc đến 3 người" in text
    assert "10 đơn vị bot không liên lạc được" in text
    done = await world.conv.handle(OFFICER, Press(ask.version, "yes"))
    assert "Đã xếp 3 lời nhắc" in text_of(done)
    rows = await world.db.fetchall(
        "SELECT chat_id_json FROM (SELECT json_extract(payload, '$.chat_id') AS chat_id_json FROM outbox) AS o"
    )
    assert sorted(r[0] for r in rows) == ["2002", "501", "502"]  # not DL-KP-001's chair: outside the subtree


async def test_a_chair_cannot_send_reminders(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    response = await world.conv.handle(CHAIR, Command("nhacnho"))
    assert "Chỉ cán bộ công đoàn cấp trên và Ban" in text_of(response)
    assert await world.db.fetchval("SELECT count(*) FROM outbox") == 0


async def test_one_person_links_telegram_and_zalo_and_chooses_where_reminders_go(world: World) -> None:
    from storage import reminders as reminder_store

    await world.register(CHAIR, "DL-BMT-001")
    code_reply = await world.conv.handle(CHAIR, Command("lienket"))
    code = text_of(code_reply).split("\n")[0].split(": ")[1]
    zalo = Sender(Channel.ZALO, "z-42", "z-42", "Hoa trên Zalo", None, "vi")
    linked = await world.conv.handle(zalo, TextInput(code))
    assert "Đã liên kết: Nguyễn Thị Hoa" in text_of(linked)
    assert await world.db.fetchval("SELECT count(*) FROM people") == 1  # one person, two channels
    # The same report continues on either channel.
    await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    resumed = await world.conv.handle(zalo, Command("baocao"))
    assert "Câu 1/" in text_of(resumed)
    await world.conv.handle(zalo, Command("huy"))
    await world.conv.handle(zalo, TextInput("có"))
    menu = await world.conv.handle(zalo, Command("kenh"))
    done = await press_label(world.conv, zalo, menu, "Zalo")
    assert "Đã lưu" in text_of(done)
    unit = await unit_store.by_code(world.db, "DL-BMT-001")
    assert unit is not None
    found = await reminder_store.recipients(world.db, [unit.id], ("chair",))
    assert [(r.channel, r.chat_id) for r in found[unit.id]] == [("zalo", "z-42")]
    # A used code links nothing more; an account of someone else is never taken over.
    again = await world.conv.handle(Sender(Channel.ZALO, "z-43", "z-43", "Người khác", None, "vi"), TextInput(code))
    assert "đã được dùng" in text_of(again)


# --- counting days: one rule for /hannop, reminders and receipts --------------------------------------

DUE = datetime(2024, 8, 5, tzinfo=VN)  # "trước ngày 5/8": the last day is 4 August
UTC = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("now", "late", "days"),
    [
        (datetime(2024, 8, 2, 8, 0, tzinfo=VN), False, 3),  # 2, 3 and 4 August left
        (datetime(2024, 8, 3, 23, 59, tzinfo=VN), False, 2),
        (datetime(2024, 8, 4, 0, 0, tzinfo=VN), False, 1),  # the last day, from its first minute ...
        (datetime(2024, 8, 4, 23, 59, 59, tzinfo=VN), False, 1),  # ... to its last second
        (DUE, True, 1),  # at the due instant: late, on the first day after the last day
        (datetime(2024, 8, 5, 10, 0, tzinfo=VN), True, 1),
        (datetime(2024, 8, 5, 23, 59, tzinfo=VN), True, 1),
        (datetime(2024, 8, 6, 0, 0, tzinfo=VN), True, 2),  # past midnight: one more day late
        (datetime(2024, 8, 12, 8, 0, tzinfo=VN), True, 8),
        (datetime(2024, 8, 4, 16, 59, tzinfo=UTC), False, 1),  # 23:59 on 4 August in Vietnam
        (datetime(2024, 8, 4, 17, 30, tzinfo=UTC), True, 1),  # 00:30 on 5 August in Vietnam
    ],
)
def test_days_left_or_late_count_calendar_days_in_vietnam(now: datetime, late: bool, days: int) -> None:
    assert (now >= DUE) is late
    assert days_left_or_late(DUE, now, VN) == days


async def test_deadlines_reminder_and_receipt_agree_on_the_days_late(world: World) -> None:
    world.clock.set(datetime(2024, 8, 5, 10, 0, tzinfo=VN))  # the morning after the last day
    await world.register(CHAIR, "DL-BMT-001")
    deadlines = await world.conv.handle(CHAIR, Command("hannop"))
    assert "hạn trước Thứ Hai, 05/08/2024 — quá hạn 1 ngày" in text_of(deadlines)

    campaign = await campaign_store.campaign(world.db, DAKLAK_95)
    assert campaign is not None
    row = next(p for p in await campaign_store.periods_of(world.db, DAKLAK_95) if p.key == "dot-1")
    reminder = reminder_reply(Translator("vi", world.config.locales_dir), campaign=campaign,
                              period=campaign.period("dot-1"), period_id=row.id, unit_id=1, unit_name="x",
                              due_at=row.due_at, at=world.clock.now(), zone=VN, draft=None, buttons=False)
    assert "quá hạn 1 ngày" in reminder.text

    response = await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    response = await world.answer_all(CHAIR, response)
    receipt = await world.conv.handle(CHAIR, Press(response.version, "submit"))
    assert "Nộp sau hạn (1 ngày)" in text_of(receipt)


# --- commands -----------------------------------------------------------------------------------------


async def test_help_lists_every_command_of_the_table(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    text = text_of(await world.conv.handle(CHAIR, Command("trogiup")))
    assert "/baocao — nộp báo cáo cho đơn vị" in text
    assert "/nhacnho — (cán bộ) nhắc các đơn vị chưa nộp" in text
    lines = [line.split(" — ")[0] for line in text.splitlines() if line.startswith("/")]
    assert lines == [f"/{c.name}" for c in COMMANDS]


def test_the_command_menu_is_translated(config: Config) -> None:
    vi = menu(Translator("vi", config.locales_dir))
    en = menu(Translator("en", config.locales_dir))
    assert [c for c, _ in vi] == [c for c, _ in en] == [c.name for c in COMMANDS]
    assert vi[0] == ("baocao", "Nộp báo cáo cho đơn vị")
    assert en[0] == ("baocao", "File a report for your unit")


@pytest.mark.parametrize("name", ["ngonngu", "kenh", "tonghop", "nhacnho"])
async def test_a_menu_command_during_a_report_keeps_the_report(world: World, name: str) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    await world.conv.handle(CHAIR, TextInput("5"))
    response = await world.conv.handle(CHAIR, Command(name))
    assert "Xin hoàn thành hoặc hủy (/huy) báo cáo đang làm trước." in text_of(response)
    state = await world.state(CHAIR)
    assert state["mode"] == "form"
    assert state["form"]["answers"] == {"propaganda_sessions": 5}
