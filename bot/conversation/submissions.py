"""Deadlines (/hannop) and reports already sent (/danop): the list, and choosing one to see or correct.

A correction reopens the form with the answers of the latest revision (reporting.open_form); a report
of a closed period is shown, not reopened.
"""

from __future__ import annotations

from datetime import datetime

from bot.campaign_model import Campaign, Period
from bot.deadline_text import deadlines_text
from bot.deadlines import deadlines_for_unit
from bot.dialog import form
from bot.dialog.form import FormContext
from bot.dialog.model import Button, Input, Reply
from bot.ids import parse_id
from storage import campaigns as campaign_store
from storage import reviews
from storage import submissions as submission_store
from storage import units as unit_store
from storage.db import Database

from . import review_chair
from .common import Step, choose_again, chosen_id, still_open_hint
from .events import Command
from .reporting import may_report_for, open_form, reportable_units
from .state import Mode, State, Turn, keep, menu, to_idle


async def deadlines(step: Step, _cmd: Command) -> Turn:
    """/hannop: every deadline of every unit the person reports for."""
    t, conv = step.t, step.conv
    units = await reportable_units(conv.db, step.person_id)
    if not units:
        replies = [Reply(t("You have no unit that files reports."))]
    else:
        now = conv.clock.now()
        replies = [Reply(deadlines_text(t, u, await deadlines_for_unit(conv.db, u, now), conv.zone)) for u in units]
    return keep(step.state, replies + still_open_hint(t, step.state))


async def submitted(step: Step, _cmd: Command) -> Turn:
    """/danop: the reports sent; outside a report, one can be chosen to see or correct."""
    if step.state.in_form:
        replies = await _submissions_list(step, interactive=False)
        return keep(step.state, replies + still_open_hint(step.t, step.state))
    replies = await _submissions_list(step, interactive=True)
    ids = [int(a[2:]) for r in replies for a in r.actions if a.startswith("s:")]
    if not ids:
        return to_idle(replies)
    return menu(State(Mode.CHOOSE_SUBMISSION, submissions=ids), replies[-1], before=replies[:-1])


async def _submissions_list(step: Step, *, interactive: bool) -> list[Reply]:
    t, conv = step.t, step.conv
    units = {u.id: u for u in await reportable_units(conv.db, step.person_id)}
    rows = await submission_store.of_units(conv.db, units)
    if not rows:
        return [Reply(t("No report has been submitted yet. Type /baocao to file one."))]
    lines = [t("Reports submitted:")]
    choices = []
    for i, row in enumerate(rows, start=1):
        info = await _period_info(conv.db, row.period_id)
        if info is None:
            continue
        campaign, period, _closes_at = info
        status = t("revision {rev}", rev=row.revision) + (" " + t("(late)") if row.late else "")
        status += {"approved": " " + t("(approved)"), "returned": " " + t("(returned for correction)")}.get(
            row.review_state, "")
        lines.append(f"{i}. {campaign.title.get(t.locale)} — {period.name.get(t.locale)}\n"
                     f"   {units[row.unit_id].name}: {row.reference}, "
                     f"{t.datetime(row.last_submitted_at, conv.zone)}, {status}")
        if interactive:
            choices.append(Button(row.reference, f"s:{row.id}"))
    text = "\n".join(lines)
    if interactive and choices:
        text += "\n\n" + t("Choose a report to see it or correct it.")
    return [Reply(text, choices=tuple(choices), columns=2)]


async def _period_info(db: Database, period_id: int) -> tuple[Campaign, Period, datetime] | None:
    row = await campaign_store.period_by_id(db, period_id)
    if row is None:
        return None
    campaign = await campaign_store.campaign(db, row.campaign_id)
    if campaign is None:
        return None
    return campaign, campaign.period(row.key), row.closes_at


async def on_choose_submission(step: Step, event: Input) -> Turn:
    """A report chosen from /danop: reopened for correction while its period is open, else shown."""
    sub_id = chosen_id(event, "s:")
    if sub_id is not None and sub_id in (step.state.submissions or []):
        turn = await _open_submission(step, sub_id)
        if turn is not None:
            return turn
    return await choose_again(step, step.t("Please choose one of the reports offered."))


async def open_returned(step: Step, action: str) -> Turn:
    """The button of a returned report's message ("fix:<id>"): sent outside any dialog, so it carries no version;
    checked here like a choice of /danop (who may report, is the period still open, is it approved)."""
    t = step.t
    sub_id = parse_id(action.partition(":")[2])
    if step.state.in_form:
        return await choose_again(step, t("Please finish or cancel (/huy) the report first."))
    turn = await _open_submission(step, sub_id) if sub_id is not None else None
    if turn is None:  # forged, or the membership is gone: no unit is named
        return keep(step.state, [Reply(t("This report is not one you can correct. Type /danop to see yours."))])
    return turn


async def _open_submission(step: Step, sub_id: int) -> Turn | None:
    """The correction of a report the person reports for (at the first question a reviewer flagged, if it was
    returned), or why it cannot be corrected; None when it is not theirs."""
    t, conv = step.t, step.conv
    row = await submission_store.by_id(conv.db, sub_id)
    unit = await unit_store.by_id(conv.db, row.unit_id) if row else None
    info = await _period_info(conv.db, row.period_id) if row else None
    if row is None or unit is None or info is None or not await may_report_for(conv.db, step.person_id, unit):
        return None
    campaign, period, closes_at = info
    answers = await submission_store.latest_answers(conv.db, row.id)
    refusal = await review_chair.refusal_if_approved(step, row)
    if refusal is not None or await reviews.is_locked(conv.db, row.period_id, row.unit_id, closes_at,
                                                      conv.clock.now()):
        ctx = FormContext(campaign, period, unit.kind, t, conv.zone, step.buttons)
        why = refusal or t("This period has closed; the report can no longer be corrected.")
        text = "\n".join([why, "", *form.review_lines(ctx, answers)])
        return to_idle([Reply(text, title=f"{campaign.title.get(t.locale)} — {period.name.get(t.locale)}")])
    deadline = next(d for d in await deadlines_for_unit(conv.db, unit, conv.clock.now())
                    if d.period_id == row.period_id)
    turn = await open_form(step, unit, deadline, revision_of=row.id, answers=answers)
    return await review_chair.at_flagged_question(step, unit, deadline, row, turn)
