"""A summary as an Excel workbook the department can filter, edit and send upward.

Three sheets: the summary (header, completeness, per-upper breakdown, totals, answers counted,
targets), one row per unit for the period (every answer as a typed cell), and the units that have
not reported with whom to call. Written in openpyxl's write-only mode, which streams the rows:
10,000 units x 30 questions take a few seconds. Every text cell goes through ``safe_cell`` so that
nothing a user typed can become a formula.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from bot.campaign_model import Comparator, FieldType, FormField
from bot.i18n import Translator
from bot.spreadsheet import safe_cell
from bot.summary.model import Summary, TargetResult, UnitRow

INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "0.0"
AVERAGE_FORMAT = "#,##0.0#"
PERCENT_FORMAT = '0.0"%"'
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
EXCEL_TEXT_MAX = 32_767
SHEET_NAME_MAX = 31
_SHEET_NAME_BAD = str.maketrans({c: " " for c in "[]:*?/\\"})
COMPARATOR_SIGNS = {Comparator.GE: "≥", Comparator.GT: ">", Comparator.LE: "≤", Comparator.LT: "<", Comparator.EQ: "="}


def text(value: Any) -> str | None:
    """A text cell: no character Excel refuses, within Excel's length, never a formula."""
    if value is None:
        return None
    s = ILLEGAL_CHARACTERS_RE.sub("", str(value))[:EXCEL_TEXT_MAX]
    return safe_cell(s)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


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


def comparator_text(target: TargetResult, t: Translator) -> str:
    g = target.target
    threshold = t.percent(g.threshold) if g.unit == "%" else t.number(g.threshold)
    return COMPARATOR_SIGNS[g.comparator] + " " + threshold


def verdict(result: TargetResult, t: Translator) -> str:
    if result.met is None:
        return t("Not enough data")
    return t("Met") if result.met else t("Not met")


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


class _StyledCell(Cell):
    """A write-only cell whose style index is worked out once per style, not once per cell.

    openpyxl looks the style up (hashing it) for every styled cell it writes and builds an error message
    naming the cell while it tells a styled cell from a plain value; both dominate the time of a sheet of
    10,000 rows. The values and styles written are exactly openpyxl's.
    """

    __slots__ = ("_style_id",)

    @property
    def style_id(self) -> int:
        return self._style_id

    def __repr__(self) -> str:
        return "<StyledCell>"


class _Styles:
    """One styled prototype per (format, bold, wrap, size); each cell shares its style."""

    def __init__(self, sheet: Any) -> None:
        self.sheet = sheet
        self._protos: dict[tuple[str | None, bool, bool, int], _StyledCell] = {}

    def cell(self, value: Any, fmt: str | None = None, *, bold: bool = False, wrap: bool = False,
             size: int = 11) -> Cell:
        key = (fmt, bold, wrap, size)
        proto = self._protos.get(key)
        if proto is None:
            proto = _StyledCell(self.sheet, row=1, column=1)
            if fmt:
                proto.number_format = fmt
            if bold or size != 11:
                proto.font = Font(bold=bold, size=size)
            if wrap:
                proto.alignment = Alignment(wrap_text=True, vertical="top")
            proto._style_id = self.sheet.parent._cell_styles.add(proto._style)
            self._protos[key] = proto
        c = _StyledCell(self.sheet, row=1, column=1, value=value, style_array=proto._style)
        c._style_id = proto._style_id
        return c


