"""The text of a plan file (kế hoạch): .docx (python-docx, tables included), text-based .pdf (pypdf), .txt.

Only the text matters to the extractor. A file that has none to give — empty, binary, a photo, a
scanned PDF without a text layer, an old .doc — is refused with a named error whose message
(an English msgid, translated by the caller) says what to send instead. Nothing here writes a file.
"""

from __future__ import annotations

import io
import logging
import re
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bot.errors import TranslatableError, Translate
from bot.i18n import N_

# Bounds on what a plan file may cost to read; a real plan is far inside each (the seed plans: under
# 15.000 characters, a few pages, a document.xml of a few hundred KB).
MAX_PLAN_BYTES = 20 * 1024 * 1024  # the upload itself
MAX_PLAN_CHARS = 300_000  # text characters, about 100 pages
MAX_DOCX_ENTRIES = 1000  # parts in the .docx package
MAX_DOCX_BYTES = 64 * 1024 * 1024  # all parts unpacked (pictures included)
MAX_DOCX_XML_BYTES = 16 * 1024 * 1024  # the XML parts unpacked: what python-docx parses
MAX_DOCX_BLOCKS = 20_000  # paragraphs and table cells: python-docx spends ~50 µs on each, even an empty one
MAX_PDF_PAGES = 300
MAX_PDF_SECONDS = 4.0  # reading the pages of one PDF; checked between pages (bot.plans.worker kills at 4,5 s)
_PDF_TAIL = 64 * 1024  # where a PDF's "startxref" must be: the spec says the last 1 KB; allow trailing junk
_CHUNK = 1024 * 1024

# A PDF page whose extracted text has fewer letters than this has no usable text layer (scan).
MIN_LETTERS_PER_DOCUMENT = 40
# A PDF line shorter than this was not wrapped: it ends a paragraph or is a header line ("Số: ...").
MIN_WRAPPED_LINE = 50

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u3000"), " ")
# Leftovers of .docx -> .txt conversion, e.g. "[bookmark: _GoBack]" in the seed plans.
_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")
# A PDF line that ends without punctuation continues on the next line unless that one starts a
# list item or a numbered heading.
_LIST_START = re.compile(r"^\s*(?:[-+•*–]|\d+(?:\.\d+)*[.)]|[IVXivx]+[.)]|[a-zđ][.)])\s")
_LINE_END = re.compile(r"[.:;!?)”\"]\s*$")


class PlanError(TranslatableError):
    """A plan that cannot be drafted. `msgid` is an English message id, `params` its placeholders."""

    msgid = N_("{name}: the plan cannot be read.")

    def __init__(self, name: str, **params: object) -> None:
        super().__init__(None, name=name, **params)

    def shown_params(self, t: Translate) -> dict[str, object]:
        """Numbers written the locale's way (300.000)."""
        return {k: t.number(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                for k, v in self.params.items()}


class TooLargePlanError(PlanError):
    msgid = N_("{name}: the file is larger than {limit} MB, the most a plan may be. "
               "Send the plan alone, e.g. the .docx without pictures, or a PDF exported from Word.")


class TooLongPlanError(PlanError):
    msgid = N_("{name}: the text is too long for one plan (more than {limit} characters). "
               "Send only the plan itself, without annexes or other documents.")


class TooManyBlocksPlanError(PlanError):
    msgid = N_("{name}: the document has more than {limit} paragraphs and table cells; a plan has far fewer. "
               "Send only the plan itself.")


class PackedPlanError(PlanError):
    msgid = N_("{name}: this .docx unpacks to more than {limit} MB or has more than {entries} parts; it is not "
               "a normal Word plan. Open it in Word and save it again as .docx, or send a PDF.")


class TooManyPagesError(PlanError):
    msgid = N_("{name}: the PDF has {pages} pages; a plan may have at most {limit}. Send only the plan itself.")


class SlowPlanError(PlanError):
    msgid = N_("{name}: reading this file takes too long (more than {seconds} seconds). "
               "Send the .docx, or a PDF exported again from Word.")


class EmptyPlanError(PlanError):
    msgid = N_("{name}: the file is empty; there is no plan text to read.")


class BinaryPlanError(PlanError):
    msgid = N_(
        "{name}: this is not a plan the bot can read (not text, .docx or .pdf). "
        "Send the plan as a Word .docx, a PDF with text, or plain text."
    )


class EncodingPlanError(PlanError):
    msgid = N_(
        "{name}: the text is not in UTF-8 (perhaps an old Vietnamese encoding such as TCVN3 or VNI). "
        "Save it again as UTF-8, or send the .docx or a PDF."
    )


class OldWordPlanError(PlanError):
    msgid = N_("{name}: an old Word .doc file cannot be read. Open it in Word and save it as .docx or PDF.")


class ImagePlanError(PlanError):
    msgid = N_(
        "{name}: a photo or image of a plan has no text to read. Send the .docx or a PDF exported from Word."
    )


class ScannedPdfError(PlanError):
    msgid = N_(
        "{name}: this PDF has no text layer (it looks scanned). Send the .docx, or a PDF exported from Word."
    )


class UnreadablePlanError(PlanError):
    msgid = N_("{name}: the file is damaged or protected and cannot be opened ({detail}).")


@dataclass(frozen=True, slots=True)
class PlanText:
    text: str
    kind: str  # "docx", "pdf" or "txt"
    name: str


def normalise(text: str) -> str:
    """NFC (Vietnamese typed as combining marks becomes one letter), one kind of space, no zero-width
    characters or conversion leftovers, \\n line ends."""
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_ZERO_WIDTH).translate(_SPACES)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\v", "\n").replace("\f", "\n")
    return _BOOKMARK.sub("", text)


