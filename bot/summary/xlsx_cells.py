"""Cells of the summary workbook: safe text, number and date formats, a sheet written row by row, and one
writer per question type that picks a cell's type once per column.

Every text cell goes through ``text`` and is written with ``write_string``, never ``write``: a string cell is
never a formula, so what a user typed is kept exactly ("=1+1", "+84 …") and stays harmless.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bot.campaign_model import FieldType, FormField
from bot.i18n import Translator
from bot.summary.compute import to_decimal

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


def excel_number(value: Decimal) -> int | float:
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


def review_state_text(state: str, t: Translator) -> str:
    return {"missing": t("Not reported"), "waiting": t("Waiting for review"), "returned": t("Returned"),
            "approved": t("Approved")}.get(state, state)


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


class Styled(NamedTuple):
    """A value and the format its cell is written with."""

    value: Any
    format: Format | None


class Formats:
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
             size: int = 11) -> Styled:
        return Styled(value, self.format(fmt, bold=bold, wrap=wrap, size=size))


def put(sheet: Worksheet, row: int, col: int, value: Any, fmt: Format | None = None) -> None:
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


class Writer:
    """A sheet written row by row, with a row counter, so tables know where they landed."""

    def __init__(self, sheet: Worksheet, styles: Formats) -> None:
        self.sheet = sheet
        self.row = 0  # rows written so far: the 0-based index of the next row
        self.styles = styles

    def append(self, values: Sequence[Any]) -> None:
        sheet, row = self.sheet, self.row
        for col, v in enumerate(values):
            if type(v) is Styled:
                put(sheet, row, col, v.value, v.format)
            else:
                put(sheet, row, col, v)
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


def set_widths(sheet: Worksheet, widths: Sequence[float]) -> None:
    """Column widths as stored in the file (w digits of DIGIT_PIXELS each, no padding added)."""
    for i, w in enumerate(widths):
        sheet.set_column_pixels(i, i, round(w * DIGIT_PIXELS))


def autofilter(w: Writer, columns: int) -> None:
    """Filter buttons on the header row, over the rows written (at least one, even when there are none)."""
    w.sheet.autofilter(0, 0, max(w.row, 2) - 1, columns - 1)


# --- the answer of one question, by its type ---------------------------------------------------------------------
def _numeric_writer(sheet: Worksheet, s: Formats, f: FormField) -> Callable[[int, int, Any], None]:
    write_number = sheet.write_number
    put_text = text_writer(sheet)
    fmt = s.format(number_format_of(f))

    def numeric(row: int, col: int, value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            write_number(row, col, value, fmt)
            return
        d = to_decimal(value)
        if d is None:
            put_text(row, col, value)
        else:
            write_number(row, col, excel_number(d), fmt)

    return numeric


def _several_writer(sheet: Worksheet, f: FormField, loc: str) -> Callable[[int, int, Any], None]:
    put_text = text_writer(sheet)

    def several(row: int, col: int, value: Any) -> None:
        items = value if isinstance(value, list) else [value]
        put_text(row, col, ", ".join(choice_label(f, v, loc) for v in items))

    return several


def _date_writer(sheet: Worksheet, s: Formats) -> Callable[[int, int, Any], None]:
    write_datetime, date_format = sheet.write_datetime, s.format(DATE_FORMAT)
    put_text = text_writer(sheet)

    def day(row: int, col: int, value: Any) -> None:
        try:
            when = dt.date.fromisoformat(str(value))
        except ValueError:
            put_text(row, col, value)
        else:
            write_datetime(row, col, when, date_format)

    return day


def _files_writer(sheet: Worksheet, photo: bool, t: Translator) -> Callable[[int, int, Any], None]:
    put_text = text_writer(sheet)

    def files(row: int, col: int, value: Any) -> None:
        n = len(value) if isinstance(value, list) else 1
        if not n:
            return
        if photo:
            put_text(row, col, t.ngettext("{n} photo", "{n} photos", n))
        else:
            put_text(row, col, t.ngettext("{n} file", "{n} files", n))

    return files


def answer_writer(sheet: Worksheet, s: Formats, f: FormField, t: Translator) -> Callable[[int, int, Any], None]:
    """(row, col, value) -> the cell of one question, chosen once per column rather than once per cell."""
    loc = t.locale
    if f.type.is_numeric:
        return _numeric_writer(sheet, s, f)
    match f.type:
        case FieldType.YES_NO:
            return _label_writer(sheet, {True: text(t("Yes")), False: text(t("No"))}, booleans=True)
        case FieldType.SELECT_ONE:
            return _label_writer(sheet, {c.value: text(c.label.get(loc)) for c in f.choices})
        case FieldType.SELECT_MULTIPLE:
            return _several_writer(sheet, f, loc)
        case FieldType.DATE:
            return _date_writer(sheet, s)
        case FieldType.PHOTO | FieldType.DOCUMENT:
            return _files_writer(sheet, f.type is FieldType.PHOTO, t)
    return text_writer(sheet)


def _label_writer(sheet: Worksheet, labels: dict[Any, str | None], *,
                  booleans: bool = False) -> Callable[[int, int, Any], None]:
    """(row, col, value) -> the label of a known answer, else the answer as text. With `booleans`, only True and
    False are known: 1 == True, so a dict lookup alone would show an answer of 1 as "Yes"."""
    write_string = sheet.write_string
    put_text = text_writer(sheet)

    def labelled(row: int, col: int, value: Any) -> None:
        if (value is True or value is False) if booleans else value in labels:
            label = labels[value]
            if label:
                write_string(row, col, label)
        else:
            put_text(row, col, value)

    return labelled


def text_writer(sheet: Worksheet) -> Callable[[int, int, Any], None]:
    """(row, col, value) -> a text cell (made safe by ``text``); nothing for None or empty text."""
    write_string = sheet.write_string

    def put_text(row: int, col: int, value: Any) -> None:
        s = text(value)
        if s:
            write_string(row, col, s)

    return put_text
