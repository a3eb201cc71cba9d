"""The readers of plan files, one per kind: plain text, .docx (python-docx, tables included) and text-based
.pdf (pypdf). Each is bounded by the limits in bot.plans.limits and raises its named errors; the content of
the file, not its name, chooses the reader (`bot.plans.text.plan_text_from_bytes`)."""

from __future__ import annotations

import io
import logging
import re
import time
import unicodedata
import zipfile
from typing import TYPE_CHECKING

from bot.plans.limits import (
    CHUNK_BYTES,
    MAX_DOCX_BLOCKS,
    MAX_DOCX_BYTES,
    MAX_DOCX_ENTRIES,
    MAX_DOCX_XML_BYTES,
    MAX_PDF_PAGES,
    MAX_PDF_SECONDS,
    MAX_PLAN_CHARS,
    BinaryPlanError,
    EncodingPlanError,
    PackedPlanError,
    PlanError,
    ScannedPdfError,
    SlowPlanError,
    TooLongPlanError,
    TooManyBlocksPlanError,
    TooManyPagesError,
    UnreadablePlanError,
)

if TYPE_CHECKING:  # python-docx is imported only when a .docx is read
    from docx.document import Document as DocxDocument
    from docx.table import Table, _Row

_PDF_TAIL = 64 * 1024  # where a PDF's "startxref" must be: the spec says the last 1 KB; allow trailing junk

# A PDF page whose extracted text has fewer letters than this has no usable text layer (scan).
MIN_LETTERS_PER_DOCUMENT = 40
# A PDF line shorter than this was not wrapped: it ends a paragraph or is a header line ("Số: ...").
MIN_WRAPPED_LINE = 50

# A PDF line that ends without punctuation continues on the next line unless that one starts a
# list item or a numbered heading.
_LIST_START = re.compile(r"^\s*(?:[-+•*–]|\d+(?:\.\d+)*[.)]|[IVXivx]+[.)]|[a-zđ][.)])\s")
_LINE_END = re.compile(r"[.:;!?)”\"]\s*$")


