"""Excel output. Text is stored as a string cell, exactly as given: a cell typed as a string is never a
formula, so "=1+1" or a "+84 …" phone number stays harmless data and nothing is altered."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.i18n import Translator

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from bot.invites import IssuedInvite


def _put_row(sheet: Worksheet, row: int, values: Sequence[Any]) -> None:
    """One row; text is typed as a string (openpyxl would make "=…" a formula), nothing else is changed."""
    for col, value in enumerate(values, start=1):
        cell = sheet.cell(row, col, value)
        if isinstance(value, str):
            cell.data_type = "s"


def write_table(
    path: Path,
    sheet_title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[int] | None = None,
) -> None:
    # openpyxl (and numpy, PIL behind it) costs more than the whole command line: imported when a file is written.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title[:31]
    _put_row(sheet, 1, header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, row in enumerate(rows, start=2):
        _put_row(sheet, i, row)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for i, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def write_invites_xlsx(path: Path, invites: Sequence[IssuedInvite], t: Translator, zone: ZoneInfo) -> None:
    header = [t("Unit code"), t("Unit"), t("Upper level"), t("Role"), t("Invite code"), t("Link"), t("Valid until")]
    rows = [
        [
            inv.unit.code,
            inv.unit.name,
            inv.unit.parent_code or "",
            inv.role.value,
            inv.code,
            inv.link,
            t.datetime(inv.expires_at, zone),
        ]
        for inv in invites
    ]
    write_table(path, t("Invites"), header, rows, widths=[14, 48, 12, 10, 36, 64, 18])
