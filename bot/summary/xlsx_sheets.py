"""Sheets of the summary workbook, one function per sheet: the summary (header, completeness, per-upper
breakdown, totals, answers counted, targets), one row per unit for the period (every answer as a typed cell),
and the units that have not reported with whom to call."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.campaign_model import FieldType
from bot.i18n import Translator
from bot.summary.compute import rollup_rows
from bot.summary.model import Summary, UnitRow
from bot.summary.wording import target_threshold, unit_label, verdict
from bot.summary.xlsx_cells import (
    AVERAGE_FORMAT,
    DATETIME_FORMAT,
    INTEGER_FORMAT,
    PERCENT_FORMAT,
    Writer,
    answer_writer,
    autofilter,
    excel_number,
    number_format_of,
    review_state_text,
    set_widths,
    status_text,
    text,
    text_writer,
)


# --- the summary sheet ------------------------------------------------------------------------------------------
def _before(t: Translator, due_at: datetime, zone: ZoneInfo) -> str:
    """"before 10/04/2026", or "before 17:00 on 10/04/2026" for a deadline at a time of day."""
    local = due_at.astimezone(zone)
    if local.hour == local.minute == 0:
        return t("before {date}", date=t.date(local))
    return t("before {time} on {date}", time=f"{local:%H:%M}", date=t.date(local))


def _about(w: Writer, summary: Summary, t: Translator, zone: ZoneInfo) -> None:
    loc = t.locale
    s = w.styles
    w.append([s.cell(text(summary.campaign.title.get(loc)), bold=True, size=14)])
    for label, value in (
        (t("Campaign"), summary.campaign.title.get(loc)),
        (t("Period"), summary.period.name.get(loc)),
        (t("Due"), _before(t, summary.due_at, zone)),
        (t("As of"), t.datetime(summary.as_of, zone)),
        (t("Scope"), summary.scope_name),
        (t("Reports go to"), summary.campaign.audience.reports_to),
    ):
        w.append([s.cell(text(label), bold=True), text(value)])
    w.blank()


def _completeness(w: Writer, summary: Summary, t: Translator) -> None:
    s = w.styles
    integer = INTEGER_FORMAT
    w.heading(t("Completeness"))
    for label, value, fmt in (
        (t("Units expected to report"), summary.expected, integer),
        (t("Reported on time"), summary.on_time, integer),
        (t("Reported late"), summary.late, integer),
        (t("Not reported"), summary.missing, integer),
        (t("Reported (%)"), float(summary.completeness), PERCENT_FORMAT),
        (t("Submitted, waiting for review"), summary.count_state("waiting"), integer),
        (t("Returned for correction"), summary.count_state("returned"), integer),
        (t("Approved"), summary.count_state("approved"), integer),
    ):
        w.append([s.cell(text(label), bold=True), s.cell(value, fmt)])
    w.blank()


def _by_upper(w: Writer, summary: Summary, t: Translator) -> None:
    s = w.styles
    integer = INTEGER_FORMAT
    w.heading(t("By upper-level union"))
    rows = []
    for u in summary.uppers:
        rows.append([text(u.name), s.cell(u.expected, integer), s.cell(u.reported, integer),
                     s.cell(u.on_time, integer), s.cell(u.late, integer), s.cell(u.missing, integer),
                     s.cell(float(u.completeness), PERCENT_FORMAT), s.cell(u.waiting, integer),
                     s.cell(u.returned, integer), s.cell(u.approved, integer)])
    w.table("ByUpper", [t("Upper level"), t("Expected"), t("Reported"), t("On time"), t("Late"),
                        t("Not reported"), t("Reported (%)"), t("Waiting for review"), t("Returned"),
                        t("Approved")], rows)
    w.blank()


def _totals(w: Writer, summary: Summary, t: Translator) -> None:
    numeric = [x for x in summary.totals if x.field.type.is_numeric]
    if not numeric:
        return
    loc = t.locale
    s = w.styles
    integer = INTEGER_FORMAT
    w.heading(t("Totals"))
    rows = []
    for x in numeric:
        f = x.field
        fmt = number_format_of(f)
        unit = unit_label(t, f)
        values = [x.sum, x.average, x.minimum, x.maximum]
        rows.append([s.cell(text(f.indicator(loc)), wrap=True), text(unit), s.cell(x.answered, integer),
                     *(s.cell(excel_number(v), AVERAGE_FORMAT if i == 1 and fmt == integer else fmt)
                       if v is not None else None for i, v in enumerate(values))])
    w.table("Totals", [t("Indicator"), t("Counted in"), t("Reports counted"), t("Sum"), t("Average"),
                       t("Minimum"), t("Maximum")], rows)
    w.append([text(t("An upper-level union's own report stands for its grassroots unions in these totals, "
                     "so nothing is counted twice."))])
    w.blank()


def _answers_counted(w: Writer, summary: Summary, t: Translator) -> None:
    counted = [x for x in summary.totals if not x.field.type.is_numeric]
    if not counted:
        return
    loc = t.locale
    s = w.styles
    integer = INTEGER_FORMAT
    w.heading(t("Answers counted"))
    rows = []
    for x in counted:
        f = x.field
        label = text(f.indicator(loc))
        first = True
        if f.type is FieldType.YES_NO:
            yes = x.yes or 0
            pairs = [(t("Yes"), yes), (t("No"), x.answered - yes)]
        else:
            pairs = [(c.label.get(loc), x.choices.get(c.value, 0)) for c in f.choices]
        for answer, n in pairs:
            rows.append([s.cell(label, wrap=True) if first else label, text(answer), s.cell(n, integer),
                         s.cell(x.answered, integer)])
            first = False
    w.table("Answers", [t("Indicator"), t("Answer"), t("Units"), t("Reports counted")], rows)
    w.blank()


def _targets(w: Writer, summary: Summary, t: Translator) -> None:
    loc = t.locale
    s = w.styles
    integer = INTEGER_FORMAT
    w.heading(t("Targets of the plan"))
    rows = []
    for r in summary.targets:
        g = r.target
        value = None
        if r.value is not None:
            value = s.cell(excel_number(r.value), PERCENT_FORMAT if g.unit == "%" else integer)
        rows.append([s.cell(text(g.label.get(loc)), wrap=True), s.cell(text(g.text), wrap=True), value,
                     text(target_threshold(t, r)), text(verdict(t, r)), s.cell(r.units_meeting, integer),
                     s.cell(r.units_in_scope, integer), s.cell(r.units_reported, integer)])
    if rows:
        w.table("Targets", [t("Target"), t("As the plan says"), t("Value"), t("Threshold"), t("Result"),
                            t("Units meeting it"), t("Units in scope"), t("Units reported")], rows)
    else:
        w.append([text(t("No targets in this period."))])


def summary_sheet(w: Writer, summary: Summary, t: Translator, zone: ZoneInfo) -> None:
    """The first sheet, section by section."""
    set_widths(w.sheet, [52, 26, 16, 16, 16, 16, 16, 16])
    w.sheet.freeze_panes(1, 0)
    _about(w, summary, t, zone)
    _completeness(w, summary, t)
    _by_upper(w, summary, t)
    _totals(w, summary, t)
    _answers_counted(w, summary, t)
    _targets(w, summary, t)


# --- one row per unit --------------------------------------------------------------------------------------------
def _header_height(labels: Sequence[str], width: float) -> float:
    lines = max((math.ceil(len(x) / max(width - 2, 1)) for x in labels), default=1)
    return min(max(lines, 1), 8) * 15.0


def units_sheet(w: Writer, summary: Summary, t: Translator, zone: ZoneInfo) -> None:
    loc = t.locale
    s = w.styles
    sheet = w.sheet
    fields = summary.campaign.fields_for(summary.period.key)
    fixed = [t("Unit code"), t("Unit"), t("Upper level"), t("Status"), t("Submitted at"), t("Revision"),
             t("Receipt number"), t("Counted in the totals"), t("Review"), t("Reviewer's last reason")]
    labels = [f.indicator(loc) for f in fields]
    field_width = 22
    set_widths(sheet, [14, 44, 32, 13, 17, 9, 13, 16, 16, 36, *([field_width] * len(fields))])
    sheet.set_row(0, _header_height(labels, field_width))
    sheet.freeze_panes(1, 2)
    names = w.header([*fixed, *labels])
    # (column, question, the format of a whole number when it is numeric, the writer of any other answer)
    columns = [(col, f.name, s.format(number_format_of(f)) if f.type.is_numeric else None,
                answer_writer(sheet, s, f, t)) for col, f in enumerate(fields, start=len(fixed))]
    statuses = {k: text(status_text(k, t)) for k in ("on_time", "late", "missing")}
    put_text = text_writer(sheet)
    write_string, write_number, write_datetime = sheet.write_string, sheet.write_number, sheet.write_datetime
    datetime_format = s.format(DATETIME_FORMAT)
    uppers = {name: text(name) for name in {u.upper_name for u in summary.units}}  # each on many rows
    # Which rows make the totals of the summary sheet: an upper level's report stands for its units.
    figures = [u for u in summary.units if u.status != "missing" and (not summary.approved_only or
                                                                        u.state == "approved")]
    counted = {u.unit_id for u in rollup_rows(figures)}
    in_totals, through_upper = text(t("Yes")), text(t("No: in its upper level's report"))
    not_approved = text(t("No: not approved"))
    states = {k: text(review_state_text(k, t)) for k in ("waiting", "returned", "approved")}
    row = w.row
    for u in summary.units:
        put_text(row, 0, u.code)
        put_text(row, 1, u.name)
        upper = uppers[u.upper_name]
        if upper:
            write_string(row, 2, upper)
        status = statuses.get(u.status)
        if status:
            write_string(row, 3, status)
        else:
            put_text(row, 3, u.status)
        if u.submitted_at is not None:
            write_datetime(row, 4, u.submitted_at.astimezone(zone).replace(tzinfo=None), datetime_format)
        if u.revision:
            write_number(row, 5, u.revision)
        put_text(row, 6, u.reference)
        if u.status != "missing":
            put_text(row, 7, in_totals if u.unit_id in counted else (
                not_approved if summary.approved_only and u.state != "approved" else through_upper))
            write_string(row, 8, states[u.state])
        put_text(row, 9, u.review_reason)
        answers = u.answers
        for col, name, integer, put in columns:
            value = answers.get(name)
            if value is None:
                continue
            if integer is not None and type(value) is int:  # most answers: written as answer_writer would
                write_number(row, col, value, integer)
            else:
                put(row, col, value)
        row += 1
    w.row = row
    autofilter(w, len(names))


def missing_sheet(w: Writer, missing: list[UnitRow], t: Translator) -> None:
    set_widths(w.sheet, [14, 44, 32, 36, 14])
    w.sheet.freeze_panes(1, 0)
    names = w.header([t("Unit code"), t("Unit"), t("Upper level"), t("People reporting"),
                      t("Reachable by the bot")])
    for u in missing:
        w.append([text(u.code), text(u.name), text(u.upper_name), text(", ".join(u.contacts)),
                  text(t("Yes") if u.reachable else t("No"))])
    autofilter(w, len(names))
