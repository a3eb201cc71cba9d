"""The summary as a chat message: the figures a department head needs first; the long lists go to files."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.campaign_model import FieldType
from bot.i18n import Translator
from bot.summary.model import Summary
from bot.summary.wording import target_threshold, target_value, total_value, unit_label, verdict

MISSING_SHOWN_PER_UPPER = 5
MAX_TOTALS = 25
MAX_UPPERS = 12  # the chat shows those furthest behind; every upper level is in the files
MAX_MISSING_GROUPS = 8


def _share(t: Translator, completeness: Decimal, expected: int) -> str:
    return t.percent(completeness) if expected else "—"


def _header(s: Summary, t: Translator, zone: ZoneInfo) -> list[str]:
    return [
        f"📊 {s.campaign.title.get(t.locale)}",
        t("Period: {period}", period=s.period.name.get(t.locale)),
        t("Due before {due}; figures as of {when}", due=t.due_weekday_date(s.due_at, zone),
          when=t.datetime(s.as_of, zone)),
        t("Scope: {scope}", scope=s.scope_name),
        *([t("Figures from approved reports only")] if s.approved_only else []),
    ]


def _states(t: Translator, missing: int, waiting: int, returned: int, approved: int) -> str:
    return t("Not submitted {missing} · submitted, waiting for review {waiting} · returned {returned} · "
             "approved {approved}", missing=missing, waiting=waiting, returned=returned, approved=approved)


def _completeness(s: Summary, t: Translator) -> list[str]:
    lines = [
        "",
        t("COMPLETENESS: {reported}/{expected} units reported ({pct})", reported=s.reported, expected=s.expected,
          pct=_share(t, s.completeness, s.expected)),
        t("On time {on_time} · late {late} · not reported {missing}", on_time=s.on_time, late=s.late,
          missing=s.missing),
        _states(t, s.count_state("missing"), s.count_state("waiting"), s.count_state("returned"),
                s.count_state("approved")),
    ]
    if s.waiting_long:
        lines.append(t("⏳ {n} reports have been waiting for review for more than {days} days.", n=s.waiting_long,
                       days=s.waiting_days))
    if len(s.uppers) > 1:
        lines += ["", t("BY UPPER LEVEL:")]
        shown = s.uppers
        if len(shown) > MAX_UPPERS:
            lines.append(t("The {n} furthest behind; all of them are in the Excel file.", n=MAX_UPPERS))
            shown = s.furthest_behind(MAX_UPPERS)
        for u in shown:
            late = " — " + t("{n} late", n=u.late) if u.late else ""
            lines.append(f"• {u.name}: {u.reported}/{u.expected} ({_share(t, u.completeness, u.expected)}){late}")
            lines.append("   " + _states(t, u.missing, u.waiting, u.returned, u.approved))
    return lines


def _targets(s: Summary, t: Translator) -> list[str]:
    if not s.targets:
        return []
    lines = ["", t("TARGETS:")]
    for r in s.targets:
        mark = "✅" if r.met else ("❌" if r.met is False else "…")
        units = " · " + t("{n}/{m} units", n=r.units_meeting, m=r.units_in_scope) if r.units_meeting is not None else ""
        lines.append(f"{mark} {r.target.label.get(t.locale)}: {target_value(t, r)} "
                     f"({target_threshold(t, r)}) — {verdict(t, r)}{units}")
    return lines


def _totals(s: Summary, t: Translator) -> list[str]:
    numeric = [tot for tot in s.totals if tot.field.type.is_numeric and tot.answered]
    yes_no = [tot for tot in s.totals if tot.field.type is FieldType.YES_NO and tot.answered]
    if not numeric and not yes_no:
        return []
    lines = ["", t("TOTALS (units that answered):")]
    for tot in numeric[:MAX_TOTALS]:
        # A percentage's average already carries its "%".
        unit = "" if tot.field.type is FieldType.PERCENT else unit_label(t, tot.field)
        value = f"{total_value(t, tot)} {unit}" if unit else total_value(t, tot)
        lines.append(f"• {tot.field.indicator(t.locale)}: {value} " + t("({n} units)", n=tot.answered))
    if len(numeric) > MAX_TOTALS:
        lines.append(t("… {n} more in the Excel file.", n=len(numeric) - MAX_TOTALS))
    for tot in yes_no:
        lines.append(f"• {tot.field.indicator(t.locale)}: " + t("{yes}/{n} units answered yes", yes=tot.yes,
                                                                  n=tot.answered))
    return lines


def _missing(s: Summary, t: Translator) -> list[str]:
    missing = s.missing_units
    if not missing:
        return []
    lines = ["", t("NOT REPORTED ({n}):", n=len(missing))]
    by_upper: dict[str, list[str]] = {}
    for u in missing:
        by_upper.setdefault(u.upper_name, []).append(u.name + ("" if u.reachable else " ⚠️"))
    groups = sorted(by_upper.items(), key=lambda item: -len(item[1]))
    for upper, names in groups[:MAX_MISSING_GROUPS]:
        shown = ", ".join(names[:MISSING_SHOWN_PER_UPPER])
        more = len(names) - MISSING_SHOWN_PER_UPPER
        lines.append(f"• {upper}: {shown}" + (" " + t("and {n} more", n=more) if more > 0 else ""))
    if len(groups) > MAX_MISSING_GROUPS:
        rest = sum(len(names) for _upper, names in groups[MAX_MISSING_GROUPS:])
        lines.append(t("… {n} more units under other upper levels: see the Excel file.", n=rest))
    if any(not u.reachable for u in missing):
        lines.append(t("⚠️ cannot be reached by the bot (no one registered, or blocked)"))
    return lines


def _highlights(s: Summary, t: Translator) -> list[str]:
    if not s.narratives:
        return []
    return ["", t("HIGHLIGHTS:"), *(f"• {n.unit_name}: “{n.text[:300]}”" for n in s.narratives[:9])]


def summary_text(s: Summary, t: Translator, zone: ZoneInfo) -> str:
    """The whole summary for a chat message; adapters split it below their message limit."""
    lines = [*_header(s, t, zone), *_completeness(s, t), *_targets(s, t), *_totals(s, t), *_missing(s, t),
             *_highlights(s, t), "", t("Full figures in the Excel file and the Word report.")]
    return "\n".join(lines)


def completeness_text(s: Summary, t: Translator, zone: ZoneInfo) -> str:
    """The short form pushed at the due date: who has reported, by upper level, and who has not."""
    return "\n".join([*_header(s, t, zone), *_completeness(s, t), *_missing(s, t)])
