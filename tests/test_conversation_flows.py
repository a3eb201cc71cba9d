"""The conversation as a core and flows: typed state that still reads the drafts saved before it was typed,
a dispatch table that covers every mode, a pending submission that is a plain frozen value."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from bot.conversation import Command, Mode, PendingSubmission, Press, Sender, State
from bot.conversation.core import COMMAND_HANDLERS, MODE_HANDLERS
from bot.dialog.model import TextInput
from bot.domain import Channel
from bot.i18n import Translator
from storage import drafts as draft_store
from tests.test_conversation import (
    World,
    text_of,
)

REPORT = "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1"
CHAIR = Sender(Channel.TELEGRAM, "1001", "1001", "Nguyễn Thị Hoa", None, "vi")
ZALO_CHAIR = Sender(Channel.ZALO, "z-7", "z-7", "Phạm Thu", None, "vi")
PACKAGE = Path(__file__).resolve().parents[1] / "bot" / "conversation"


async def saved(world: World, who: Sender) -> draft_store.Draft:
    person_id = await world.db.fetchval("SELECT person_id FROM identities WHERE channel = ? AND external_id = ?",
                                        (who.channel.value, who.external_id))
    draft = await draft_store.load(world.db, person_id)
    assert draft is not None
    return draft


async def overwrite(world: World, draft: draft_store.Draft, state: dict[str, Any]) -> None:
    """Store a state as an older version of the bot left it (the row's columns as they were)."""
    await world.db.write([draft_store.state_save(
        person_id=draft.person_id, expected_version=draft.version, state=state, unit_id=draft.unit_id,
        period_id=draft.period_id, step=draft.step, steps_total=draft.steps_total, now=world.clock.now())])


async def test_a_form_saved_in_the_old_shape_resumes_at_its_question(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    await world.open_report(CHAIR, REPORT)
    await world.conv.handle(CHAIR, TextInput("5"))
    draft = await saved(world, CHAIR)
    # The dict an older version saved: no "numbers" yet, and a key this version does not know.
    old = {"mode": "form", "period_id": draft.state["period_id"], "form": draft.state["form"],
           "step": draft.state["step"], "steps_total": draft.state["steps_total"],
           "offered": draft.state["offered"], "kept_by_an_older_version": [1, 2]}
    await overwrite(world, draft, old)
    resumed = await world.conv.handle(CHAIR, Command("baocao"))
    assert "Câu 2/" in text_of(resumed)
    answered = await world.conv.handle(CHAIR, TextInput("40"))
    assert "Câu 3/" in text_of(answered)
    after = (await saved(world, CHAIR)).state
    assert after["mode"] == "form"
    assert after["form"]["answers"] == {"propaganda_sessions": 5, "propaganda_participants": 40}
    assert after["kept_by_an_older_version"] == [1, 2]


async def test_a_menu_saved_without_numbers_is_still_answered_by_number(world: World) -> None:
    """A menu state from before typed numbers were saved: "2" picks the second choice offered."""
    await world.conv.handle(ZALO_CHAIR, TextInput(await world.invite("DL-BMT-001")))
    draft = await saved(world, ZALO_CHAIR)
    menu = {"text": "Chọn ngôn ngữ:", "title": None, "columns": 2,
            "choices": [["Tiếng Việt", "lang:vi"], ["English", "lang:en"]]}
    await overwrite(world, draft, {"mode": "choose_language", "menu": menu, "offered": ["lang:vi", "lang:en"]})
    done = await world.conv.handle(ZALO_CHAIR, TextInput("2"))
    assert done.locale == "en"
    assert text_of(done) == "Language set to English."
    assert (await saved(world, ZALO_CHAIR)).state["mode"] == "idle"


async def test_a_mode_this_version_does_not_know_is_treated_as_idle(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    draft = await saved(world, CHAIR)
    await overwrite(world, draft, {"mode": "a_mode_from_the_future", "offered": []})
    response = await world.conv.handle(CHAIR, TextInput("xin chào"))
    assert "/baocao" in text_of(response)
    assert (await saved(world, CHAIR)).state["mode"] == "idle"


@pytest.mark.parametrize("data", [
    {"mode": "idle", "offered": [], "numbers": []},
    {"mode": "form", "period_id": 3, "form": {"campaign_id": "c", "answers": {"a": 1}}, "step": 2,
     "steps_total": 15, "offered": ["back"], "numbers": []},
    {"mode": "choose_report", "unit_id": 7, "periods": [4, 5], "menu": {"text": "?", "title": None, "columns": 1,
     "choices": [["A", "p:4"], ["B", "p:5"]]}, "offered": ["p:4", "p:5"], "numbers": ["p:4", "p:5"]},
    {"mode": "plan_review", "toml": "id = 'x'\n", "campaign_id": "x", "year": 2025, "menu": {"text": "?"},
     "offered": ["plan:publish"], "numbers": [], "unknown": {"kept": True}},
    {"mode": "remind_confirm", "period_id": 9, "offered": ["yes", "no"], "numbers": ["yes", "no"]},
])
def test_the_typed_state_saves_exactly_the_json_it_read(data: dict[str, Any]) -> None:
    state = State.from_json(data)
    assert state.mode is Mode(data["mode"])
    assert state.to_json() == data


def test_the_campaign_version_read_with_a_draft_is_never_saved() -> None:
    state = State.from_json({"mode": "form", "offered": [], "_sha": "abc"})
    state.sha = "def"
    assert "_sha" not in state.to_json()
    assert "sha" not in state.to_json()


def test_every_mode_but_idle_has_one_handler_and_every_command_word_one_flow() -> None:
    from bot.conversation import COMMAND_WORDS

    assert set(MODE_HANDLERS) == set(Mode) - {Mode.IDLE}
    assert set(COMMAND_WORDS.values()) - {"trogiup"} <= set(COMMAND_HANDLERS)


def test_a_pending_submission_is_frozen_and_holds_no_translator() -> None:
    assert dataclasses.is_dataclass(PendingSubmission)
    assert PendingSubmission.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert not any("Translator" in str(f.type) or f.type is Translator
                   for f in dataclasses.fields(PendingSubmission))


async def test_the_receipt_is_worded_in_the_language_of_the_person(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    await world.conv.handle(CHAIR, Command("ngonngu"))
    english = await world.conv.handle(CHAIR, Press((await saved(world, CHAIR)).version, "lang:en"))
    assert english.locale == "en"
    response = await world.answer_all(CHAIR, await world.open_report(CHAIR, "95"))
    receipt = await world.conv.handle(CHAIR, Press(response.version, "submit"))
    assert "✅ Report received. Thank you!" in text_of(receipt)
    assert "Receipt number: BC-" in text_of(receipt)


def test_no_handler_of_the_conversation_takes_an_untyped_event() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(event|inp|cmd|_cmd|state)\s*:\s*Any\b", source), path.name
        assert len(source.splitlines()) <= 400, f"{path.name} has grown past 400 lines: split it along a flow"
