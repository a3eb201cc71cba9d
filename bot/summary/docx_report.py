"""A summary as a Word báo cáo in the Vietnamese administrative style, from an editable template.

bot/templates/bao_cao.docx (written by tools/make_bao_cao_template.py, then the department's to
edit) is a docxtpl template: Jinja2 tags inside Word. This module only fills its context; every value is
text already formatted the Vietnamese way (1.234.567, 12,5%, dd/mm/yyyy) and is escaped when rendered,
so a unit called "<Công ty A&B>" comes out as written. The generator's docstring lists the keys.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from docxtpl import DocxTemplate

from bot.campaign_model import Campaign, FieldType
from bot.i18n import Translator
from bot.summary.model import FieldTotal, Summary, TargetResult, UnitRow
from bot.summary.wording import target_threshold, target_value, total_value, unit_label, verdict

DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "bao_cao.docx"
MISSING_NAMES_PER_UPPER = 30
# A province's units may quote thousands of good practices; the report quotes the first ones and says how many
# more the workbook holds (every answer is there): 5,000 quotes made the document hundreds of pages and ~60 MB of
# XML tree at 50,000 units (issue 13).
NARRATIVES_IN_REPORT = 60
# Characters XML 1.0 cannot carry: a value holding one would make the document unreadable.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Who adopts a plan inside an organisation: the plan says "Ban Thường vụ Liên đoàn Lao động tỉnh ...".
_SIGNING_BODIES = ("Ban Thường vụ", "Ban Chấp hành", "Đoàn Chủ tịch", "Thường trực")
_ABBREVIATIONS = (("Liên đoàn Lao động", "LĐLĐ"), ("Công đoàn Viên chức", "CĐVC"), ("Công đoàn ngành", "CĐN"),
                  ("Công đoàn", "CĐ"))
_PLACE_AFTER = re.compile(r"\b(?:tỉnh|thành phố|huyện|thị xã|quận)\s+(.+)$", re.IGNORECASE)


def _due_date(t: Translator, due_at: datetime, zone: ZoneInfo) -> str:
    """The date the template writes after "trước ngày", and the time of day of a deadline that has one."""
    local = due_at.astimezone(zone)
    if local.hour == local.minute == 0:
        return t.date(local)
    return t("{date} at {time}", date=t.date(local), time=f"{local:%H:%M}")


def clean(value: Any) -> str:
    """One line of text that XML can carry."""
    if value is None:
        return ""
    return " ".join(_XML_ILLEGAL.sub("", str(value)).split())


# --- who issues the report ---------------------------------------------------------------------------------------


def issuer_parts(campaign: Campaign) -> tuple[str, str]:
    """(organisation, signing body) from the plan's issuer: 'Ban Thường vụ Liên đoàn Lao động tỉnh Đắk Lắk' ->
    ('Liên đoàn Lao động tỉnh Đắk Lắk', 'Ban Thường vụ'); an issuer named without its body is signed for by
    its Ban Thường vụ."""
    issuer = clean(campaign.plan.issuer)
    for body in _SIGNING_BODIES:
        if issuer.lower().startswith(body.lower() + " "):
            return issuer[len(body) + 1:].strip(), body
    return issuer, _SIGNING_BODIES[0]


def abbreviate(name: str) -> str:
    """The body above the issuer as headers usually write it: 'Tổng Liên đoàn Lao động Việt Nam' -> 'Tổng LĐLĐ
    Việt Nam' (Nghị định 30 allows common abbreviations in that line, not in the issuer's own name)."""
    return name.replace("Liên đoàn Lao động", "LĐLĐ")


def number_suffix(campaign: Campaign, organisation: str) -> str:
    """The letters after 'BC-' in the report's number: those of the plan ('26/KH-LĐLĐ' -> 'LĐLĐ'), else the
    organisation's usual abbreviation."""
    number = campaign.plan.number or ""
    if "-" in number:
        return clean(number.split("-", 1)[1])
    for words, short in _ABBREVIATIONS:
        if organisation.lower().startswith(words.lower()):
            return short
    return ""


def place_of(campaign: Campaign, organisation: str) -> str:
    if campaign.plan.place:
        return clean(campaign.plan.place)
    m = _PLACE_AFTER.search(organisation)
    return m.group(1).strip() if m else "……"


def administrative_date(day: date) -> tuple[str, str, str]:
    """Day, month, year as Nghị định 30 writes them: a zero before days below 10 and before months 1 and 2."""
    d = f"{day.day:02d}" if day.day < 10 else str(day.day)
    m = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return d, m, str(day.year)


# --- the figures -------------------------------------------------------------------------------------------------


def _upper_rows(summary: Summary, t: Translator) -> tuple[list[dict[str, str]], dict[str, str]]:
    rows = []
    for u in summary.uppers:
        rows.append({
            "name": clean(u.name), "expected": t.number(u.expected), "reported": t.number(u.reported),
            "on_time": t.number(u.on_time), "late": t.number(u.late), "missing": t.number(u.missing),
            "percent": t.percent(u.completeness), "waiting": t.number(u.waiting), "returned": t.number(u.returned),
            "approved": t.number(u.approved),
        })
    total = {
        "name": "", "expected": t.number(summary.expected), "reported": t.number(summary.reported),
        "on_time": t.number(summary.on_time), "late": t.number(summary.late), "missing": t.number(summary.missing),
        "percent": t.percent(summary.completeness), "waiting": t.number(summary.count_state("waiting")),
        "returned": t.number(summary.count_state("returned")), "approved": t.number(summary.count_state("approved")),
    }
    return rows, total


