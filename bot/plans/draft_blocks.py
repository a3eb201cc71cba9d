"""The blocks of a draft campaign file (TOML), one function per table, and the items a person must check.

Every block appends its lines to `out`; what the plan does not say is added to `to_fill` (the file does
not load until it is written in) or `to_confirm` (a proposal in the file a person should check).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from bot.i18n import N_
from bot.plans.extract import ZONE, PeriodProposal, PlanProposal, TargetProposal
from bot.plans.questions import FieldSpec, TargetBinding, report_label_of

COMMENT_LIMIT = 300


@dataclass(frozen=True, slots=True)
class DraftItem:
    """One thing a person must fill in or confirm. `msgid` is English, `params` its placeholders."""

    key: str
    msgid: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "message": self.msgid.format(**self.params), "params": self.params}


# ================================================================ TOML values
def _s(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _v(value: Any) -> str:
    if isinstance(value, str):
        return _s(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_v(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_v(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def _comment(text: str, prefix: str = "# ") -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > COMMENT_LIMIT:
        text = text[: COMMENT_LIMIT - 1] + "…"
    return prefix + text


def _from(sentence: str, line: int) -> str:
    return _comment(f"from line {line}: «{sentence}»")


def _scope_note(kinds: tuple[str, ...]) -> str:
    return ", ".join(kinds)


# ================================================================ what a person must check
@dataclass(frozen=True, slots=True)
class Heading:
    """The values the header blocks write, each possibly empty (then to be filled in)."""

    short_title: str | None
    issuer: str
    reports_to: str
    department: str


def identity_items(proposal: PlanProposal, h: Heading, to_fill: list[DraftItem], to_confirm: list[DraftItem]) -> None:
    ident = proposal.identity
    if not h.issuer:
        to_fill.append(DraftItem("plan.issuer", N_("plan.issuer: who issued the plan was not found; write it in.")))
    elif ident.issuer_from == "preamble":
        to_confirm.append(DraftItem("plan.issuer", N_(
            "plan.issuer: “{value}” was read from the plan's opening sentences; check the full name."), {
            "value": h.issuer}))
    if not h.short_title:
        to_fill.append(DraftItem("title", N_("title and plan.title: the plan's title was not found; write it in.")))
    if ident.blank_day_year and not ident.date:
        to_confirm.append(DraftItem("plan.date", N_(
            "plan.date: the plan leaves the day blank (“ngày … tháng {month} năm {year}”); add the date when known."),
            {"month": ident.blank_day_month, "year": ident.blank_day_year}))


def audience_items(proposal: PlanProposal, h: Heading, to_fill: list[DraftItem], to_confirm: list[DraftItem]) -> None:
    if not h.reports_to:
        to_fill.append(DraftItem("audience.reports_to", N_(
            "audience.reports_to: the plan names no one to report to; write in the recipient.")))
    elif proposal.audience.reports_to_from == "issuer":
        to_confirm.append(DraftItem("audience.reports_to", N_(
            "audience.reports_to: the plan names no recipient; proposed “{value}”, the issuer."),
            {"value": h.reports_to}))
    if not h.department:
        to_fill.append(DraftItem("contact.department", N_(
            "contact.department: no contact was found in the plan; write in the department to contact.")))
    elif not proposal.contact.department:
        to_confirm.append(DraftItem("contact.department", N_(
            "contact.department: the plan names no contact; proposed “{value}”."), {"value": h.department}))
    if proposal.audience.how != "plan":
        to_confirm.append(DraftItem("audience.scope", N_(
            "audience.scope: the plan does not say who reports; proposed {kinds}. Check who must report."),
            {"kinds": _scope_note(proposal.audience.kinds)}))


# ================================================================ blocks
def header_block(out: list[str], proposal: PlanProposal, h: Heading, cid: str, source: str | None,
                 to_fill: list[DraftItem]) -> None:
    w = out.append
    w(_comment(f"DRAFT read from the plan {source or ''} by `python -m bot plans import`.".replace("  ", " ")))
    w("# Check every value against the plan: a “from” comment quotes the sentence it was read from.")
    if to_fill:
        w("# TO FILL IN before this file loads:")
        out.extend(_comment(i.msgid.format(**i.params), "#   - ") for i in to_fill)
    w("")
    w(f"id = {_s(cid)}")
    w(f"title = {_v({'vi': h.short_title or ''})}")
    w(f"timezone = {_s(str(ZONE))}")  # the zone the proposal's due instants are in
    if proposal.activities:
        w("")
        w("activities = [")
        out.extend(f"  {_s(a)}," for a in proposal.activities)
        w("]")


def plan_block(out: list[str], proposal: PlanProposal, h: Heading, source: str | None) -> None:
    ident = proposal.identity
    w = out.append
    w("")
    w("[plan]")
    if "issuer" in ident.evidence:
        w(_from(ident.evidence["issuer"].sentence, ident.evidence["issuer"].line))
    w(f"issuer = {_s(h.issuer)}" + ("  # TO FILL IN" if not h.issuer else ""))
    if ident.parent_issuer:
        w(f"parent_issuer = {_s(ident.parent_issuer)}")
    if ident.number:
        w(f"number = {_s(ident.number)}")
    if ident.date:
        w(f"date = {_v(ident.date)}")
    elif ident.blank_day_year:
        w(_comment(f"date: the plan leaves the day blank (tháng {ident.blank_day_month} năm {ident.blank_day_year})"))
    if ident.place:
        w(f"place = {_s(ident.place)}")
    w(f"title = {_s(ident.title or '')}" + ("  # TO FILL IN" if not ident.title else ""))
    if source:
        w(f"source = {_s(source)}")
    if ident.basis:
        w("basis = [")
        out.extend(f"  {_s(b)}," for b in ident.basis)
        w("]")


def audience_block(out: list[str], proposal: PlanProposal, h: Heading) -> None:
    w = out.append
    w("")
    w("[audience]")
    senders = [d for d in proposal.duties if d.sender_text]
    if senders:
        w(_comment(f"who reports, read from: «{senders[0].sender_text}»"))
    w(f"scope = {_v({'kinds': list(proposal.audience.kinds)})}")
    recipient_from = next((d for d in proposal.duties if d.recipient), None)
    if recipient_from:
        w(_from(recipient_from.evidence.sentence, recipient_from.evidence.line))
    w(f"reports_to = {_s(h.reports_to)}" + ("  # TO FILL IN" if not h.reports_to else ""))


def contact_block(out: list[str], proposal: PlanProposal, h: Heading) -> None:
    contact = proposal.contact
    w = out.append
    w("")
    w("[contact]")
    if contact.evidence:
        w(_from(contact.evidence.sentence, contact.evidence.line))
    w(f"department = {_s(h.department)}" + ("  # TO FILL IN" if not h.department else ""))
    for key in ("name", "position", "phone", "email"):
        value = getattr(contact, key)
        if value:
            w(f"{key} = {_s(value)}")


def _period_items(out: list[str], i: int, p: PeriodProposal, to_confirm: list[DraftItem]) -> None:
    if p.due_missing:
        out.append("# THÊM HẠN NỘP: the plan writes no reporting date. Write the due date and its text.")
    elif p.proposed:
        out.append("# PROPOSED due date: the plan gives none. Confirm or change it.")
        to_confirm.append(DraftItem(f"periods[{i}].due", N_(
            "periods[{index}] {key}: the plan gives no date; proposed due before {date}. Confirm or change it."),
            {"index": i, "key": p.key, "date": p.due_date.strftime("%d/%m/%Y")}))
    if p.covers.how == "inferred":
        out.append("# PROPOSED coverage: the plan does not say what this report covers.")
        to_confirm.append(DraftItem(f"periods[{i}].covers", N_(
            "periods[{index}] {key}: the plan does not say what this report covers; proposed {start} – {end}."),
            {"index": i, "key": p.key, "start": p.covers.start.strftime("%d/%m/%Y"),
             "end": p.covers.end.strftime("%d/%m/%Y")}))


def periods_block(out: list[str], proposal: PlanProposal, to_confirm: list[DraftItem]) -> None:
    w = out.append
    for i, p in enumerate(proposal.periods):
        w("")
        w(_from(p.evidence.sentence, p.evidence.line))
        _period_items(out, i, p, to_confirm)
        w("[[periods]]")
        w(f"key = {_s(p.key)}")
        w(f"name = {_v({'vi': p.name})}")
        w(f"covers = {_v({'start': p.covers.start, 'end': p.covers.end})}")
        due: dict[str, object] = {'date': p.due_date, 'wording': p.wording, 'text': p.due_text, 'source': p.due_source}
        if p.time is not None:  # "trước 17h00 ngày D": due at that time of the day, not at midnight
            due["time"] = p.time.strftime("%H:%M")
        w(f"due = {_v(due)}")
        notes = [n for n in (p.note, f"Kỳ báo cáo đọc từ: “{p.covers.text}”." if p.covers.text else None) if n]
        if notes:
            w(f"note = {_s(' '.join(notes))}")


def _field_lines(out: list[str], f: FieldSpec) -> None:
    w = out.append
    w("[[fields]]")
    w(f"name = {_s(f.name)}")
    if f.scope:
        w(f"scope = {_v({'kinds': list(f.scope)})}")
    w(f"type = {_s(f.type)}")
    w(f"label = {_v({'vi': f.label})}")
    w(f"report_label = {_v({'vi': report_label_of(f.label)})}")
    if f.unit:
        w(f"unit = {_v({'vi': f.unit})}")
    if not f.required:
        w("required = false")
    if f.periods:
        w(f"periods = {_v(list(f.periods))}")
    if f.relevant:
        w(f"relevant = {_s(f.relevant)}")
    if f.constraint:
        w(f"constraint = {_s(f.constraint)}")
        w(f"constraint_message = {_v({'vi': f.constraint_message or ''})}")


def fields_block(out: list[str], fields: list[FieldSpec], to_confirm: list[DraftItem]) -> None:
    out.append("")
    out.append("# ---------------------------------------------------------------- form (proposed)")
    for f in fields:
        out.append("")
        if f.for_targets:
            out.append(_comment("for the targets: " + ", ".join(f.for_targets)))
        _field_lines(out, f)
    to_confirm.append(DraftItem("fields", N_(
        "fields: only the questions the targets need were proposed ({n}); add questions for the plan's "
        "activities if the department wants their figures."), {"n": len(fields)}))


def _target_items(out: list[str], i: int, t: TargetProposal, to_confirm: list[DraftItem]) -> None:
    if t.companion_of:
        out.append(_comment(f"the same words read per unit: every unit reaching {t.per_unit_share:f}%; "
                            f"keep this, {t.companion_of}, or both"))
        to_confirm.append(DraftItem(f"targets[{i}]", N_(
            "targets[{index}] {key}: “{text}” can be read over all members or per unit; both were proposed "
            "({key} and {other}). Delete the one you do not want."),
            {"index": i, "key": t.key, "other": t.companion_of, "text": t.text}))
    if t.unclear:
        to_confirm.append(DraftItem(f"targets[{i}]", N_(
            "targets[{index}] {key}: what counts as done in “{text}” was not clear; check its questions."),
            {"index": i, "key": t.key, "text": t.text}))


def _target_lines(out: list[str], t: TargetProposal, b: TargetBinding, target_periods: tuple[str, ...]) -> None:
    w = out.append
    w("[[targets]]")
    w(f"key = {_s(t.key)}")
    w(f"text = {_s(t.text)}")
    label = t.text if len(t.text) <= 80 else t.text[:79].rsplit(" ", 1)[0] + "…"
    w(f"label = {_v({'vi': label})}")
    w(f"measure = {_s(t.measure)}")
    for key in ("condition", "numerator", "denominator", "field"):
        value = getattr(b, key)
        if value:
            w(f"{key} = {_s(value)}")
    w(f"comparator = {_s(t.comparator)}")
    w(f"threshold = {_v(t.threshold)}")
    w(f"unit = {_s(t.unit)}")
    if t.scope:
        w(f"scope = {_v({'kinds': list(t.scope)})}")
    if target_periods:
        w(f"periods = {_v(list(target_periods))}")


def targets_block(out: list[str], proposal: PlanProposal, bindings: dict[str, TargetBinding],
                  to_confirm: list[DraftItem]) -> None:
    if proposal.targets:
        out.append("")
        out.append("# ---------------------------------------------------------------- targets")
    else:
        to_confirm.append(DraftItem("targets", N_("targets: the plan states no numeric target (chỉ tiêu).")))
    for i, t in enumerate(proposal.targets):
        out.append("")
        out.append(_from(t.evidence.sentence, t.evidence.line))
        _target_items(out, i, t, to_confirm)
        _target_lines(out, t, bindings[t.key], proposal.target_periods)
