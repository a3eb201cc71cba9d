"""An optional photo or file question understands "ko", "không có", "chưa có" as skipping, as every other
optional question understands them as none; on the channel-neutral core and in the terminal."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from bot.app import prepare
from bot.campaign_model import Campaign, FieldType, FormField
from bot.config import Config
from bot.conversation import Response, Sender
from bot.dialog.form import FormContext
from bot.dialog.model import TextInput
from bot.domain import Channel, UnitKind
from bot.i18n import Translator
from storage import campaigns as campaign_store
from storage import units as unit_store
from storage.db import Database
from tests.conftest import VN
from tests.dialog_driver import TYPED, answer_current
from tests.fakes import FakeClock, RecordingOutput
from tests.form_fixture import EVERY_TYPE
from tests.test_conversation import (
    DAKLAK_95,
    World,
    text_of,
)
from tests.test_dialog_form import Runner, fill_to_review
from tests.test_terminal import terminal

CHAIR = Sender(Channel.TELEGRAM, "1001", "1001", "Nguyễn Thị Hoa", "hoa", "vi")
NONE_WORDS = ["ko", "không có", "chưa có", "Không có ạ.", "chua co"]
PLEASE_SEND = "Xin gửi"  # the refusal a file question gives to text it does not understand


async def _to_the_first_file_question(world: World) -> tuple[Response, FormField]:
    await world.register(CHAIR, "DL-BMT-001")
    response = await world.open_report(CHAIR, "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1")
    for _ in range(60):
        field = await world.current_field(CHAIR)
        assert field is not None, "the form ended before a file question"
        if field.type.is_attachment:
            return response, field
        response = await answer_current(world.conv, CHAIR, response, field)
    raise AssertionError("no file question")


@pytest.mark.parametrize("word", NONE_WORDS)
async def test_none_words_skip_an_optional_file_question(world: World, word: str) -> None:
    _, photos = await _to_the_first_file_question(world)
    assert photos.type is FieldType.PHOTO
    assert not photos.required
    response = await world.conv.handle(CHAIR, TextInput(word))
    assert PLEASE_SEND not in text_of(response)
    document = await world.current_field(CHAIR)
    assert document is not None
    assert document.type is FieldType.DOCUMENT
    response = await world.conv.handle(CHAIR, TextInput(word))
    assert "Xin đồng chí kiểm tra lại báo cáo" in text_of(response)
    form = (await world.state(CHAIR))["form"]
    assert {photos.name, document.name} <= set(form["skipped"])
    assert photos.name not in form["answers"]
    assert document.name not in form["answers"]


async def test_other_text_at_a_file_question_is_still_explained(world: World) -> None:
    await _to_the_first_file_question(world)
    response = await world.conv.handle(CHAIR, TextInput("có ảnh nhưng chưa gửi"))
    assert PLEASE_SEND in text_of(response)
    field = await world.current_field(CHAIR)
    assert field is not None
    assert field.type is FieldType.PHOTO


class TypingChair:
    """Reads what the terminal printed last and types the answer a chair would: the report by its number,
    each question by its type, and a none word at every photo or file question; input ends at the review."""

    def __init__(self, out: RecordingOutput, fields: dict[str, FormField], none_word: str) -> None:
        self.out, self.fields, self.none_word = out, fields, none_word
        self.fields_by_name = {f.name: f for f in fields.values()}
        self.asked: list[str] = []

    def __call__(self, prompt: str) -> str:
        text = self.out.text
        if "Xin đồng chí kiểm tra lại báo cáo" in text:
            raise EOFError
        questions = re.findall(r"^Câu \d+/\d+: (.+)$", text, flags=re.MULTILINE)
        if not questions:
            number = re.search(r"^\s*(\d+)\. Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1", text, re.MULTILINE)
            assert number is not None, text
            return number[1]
        field = self.fields[questions[-1]]
        assert self.asked.count(field.name) < 2, f"{field.name} asked again:\n{text[-600:]}"
        self.asked.append(field.name)
        match field.type:
            case FieldType.PHOTO | FieldType.DOCUMENT:
                return self.none_word
            case FieldType.YES_NO:
                return "có"
            case FieldType.SELECT_ONE:
                return "1"
            case FieldType.SELECT_MULTIPLE:
                return "1,2"
            case _:
                return TYPED[field.type]


async def _terminal_run(db: Database, config: Config, clock: FakeClock, word: str) -> tuple[TypingChair, str]:
    campaign = await campaign_store.campaign(db, DAKLAK_95)
    assert campaign is not None
    out = RecordingOutput()
    chair = TypingChair(out, {f.label.vi: f for f in campaign.fields}, word)
    session = terminal(db, config, clock, chair, out)  # type: ignore[arg-type]
    unit = await unit_store.by_code(db, "DL-BMT-001")
    assert unit is not None
    await session.chat(unit)
    return chair, out.text


@pytest.mark.parametrize("word", ["ko", "không có", "chưa có"])
async def test_none_words_skip_an_optional_file_question_in_the_terminal(
    config: Config, clock: FakeClock, word: str
) -> None:
    prepared = await prepare(config, clock.now())
    try:
        chair, text = await _terminal_run(prepared.db, config, clock, word)
        files = [n for n in chair.asked if chair.fields_by_name[n].type.is_attachment]
        assert len(files) == 2, chair.asked  # the photo question, then the file question, each asked once
        assert PLEASE_SEND not in text
        assert "Xin đồng chí kiểm tra lại báo cáo" in text
    finally:
        await prepared.db.close()



def test_none_words_do_not_skip_a_required_file_question(repo: Path) -> None:
    photos = EVERY_TYPE.index('name = "photos"')  # the photo question's own "required = false", not another's
    source = EVERY_TYPE[:photos] + EVERY_TYPE[photos:].replace("required = false\n", "", 1)
    campaign = Campaign.model_validate(tomllib.loads(source))
    assert next(f for f in campaign.fields if f.name == "photos").required
    ctx = FormContext(campaign, campaign.periods[0], UnitKind.ENTERPRISE_STATE, Translator("vi", repo / "locales"), VN)
    r = Runner(ctx)
    fill_to_review(r)  # stops at the required photo question, which "skip" cannot pass
    assert r.current == "photos"
    r.text("không có")
    assert "Câu này bắt buộc, không bỏ qua được." in r.last
    assert r.current == "photos"
    assert "photos" not in r.state.skipped
