"""Channels without buttons (Zalo, the terminal): a number only ever picks from a list shown, every move is a
typed word the prompt names, and a message of spaces gets an answer on every channel."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import prepare
from bot.campaign_model import FieldType
from bot.config import Config, load_config
from bot.conversation import Command, Conversation, Response, Sender
from bot.dialog.model import TextInput
from bot.domain import Channel
from bot.i18n import Translator
from bot.port import Port
from handlers.terminal import TerminalSession
from storage import campaigns as campaign_store
from storage import submissions as submission_store
from storage import units as unit_store
from storage.db import Database
from tests.conftest import VN
from tests.fakes import FakeClock, RecordingOutput, ScriptedInput
from tests.telegram_fakes import FAKE_TOKEN as TELEGRAM_TOKEN
from tests.test_conversation import World, press_label, text_of
from tests.test_telegram import TelegramHarness, new_invite
from tests.test_zalo import ZaloHarness
from tests.zalo_fake_server import FakeZaloServer

REPORT = "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1"
ZALO = Sender(Channel.ZALO, "z-77", "z-77", "Đỗ Minh", None, "vi")
TERMINAL = Sender(Channel.TERMINAL, "hoa@DL-BMT-002", "hoa@DL-BMT-002", "hoa", None, "vi")
# One typed answer per type, the way a chair writes on a text channel.
TYPED = {FieldType.INTEGER: "12", FieldType.MONEY: "500 nghìn", FieldType.YES_NO: "có", FieldType.SELECT_MULTIPLE: "1,2",
         FieldType.TEXT: "Nhà văn hóa công nhân", FieldType.LONG_TEXT: "Tổ chức 2 buổi tuyên truyền."}


def numbered_choice(response: Response, part: str) -> str:
    """The number a text channel shows for the choice whose label has `part`."""
    for reply in response.replies:
        for i, button in enumerate(reply.choices, start=1):
            if part in button.label:
                return str(i)
    raise AssertionError(f"no choice {part!r}")


async def to_review(world: World, who: Sender) -> Response:
    """Register on a text channel, open the report by its number, type every answer until the review."""
    await world.conv.handle(who, TextInput(await world.invite("DL-BMT-001")))
    menu = await world.conv.handle(who, Command("baocao"))
    response = await world.conv.handle(who, TextInput(numbered_choice(menu, REPORT)))
    for _ in range(60):
        f = await world.current_field(who)
        if f is None:
            break
        typed = "bỏ qua" if f.type.is_attachment else TYPED[f.type]
        response = await world.conv.handle(who, TextInput(typed))
    assert (await world.state(who))["form"]["phase"] == "review"
    return response


def review_number(review: str, n: int) -> str:
    """The label the review gives answer `n`."""
    match = re.search(rf"^{n}\. (.+)$", review, re.MULTILINE)
    assert match, review
    return match.group(1)


async def test_the_review_on_a_text_channel_sends_only_on_a_word_and_a_number_is_an_answer(world: World) -> None:
    review = await to_review(world, ZALO)
    text = text_of(review)
    assert review_number(text, 10)  # at least ten numbered answers
    assert all(not r.choices for r in review.replies)  # no "1. Gửi" to confuse with answer 1
    assert 'Để gửi báo cáo, gõ "gửi".' in text
    assert "sửa 3" in text

    # "1" is answer 1: it is asked again, and nothing is sent.
    first = await world.conv.handle(ZALO, TextInput("1"))
    assert await world.db.fetchval("SELECT count(*) FROM submissions") == 0
    assert re.search(rf"^Câu 1/\d+: {re.escape(review_number(text, 1))}$", text_of(first), re.MULTILINE)
    back = await world.conv.handle(ZALO, TextInput("12"))
    assert (await world.state(ZALO))["form"]["phase"] == "review"

    # "sửa 10" (and "10") reach answer 10, beyond what a one-digit choice could.
    tenth = review_number(text_of(back), 10)
    for typed in ("sửa 10", "10", "Sửa câu 10"):
        asked = await world.conv.handle(ZALO, TextInput(typed))
        assert "Câu 10/" in text_of(asked), typed
        assert tenth in text_of(asked)
        field = await world.current_field(ZALO)
        assert field is not None
        assert field.label.vi == tenth
        again = await world.conv.handle(ZALO, TextInput("7" if field.type is FieldType.INTEGER else TYPED[field.type]))
    assert "kiểm tra lại báo cáo" in text_of(again)
    out_of_range = await world.conv.handle(ZALO, TextInput("sửa 99"))
    assert "từ 1 đến" in text_of(out_of_range)
    assert await world.db.fetchval("SELECT count(*) FROM submissions") == 0

    receipt = await world.conv.handle(ZALO, TextInput("gửi"))
    assert "Đã nhận báo cáo" in text_of(receipt)
    (row,) = await world.db.fetchall("SELECT id FROM submissions")
    answers = await submission_store.latest_answers(world.db, row["id"])
    campaign = await campaign_store.campaign(world.db, "daklak-95-nam-cdvn-2024")
    assert campaign is not None
    by_label = {f.label.vi: f for f in campaign.fields}
    if by_label[tenth].type is FieldType.INTEGER:
        assert answers[by_label[tenth].name] == 7


async def test_a_number_typed_on_zalo_never_presses_a_button_shown_on_telegram(world: World) -> None:
    """One person on two channels: the review went out on Telegram with buttons; "1" typed on Zalo is answer 1."""
    await to_review(world, ZALO)
    telegram = Sender(Channel.TELEGRAM, "1001", "1001", "Đỗ Minh", None, "vi")
    code = text_of(await world.conv.handle(ZALO, Command("lienket"))).split("\n")[0].split(": ")[1]
    await world.conv.handle(telegram, TextInput(code))
    shown = await world.conv.handle(telegram, Command("baocao"))  # the review, with its buttons
    assert [b.action for r in shown.replies for b in r.choices] == ["submit", "edit"]
    await world.conv.handle(ZALO, TextInput("1"))
    assert await world.db.fetchval("SELECT count(*) FROM submissions") == 0
    assert (await world.state(ZALO))["form"]["phase"] == "ask"


async def test_moves_are_words_on_text_channels_and_buttons_on_telegram(world: World) -> None:
    await world.conv.handle(ZALO, TextInput(await world.invite("DL-BMT-001")))
    menu = await world.conv.handle(ZALO, Command("baocao"))
    await world.conv.handle(ZALO, TextInput(numbered_choice(menu, REPORT)))
    await world.conv.handle(ZALO, TextInput("5"))
    multi = await world.conv.handle(ZALO, TextInput("40"))
    text = text_of(multi)
    assert "Xong" not in text  # nothing to tap on Zalo
    assert "bấm" not in text
    assert all(not r.choices for r in multi.replies)
    assert "Gõ số thứ tự của tất cả các ý đúng" in text
    assert "  1. " in text  # the options, numbered in the text
    assert "  2. " in text
    await world.conv.handle(ZALO, TextInput("2"))  # one number: that option, not a toggle awaiting "Done"
    campaign = await campaign_store.campaign(world.db, "daklak-95-nam-cdvn-2024")
    assert campaign is not None
    forms = next(f for f in campaign.fields if f.name == "propaganda_forms")
    assert (await world.state(ZALO))["form"]["answers"]["propaganda_forms"] == [forms.choices[1].value]

    # A large amount is read back: on Zalo "yes" is typed, and a number is the amount again.
    for _ in range(30):
        f = await world.current_field(ZALO)
        assert f is not None
        if f.name == "gifts_money":
            break
        await world.conv.handle(ZALO, TextInput("bỏ qua" if not f.required else TYPED.get(f.type, "12")))
    confirm = await world.conv.handle(ZALO, TextInput("2 tỷ"))
    assert 'Gõ "đúng" để giữ' in text_of(confirm)
    assert all(not r.choices for r in confirm.replies)
    retyped = await world.conv.handle(ZALO, TextInput("2"))  # not "No": the amount, 2 đồng (read back too)
    assert "hai đồng" in text_of(retyped)
    await world.conv.handle(ZALO, TextInput("500 nghìn"))
    assert (await world.state(ZALO))["form"]["answers"]["gifts_money"] == 500_000


async def open_report_on(world: World, who: Sender) -> Response:
    menu = await world.conv.handle(who, Command("baocao", "DL-BMT-002"))
    if who.channel is Channel.TELEGRAM:  # buttons there, numbers elsewhere
        return await press_label(world.conv, who, menu, REPORT)
    return await world.conv.handle(who, TextInput(numbered_choice(menu, REPORT)))


@pytest.mark.parametrize("blank", ["   ", "\n", " \n\t "])
@pytest.mark.parametrize("who", [ZALO, TERMINAL, Sender(Channel.TELEGRAM, "1001", "1001", "Hoa", None, "vi")],
                         ids=["zalo", "terminal", "telegram"])
async def test_a_message_of_spaces_is_answered_and_changes_nothing(world: World, who: Sender, blank: str) -> None:
    stranger = await world.conv.handle(who, TextInput(blank))
    assert stranger.replies  # not registered yet: told how to join
    await world.conv.handle(who, TextInput(await world.invite("DL-BMT-002")))
    idle = await world.conv.handle(who, TextInput(blank))
    assert text_of(idle).startswith("Tin nhắn của đồng chí không có nội dung.")
    assert "/baocao" in text_of(idle)
    first = await open_report_on(world, who)
    assert "Câu 1/" in text_of(first)
    state = await world.state(who)
    at_question = await world.conv.handle(who, TextInput(blank))
    assert text_of(at_question).startswith("Tin nhắn của đồng chí không có nội dung.")
    assert "Câu 1/" in text_of(at_question)  # and where the person is
    assert (await world.state(who))["form"] == state["form"]


# --- through the real adapters ------------------------------------------------------------------------


@pytest.fixture
def adapters_config(config_path: Path) -> Config:
    return load_config(config_path, environ={"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN})


@pytest.fixture
async def db(adapters_config: Config, clock: FakeClock) -> AsyncIterator[Database]:
    prepared = await prepare(adapters_config, clock.now())
    try:
        yield prepared.db
    finally:
        await prepared.db.close()


async def test_spaces_get_an_answer_from_the_telegram_adapter(adapters_config: Config, clock: FakeClock,
                                                              db: Database) -> None:
    tg = TelegramHarness(adapters_config, clock, db)
    await tg.start()
    try:
        invite = await new_invite(db, clock)
        await tg.send(f"/start {invite.code}")
        for blank in ("   ", "\n"):
            assert "Tin nhắn của đồng chí không có nội dung." in await tg.send(blank)
    finally:
        await tg.stop()
    tg.assert_healthy()


async def test_spaces_get_an_answer_from_the_zalo_adapter(adapters_config: Config, clock: FakeClock,
                                                          db: Database) -> None:
    async with FakeZaloServer() as fake:
        zalo = ZaloHarness(adapters_config, clock, db, fake)
        await zalo.start()
        try:
            invite = await new_invite(db, clock)
            await zalo.send(invite.code)
            for blank in ("   ", "\n"):
                assert "Tin nhắn của đồng chí không có nội dung." in await zalo.send(blank)
        finally:
            await zalo.stop()
        zalo.assert_healthy()


async def test_an_empty_line_gets_an_answer_in_the_terminal(adapters_config: Config, clock: FakeClock,
                                                            db: Database) -> None:
    out = RecordingOutput()
    config = adapters_config
    conversation = Conversation(db, clock, VN, config.locales_dir)
    session = TerminalSession(Port(conversation, config), Translator("vi", config.locales_dir),
                              ScriptedInput(["   ", "\n"]), out, user="tester")
    unit = await unit_store.by_code(db, "DL-BMT-001")
    assert unit is not None
    await session.chat(unit)
    assert out.text.count("Tin nhắn của đồng chí không có nội dung.") == 2
