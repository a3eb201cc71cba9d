"""The roll-up excuse offered on the review screen (issue 15): when the department opens an upper level's own report
that cannot be approved yet because units below it are still open (bot.review_rules.open_children), the screen
lists them and offers to excuse one: the unit (a button each, or a pick from a list), then the reason; the excuse is
recorded as /mien records it (locks.record_excuse: storage.reviews.excuse with its audit row) and the screen is
shown again. Only units the reviewer may excuse (department staff above them) are offered, and every step checks
that again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot import review_rules
from bot.dialog.model import ActionInput, Button, Input, Reply, TextInput
from bot.domain import Unit
from bot.i18n import Translator
from bot.ids import parse_id
from bot.vi_text import BACK_WORDS, typed_word

from .common import Step
from .locks import excusable_units, reason_problem, record_excuse
from .review_screen import ReportView, load_view
from .state import Mode, State, Turn, menu

EXCUSE = "rv:ex"  # rv:ex opens the pick of a unit; rv:ex:<unit id> excuses that unit
BACK = "back"
BUTTONS_ON_SCREEN = 3  # up to this many open units get a button each on the screen; more: one "Excuse…" button
PICK_MAX = 20  # the pick lists this many units as buttons; any listed unit's code may be typed
LISTED = 15  # the screen names this many open units, then says how many more
EXAMPLE = "đơn vị giải thể từ tháng 6"

Show = Callable[[Step, int, dict[str, Any], list[Reply]], Awaitable[Turn]]


async def excusable(step: Step, view: ReportView) -> list[Unit]:
    """The units holding the report's approval back that this reviewer may excuse (none unless the report waits
    for approval and the reviewer is the department above them)."""
    if view.sub.review_state != "submitted":
        return []
    still_open = await review_rules.open_children(step.conv.db, view.sub.id)
    if not still_open:
        return []
    allowed = await excusable_units(step.conv.db, step.person_id)
    return [u for u in still_open if u.id in allowed]


def screen_lines(t: Translator, units: list[Unit]) -> str:
    names = "; ".join(f"{u.name} ({u.code})" for u in units[:LISTED])
    if len(units) > LISTED:
        names += "; " + t("and {n} more", n=len(units) - LISTED)
    return t("Units below not yet approved or excused ({n}): {units}. This report can be approved once each is "
             "approved or excused.", n=len(units), units=names)


def buttons(t: Translator, units: list[Unit]) -> tuple[Button, ...]:
    if len(units) <= BUTTONS_ON_SCREEN:
        return tuple(Button(t("Excuse {unit}", unit=u.name)[:60], f"{EXCUSE}:{u.id}") for u in units)
    return (Button(t("Excuse a unit…"), EXCUSE),)


def _data(state: State) -> dict[str, Any]:
    return dict(state.extra.get("review") or {})


def _state(data: dict[str, Any]) -> State:
    return State(Mode.REVIEW_EXCUSE, extra={"review": data})


async def _units(step: Step, data: dict[str, Any]) -> list[Unit]:
    view = await load_view(step.conv.db, int(data.get("sub") or 0))
    return [] if view is None else await excusable(step, view)


def _pick(step: Step, data: dict[str, Any], units: list[Unit], before: list[Reply]) -> Turn:
    t = step.t
    choices = tuple(Button(f"{u.name} ({u.code})"[:60], f"{EXCUSE}:{u.id}") for u in units[:PICK_MAX])
    text = t("Which unit's report is excused? Choose it, or type its code, e.g. {code}.", code=units[0].code)
    return menu(_state({**data, "excuse_unit": None}), Reply(text, choices=choices, nav=(Button(t("◀️ Back"), BACK),),
                                                            columns=1), before=before)


def _ask_reason(step: Step, data: dict[str, Any], unit: Unit, before: list[Reply]) -> Turn:
    t = step.t
    text = t("Why is the report of {unit} excused? Type the reason, e.g. {example}", unit=unit.name, example=EXAMPLE)
    return menu(_state({**data, "excuse_unit": unit.id}), Reply(text, nav=(Button(t("◀️ Back"), BACK),)),
                before=before)


async def start(step: Step, data: dict[str, Any], action: str, show: Show) -> Turn:
    """A press of rv:ex (pick a unit) or rv:ex:<id> (that unit) on the screen."""
    units = await _units(step, data)
    if not units:
        return await show(step, int(data.get("sub") or 0), data, [Reply(step.t("No unit below is waiting for an "
                                                                               "excuse any more."))])
    if action == EXCUSE:
        return _pick(step, data, units, [])
    return await _chosen(step, data, units, action, show)


async def _chosen(step: Step, data: dict[str, Any], units: list[Unit], action: str, show: Show) -> Turn:
    unit_id = parse_id(action[len(EXCUSE) + 1:])
    unit = next((u for u in units if u.id == unit_id), None)
    if unit is None:  # excused or approved meanwhile, or not this reviewer's to excuse
        return await show(step, int(data.get("sub") or 0), data, [Reply(step.t("That unit no longer waits for an "
                                                                               "excuse."))])
    return _ask_reason(step, data, unit, [])


async def on_excuse(step: Step, event: Input, show: Show) -> Turn:
    t, data = step.t, _data(step.state)
    sub_id = int(data.get("sub") or 0)
    back = event.action == BACK if isinstance(event, ActionInput) else typed_word(event.text) in BACK_WORDS \
        if isinstance(event, TextInput) else False
    if back:
        return await show(step, sub_id, data, [])
    units = await _units(step, data)  # read afresh and re-authorised on every step
    if not units:
        return await show(step, sub_id, data, [Reply(t("No unit below is waiting for an excuse any more."))])
    if data.get("excuse_unit") is None:  # picking the unit
        if isinstance(event, ActionInput) and event.action.startswith(f"{EXCUSE}:"):
            return await _chosen(step, data, units, event.action, show)
        typed = event.text.strip().upper() if isinstance(event, TextInput) else ""
        unit = next((u for u in units if u.code.upper() == typed), None)
        if unit is None:
            return _pick(step, data, units, [Reply(t("Please choose one of the units listed, or type its code, "
                                                     "e.g. {code}.", code=units[0].code))])
        return _ask_reason(step, data, unit, [])
    unit = next((u for u in units if u.id == data.get("excuse_unit")), None)
    if unit is None:
        return await show(step, sub_id, data, [Reply(t("That unit no longer waits for an excuse."))])
    reason = event.text.strip() if isinstance(event, TextInput) else ""
    words = reason if any(ch.isalnum() for ch in reason) else ""  # only dots and dashes: no reason
    if (problem := reason_problem(t, words, EXAMPLE)) is not None:
        return _ask_reason(step, data, unit, [Reply(problem)])
    view = await load_view(step.conv.db, sub_id)
    if view is None:
        return await show(step, sub_id, data, [])
    done = await record_excuse(step, unit, view.sub.period_id, view.period.name, reason)
    return await show(step, sub_id, {k: v for k, v in data.items() if k != "excuse_unit"}, [Reply("✅ " + done)])
