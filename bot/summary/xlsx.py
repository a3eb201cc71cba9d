"""A summary as an Excel workbook the department can filter, edit and send upward.

Three sheets: the summary (header, completeness, per-upper breakdown, totals, answers counted,
targets), one row per unit for the period (every answer as a typed cell), and the units that have
not reported with whom to call. Written with XlsxWriter: 10,000 units x 30 questions take about two
seconds; the sheets of one row per unit are streamed to disk (constant-memory mode).

    cells (formats, safe text, one writer per question type)   bot.summary.xlsx_cells
    sheets (one function per sheet)                            bot.summary.xlsx_sheets

Every text cell goes through ``text`` and is written with ``write_string``, never ``write``: a
string cell is never a formula, so what a user typed is kept exactly ("=1+1", "+84 …") and stays harmless.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from xlsxwriter import Workbook
from xlsxwriter.worksheet import Worksheet

from bot.gc_pause import cyclic_gc_paused
from bot.i18n import Translator
from bot.summary.model import Summary
from bot.summary.xlsx_cells import Formats, Writer, sheet_name
from bot.summary.xlsx_sheets import missing_sheet, summary_sheet, units_sheet


def write_summary_xlsx(path: Path, summary: Summary, t: Translator, zone: ZoneInfo, *,
                       stream_rows: bool = True) -> None:
    """The workbook; with `stream_rows` (always, but for the test that compares both) the sheets of one row per
    unit are written to disk row by row, so memory does not grow with the cells of 50,000 units."""
    with cyclic_gc_paused():
        _write_workbook(path, summary, t, zone, stream_rows)


def _write_workbook(path: Path, summary: Summary, t: Translator, zone: ZoneInfo, stream_rows: bool) -> None:
    # Text is written with write_string only; these options would also keep write() from reading text as a
    # formula, a link or a number.
    book = Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False})
    styles = Formats(book)
    taken: list[str] = []
    for title, fill, streamed in (
        # The summary sheet's Excel tables (add_table) need the sheet in memory; it is small.
        (t("Summary"), lambda w: summary_sheet(w, summary, t, zone), False),
        (summary.period.key, lambda w: units_sheet(w, summary, t, zone), stream_rows),
        (t("Not reported"), lambda w: missing_sheet(w, summary.missing_units, t), stream_rows),
    ):
        name = sheet_name(title, taken)
        taken.append(name)
        fill(Writer(_add_sheet(book, name, streamed), styles))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.close()


def _add_sheet(book: Workbook, name: str, streamed: bool) -> Worksheet:
    """A sheet in XlsxWriter's constant-memory mode (each row goes to a temporary file once the next row starts;
    rows must come in order, text is stored in the cell) or an ordinary one. The mode is the workbook's option,
    read by add_worksheet; it is set for this one sheet and put back, because close() on a constant-memory
    workbook expects every sheet to have a row file."""
    book.constant_memory = streamed
    try:
        return book.add_worksheet(name)
    finally:
        book.constant_memory = False
