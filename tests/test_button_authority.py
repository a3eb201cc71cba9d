"""Every button is re-authorised at the moment it acts, and numbers in buttons or numbered text are read strictly.

A menu shown to someone who was staff, an officer or a chair a minute ago must not act for them once the
membership is revoked; a reminder button for a unit the person does not report for names no unit; "²" or a
thousand-digit number in a button or a numbered answer is refused, never a crash.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import prepare
from bot.config import Config
from bot.conversation import Command, Conversation, PlanFile, Press, Response, Sender
from bot.dialog.model import TextInput
from bot.domain import Channel, Role, Unit, UnitKind
from bot.ids import parse_id
from handlers.terminal import _pick
from scheduler.service import ReminderPlanner
from storage import campaigns as campaign_store
from storage import drafts as draft_store
from storage import outbox
from storage import people as people_store
from storage import units as unit_store
from storage.db import Database
from tests.conftest import VN
from tests.fakes import FakeClock

TAN_BIEN = Path(__file__).parent / "plans" / "tanbien_thang_cong_nhan_2024.txt"
DAKLAK_95 = "daklak-95-nam-cdvn-2024"


@dataclass
class World:
    db: Database
    conv: Conversation
    clock: FakeClock
    campaigns_dir: Path
    files_dir: Path
    _next: int = 600_000

    async def member(self, code: str, role: Role, channel: Channel = Channel.TELEGRAM) -> tuple[Sender, int]:
        unit = await unit_store.by_code(self.db, code)
        assert unit is not None
        self._next += 1
        sender = Sender(channel, str(self._next), str(self._next), f"Người {self._next}", None, "en")
        person_id = await people_store.ensure_local_member(
            self.db, channel=channel, external_id=sender.external_id, display_name=sender.display_name, unit=unit,
            role=role, locale="en", now=self.clock.now(), chat_id=sender.chat_id)
        return sender, person_id

    async def revoke(self, person_id: int, unit_code: str | None = None) -> None:
        unit = await unit_store.by_code(self.db, unit_code) if unit_code else None
        count = await people_store.revoke_memberships(self.db, person_id, actor="test", now=self.clock.now(),
                                                      unit_id=unit.id if unit else None)
        assert count >= 1

    async def mode(self, person_id: int) -> str:
        draft = await draft_store.load(self.db, person_id)
        return draft.state.get("mode", "idle") if draft else "idle"

    async def dot1(self) -> int:
        return next(p.id for p in await campaign_store.periods_of(self.db, DAKLAK_95) if p.key == "dot-1")


@pytest.fixture
async def world(config: Config, clock: FakeClock, tmp_path: Path) -> AsyncIterator[World]:
    prepared = await prepare(config, clock.now())
    planner = ReminderPlanner(prepared.db, config.reminders, VN, config.locales_dir)
    try:
        conv = Conversation(prepared.db, clock, VN, config.locales_dir, reminders=planner,
                            files_dir=tmp_path / "files", campaigns_dir=tmp_path / "published")
        yield World(prepared.db, conv, clock, tmp_path / "published", tmp_path / "files")
    finally:
        await prepared.db.close()


def text_of(response: Response) -> str:
    return "\n".join(r.text for r in response.replies)


def action(response: Response, prefix: str) -> str:
    found = [b.action for r in response.replies for b in r.choices if b.action.startswith(prefix)]
    assert found, f"no {prefix!r} button in {[b.action for r in response.replies for b in r.choices]}"
    return found[0]


# --- 8. revoked between showing a button and pressing it ------------------------------------------------

Scenario = Callable[[World], Awaitable[None]]


async def publish_after_staff_revoked(w: World) -> None:
    """Regression: publishing a plan draft did not check that the person was still staff."""
    staff, pid = await w.member("DL", Role.DEPARTMENT)
    review = await w.conv.handle(staff, PlanFile("ke-hoach.txt", TAN_BIEN.read_bytes()))
    assert action(review, "plan:publish")
    await w.revoke(pid)
    done = await w.conv.handle(staff, Press(review.version, "plan:publish"))
    assert "nothing was published" in text_of(done)
    assert not w.campaigns_dir.exists() or list(w.campaigns_dir.iterdir()) == []


async def choose_report_after_officer_revoked(w: World) -> None:
    """Regression: the choice of report (p:) opened the form without checking the membership again."""
    officer, pid = await w.member("DL-BMT", Role.OFFICER)
    menu = await w.conv.handle(officer, Command("baocao", "DL-BMT-003"))
    choice = action(menu, "p:")
    await w.revoke(pid)
    refused = await w.conv.handle(officer, Press(menu.version, choice))
    assert "can no longer report for this unit" in text_of(refused)
    assert await w.mode(pid) != "form"


async def choose_unit_after_one_membership_revoked(w: World) -> None:
    chair, pid = await w.member("DL-BMT-001", Role.CHAIR)
    unit = await unit_store.by_code(w.db, "DL-BMT-002")
    assert unit is not None
    await people_store.ensure_local_member(w.db, channel=chair.channel, external_id=chair.external_id,
                                           display_name=chair.display_name, unit=unit, role=Role.CHAIR, locale="en",
                                           now=w.clock.now())
    menu = await w.conv.handle(chair, Command("baocao"))
    await w.revoke(pid, "DL-BMT-002")
    refused = await w.conv.handle(chair, Press(menu.version, f"u:{unit.id}"))
    assert "Please choose one of the units offered" in text_of(refused)
    assert await w.mode(pid) != "form"


async def summary_after_officer_revoked(w: World) -> None:
    officer, pid = await w.member("DL-BMT", Role.OFFICER)
    menu = await w.conv.handle(officer, Command("tonghop"))
    choice = action(menu, "m:")
    await w.revoke(pid)
    refused = await w.conv.handle(officer, Press(menu.version, choice))
    assert "Summaries are for upper-level officers" in text_of(refused)
    assert not any(r.file_path for r in refused.replies)


async def remind_choose_after_department_revoked(w: World) -> None:
    staff, pid = await w.member("DL", Role.DEPARTMENT)
    await w.member("DL-KP-001", Role.CHAIR)  # someone to remind
    menu = await w.conv.handle(staff, Command("nhacnho"))
    choice = action(menu, "n:")
    await w.revoke(pid)
    refused = await w.conv.handle(staff, Press(menu.version, choice))
    assert "Only upper-level officers and the department can send reminders" in text_of(refused)
    assert "Krông Pắc" not in text_of(refused)


async def remind_confirm_after_department_revoked(w: World) -> None:
    staff, pid = await w.member("DL", Role.DEPARTMENT)
    await w.member("DL-KP-001", Role.CHAIR)
    menu = await w.conv.handle(staff, Command("nhacnho"))
    listed = await w.conv.handle(staff, Press(menu.version, action(menu, "n:")))
    assert action(listed, "yes")
    await w.revoke(pid)
    refused = await w.conv.handle(staff, Press(listed.version, "yes"))
    assert "Only upper-level officers and the department can send reminders" in text_of(refused)
    assert await outbox.all_rows(w.db) == []


async def reminder_button_after_chair_revoked(w: World) -> None:
    chair, pid = await w.member("DL-BMT-001", Role.CHAIR)
    unit = await unit_store.by_code(w.db, "DL-BMT-001")
    assert unit is not None
    await w.revoke(pid)
    refused = await w.conv.handle(chair, Press(0, f"open:{await w.dot1()}:{unit.id}"))
    assert "not for a unit you report for" in text_of(refused)
    assert await w.mode(pid) != "form"


async def submission_after_chair_revoked(w: World) -> None:
    chair, pid = await w.member("DL-BMT-001", Role.CHAIR)
    unit = await unit_store.by_code(w.db, "DL-BMT-001")
    assert unit is not None
    from storage import submissions as submission_store

    async with w.db.transaction() as tx:
        await submission_store.record(tx, period_id=await w.dot1(), unit_id=unit.id, person_id=pid,
                                      channel="telegram", answers={"propaganda_sessions": 3}, now=w.clock.now(),
                                      late=False)
    listed = await w.conv.handle(chair, Command("danop"))
    choice = action(listed, "s:")
    await w.revoke(pid)
    refused = await w.conv.handle(chair, Press(listed.version, choice))
    assert "Please choose one of the reports offered" in text_of(refused)
    assert await w.mode(pid) != "form"


@pytest.mark.parametrize("scenario", [
    publish_after_staff_revoked, choose_report_after_officer_revoked, choose_unit_after_one_membership_revoked,
    summary_after_officer_revoked, remind_choose_after_department_revoked, remind_confirm_after_department_revoked,
    reminder_button_after_chair_revoked, submission_after_chair_revoked,
], ids=lambda f: f.__name__)
async def test_a_button_pressed_after_the_membership_is_revoked_is_refused(world: World, scenario: Scenario) -> None:
    await scenario(world)


# --- 9. reminder buttons for other units; unusual digits ------------------------------------------------


async def test_a_reminder_button_for_another_unit_names_no_unit(world: World) -> None:
    """Regression: the refusal answered with the unit's code ("You cannot report for unit DL-BMT-002")."""
    chair, _pid = await world.member("DL-BMT-001", Role.CHAIR)
    units: list[Unit | None] = [await unit_store.by_code(world.db, c) for c in ("DL-BMT-002", "DL-KP-001", "DL")]
    dot1 = await world.dot1()
    for unit in units:
        assert unit is not None
        text = text_of(await world.conv.handle(chair, Press(0, f"open:{dot1}:{unit.id}")))
        assert "not for a unit you report for" in text
        assert unit.code not in text
        assert unit.name not in text
    text = text_of(await world.conv.handle(chair, Press(0, f"open:{dot1}:987654")))  # no such unit
    assert "not for a unit you report for" in text