# ---------------------------------------------------------------- plain text
def plain_text(data: bytes, name: str) -> str:
    if len(data) > 4 * MAX_PLAN_CHARS:  # UTF-8 has at most 4 bytes a character: too long before decoding
        raise TooLongPlanError(name, limit=MAX_PLAN_CHARS)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise BinaryPlanError(name) from None
    if b"\x00" in data:
        raise BinaryPlanError(name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Text in a legacy 8-bit encoding has letters and few control bytes; a binary file has many.
        legacy = data.decode("latin-1")
        controls = sum(1 for c in legacy if unicodedata.category(c) == "Cc" and c not in "\n\r\t\f\v")
        if controls <= max(3, len(legacy) // 200) and sum(c.isalpha() for c in legacy) > len(legacy) // 3:
            raise EncodingPlanError(name) from None
        raise BinaryPlanError(name) from None
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\n\r\t\f\v")
    if controls > max(3, len(text) // 200):
        raise BinaryPlanError(name)
    return text


# ---------------------------------------------------------------- .docx
def _open_docx(data: bytes, name: str) -> DocxDocument:
    """The python-docx document, once the package is known to be a .docx that is no zip bomb."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if "word/document.xml" not in zf.namelist():
                raise BinaryPlanError(name)
            _check_package(zf, name)
    except zipfile.BadZipFile:
        raise UnreadablePlanError(name, detail="broken .docx") from None
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise UnreadablePlanError(name, detail=type(exc).__name__) from None
    import docx  # python-docx

    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds on a broken package
        raise UnreadablePlanError(name, detail=type(exc).__name__) from None


class _DocxLines:
    """The lines of a .docx, paragraphs and tables in document order, counting every block against the limit."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self.blocks = 0

    def count_block(self) -> None:
        self.blocks += 1
        if self.blocks > MAX_DOCX_BLOCKS:  # a few KB of empty cells would otherwise cost minutes
            raise TooManyBlocksPlanError(self.name, limit=MAX_DOCX_BLOCKS)

    def _row_cells(self, row: _Row) -> tuple[list[str], bool]:
        """The text of each cell of a row (a merged cell once), and whether one holds several paragraphs."""
        cells: list[str] = []
        multi = False
        seen: set[int] = set()
        for cell in row.cells:
            self.count_block()
            if id(cell._tc) in seen:  # a merged cell is repeated across the row
                continue
            seen.add(id(cell._tc))
            paragraphs = [p.text.strip() for p in cell.paragraphs if p.text.strip()]
            for inner in cell.tables:
                self.add_table(inner)
            if len(paragraphs) > 1:
                multi = True
            cells.append("\n".join(paragraphs))
        return cells, multi

    def add_table(self, table: Table) -> None:
        for row in table.rows:
            cells, multi = self._row_cells(row)
            if multi:
                # A header-like table (issuer | national motto, number | place and date): one line
                # per paragraph, cell by cell, so the header reads as in a text plan.
                self.lines.extend(text for cell in cells for text in cell.split("\n") if text)
            else:
                # One row, one line: "Đợt 1 | Báo cáo kết quả ... | trước ngày 15/6/2024" stays one sentence.
                row_text = " | ".join(c for c in cells if c)
                if row_text:
                    self.lines.append(row_text)
        self.lines.append("")


def docx_text(data: bytes, name: str) -> str:
    document = _open_docx(data, name)
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out = _DocxLines(name)
    lines = out.lines
    size = 0
    for block in document.iter_inner_content():
        out.count_block()
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            out.add_table(block)
        size += len(lines[-1]) if lines else 0
        if size > MAX_PLAN_CHARS:
            raise TooLongPlanError(name, limit=MAX_PLAN_CHARS)
    return "\n".join(lines)


def _check_package(zf: zipfile.ZipFile, name: str) -> None:
    """Refuse a zip bomb before python-docx inflates it. The sizes the package declares are checked
    first (no inflating at all); the parts are then inflated chunk by chunk, counting, since a
    declared size can lie, and the count stops at the limit."""
    entries = zf.infolist()
    refuse = PackedPlanError(name, limit=MAX_DOCX_BYTES // CHUNK_BYTES, entries=MAX_DOCX_ENTRIES)
    if len(entries) > MAX_DOCX_ENTRIES:
        raise refuse
    xml = [e for e in entries if e.filename.endswith((".xml", ".rels"))]
    if sum(e.file_size for e in entries) > MAX_DOCX_BYTES or sum(e.file_size for e in xml) > MAX_DOCX_XML_BYTES:
        raise refuse
    total = xml_total = 0
    for entry in entries:
        is_xml = entry in xml
        with zf.open(entry) as part:
            while chunk := part.read(CHUNK_BYTES):
                total += len(chunk)
                xml_total += len(chunk) if is_xml else 0
                if total > MAX_DOCX_BYTES or xml_total > MAX_DOCX_XML_BYTES:
                    raise refuse


# ---------------------------------------------------------------- .pdf
def pdf_text(data: bytes, name: str) -> str:
    from pypdf import PdfReader

    if b"startxref" not in data[-_PDF_TAIL:]:
        # Every PDF ends with a pointer to its table of objects. Without one, pypdf rebuilds the table by
        # scanning the whole file, which takes seconds on 20 MB of anything that merely starts with "%PDF".
        raise UnreadablePlanError(name, detail="damaged PDF: no cross-reference table")
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # its warnings about a broken file would reach the user's terminal
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadablePlanError(name, detail="password-protected PDF")
        count = len(reader.pages)
        if count > MAX_PDF_PAGES:
            raise TooManyPagesError(name, pages=count, limit=MAX_PDF_PAGES)
        started = time.monotonic()
        pages: list[str] = []
        size = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            size += len(pages[-1])
            if size > MAX_PLAN_CHARS:
                raise TooLongPlanError(name, limit=MAX_PLAN_CHARS)
            if time.monotonic() - started > MAX_PDF_SECONDS:
                raise SlowPlanError(name, seconds=int(MAX_PDF_SECONDS))
    except PlanError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged PDF can fail in many ways; all mean "cannot be read"
        raise UnreadablePlanError(name, detail=type(exc).__name__) from None
    finally:
        pypdf_log.setLevel(level)
    text = "\n".join(pages)
    if sum(1 for c in text if c.isalpha()) < MIN_LETTERS_PER_DOCUMENT:
        raise ScannedPdfError(name)
    return unwrap_lines(text)


def unwrap_lines(text: str) -> str:
    """Join the visual lines of a PDF back into the sentences they were cut from."""
    out: list[str] = []
    for line in text.split("\n"):
        if (
            out
            and len(out[-1].strip()) >= MIN_WRAPPED_LINE
            and line.strip()
            and not _LINE_END.search(out[-1])
            and not _LIST_START.match(line)
            and not is_capitals(out[-1])
            and not is_capitals(line)
        ):
            out[-1] = out[-1].rstrip() + " " + line.strip()
        else:
            out.append(line)
    return "\n".join(out)


def is_capitals(text: str, share: float = 1.0) -> bool:
    """Written in capitals (at least four letters, at least `share` of them capitals): a header or a
    title, never the middle of a sentence."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) >= share * len(letters)
