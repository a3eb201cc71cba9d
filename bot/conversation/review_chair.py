"""The chair's side of review and approval (issue 15): the message a return sends at once, and the correction it
opens at the first question concerned; an approved report's correction refused with who approved it and when.

The message goes through the outbox (kind "review") on the channel the chair chose for reminders, written in the
same batch as the decision; the sender retries it after an uncertain delivery, like an escalation (a lost return
costs more than a duplicate). Its button, "fix:<submission id>", is checked when pressed like /danop's choice.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.deadlines import Deadline
from bot.dialog import form
from bot.dialog.form import FormContext, FormState
from bot.dialog.model import Button, Reply
from bot.domain import Channel, Unit
from bot.i18n import Translator
from storage import people as people_store
from storage import reminders as reminder_store
from storage import reviews
from storage import submissions as submission_store
from storage.db import Write
from storage.outbox import OutboxItem, item_write
from storage.timefmt import to_db

from .common import Services, Step
from .review_screen import ReportView, short_label
from .state import Turn

FIX_ACTION = "fix"  # "fix:<submission id>": the returned report's button, re-authorised when pressed


async def chair_messages(conv: Services, view: ReportView, action: str, reason: str, fields: list[str],
                         reviewer_id: int, now: datetime) -> list[tuple[Write, OutboxItem]]:
    """The message to each reachable chair of the unit, in their language, as writes for the decision's batch."""
    reviewer = await people_store.person_by_id(conv.db, reviewer_id)
    name = reviewer.full_name if reviewer else "?"
    chairs = (await reminder_store.recipients(conv.db, [view.unit.id], ("chair",))).get(view.unit.id, [])
    out = []
    for chair in chairs:
        if chair.channel is None or chair.chat_id is None:
            continue
        t = conv.translator(chair.locale)
        reply = _message(t, view, action, reason, fields, name, Channel(chair.channel).has_buttons)
        item = OutboxItem(
            key=f"review:{view.sub.id}:{view.sub.revision}:{action}:{chair.person_id}:{to_db(now)}", kind="review",
            person_id=chair.person_id, unit_id=view.unit.id, period_id=view.period_row.id, channel=chair.channel,
            chat_id=chair.chat_id, planned_for=now, payload=reply.to_json())
        out.append((item_write(item, now), item))
    return out


def _message(t: Translator, view: ReportView, action: str, reason: str, fields: list[str], reviewer: str,
             buttons: bool) -> Reply:
    labels = {f.name: short_label(f, t.locale) for f in view.campaign.fields}
    lines = [view.title(t), t("Unit: {unit}", unit=view.unit.name),
             t("Receipt number: {ref}", ref=view.sub.reference)]
    if action == "returned":
        title = t("↩️ Your report was returned for correction")
        lines.append(t("Returned by {name}. Reason: {reason}", name=reviewer, reason=reason))
        if fields:
            lines.append(t("Questions to check: {names}", names="; ".join(labels.get(n, n) for n in fields)))
    else:
        title = t("🔓 Your approved report was reopened")
        lines.append(t("Reopened by {name}. Reason: {reason}", name=reviewer, reason=reason))
    if not buttons:
        lines.append(t("Type /danop to correct it."))
    choices = (Button(t("✏️ Correct the report"), f"{FIX_ACTION}:{view.sub.id}"),) if buttons else ()
    return Reply("\n".join(lines), title=title, choices=choices)


def approved_refusal(t: Translator, zone: ZoneInfo, by_name: str | None, at: datetime | None) -> str:
    """Why an approved report cannot be corrected, and what to do."""
    if at is None:
        return t("This report has already been approved and can no longer be corrected.")
    return t("This report was approved by {name} on {when}; it can no longer be corrected. If something must "
             "change, ask them to reopen it.", name=by_name or "?", when=t.datetime(at, zone))


async def refusal_if_approved(step: Step, row: submission_store.SubmissionRow) -> str | None:
    if row.review_state != "approved":
        return None
    event = await reviews.last_event(step.conv.db, row.id, "approved")
    return approved_refusal(step.t, step.conv.zone, event.actor_name if event else None,
                            event.at if event else None)


async def at_flagged_question(step: Step, unit: Unit, d: Deadline, row: submission_store.SubmissionRow,
                              turn: Turn) -> Turn:
    """A correction of a returned report opened by reporting.open_form (`turn`): the reviewer's reason first,
    then the first question concerned, asked again with its answer (answering it leads back to the review)."""
    event = await reviews.last_event(step.conv.db, row.id)
    if row.review_state != "returned" or event is None or event.action != "returned" or turn.state.form is None:
        return turn
    t = step.t
    note = Reply(t("Returned by {name}. Reason: {reason}", name=event.actor_name or "?", reason=event.reason or ""))
    fstate = FormState.from_json(turn.state.form)
    ctx = FormContext(d.campaign, d.period, unit.kind, t, step.conv.zone, step.buttons)
    flagged = [f for f in form.relevant_fields(ctx, fstate.answers) if f.name in event.fields]
    if fstate.phase != "review" or not flagged:  # the campaign changed under it, or no question was named
        turn.replies.insert(0, note)
        return turn
    fstate.current, fstate.phase, fstate.pending = flagged[0].name, "ask", None
    turn.state.form = fstate.to_json()
    turn.state.step, turn.state.steps_total = form.progress(ctx, fstate)
    turn.replies = [note, form.question_reply(ctx, fstate, flagged[0])]
    return turn
