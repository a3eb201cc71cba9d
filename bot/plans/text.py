"""The text of a plan file (kế hoạch): .docx (python-docx, tables included), text-based .pdf (pypdf), .txt.

Only the text matters to the extractor. A file that has none to give — empty, binary, a photo, a
scanned PDF without a text layer, an old .doc — is refused with a named error whose message
(an English msgid, translated by the caller) says what to send instead. Nothing here writes a file.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bot.i18n import N_

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


class PlanError(Exception):
    """A plan that cannot be drafted. `msgid` is an English message id, `params` its placeholders."""

    msgid = N_("{name}: the plan cannot be read.")

    def __init__(self, name: str, **params: object) -> None:
        self.params: dict[str, object] = {"name": name, **params}
        super().__init__(self.msgid.format(**self.params))


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
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadablePlanError(path.name, detail="file not found") from None
    except OSError as exc:
        raise UnreadablePlanError(path.name, detail=exc.strerror or type(exc).__name__) from None
    return plan_text_from_bytes(data, path.name)


def plan_text_from_bytes(data: bytes, name: str) -> PlanText:
    """The text of a plan sent as bytes (a chat attachment or a file). The content decides the
    reader, not the file name: a .txt that is really a PDF is read as a PDF."""
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
    text = normalise(text)
    if not _has_text(text):
        raise EmptyPlanError(name)
    return PlanText(text=text, kind=kind, name=name)


# ---------------------------------------------------------------- plain text
def _plain_text(data: bytes, name: str) -> str:
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
    except zipfile.BadZipFile:
        raise UnreadablePlanError(name, detail="broken .docx") from None
    import docx  # python-docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds on a broken package
        raise UnreadablePlanError(name, detail=type(exc).__name__) from None

    lines: list[str] = []

    def add_table(table: Table) -> None:
        for row in table.rows:
            cells: list[str] = []
            multi = False
            seen: set[int] = set()
            for cell in row.cells:
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

    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            add_table(block)
    return "\n".join(lines)


# ---------------------------------------------------------------- .pdf
def _pdf_text(data: bytes, name: str) -> str:
    from pypdf import PdfReader

    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # its warnings about a broken file would reach the user's terminal
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadablePlanError(name, detail="password-protected PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
    except UnreadablePlanError:
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