def _missing_groups(missing: Sequence[UnitRow], t: Translator) -> list[dict[str, str]]:
    groups: dict[str, list[UnitRow]] = {}
    for u in missing:
        groups.setdefault(u.upper_name, []).append(u)
    out = []
    for upper, units in groups.items():
        names = "; ".join(clean(u.name) for u in units[:MISSING_NAMES_PER_UPPER])
        if len(units) > MISSING_NAMES_PER_UPPER:
            names = names + "; " + t("and {n} more", n=t.number(len(units) - MISSING_NAMES_PER_UPPER))
        out.append({"upper": clean(upper), "count": t.number(len(units)), "names": names})
    return out


def _total_rows(x: FieldTotal, t: Translator) -> list[dict[str, Any]]:
    """The rows of one question in the totals table: one for a number or a yes/no question; for a choice
    question, the question and then one row per answer with the units that chose it."""
    f = x.field
    loc = t.locale
    label = clean(f.indicator(loc)).rstrip(" ?:")
    answered = t.number(x.answered)
    if f.type.is_numeric:
        return [{"label": label, "unit": clean(unit_label(t, f)), "answered": answered, "value": total_value(t, x)}]
    if f.type is FieldType.YES_NO:
        yes = x.yes or 0
        value = t("{yes}/{n} units answered yes", yes=t.number(yes), n=answered)
        return [{"label": label, "unit": t("units"), "answered": answered, "value": value}]
    if f.type in (FieldType.SELECT_ONE, FieldType.SELECT_MULTIPLE):
        rows: list[dict[str, Any]] = [{"label": label, "unit": "", "answered": answered, "value": ""}]
        units = t("units")
        rows += [{"label": "- " + clean(c.label.get(loc)), "unit": units, "answered": "",
                  "value": t.number(x.choices.get(c.value, 0)), "sub": True} for c in f.choices]
        return rows
    return []


def _target_row(r: TargetResult, t: Translator) -> dict[str, str]:
    g = r.target
    value = target_value(t, r, missing=t("no figures yet"))
    units = ""
    if r.units_meeting is not None and g.unit == "%":
        units = t("{n}/{m} units", n=t.number(r.units_meeting), m=t.number(r.units_in_scope))
    return {"label": clean(g.label.get(t.locale)), "text": clean(g.text), "value": value,
            "threshold": target_threshold(t, r), "verdict": verdict(t, r), "units": units}


def _narratives_more(count: int, t: Translator) -> str:
    rest = count - NARRATIVES_IN_REPORT
    if rest <= 0:
        return ""
    return t("({n} more good practices of the units are in the Excel workbook, with every answer.)",
             n=t.number(rest))


def report_context(summary: Summary, t: Translator, zone: ZoneInfo) -> dict[str, Any]:
    """Everything the template may show, as text."""
    c = summary.campaign
    loc = t.locale
    organisation, body = issuer_parts(c)
    parent = clean(c.plan.parent_issuer)
    day, month, year = administrative_date(summary.as_of.astimezone(zone).date())
    uppers, uppers_total = _upper_rows(summary, t)
    totals: list[dict[str, Any]] = []
    number = 0
    for x in summary.totals:
        for row in _total_rows(x, t):
            if not row.get("sub"):
                number += 1
            row["no"] = "" if row.get("sub") else str(number)
            totals.append(row)
    targets = [_target_row(r, t) for r in summary.targets]
    return {
        "issuer_parent": abbreviate(parent).upper(),
        "parent_issuer_name": parent,
        "issuer": organisation.upper(),
        "issuer_name": organisation,
        "signing_body": body.upper(),
        "number_suffix": number_suffix(c, organisation),
        "department": clean(c.contact.department),
        "place": place_of(c, organisation),
        "day": day,
        "month": month,
        "year": year,
        "campaign_title": clean(c.title.get(loc)),
        "period_name": clean(summary.period.name.get(loc)),
        "plan_title": clean(c.plan.title),
        "plan_number": clean(c.plan.number),
        "plan_date": t.date(c.plan.date) if c.plan.date else "",
        "plan_issuer": clean(c.plan.issuer),
        "reports_to": clean(c.audience.reports_to),
        "scope_name": clean(summary.scope_name),
        "as_of": t.datetime(summary.as_of, zone),
        "as_of_date": t.date(summary.as_of, zone),
        "due_date": _due_date(t, summary.due_at, zone),
        "expected": t.number(summary.expected),
        "reported": t.number(summary.reported),
        "on_time": t.number(summary.on_time),
        "late": t.number(summary.late),
        "missing": t.number(summary.missing),
        "completeness": t.percent(summary.completeness),
        "waiting": uppers_total["waiting"],
        "returned": uppers_total["returned"],
        "approved": uppers_total["approved"],
        "approved_only": summary.approved_only,
        "uppers": uppers,
        "uppers_total": uppers_total,
        "missing_groups": _missing_groups(summary.missing_units, t),
        "totals": totals,
        # An upper-level union quoting itself is not followed by its own name in brackets.
        "narratives": [{"unit": clean(n.unit_name), "upper": "" if n.upper_name == n.unit_name else clean(n.upper_name),
                        "text": clean(n.text)} for n in summary.narratives[:NARRATIVES_IN_REPORT]],
        "narratives_more": _narratives_more(len(summary.narratives), t),
        "targets": targets,
        "targets_met": t.number(sum(1 for r in summary.targets if r.met)),
        "targets_total": t.number(len(summary.targets)),
    }


def write_summary_docx(path: Path, summary: Summary, t: Translator, zone: ZoneInfo,
                       template: Path | None = None) -> None:
    doc = DocxTemplate(str(template or DEFAULT_TEMPLATE))
    doc.render(report_context(summary, t, zone), autoescape=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
