"""Locks and excuses of review (issue 15): /mokhoa grants one unit a lock exception (its report for a closed period
may be corrected or sent until a date), /mien excuses a unit's report from the roll-up rule (bot/review_rules.py).
Both take their arguments on the command line, are re-authorised on every use and are recorded in the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.campaign_model import Text
from bot.deadlines import deadlines_for_unit
from bot.dialog.model import Reply
from bot.domain import Role, Unit
from bot.i18n import Translator
from bot.ids import parse_id
from bot.scope import SEEING_ROLES, STAFF_ROLES
from storage import campaigns as campaign_store
from storage import people as people_store
from storage import reviews
from storage import submissions as submission_store
from storage import units as unit_store
from storage.db import Database

from .common import Step
from .events import Command
from .state import Turn, to_idle

MAX_UNLOCK_DAYS = 90


def _reply(text: str) -> Turn:
    return to_idle([Reply(text)])


async def _units_under(db: Database, person_id: int, roles: frozenset[Role]) -> set[int]:
    """The units below (not at) the units where this person holds one of `roles`."""
    out: set[int] = set()
    for v in await people_store.memberships_of(db, person_id):
        if v.membership.role in roles:
            out.update(u.id for u in await unit_store.subtree(db, v.unit.id) if u.id != v.unit.id)
    return out


async def _target(db: Database, word: str, now: datetime, closed: bool) -> tuple[Unit, int, Text] | None:
    """(unit, period id, period name) named by a receipt number or a unit code. For a unit code: the period most
    recently closed (`closed`), else the latest one already due (else the next)."""
    sub_id = await submission_store.by_reference(db, word.upper())
    if sub_id is not None:
        sub = await submission_store.by_id(db, sub_id)
        unit = await unit_store.by_id(db, sub.unit_id) if sub else None
        row = await campaign_store.period_by_id(db, sub.period_id) if sub else None
        campaign = await campaign_store.campaign(db, row.campaign_id) if row else None
        if unit is None or row is None or campaign is None:
            return None
        return unit, row.id, campaign.period(row.key).name
    unit = await unit_store.by_code(db, word.upper()) or await unit_store.by_code(db, word)
    if unit is None:
        return None
    periods = await deadlines_for_unit(db, unit, now)
    if closed:
        shut = [d for d in periods if d.closes_at <= now]
        pick = max(shut, key=lambda d: d.closes_at) if shut else None
    else:
        due = [d for d in periods if d.due_at <= now]
        pick = max(due, key=lambda d: d.due_at) if due else min(periods, key=lambda d: d.due_at, default=None)
    return None if pick is None else (unit, pick.period_id, pick.period.name)


def reason_problem(t: Translator, reason: str, example: str) -> str | None:
    if not reason:
        return t("Please add the reason, e.g. {example}", example=example)
    if len(reason) > reviews.REASON_LIMIT:
        return t("The reason is {n} characters long; please keep it within {limit}.", n=t.number(len(reason)),
                 limit=t.number(reviews.REASON_LIMIT))
    return None


async def unlock(step: Step, cmd: Command) -> Turn:
    """/mokhoa CODE-OR-RECEIPT DAYS REASON"""
    t, conv = step.t, step.conv
    now = conv.clock.now()
    allowed = await _units_under(conv.db, step.person_id, SEEING_ROLES)
    if not allowed:
        return _reply(t("Only upper-level officers and the department can reopen a closed report."))
    example = "/mokhoa DL-BMT-001 7 đơn vị bổ sung số liệu quý"
    parts = cmd.arg.split(maxsplit=2)
    days = parse_id(parts[1]) if len(parts) > 1 else None
    if len(parts) < 2 or days is None or not 1 <= days <= MAX_UNLOCK_DAYS:
        return _reply(t("Type the unit code (or the receipt number), the number of days (1 to {max}) and the "
                        "reason, e.g. {example}", max=MAX_UNLOCK_DAYS, example=example))
    reason = parts[2].strip() if len(parts) > 2 else ""
    problem = reason_problem(t, reason, example)
    if problem:
        return _reply(problem)
    found = await _target(conv.db, parts[0], now, closed=True)
    if found is None or found[0].id not in allowed:
        return _reply(t("No closed report of a unit you oversee has the code or receipt number {word}.",
                        word=parts[0][:40]))
    unit, period_id, period_name = found
    until = now + timedelta(days=days)
    await reviews.grant_lock_exception(conv.db, period_id=period_id, unit_id=unit.id, until=until, reason=reason,
                                       granted_by=step.person_id, now=now)
    return _reply(t("🔓 {unit} may send or correct its report for {period} until {date}.", unit=unit.name,
                    period=period_name.get(t.locale), date=t.datetime(until, conv.zone)))


async def excuse(step: Step, cmd: Command) -> Turn:
    """/mien CODE REASON — the department excuses a unit's report from the roll-up rule."""
    t, conv = step.t, step.conv
    now = conv.clock.now()
    allowed = await excusable_units(conv.db, step.person_id)
    if not allowed:
        return _reply(t("Only the department can excuse a unit's report."))
    example = "/mien DL-BMT-001 đơn vị giải thể từ tháng 6"
    parts = cmd.arg.split(maxsplit=1)
    if not parts:
        return _reply(t("Type the unit code and the reason, e.g. {example}", example=example))
    reason = parts[1].strip() if len(parts) > 1 else ""
    problem = reason_problem(t, reason, example)
    if problem:
        return _reply(problem)
    found = await _target(conv.db, parts[0], now, closed=False)
    if found is None or found[0].id not in allowed:
        return _reply(t("No unit you oversee has the code {word}.", word=parts[0][:40]))
    unit, period_id, period_name = found
    # The period in which the upper level's own report waits for approval, when there is one.
    held = await reviews.queue(conv.db, [unit.parent_id]) if unit.parent_id is not None else []
    if held:
        period_id = held[0].period_id
        row = await campaign_store.period_by_id(conv.db, period_id)
        campaign = await campaign_store.campaign(conv.db, row.campaign_id) if row else None
        if row is not None and campaign is not None:
            period_name = campaign.period(row.key).name
    return _reply(await record_excuse(step, unit, period_id, period_name, reason))


async def excusable_units(db: Database, person_id: int) -> set[int]:
    """The units whose reports this person may excuse (/mien and the review screen): those below the units where
    they are department staff."""
    return await _units_under(db, person_id, STAFF_ROLES)


async def record_excuse(step: Step, unit: Unit, period_id: int, period_name: Text, reason: str) -> str:
    """Excuse the unit's report for the period (with its audit row: storage.reviews.excuse) and say so. The caller
    has checked the reason (reason_problem) and that the unit is in excusable_units."""
    t = step.t
    await reviews.excuse(step.conv.db, period_id=period_id, unit_id=unit.id, reason=reason,
                         excused_by=step.person_id, now=step.conv.clock.now())
    return t("{unit} is excused for {period}: its upper level's report may be approved without it.",
             unit=unit.name, period=period_name.get(t.locale))
