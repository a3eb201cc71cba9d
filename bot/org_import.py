"""Read an organisation file (CSV or XLSX: code, name, kind, parent_code) and check it whole.

A file with any problem is refused as a whole, every problem listed with its line number, and
nothing is written. The check looks at the file together with the units already stored, so a
re-import may name parents that exist only in the database, and a cycle across both is found.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.domain import GRASSROOTS_KINDS, Unit, UnitKind, parse_unit_kind
from bot.errors import N_, TranslatableError, Translate
from storage.units import UnitRow

MAX_FILE_BYTES = 20 * 1024 * 1024
COLUMNS = ("code", "name", "kind", "parent_code")
# Headers a department may have typed in Vietnamese.
HEADER_ALIASES = {
    "ma": "code",
    "mã": "code",
    "ma_don_vi": "code",
    "mã đơn vị": "code",
    "ten": "name",
    "tên": "name",
    "ten_don_vi": "name",
    "tên đơn vị": "name",
    "loai": "kind",
    "loại": "kind",
    "ma_cap_tren": "parent_code",
    "mã cấp trên": "parent_code",
    "parent": "parent_code",
}
CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One problem: a gettext message id with its parameters, rendered in the reader's language."""

    line: int | None  # 1-based line of the file (the header is line 1); None: the whole file
    message: str
    params: tuple[tuple[str, object], ...] = ()

    def render(self, t: Translate) -> str:
        text = t.gettext(self.message, **dict(self.params))
        return t.gettext("line {line}: {problem}", line=self.line, problem=text) if self.line else text

    def __str__(self) -> str:
        text = self.message.format(**dict(self.params))
        return f"line {self.line}: {text}" if self.line else text


def _p(line: int | None, message: str, **params: object) -> ImportProblem:
    return ImportProblem(line, message, tuple(params.items()))


class UnitsFileError(TranslatableError):
    """An organisation file that cannot be imported, with every problem found (each one translatable)."""

    msgid = N_("{path}: {problems}")

    def __init__(self, path: Path, problems: Sequence[ImportProblem]) -> None:
        self.path = path
        self.problems = list(problems)
        super().__init__(path=path, problems="; ".join(str(p) for p in self.problems))

    def shown_params(self, t: Translate) -> dict[str, object]:
        return {"path": self.path, "problems": "; ".join(p.render(t) for p in self.problems)}