def test_ids_are_ascii_digits_only_and_bounded() -> None:
    assert parse_id("0") == 0
    assert parse_id("123456789012345678") == 123456789012345678
    for text in ["", "²", "١٢", "𝟙", "1²", " 1", "1 ", "-1", "+1", "1.0", "1234567890123456789", "9" * 5000]:
        assert parse_id(text) is None, text


HOSTILE_ACTIONS = ["open:²:1", "open:1:²", "open:99999999999999999999:1", "open:1:99999999999999999999", "open::",
                   "open:1:", "open", "open:1:2:3", "u:²", "p:²", "m:²", "n:²", "s:²", "e:²", "u:" + "9" * 40]


@pytest.mark.parametrize("hostile", HOSTILE_ACTIONS)
async def test_hostile_numbers_in_button_actions_are_answered_not_crashed(world: World, hostile: str) -> None:
    chair, pid = await world.member("DL-BMT-001", Role.CHAIR)
    await world.conv.handle(chair, Command("baocao"))
    before = await draft_store.load(world.db, pid)
    assert before is not None
    response = await world.conv.handle(chair, Press(before.version, hostile))
    assert response.replies
    after = await draft_store.load(world.db, pid)
    assert after is not None
    assert after.state.get("form", {}).get("answers") == before.state.get("form", {}).get("answers")


