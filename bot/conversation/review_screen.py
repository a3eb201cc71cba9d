"""What a reviewer reads of one report (issue 15): its answers under their short labels, what changed since the
previous revision (old → new), values far from the unit's previous period or above its member count flagged, and
the files by name. Read once per screen; the text is built from plain values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from bot.campaign_model import Campaign, FieldType, FormField, Period
from bot.dialog import form
from bot.dialog.form import FormContext
from bot.domain import Unit
from bot.i18n import Translator
from bot.vi_text import fold
from storage import campaigns as campaign_store
from storage import reviews
from storage import submissions as submission_store
from storage import units as unit_store
from storage.db import Database

# A value more than FAR times, or less than 1/FAR of, the unit's previous period is flagged.
FAR = Decimal(3)
# The answer that gives a unit's member count, in this report or the previous period's.
MEMBER_COUNT_FIELDS = ("members_total",)
# Units of measure (Vietnamese, folded) that count people: such a value cannot exceed the member count.
PEOPLE_UNITS = frozenset({"nguoi", "doan vien", "ca nhan"})
_NUMERIC = frozenset({FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY})
_FILES = frozenset({FieldType.PHOTO, FieldType.DOCUMENT})


@dataclass(frozen=True, slots=True)
class ReportView:
    campaign: Campaign
    period: Period
    period_row: campaign_store.PeriodRow
    unit: Unit
    sub: submission_store.SubmissionRow
    answers: dict[str, Any]
    before: dict[str, Any] | None  # the previous revision's answers
    previous: reviews.PreviousAnswers | None
    files: dict[int, str]
    last_return: reviews.ReviewEvent | None
    last_approval: reviews.ReviewEvent | None

    def context(self, t: Translator, zone: ZoneInfo, buttons: bool) -> FormContext:
        return FormContext(self.campaign, self.period, self.unit.kind, t, zone, buttons)

    def title(self, t: Translator) -> str:
        return f"{self.campaign.title.get(t.locale)} — {self.period.name.get(t.locale)}"


async def load_view(db: Database, submission_id: int) -> ReportView | None:
    """The report with what its screen needs; None when its unit, period or campaign is gone."""
    sub = await submission_store.by_id(db, submission_id)
    row = await campaign_store.period_by_id(db, sub.period_id) if sub else None
    campaign = await campaign_store.campaign(db, row.campaign_id) if row else None
    unit = await unit_store.by_id(db, sub.unit_id) if sub else None
    if sub is None or row is None or campaign is None or unit is None:
        return None
    try:
        period = campaign.period(row.key)
    except KeyError:
        return None
    revisions = await submission_store.revisions(db, sub.id)
    answers = revisions[-1].answers if revisions else await submission_store.latest_answers(db, sub.id)
    before = revisions[-2].answers if len(revisions) > 1 else None
    ids = [i for f in campaign.fields if f.type in _FILES for i in (answers.get(f.name) or [])]
    return ReportView(campaign, period, row, unit, sub, answers, before,
                      await reviews.previous_period_answers(db, unit.id, row.id),
                      await submission_store.attachment_names(db, ids),
                      await reviews.last_event(db, sub.id, "returned"),
                      await reviews.last_event(db, sub.id, "approved"))


def short_label(f: FormField, locale: str) -> str:
    return (f.report_label or f.label).get(locale)


def _number(f: FormField, value: Any) -> Decimal | None:
    if f.type not in _NUMERIC or value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def member_count(view: ReportView) -> Decimal | None:
    for answers in (view.answers, view.previous.answers if view.previous else {}):
        for name in MEMBER_COUNT_FIELDS:
            value = answers.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return Decimal(value)
    return None


def flags(view: ReportView, ctx: FormContext, f: FormField, value: Any) -> list[str]:
    """Why a value deserves a second look: far from last period's, or more people than the unit has members."""
    t, out = ctx.t, list[str]()
    number = _number(f, value)
    if number is None:
        return out
    before = view.previous.answers.get(f.name) if view.previous else None
    old = _number(f, before)
    if old is not None and old > 0 and (number > old * FAR or number * FAR < old):
        out.append(t("far from last period ({value})", value=form.display_value(ctx, f, before)))
    members = member_count(view)
    people = f.unit is not None and fold(f.unit.vi).strip() in PEOPLE_UNITS
    if members is not None and people and f.name not in MEMBER_COUNT_FIELDS and number > members:
        out.append(t("more than the unit's {n} members", n=t.number(members)))
    return out


def shown_value(view: ReportView, ctx: FormContext, f: FormField, value: Any) -> str:
    """An answer as the reviewer reads it (files by name); a value stored under an older campaign as it is."""
    if f.type in _FILES and isinstance(value, list):
        return ", ".join(view.files.get(i, f"#{i}") for i in value) or ctx.t("(skipped)")
    try:
        return form.display_value(ctx, f, value)
    except (ValueError, TypeError, KeyError, InvalidOperation):  # stored under an older campaign: as it is
        return str(value)


def answer_lines(view: ReportView, ctx: FormContext) -> list[str]:
    lines = []
    for i, f in enumerate(form.relevant_fields(ctx, view.answers), start=1):
        value = view.answers.get(f.name)
        line = f"{i}. {short_label(f, ctx.t.locale)}: {shown_value(view, ctx, f, value)}"
        marks = flags(view, ctx, f, value)
        lines.append(line + "".join(f"\n    ⚠️ {m}" for m in marks))
    return lines


def change_lines(view: ReportView, ctx: FormContext) -> list[str]:
    if view.before is None:
        return []
    out = []
    for f in ctx.campaign.fields:
        old, new = view.before.get(f.name), view.answers.get(f.name)
        if old != new:
            was, now = shown_value(view, ctx, f, old), shown_value(view, ctx, f, new)
            out.append(f"• {short_label(f, ctx.t.locale)}: {was} → {now}")
    return out


def screen_text(view: ReportView, ctx: FormContext) -> str:
    t, zone = ctx.t, ctx.zone
    sub = view.sub
    head = [t("Unit: {unit}", unit=view.unit.name),
            t("Receipt {ref}, revision {rev}, submitted {when}", ref=sub.reference, rev=sub.revision,
              when=t.datetime(sub.last_submitted_at, zone)) + (" " + t("(late)") if sub.late else "")]
    if sub.review_state == "approved" and view.last_approval is not None:
        head.append(t("✅ Approved by {name} on {when}.", name=view.last_approval.actor_name or "?",
                      when=t.datetime(view.last_approval.at, zone)))
    elif sub.review_state == "returned":
        head.append(t("↩️ Returned, waiting for the chair's correction."))
    if view.last_return is not None and view.last_return.reason:
        head.append(t("Reason given at the last return: {reason}", reason=view.last_return.reason))
    lines = [*head, "", t("Answers:"), *answer_lines(view, ctx)]
    changes = change_lines(view, ctx)
    if changes:
        lines += ["", t("Changed since revision {rev}:", rev=sub.revision - 1), *changes]
    elif view.before is None and view.previous is None:
        lines += ["", t("(No earlier revision and no report of the previous period to compare with.)")]
    return "\n".join(lines)