def _has_text(text: str) -> bool:
    return any(c.isalpha() for c in text)


def read_plan_file(path: Path) -> PlanText:
    """Read a plan file from disk; raise a PlanError naming what is wrong."""
    return plan_text_from_bytes(read_plan_bytes(path), path.name)


def read_plan_bytes(path: Path) -> bytes:
    """The bytes of a plan file, refused from its size before it is read."""
    try:
        size = path.stat().st_size
        if size > MAX_PLAN_BYTES:  # not even read into memory
            raise TooLargePlanError(path.name, limit=MAX_PLAN_BYTES // _CHUNK)
        return path.read_bytes()
    except FileNotFoundError:
        raise UnreadablePlanError(path.name, detail="file not found") from None
    except OSError as exc:
        raise UnreadablePlanError(path.name, detail=exc.strerror or type(exc).__name__) from None


def plan_text_from_bytes(data: bytes, name: str) -> PlanText:
    """The text of a plan sent as bytes (a chat attachment or a file). The content decides the
    reader, not the file name: a .txt that is really a PDF is read as a PDF. Every limit above is
    checked before the work it bounds, so any file is answered within seconds."""
    if len(data) > MAX_PLAN_BYTES:
        raise TooLargePlanError(name, limit=MAX_PLAN_BYTES // _CHUNK)
    if not data.strip():
        raise EmptyPlanError(name)
    if data.startswith(b"%PDF"):
        text, kind = _pdf_text(data, name), "pdf"
    elif data.startswith(b"PK\x03\x04"):
        text, kind = _docx_text(data, name), "docx"
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise OldWordPlanError(name)
    elif data.startswith((b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"II*\x00", b"MM\x00*")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    ):
        raise ImagePlanError(name)
    else:
        text, kind = _plain_text(data, name), "txt"
    _check_length(text, name)
    text = normalise(text)
    _check_length(text, name)
    if not _has_text(text):
        raise EmptyPlanError(name)
    return PlanText(text=text, kind=kind, name=name)


def _check_length(text: str, name: str) -> None:
    if len(text) > MAX_PLAN_CHARS:
        raise TooLongPlanError(name, limit=MAX_PLAN_CHARS)


# ---------------------------------------------------------------- plain text
def _plain_text(data: bytes, name: str) -> str:
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
def _docx_text(data: bytes, name: str) -> str:
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
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds on a broken package
        raise UnreadablePlanError(name, detail=type(exc).__name__) from None

    lines: list[str] = []
    blocks = 0

    def count_block() -> None:
        nonlocal blocks
        blocks += 1
        if blocks > MAX_DOCX_BLOCKS:  # a few KB of empty cells would otherwise cost minutes
            raise TooManyBlocksPlanError(name, limit=MAX_DOCX_BLOCKS)

    def add_table(table: Table) -> None:
        for row in table.rows:
            cells: list[str] = []
            multi = False
            seen: set[int] = set()
            for cell in row.cells:
                count_block()
                if id(cell._tc) in seen:  # a merged cell is repeated across the row
                    continue
                seen.add(id(cell._tc))
                paragraphs = [p.text.strip() for p in cell.paragraphs if p.text.strip()]
                for inner in cell.tables:
                    add_table(inner)
                if len(paragraphs) > 1:
                    multi = True
                cells.append("\n".join(paragraphs))
            if multi:
                # A header-like table (issuer | national motto, number | place and date): one line
                # per paragraph, cell by cell, so the header reads as in a text plan.
                lines.extend(text for cell in cells for text in cell.split("\n") if text)
            else:
                # One row, one line: "Đợt 1 | Báo cáo kết quả ... | trước ngày 15/6/2024" stays one sentence.
                row_text = " | ".join(c for c in cells if c)
                if row_text:
                    lines.append(row_text)
        lines.append("")

    size = 0
    for block in document.iter_inner_content():
        count_block()
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            add_table(block)
        size += len(lines[-1]) if lines else 0
        if size > MAX_PLAN_CHARS:
            raise TooLongPlanError(name, limit=MAX_PLAN_CHARS)
    return "\n".join(lines)


def _check_package(zf: zipfile.ZipFile, name: str) -> None:
    """Refuse a zip bomb before python-docx inflates it. The sizes the package declares are checked
    first (no inflating at all); the parts are then inflated chunk by chunk, counting, since a
    declared size can lie, and the count stops at the limit."""
    entries = zf.infolist()
    refuse = PackedPlanError(name, limit=MAX_DOCX_BYTES // _CHUNK, entries=MAX_DOCX_ENTRIES)
    if len(entries) > MAX_DOCX_ENTRIES:
        raise refuse
    xml = [e for e in entries if e.filename.endswith((".xml", ".rels"))]
    if sum(e.file_size for e in entries) > MAX_DOCX_BYTES or sum(e.file_size for e in xml) > MAX_DOCX_XML_BYTES:
        raise refuse
    total = xml_total = 0
    for entry in entries:
        is_xml = entry in xml
        with zf.open(entry) as part:
            while chunk := part.read(_CHUNK):
                total += len(chunk)
                xml_total += len(chunk) if is_xml else 0
                if total > MAX_DOCX_BYTES or xml_total > MAX_DOCX_XML_BYTES:
                    raise refuse


# ---------------------------------------------------------------- .pdf
def _pdf_text(data: bytes, name: str) -> str:
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
