"""A summary as an Excel workbook the department can filter, edit and send upward.

Three sheets: the summary (header, completeness, per-upper breakdown, totals, answers counted,
targets), one row per unit for the period (every answer as a typed cell), and the units that have
not reported with whom to call. Written with XlsxWriter: 10,000 units x 30 questions take about three
seconds. Every text cell goes through ``text`` and is written with ``write_string``, never ``write``: a
string cell is never a formula, so what a user typed is kept exactly ("=1+1", "+84 …") and stays harmless.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bot.campaign_model import FieldType, FormField
from bot.gc_pause import cyclic_gc_paused
from bot.i18n import Translator
from bot.summary.compute import rollup_rows, to_decimal
from bot.summary.model import Summary, UnitRow
from bot.summary.wording import target_threshold, unit_label, verdict

INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "0.0"
AVERAGE_FORMAT = "#,##0.0#"
PERCENT_FORMAT = '0.0"%"'
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
EXCEL_TEXT_MAX = 32_767
SHEET_NAME_MAX = 31
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")  # control characters Excel refuses
DIGIT_PIXELS = 7  # the width of a digit of Calibri 11, the unit of a column width
_SHEET_NAME_BAD = str.maketrans({c: " " for c in "[]:*?/\\"})


def text(value: Any) -> str | None:
    """A text cell's content: no character Excel refuses, within Excel's length. Written with write_string,
    it is never a formula, so nothing else is changed (no guarding apostrophe: that would alter the data)."""
    if value is None:
        return None
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))[:EXCEL_TEXT_MAX]


def _excel_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def number_format_of(f: FormField) -> str:
    if f.type is FieldType.PERCENT:
        return PERCENT_FORMAT
    if f.type is FieldType.DECIMAL:
        return DECIMAL_FORMAT
    return INTEGER_FORMAT


def choice_label(f: FormField, value: Any, locale: str) -> str:
    for c in f.choices:
        if c.value == value:
            return c.label.get(locale)
    return str(value)


def status_text(status: str, t: Translator) -> str:
    return {"on_time": t("On time"), "late": t("Late"), "missing": t("Not reported")}.get(status, status)


def sheet_name(name: str, taken: Iterable[str]) -> str:
    """A valid, unused sheet name (at most 31 characters, none of []:*?/\\, unique ignoring case)."""
    base = " ".join(name.translate(_SHEET_NAME_BAD).split()).strip("'")[:SHEET_NAME_MAX] or "Sheet"
    used = {n.lower() for n in taken}
    candidate, i = base, 2
    while candidate.lower() in used:
        suffix = f" ({i})"
        candidate = base[: SHEET_NAME_MAX - len(suffix)] + suffix
        i += 1
    return candidate


class _Styled(NamedTuple):
    """A value and the format its cell is written with."""

    value: Any
    format: Format | None


class _Formats:
    """One format per (number format, bold, wrap, size), made once and shared by every cell that has it."""

    def __init__(self, book: Workbook) -> None:
        self.book = book
        self._formats: dict[tuple[str | None, bool, bool, int], Format | None] = {}

    def format(self, fmt: str | None = None, *, bold: bool = False, wrap: bool = False,
               size: int = 11) -> Format | None:
        key = (fmt, bold, wrap, size)
        if key in self._formats:
            return self._formats[key]
        props: dict[str, Any] = {}
        if fmt:
            props["num_format"] = fmt
        if bold:
            props["bold"] = True
        if size != 11:
            props["font_size"] = size
        if wrap:
            props.update(text_wrap=True, valign="top")
        made = self.book.add_format(props) if props else None
        self._formats[key] = made
        return made

    def cell(self, value: Any, fmt: str | None = None, *, bold: bool = False, wrap: bool = False,
             size: int = 11) -> _Styled:
        return _Styled(value, self.format(fmt, bold=bold, wrap=wrap, size=size))


def _put(sheet: Worksheet, row: int, col: int, value: Any, fmt: Format | None = None) -> None:
    """One cell, by the type of its value. Text is only ever written with write_string: never a formula."""
    if value is None or (isinstance(value, str) and not value):
        if fmt is not None:
            sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        sheet.write_string(row, col, value, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, dt.date):  # a date or a datetime; always given a date format
        sheet.write_datetime(row, col, value, fmt)
    else:
        sheet.write_number(row, col, value, fmt)


class _Writer:
    """A sheet written row by row, with a row counter, so tables know where they landed."""

    def __init__(self, sheet: Worksheet, styles: _Formats) -> None:
        self.sheet = sheet
        self.row = 0  # rows written so far: the 0-based index of the next row
        self.styles = styles

    def append(self, values: Sequence[Any]) -> None:
        sheet, row = self.sheet, self.row
        for col, v in enumerate(values):
            if type(v) is _Styled:
                _put(sheet, row, col, v.value, v.format)
            else:
                _put(sheet, row, col, v)
        self.row += 1

    def blank(self) -> None:
        self.row += 1

    def heading(self, title: str) -> None:
        self.append([self.styles.cell(text(title), bold=True, size=12)])

    def header(self, names: Sequence[str]) -> list[str]:
        cells = [str(text(n)) for n in names]
        self.append([self.styles.cell(c, bold=True, wrap=True) for c in cells])
        return cells

    def table(self, name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """A header and rows made an Excel table (its own filter buttons); several fit on one sheet."""
        first = self.row
        # An Excel table needs unique column names equal to its header cells.
        names = self.header(_unique([str(text(h)) for h in headers]))
        for r in rows:
            self.append(r)
        if not rows:
            return
        # add_table writes the header cells again: with the same text and the same format.
        header_format = self.styles.format(bold=True, wrap=True)
        self.sheet.add_table(first, 0, self.row - 1, len(names) - 1, {
            "name": name,
            "style": "Table Style Light 9",
            "columns": [{"header": n, "header_format": header_format} for n in names],
        })


def _unique(names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for n in names:
        candidate, i = n, 2
        while candidate.lower() in seen:
            candidate = f"{n} ({i})"
            i += 1
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def _widths(sheet: Worksheet, widths: Sequence[float]) -> None:
    """Column widths as stored in the file (w digits of DIGIT_PIXELS each, no padding added)."""
    for i, w in enumerate(widths):
        sheet.set_column_pixels(i, i, round(w * DIGIT_PIXELS))


def _autofilter(w: _Writer, columns: int) -> None:
    """Filter buttons on the header row, over the rows written (at least one, even when there are none)."""
    w.sheet.autofilter(0, 0, max(w.row, 2) - 1, columns - 1)


# --- the summary sheet ------------------------------------------------------------------------------------------


def _summary_sheet(w: _Writer, summary: Summary, t: Translator, zone: ZoneInfo) -> None:
    loc = t.locale
    s = w.styles
    pct = PERCENT_FORMAT
    integer = INTEGER_FORMAT
    label: str | None  # the tables below reuse these names for texts, numbers and cells
    value: Any
    _widths(w.sheet, [52, 26, 16, 16, 16, 16, 16, 16])
    w.sheet.freeze_panes(1, 0)
    w.append([s.cell(text(summary.campaign.title.get(loc)), bold=True, size=14)])
    for label, value in (
        (t("Campaign"), summary.campaign.title.get(loc)),
        (t("Period"), summary.period.name.get(loc)),
        (t("Due"), t("before {date}", date=t.date(summary.due_at, zone))),
        (t("As of"), t.datetime(summary.as_of, zone)),
        (t("Scope"), summary.scope_name),
        (t("Reports go to"), summary.campaign.audience.reports_to),
    ):
        w.append([s.cell(text(label), bold=True), text(value)])
    w.blank()

    w.heading(t("Completeness"))
    for label, value, fmt in (
        (t("Units expected to report"), summary.expected, integer),
        (t("Reported on time"), summary.on_time, integer),
        (t("Reported late"), summary.late, integer),
        (t("Not reported"), summary.missing, integer),
        (t("Reported (%)"), float(summary.completeness), pct),
    ):
        w.append([s.cell(text(label), bold=True), s.cell(value, fmt)])
    w.blank()

    w.heading(t("By upper-level union"))
    rows = []
    for u in summary.uppers:
        rows.append([text(u.name), s.cell(u.expected, integer), s.cell(u.reported, integer),
                     s.cell(u.on_time, integer), s.cell(u.late, integer), s.cell(u.expected - u.reported, integer),
                     s.cell(float(u.completeness), pct)])
    w.table("ByUpper", [t("Upper level"), t("Expected"), t("Reported"), t("On time"), t("Late"),
                        t("Not reported"), t("Reported (%)")], rows)
    w.blank()

    numeric = [x for x in summary.totals if x.field.type.is_numeric]
    if numeric:
        w.heading(t("Totals"))
        rows = []
        for x in numeric:
            f = x.field
            fmt = number_format_of(f)
            unit = unit_label(t, f)
            values = [x.sum, x.average, x.minimum, x.maximum]
            rows.append([s.cell(text(f.indicator(loc)), wrap=True), text(unit), s.cell(x.answered, integer),
                         *(s.cell(_excel_number(v), AVERAGE_FORMAT if i == 1 and fmt == integer else fmt)
                           if v is not None else None for i, v in enumerate(values))])
        w.table("Totals", [t("Indicator"), t("Counted in"), t("Reports counted"), t("Sum"), t("Average"),
                           t("Minimum"), t("Maximum")], rows)
        w.append([text(t("An upper-level union's own report stands for its grassroots unions in these totals, "
                         "so nothing is counted twice."))])
        w.blank()

    counted = [x for x in summary.totals if not x.field.type.is_numeric]
    if counted:
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

    w.heading(t("Targets of the plan"))
    rows = []
    for r in summary.targets:
        g = r.target
        value = None
        if r.value is not None:
            value = s.cell(_excel_number(r.value), pct if g.unit == "%" else integer)
        rows.append([s.cell(text(g.label.get(loc)), wrap=True), s.cell(text(g.text), wrap=True), value,
                     text(target_threshold(t, r)), text(verdict(t, r)), s.cell(r.units_meeting, integer),
                     s.cell(r.units_in_scope, integer), s.cell(r.units_reported, integer)])
    if rows:
        w.table("Targets", [t("Target"), t("As the plan says"), t("Value"), t("Threshold"), t("Result"),
                            t("Units meeting it"), t("Units in scope"), t("Units reported")], rows)
    else:
        w.append([text(t("No targets in this period."))])


# --- one row per unit --------------------------------------------------------------------------------------------


def answer_writer(sheet: Worksheet, s: _Formats, f: FormField, t: Translator) -> Callable[[int, int, Any], None]:
    """(row, col, value) -> the cell of one question, chosen once per column rather than once per cell."""
    loc = t.locale
    write_number = sheet.write_number
    put_text = _text_writer(sheet)
    if f.type.is_numeric:
        fmt = s.format(number_format_of(f))

        def numeric(row: int, col: int, value: Any) -> None:
            if isinstance(value, int) and not isinstance(value, bool):
                write_number(row, col, value, fmt)
                return
            d = to_decimal(value)
            if d is None:
                put_text(row, col, value)
            else:
                write_number(row, col, _excel_number(d), fmt)

        return numeric
    match f.type:
        case FieldType.YES_NO:
            return _label_writer(sheet, {True: text(t("Yes")), False: text(t("No"))}, booleans=True)
        case FieldType.SELECT_ONE:
            return _label_writer(sheet, {c.value: text(c.label.get(loc)) for c in f.choices})
        case FieldType.SELECT_MULTIPLE:

            def several(row: int, col: int, value: Any) -> None:
                items = value if isinstance(value, list) else [value]
                put_text(row, col, ", ".join(choice_label(f, v, loc) for v in items))

            return several
        case FieldType.DATE:
            write_datetime, date_format = sheet.write_datetime, s.format(DATE_FORMAT)

            def day(row: int, col: int, value: Any) -> None:
                try:
                    when = dt.date.fromisoformat(str(value))
                except ValueError:
                    put_text(row, col, value)
                else:
                    write_datetime(row, col, when, date_format)

            return day
        case FieldType.PHOTO | FieldType.DOCUMENT:
            photo = f.type is FieldType.PHOTO

            def files(row: int, col: int, value: Any) -> None:
                n = len(value) if isinstance(value, list) else 1
                if not n:
                    return
                if photo:
                    put_text(row, col, t.ngettext("{n} photo", "{n} photos", n))
                else:
                    put_text(row, col, t.ngettext("{n} file", "{n} files", n))

            return files
    return put_text


def _label_writer(sheet: Worksheet, labels: dict[Any, str | None], *,
                  booleans: bool = False) -> Callable[[int, int, Any], None]:
    """(row, col, value) -> the label of a known answer, else the answer as text. With `booleans`, only True and
    False are known: 1 == True, so a dict lookup alone would show an answer of 1 as "Yes"."""
    write_string = sheet.write_string
    put_text = _text_writer(sheet)

    def labelled(row: int, col: int, value: Any) -> None:
        if (value is True or value is False) if booleans else value in labels:
            label = labels[value]
            if label:
                write_string(row, col, label)
        else:
            put_text(row, col, value)

    return labelled


def _text_writer(sheet: Worksheet) -> Callable[[int, int, Any], None]:
    """(row, col, value) -> a text cell (made safe by ``text``); nothing for None or empty text."""
    write_string = sheet.write_string

    def put_text(row: int, col: int, value: Any) -> None:
        s = text(value)
        if s:
            write_string(row, col, s)

    return put_text


def _header_height(labels: Sequence[str], width: float) -> float:
    lines = max((math.ceil(len(x) / max(width - 2, 1)) for x in labels), default=1)
    return min(max(lines, 1), 8) * 15.0


def _units_sheet(w: _Writer, summary: Summary, t: Translator, zone: ZoneInfo) -> None:
    loc = t.locale
    s = w.styles
    sheet = w.sheet
    fields = summary.campaign.fields_for(summary.period.key)
    fixed = [t("Unit code"), t("Unit"), t("Upper level"), t("Status"), t("Submitted at"), t("Revision"),
             t("Receipt number"), t("Counted in the totals")]
    labels = [f.indicator(loc) for f in fields]
    field_width = 22
    _widths(sheet, [14, 44, 32, 13, 17, 9, 13, 16, *([field_width] * len(fields))])
    sheet.set_row(0, _header_height(labels, field_width))
    sheet.freeze_panes(1, 2)
    names = w.header([*fixed, *labels])
    # (column, question, the format of a whole number when it is numeric, the writer of any other answer)
    columns = [(col, f.name, s.format(number_format_of(f)) if f.type.is_numeric else None,
                answer_writer(sheet, s, f, t)) for col, f in enumerate(fields, start=len(fixed))]
    statuses = {k: text(status_text(k, t)) for k in ("on_time", "late", "missing")}
    put_text = _text_writer(sheet)
    write_string, write_number, write_datetime = sheet.write_string, sheet.write_number, sheet.write_datetime
    datetime_format = s.format(DATETIME_FORMAT)
    uppers = {name: text(name) for name in {u.upper_name for u in summary.units}}  # each on many rows
    # Which rows make the totals of the summary sheet: an upper level's report stands for its units.
    counted = {u.unit_id for u in rollup_rows([u for u in summary.units if u.status != "missing"])}
    in_totals, through_upper = text(t("Yes")), text(t("No: in its upper level's report"))
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
            put_text(row, 7, in_totals if u.unit_id in counted else through_upper)
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
    _autofilter(w, len(names))


def _missing_sheet(w: _Writer, missing: list[UnitRow], t: Translator) -> None:
    _widths(w.sheet, [14, 44, 32, 36, 14])
    w.sheet.freeze_panes(1, 0)
    names = w.header([t("Unit code"), t("Unit"), t("Upper level"), t("People reporting"),
                      t("Reachable by the bot")])
    for u in missing:
        w.append([text(u.code), text(u.name), text(u.upper_name), text(", ".join(u.contacts)),
                  text(t("Yes") if u.reachable else t("No"))])
    _autofilter(w, len(names))


def write_summary_xlsx(path: Path, summary: Summary, t: Translator, zone: ZoneInfo) -> None:
    with cyclic_gc_paused():
        _write_workbook(path, summary, t, zone)


def _write_workbook(path: Path, summary: Summary, t: Translator, zone: ZoneInfo) -> None:
    # Text is written with write_string only; these options would also keep write() from reading text as a
    # formula, a link or a number.
    book = Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False})
    styles = _Formats(book)
    taken: list[str] = []
    for title, fill in (
        (t("Summary"), lambda w: _summary_sheet(w, summary, t, zone)),
        (summary.period.key, lambda w: _units_sheet(w, summary, t, zone)),
        (t("Not reported"), lambda w: _missing_sheet(w, summary.missing_units, t)),
    ):
        name = sheet_name(title, taken)
        taken.append(name)
        fill(_Writer(book.add_worksheet(name), styles))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.close()