class _Writer:
    """A write-only sheet with a row counter, so tables know where they landed."""

    def __init__(self, sheet: Any) -> None:
        self.sheet = sheet
        self.row = 0
        self.styles = _Styles(sheet)

    def append(self, values: Sequence[Any]) -> None:
        self.sheet.append(list(values))
        self.row += 1

    def blank(self) -> None:
        self.append([])

    def heading(self, title: str) -> None:
        self.append([self.styles.cell(text(title), bold=True, size=12)])

    def header(self, names: Sequence[str]) -> list[str]:
        cells = [str(text(n)) for n in names]
        self.append([self.styles.cell(c, bold=True, wrap=True) for c in cells])
        return cells

    def table(self, name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """A header and rows made an Excel table (its own filter buttons); several fit on one sheet."""
        first = self.row + 1
        # An Excel table needs unique column names equal to its header cells.
        names = self.header(_unique([str(text(h)) for h in headers]))
        for r in rows:
            self.append(r)
        if not rows:
            return
        ref = f"A{first}:{get_column_letter(len(names))}{self.row}"
        table = Table(displayName=name, ref=ref)
        table.tableColumns = [TableColumn(id=i, name=n) for i, n in enumerate(names, start=1)]
        table.autoFilter = AutoFilter(ref=ref)
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        with warnings.catch_warnings():
            # openpyxl warns on every write-only table; the columns are set above, as it asks.
            warnings.filterwarnings("ignore", "In write-only mode you must add table columns", UserWarning)
            self.sheet.add_table(table)


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


def _widths(sheet: Any, widths: Sequence[float]) -> None:
    for i, w in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = w


# --- the summary sheet ------------------------------------------------------------------------------------------


def _summary_sheet(w: _Writer, summary: Summary, t: Translator, zone: ZoneInfo) -> None:
    loc = t.locale
    s = w.styles
    pct = PERCENT_FORMAT
    integer = INTEGER_FORMAT
    _widths(w.sheet, [52, 26, 16, 16, 16, 16, 16, 16])
    w.sheet.freeze_panes = "A2"
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
        share = round(u.reported * 100 / u.expected, 1) if u.expected else 0.0
        rows.append([text(u.name), s.cell(u.expected, integer), s.cell(u.reported, integer),
                     s.cell(u.on_time, integer), s.cell(u.late, integer), s.cell(u.expected - u.reported, integer),
                     s.cell(share, pct)])
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
            unit = t("VND") if f.type is FieldType.MONEY else (f.unit.get(loc) if f.unit else "")
            values = [x.sum, x.average, x.minimum, x.maximum]
            rows.append([s.cell(text(f.label.get(loc)), wrap=True), text(unit), s.cell(x.answered, integer),
                         *(s.cell(_excel_number(v), AVERAGE_FORMAT if i == 1 and fmt == integer else fmt)
                           if v is not None else None for i, v in enumerate(values))])
        w.table("Totals", [t("Question"), t("Counted in"), t("Reports counted"), t("Sum"), t("Average"),
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
            label = text(f.label.get(loc))
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
        w.table("Answers", [t("Question"), t("Answer"), t("Units"), t("Reports counted")], rows)
        w.blank()

    w.heading(t("Targets of the plan"))
    rows = []
    for r in summary.targets:
        g = r.target
        value = None
        if r.value is not None:
            value = s.cell(_excel_number(r.value), pct if g.unit == "%" else integer)
        rows.append([s.cell(text(g.label.get(loc)), wrap=True), s.cell(text(g.text), wrap=True), value,
                     text(comparator_text(r, t)), text(verdict(r, t)), s.cell(r.units_meeting, integer),
                     s.cell(r.units_in_scope, integer), s.cell(r.units_reported, integer)])
    if rows:
        w.table("Targets", [t("Target"), t("As the plan says"), t("Value"), t("Threshold"), t("Result"),
                            t("Units meeting it"), t("Units in scope"), t("Units reported")], rows)
    else:
        w.append([text(t("No targets in this period."))])


# --- one row per unit --------------------------------------------------------------------------------------------


def answer_converter(s: _Styles, f: FormField, t: Translator) -> Callable[[Any], Any]:
    """value -> cell for one question, chosen once per column rather than once per cell."""
    loc = t.locale
    if f.type.is_numeric:
        fmt = number_format_of(f)

        def numeric(value: Any) -> Any:
            if isinstance(value, int) and not isinstance(value, bool):
                return s.cell(value, fmt)
            d = _decimal(value)
            return text(value) if d is None else s.cell(_excel_number(d), fmt)

        return numeric
    match f.type:
        case FieldType.YES_NO:
            yes, no = text(t("Yes")), text(t("No"))
            return lambda value: yes if value is True else (no if value is False else text(value))
        case FieldType.SELECT_ONE:
            labels = {c.value: text(c.label.get(loc)) for c in f.choices}
            return lambda value: labels[value] if value in labels else text(value)
        case FieldType.SELECT_MULTIPLE:

            def several(value: Any) -> Any:
                items = value if isinstance(value, list) else [value]
                return text(", ".join(choice_label(f, v, loc) for v in items))

            return several
        case FieldType.DATE:

            def day(value: Any) -> Any:
                try:
                    return s.cell(dt.date.fromisoformat(str(value)), DATE_FORMAT)
                except ValueError:
                    return text(value)

            return day
        case FieldType.PHOTO | FieldType.DOCUMENT:
            photo = f.type is FieldType.PHOTO

            def files(value: Any) -> Any:
                n = len(value) if isinstance(value, list) else 1
                if not n:
                    return None
                if photo:
                    return text(t.ngettext("{n} photo", "{n} photos", n))
                return text(t.ngettext("{n} file", "{n} files", n))

            return files
    return text


def _header_height(labels: Sequence[str], width: float) -> float:
    lines = max((math.ceil(len(x) / max(width - 2, 1)) for x in labels), default=1)
    return min(max(lines, 1), 8) * 15.0


def _units_sheet(w: _Writer, summary: Summary, t: Translator, zone: ZoneInfo) -> None:
    loc = t.locale
    s = w.styles
    fields = summary.campaign.fields_for(summary.period.key)
    fixed = [t("Unit code"), t("Unit"), t("Upper level"), t("Status"), t("Submitted at"), t("Revision"),
             t("Receipt number")]
    labels = [f.label.get(loc) for f in fields]
    field_width = 22
    _widths(w.sheet, [14, 44, 32, 13, 17, 9, 13, *([field_width] * len(fields))])
    w.sheet.row_dimensions[1].height = _header_height(labels, field_width)
    w.sheet.freeze_panes = "C2"
    names = w.header([*fixed, *labels])
    columns = [(f.name, answer_converter(s, f, t)) for f in fields]
    statuses = {k: text(status_text(k, t)) for k in ("on_time", "late", "missing")}
    for u in summary.units:
        submitted = None
        if u.submitted_at is not None:
            submitted = s.cell(u.submitted_at.astimezone(zone).replace(tzinfo=None), DATETIME_FORMAT)
        row = [text(u.code), text(u.name), text(u.upper_name), statuses.get(u.status) or text(u.status), submitted,
               u.revision or None, text(u.reference)]
        answers = u.answers
        for name, convert in columns:
            value = answers.get(name)
            row.append(None if value is None else convert(value))
        w.append(row)
    w.sheet.auto_filter.ref = f"A1:{get_column_letter(len(names))}{max(w.row, 2)}"


def _missing_sheet(w: _Writer, missing: list[UnitRow], t: Translator) -> None:
    _widths(w.sheet, [14, 44, 32, 36, 14])
    w.sheet.freeze_panes = "A2"
    names = w.header([t("Unit code"), t("Unit"), t("Upper level"), t("People reporting"),
                      t("Reachable by the bot")])
    for u in missing:
        w.append([text(u.code), text(u.name), text(u.upper_name), text(", ".join(u.contacts)),
                  text(t("Yes") if u.reachable else t("No"))])
    w.sheet.auto_filter.ref = f"A1:{get_column_letter(len(names))}{max(w.row, 2)}"


def write_summary_xlsx(path: Path, summary: Summary, t: Translator, zone: ZoneInfo) -> None:
    book = Workbook(write_only=True)
    taken: list[str] = []
    for title, fill in (
        (t("Summary"), lambda w: _summary_sheet(w, summary, t, zone)),
        (summary.period.key, lambda w: _units_sheet(w, summary, t, zone)),
        (t("Not reported"), lambda w: _missing_sheet(w, summary.missing_units, t)),
    ):
        name = sheet_name(title, taken)
        taken.append(name)
        fill(_Writer(book.create_sheet(name)))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
