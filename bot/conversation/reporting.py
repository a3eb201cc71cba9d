"""Reporting: choose the unit and the report, answer the form, send it and get a receipt.

/baocao opens a report (asking which unit or which period when there is more than one), the "📝 Nộp
ngay" button of a reminder opens it directly, every answer in FORM mode is one form step, /huy asks to
cancel. A report sent becomes a `PendingSubmission`, recorded by the core with the step; `receipt` then
words it. Corrections (/danop) reopen the form through `open_form` (see submissions.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.campaign_model import last_day
from bot.deadlines import Deadline, Status, days_left_or_late, deadlines_for_unit
from bot.dialog import form
from bot.dialog.form import FormContext, FormState
from bot.dialog.model import Button, Input, Reply
from bot.domain import Role, Unit, UnitKind
from bot.i18n import Translator
from bot.ids import parse_id
from bot.summary.rollup import subtree_answers
from storage import campaigns as campaign_store
from storage import drafts as draft_store
from storage import people as people_store
from storage import reviews
from storage import submissions as submission_store
from storage import units as unit_store
from storage.db import Database

from .common import Services, Step, choose_again, chosen_id, form_context, period_label, resume
from .events import Command, ExpectedFile, Sender
from .state import Mode, PendingSubmission, State, Turn, keep, menu, to_idle

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo



# --- who reports for what ---------------------------------------------------------------------------

async def reportable_units(db: Database, person_id: int) -> list[Unit]:
    """Units this person files reports for: chairs their own, officers their own upper unit."""
    views = await people_store.memberships_of(db, person_id)
    units = [v.unit for v in views if v.membership.role in (Role.CHAIR, Role.OFFICER)]
    return list({u.id: u for u in units}.values())


async def may_report_for(db: Database, person_id: int, unit: Unit) -> bool:
    """A chair for the units they are bound to; an officer for every unit in their subtree."""
    views = await people_store.memberships_of(db, person_id)
    for v in views:
        if v.membership.role is Role.CHAIR and v.unit.id == unit.id:
            return True
        if v.membership.role is Role.OFFICER:
            if v.unit.id == unit.id:
                return True
            if any(a.id == v.unit.id for a in await unit_store.ancestors(db, unit.id)):
                return True
    return False


async def expected_attachment(conv: Services, sender: Sender) -> ExpectedFile | None:
    """The photo or document question the person is at, if any (the adapter then takes the file)."""
    person = await people_store.person_by_identity(conv.db, sender.channel, sender.external_id)
    draft = await draft_store.load(conv.db, person.id) if person else None
    if person is None or draft is None:
        return None
    state = State.from_json(draft.state)
    if state.mode is not Mode.FORM or state.form is None or state.period_id is None:
        return None
    fstate = FormState.from_json(state.form)
    campaign = await campaign_store.campaign(conv.db, fstate.campaign_id)
    if campaign is None or fstate.phase != "ask" or fstate.current is None:
        return None
    f = next((f for f in campaign.fields if f.name == fstate.current), None)
    if f is None or not f.type.is_attachment:
        return None
    return ExpectedFile(person.id, fstate.unit_id, state.period_id, f.name, f.type.value)


# --- choosing what to report ----------------------------------------------------------------------------

async def report(step: Step, cmd: Command) -> Turn:
    """/baocao [unit code]: back to the open question, or open a report."""
    t, db = step.t, step.conv.db
    if step.state.in_form:
        return keep(step.state, await resume(step, step.state))
    if cmd.arg:
        unit = await unit_store.by_code(db, cmd.arg.strip())
        if unit is None or not await may_report_for(db, step.person_id, unit):
            return to_idle([Reply(t("You cannot report for unit {code}.", code=cmd.arg.strip()))])
        return await _offer_reports(step, unit)
    units = await reportable_units(db, step.person_id)
    if not units:
        return to_idle([Reply(t("Your role does not file reports. Reports are filed by the chairs of grassroots "
                                "unions and by upper-level officers."))])
    if len(units) == 1:
        return await _offer_reports(step, units[0])
    choices = tuple(Button(u.name, f"u:{u.id}") for u in units)
    return menu(State(Mode.CHOOSE_UNIT, units=[u.id for u in units]),
                Reply(t("Which unit are you reporting for?"), choices=choices))


async def on_choose_unit(step: Step, event: Input) -> Turn:
    unit_id = chosen_id(event, "u:")
    if unit_id is not None:
        unit = await unit_store.by_id(step.conv.db, unit_id)
        if unit is not None and unit_id in (step.state.units or []) and \
                await may_report_for(step.conv.db, step.person_id, unit):
            return await _offer_reports(step, unit)
    return await choose_again(step, step.t("Please choose one of the units offered."))


async def _open_items(step: Step, unit: Unit) -> list[Deadline]:
    """The periods the unit may file now: open or overdue, or closed with a lock exception (/mokhoa) active."""
    db, now = step.conv.db, step.conv.clock.now()
    return [d for d in await deadlines_for_unit(db, unit, now)
            if d.status in (Status.OPEN, Status.OVERDUE) or (
                d.status is Status.CLOSED and not await reviews.is_locked(db, d.period_id, unit.id, d.closes_at, now))]


async def _offer_reports(step: Step, unit: Unit) -> Turn:
    t = step.t
    items = await _open_items(step, unit)
    if not items:
        return to_idle([Reply(t("{unit} has no report waiting. Type /hannop to see all deadlines, or /danop to "
                                "correct a report already sent.", unit=unit.name))])
    if len(items) == 1:
        return await open_form(step, unit, items[0])
    choices = [Button(period_label(step, d.campaign, d.period, d.due_at), f"p:{d.period_id}") for d in items]
    return menu(State(Mode.CHOOSE_REPORT, unit_id=unit.id, periods=[d.period_id for d in items]),
                Reply(t("Which report do you want to file for {unit}?", unit=unit.name), choices=tuple(choices)))


async def on_choose_report(step: Step, event: Input) -> Turn:
    t, state = step.t, step.state
    period_id = chosen_id(event, "p:")
    if period_id is not None and state.unit_id is not None:
        unit = await unit_store.by_id(step.conv.db, state.unit_id)
        if unit is not None and period_id in (state.periods or []):
            if not await may_report_for(step.conv.db, step.person_id, unit):  # the membership may be gone
                return to_idle([Reply(t("You can no longer report for this unit; nothing was sent."))])
            for d in await _open_items(step, unit):
                if d.period_id == period_id:
                    return await open_form(step, unit, d)
    return await choose_again(step, t("Please choose one of the reports offered."))


async def open_form(step: Step, unit: Unit, d: Deadline, revision_of: int | None = None,
                    answers: dict[str, Any] | None = None) -> Turn:
    t, zone = step.t, step.conv.zone
    ctx = FormContext(d.campaign, d.period, unit.kind, t, zone, step.buttons)
    notes: list[Reply] = []
    if answers is None and unit.kind is UnitKind.UPPER:
        # An upper level's report starts from the totals of its subtree's latest submissions.
        answers, from_units = await subtree_answers(step.conv.db, ctx.fields, d.period_id, unit.id)
        if from_units:
            notes.append(Reply(t("The figures are filled in with the totals of the {n} units under you that have "
                                 "reported. Check them and add what your level organised itself.", n=from_units)))
    fstate = FormState(d.campaign.id, d.period.key, unit.id, unit.kind.value, answers=dict(answers or {}),
                       revision_of=revision_of)
    fstate, replies = form.start(ctx, fstate)
    intro = [] if revision_of else [Reply(
        t("{campaign} — {period}\nUnit: {unit}\nDue before {due}. {n} questions; you can stop at any time and "
          "continue later.", campaign=d.campaign.title.get(t.locale), period=d.period.name.get(t.locale),
          unit=unit.name, due=t.due_weekday_date(d.due_at, zone), n=form.progress(ctx, fstate)[1]),
    )]
    return _form_turn(ctx, State(Mode.FORM, period_id=d.period_id), fstate, intro + notes + replies)


async def open_from_reminder(step: Step, action: str) -> Turn:
    """"📝 Nộp ngay" in a reminder: sent outside any dialog, so it carries no version; it is checked here
    like a command (who may report, is the period still open) and opens the form at the right question."""
    t, state = step.t, step.state
    parts = action.split(":")
    period_id, unit_id = (parse_id(parts[1]), parse_id(parts[2])) if len(parts) == 3 else (None, None)
    if period_id is None or unit_id is None:
        return await choose_again(step, t("That button is out of date. Here is where you are now:"))
    if state.in_form:
        if state.period_id != period_id or (state.form or {}).get("unit_id") != unit_id:
            return await choose_again(step, t("Please finish or cancel (/huy) the report first."))
        return keep(state, await resume(step, state))
    unit = await unit_store.by_id(step.conv.db, unit_id)
    if unit is None or not await may_report_for(step.conv.db, step.person_id, unit):
        # The button may be forged or the membership gone: no unit is named, not even this one.
        return keep(state, [Reply(t("This reminder is not for a unit you report for. Type /baocao to see the "
                                    "reports you can file."))])
    for d in await _open_items(step, unit):
        if d.period_id == period_id:
            return await open_form(step, unit, d)
    return await _offer_reports(step, unit)


# --- the form ---------------------------------------------------------------------------------------------

def _form_turn(ctx: FormContext, state: State, fstate: FormState, replies: list[Reply]) -> Turn:
    new_state = state.copy()
    new_state.form = fstate.to_json()
    new_state.step, new_state.steps_total = form.progress(ctx, fstate)
    return Turn(new_state, replies)


async def on_form(step: Step, event: Input) -> Turn:
    """One answer to the open report."""
    try:
        ctx, fstate = await form_context(step, step.state)
    except (LookupError, KeyError):
        return to_idle([Reply(step.t("This report is no longer available; your draft was closed."))])
    fstate, replies, outcome = form.step(ctx, fstate, event)
    if outcome.cancelled:
        return to_idle([Reply(step.t("The report was cancelled; nothing was sent."))])
    if outcome.submit:
        return await _submit(step, ctx, fstate)
    return _form_turn(ctx, step.state, fstate, replies)


async def cancel(step: Step, _cmd: Command) -> Turn:
    """/huy: the form asks to confirm; outside a report there is nothing to cancel."""
    if not step.state.in_form:
        return to_idle([Reply(step.t("There is nothing to cancel."))])
    ctx, fstate = await form_context(step, step.state)
    fstate, replies = form.request_cancel(ctx, fstate)
    return _form_turn(ctx, step.state, fstate, replies)


async def _submit(step: Step, ctx: FormContext, fstate: FormState) -> Turn:
    t, conv = step.t, step.conv
    now = conv.clock.now()
    unit = await unit_store.by_id(conv.db, fstate.unit_id)
    period_row = await campaign_store.period_by_id(conv.db, step.state.period_id or 0)
    if period_row is None or period_row.campaign_id != ctx.campaign.id:
        return to_idle([Reply(t("This report is no longer available; your draft was closed."))])
    if unit is None or not await may_report_for(conv.db, step.person_id, unit):
        return to_idle([Reply(t("You can no longer report for this unit; nothing was sent."))])
    if await reviews.is_locked(conv.db, period_row.id, unit.id, period_row.closes_at, now):  # no lock exception
        return _form_turn(ctx, step.state, fstate, [Reply(t(
            "This period closed on {date}; reports are no longer accepted. Please contact {contact}.",
            date=t.date(period_row.closes_at, conv.zone), contact=ctx.campaign.contact.department))])
    turn = to_idle([])
    turn.submit = PendingSubmission(
        period_id=period_row.id, unit_id=unit.id, answers=dict(fstate.answers), late=now >= period_row.due_at,
        unit_name=unit.name, due_at=period_row.due_at, closes_at=period_row.closes_at, campaign=ctx.campaign,
        period=ctx.period, correction=fstate.revision_of is not None,
    )
    return turn


def receipt(t: Translator, zone: ZoneInfo, sub: PendingSubmission, row: submission_store.SubmissionRow) -> Reply:
    """The receipt of a report once it is recorded: what, for whom, its number, and until when it can be
    corrected."""
    campaign = sub.campaign
    lines = [
        t("✅ Correction received (revision {rev}).", rev=row.revision) if sub.correction
        else t("✅ Report received. Thank you!"),
        f"{campaign.title.get(t.locale)} — {sub.period.name.get(t.locale)}",
        t("Unit: {unit}", unit=sub.unit_name),
        t("Receipt number: {ref}", ref=row.reference),
        t("Time: {when}", when=t.datetime(row.last_submitted_at, zone)),
    ]
    if row.late:
        late_days = days_left_or_late(sub.due_at, row.first_submitted_at, campaign.zone)
        lines.append(t.ngettext("Submitted after the due date ({n} day late).",
                                "Submitted after the due date ({n} days late).", late_days))
    closes = sub.closes_at.astimezone(zone)
    if closes.hour == closes.minute == 0:  # until the end of the day before
        lines.append(t("You can correct it until {date} with /danop.", date=t.date(last_day(sub.closes_at), zone)))
    else:  # a period due at a time of day closes at that time
        lines.append(t("You can correct it until {when} with /danop.", when=t.due_date(sub.closes_at, zone)))
    return Reply("\n".join(lines))


def form_columns(state: State) -> tuple[int | None, int | None, int, int]:
    """unit, period and progress of an open report, kept in the drafts row's columns that reminders read."""
    if state.mode is not Mode.FORM or state.form is None:
        return None, None, 0, 0
    return state.form["unit_id"], state.period_id, state.step or 0, state.steps_total or 0