def read_units_file(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows of the file as (line number, {column: text}); raise UnitsFileError on an unreadable file."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnitsFileError(path, [_p(None, "cannot read the file: {reason}", reason=exc.strerror)]) from None
    if size > MAX_FILE_BYTES:
        raise UnitsFileError(path, [_p(None, "the file is larger than {mb} MB", mb=MAX_FILE_BYTES // 2**20)])
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        table = _read_xlsx(path)
    elif suffix in (".csv", ".txt"):
        table = _read_csv(path)
    else:
        raise UnitsFileError(path, [_p(None, "expected a .csv or .xlsx file")])
    if not table:
        raise UnitsFileError(path, [_p(None, "the file is empty")])
    header = [_header(h) for h in table[0][1]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise UnitsFileError(
            path,
            [
                _p(
                    1,
                    "missing column(s) {missing}; expected the header {header}",
                    missing=", ".join(missing),
                    header=",".join(COLUMNS),
                )
            ],
        )
    rows = []
    for line, cells in table[1:]:
        if not any(c.strip() for c in cells):
            continue
        record = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
        rows.append((line, record))
    if not rows:
        raise UnitsFileError(path, [_p(None, "the file has a header but no units")])
    return rows


def _header(text: str) -> str:
    key = unicodedata.normalize("NFC", text.strip().lower().lstrip("\ufeff"))
    return HEADER_ALIASES.get(key, key)


def _read_csv(path: Path) -> list[tuple[int, list[str]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UnitsFileError(
            path, [_p(line, 'the file is not UTF-8 text; save it as "CSV UTF-8" in Excel, or send the .xlsx file')]
        ) from None
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out = []
    for cells in reader:
        out.append((reader.line_num, [unicodedata.normalize("NFC", c) for c in cells]))
    return out


def _read_xlsx(path: Path) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise UnitsFileError(path, [_p(None, "not a readable .xlsx workbook ({reason})", reason=str(exc))]) from None
    try:
        sheet = book.worksheets[0]
        out = []
        for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if v is None else unicodedata.normalize("NFC", str(v)) for v in values]
            out.append((index, cells))
        return out
    finally:
        book.close()


def check_units(  # noqa: C901 - every check of a row, in the order a user fixes them
    records: Iterable[tuple[int, dict[str, str]]], existing: Sequence[Unit]
) -> tuple[list[UnitRow], list[ImportProblem]]:
    """Validate rows against each other and the stored tree; return the rows or every problem."""
    problems: list[ImportProblem] = []
    rows: list[UnitRow] = []
    lines: dict[str, int] = {}
    for line, rec in records:
        code, name, kind_text, parent = rec["code"], rec["name"], rec["kind"], rec["parent_code"] or None
        ok = True
        if not code:
            problems.append(_p(line, "the code is empty"))
            ok = False
        elif not set(code) <= CODE_CHARS or len(code) > 40:
            problems.append(
                _p(line, "code {code}: use at most 40 letters A-Z, digits and - _ . (e.g. DL-BMT-001)", code=code)
            )
            ok = False
        elif code in lines:
            problems.append(_p(line, "duplicate code {code} (also on line {other})", code=code, other=lines[code]))
            ok = False
        if not name:
            problems.append(_p(line, "the name of {code} is empty", code=code))
            ok = False
        elif len(name) > 200:
            problems.append(_p(line, "the name of {code} is longer than 200 characters", code=code))
            ok = False
        try:
            kind = parse_unit_kind(kind_text)
        except ValueError:
            known = ", ".join(k.value for k in UnitKind)
            problems.append(
                _p(
                    line,
                    '{code}: unknown kind "{kind}"; expected one of {known}',
                    code=code,
                    kind=kind_text,
                    known=known,
                )
            )
            ok = False
        if code and code == parent:
            problems.append(_p(line, "{code} is its own parent", code=code))
            ok = False
        if code and code not in lines:
            lines[code] = line
        if ok:
            rows.append(UnitRow(code, name, kind, parent))
    # The tree as it would be after the import: stored units, overridden by the file.
    kinds = {u.code: u.kind for u in existing}
    parents = {u.code: u.parent_code for u in existing}
    for row in rows:
        kinds[row.code] = row.kind
        parents[row.code] = row.parent_code
    for row in rows:
        line = lines[row.code]
        if row.parent_code is None:
            if row.kind is not UnitKind.PROVINCE:
                problems.append(_p(line, "{code}: only a province may have an empty parent_code", code=row.code))
            continue
        if row.parent_code not in kinds:
            problems.append(
                _p(
                    line,
                    "{code}: unknown parent_code {parent} (neither in this file nor in the organisation)",
                    code=row.code,
                    parent=row.parent_code,
                )
            )
            continue
        if kinds[row.parent_code] in GRASSROOTS_KINDS:
            problems.append(
                _p(
                    line,
                    "{code}: parent {parent} is a grassroots union, which cannot have units under it",
                    code=row.code,
                    parent=row.parent_code,
                )
            )
        if row.kind is UnitKind.PROVINCE:
            problems.append(_p(line, "{code}: a province has no parent_code", code=row.code))
    # Children named in this file already report "parent is a grassroots union"; here, stored ones.
    in_file = {r.code for r in rows}
    has_children = {u.parent_code for u in existing if u.parent_code and u.code not in in_file}
    for row in rows:
        if row.kind in GRASSROOTS_KINDS and row.code in has_children:
            problems.append(
                _p(lines[row.code], "{code} has units under it, so it cannot be a grassroots union", code=row.code)
            )
    for code in _cycle_members(parents, [r.code for r in rows]):
        problems.append(_p(lines[code], "{code}: its chain of parents leads back to itself (a cycle)", code=code))
    problems.sort(key=lambda p: p.line or 0)
    return (rows if not problems else []), problems


def _cycle_members(parents: dict[str, str | None], codes: Iterable[str]) -> list[str]:
    """Codes (among `codes`) that lie on a cycle of parent links."""
    codes = list(codes)
    on_cycle: set[str] = set()
    for start in codes:
        seen: list[str] = []
        node: str | None = start
        while node is not None and node in parents and node not in seen:
            seen.append(node)
            node = parents[node]
        if node is not None and node in seen:
            on_cycle.update(seen[seen.index(node) :])
    return sorted(c for c in on_cycle if c in set(codes))