@pytest.mark.parametrize("typed", ["²", "١", "𝟙", "²,1", "1,²", "9" * 30, "0" * 5000])
async def test_unusual_digits_typed_on_a_numbered_channel_are_answered(world: World, typed: str) -> None:
    """Regression: on Zalo (numbered text) "²" passed str.isdigit and int("²") raised: no answer at all."""
    zalo, pid = await world.member("DL-BMT-002", Role.CHAIR, Channel.ZALO)
    await world.member("DL-BMT-002", Role.CHAIR)
    unit = await unit_store.by_code(world.db, "DL-BMT-003")
    assert unit is not None
    await people_store.ensure_local_member(world.db, channel=zalo.channel, external_id=zalo.external_id,
                                           display_name=zalo.display_name, unit=unit, role=Role.CHAIR, locale="en",
                                           now=world.clock.now())
    menu = await world.conv.handle(zalo, Command("baocao"))  # two units: a numbered menu
    assert len(menu.replies[-1].choices) == 2
    response = await world.conv.handle(zalo, TextInput(typed))
    assert response.replies
    assert await world.mode(pid) == "choose_unit"


def test_the_terminal_unit_picker_reads_ascii_numbers_only() -> None:
    units = [Unit(1, "A", "Một", None, None), Unit(2, "B", "Hai", None, None)]  # type: ignore[arg-type]
    assert _pick(units, units, "2") == [units[1]]
    assert _pick(units, units, "²") == []
    assert _pick(units, units, "9" * 5000) == []


@pytest.mark.parametrize("typed", ["²", "²,1", "1,²", "٣", "0" * 5000])
async def test_unusual_digits_typed_at_a_choice_question_are_answered(world: World, typed: str) -> None:
    """Regression: at a choice question "²" passed str.isdigit and int("²") raised inside the form."""
    chair, pid = await world.member("DL-BMT-001", Role.CHAIR)
    menu = await world.conv.handle(chair, Command("baocao"))
    await world.conv.handle(chair, Press(menu.version, f"p:{await world.dot1()}"))
    await world.conv.handle(chair, TextInput("2"))
    asked = await world.conv.handle(chair, TextInput("40"))  # now at a choice question
    assert asked.replies[-1].choices
    before = await draft_store.load(world.db, pid)
    assert before is not None
    response = await world.conv.handle(chair, TextInput(typed))
    assert response.replies
    after = await draft_store.load(world.db, pid)
    assert after is not None
    assert after.state["form"]["answers"] == before.state["form"]["answers"]


async def test_a_summary_menu_kept_after_moving_to_another_province_shows_nothing_of_the_old_one(
        world: World) -> None:
    """The menu was offered while the officer was in Đắk Lắk; pressed after the membership moved to another
    province's unit, it names neither the old campaign nor its units."""
    officer, pid = await world.member("DL-BMT", Role.OFFICER)
    menu = await world.conv.handle(officer, Command("tonghop"))
    choice = action(menu, "m:")
    await unit_store.apply_import(world.db, [unit_store.UnitRow("LC", "LĐLĐ tỉnh Lai Châu", UnitKind.PROVINCE, None)],
                                  actor="test", now=world.clock.now())
    lai_chau = await unit_store.by_code(world.db, "LC")
    assert lai_chau is not None
    await people_store.ensure_local_member(world.db, channel=officer.channel, external_id=officer.external_id,
                                           display_name=officer.display_name, unit=lai_chau, role=Role.OFFICER,
                                           locale="en", now=world.clock.now())
    await world.revoke(pid, "DL-BMT")
    refused = await world.conv.handle(officer, Press(menu.version, choice))
    assert "Summaries are for upper-level officers" in text_of(refused)
    assert "Đắk Lắk" not in text_of(refused)
    assert not any(r.file_path for r in refused.replies)
