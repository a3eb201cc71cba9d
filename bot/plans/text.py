"""The text of a plan file (kế hoạch): .docx (python-docx, tables included), text-based .pdf (pypdf), .txt.

Only the text matters to the extractor. A file that has none to give — empty, binary, a photo, a
scanned PDF without a text layer, an old .doc — is refused with a named error whose message
(an English msgid, translated by the caller) says what to send instead. Nothing here writes a file.

This module chooses the reader by the file's content and cleans the text; the limits and the named errors are
in bot.plans.limits, the readers themselves (plain text, .docx, .pdf) in bot.plans.readers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bot.plans.limits import (
    CHUNK_BYTES,
    MAX_DOCX_BLOCKS,
    MAX_DOCX_XML_BYTES,
    MAX_PDF_PAGES,
    MAX_PLAN_BYTES,
    MAX_PLAN_CHARS,
    EmptyPlanError,
    ImagePlanError,
    OldWordPlanError,
    PackedPlanError,
    PlanError,
    TooLargePlanError,
    TooLongPlanError,
    TooManyBlocksPlanError,
    TooManyPagesError,
    UnreadablePlanError,
)
from bot.plans.readers import docx_text, pdf_text, plain_text

# Imported from here by code outside bot/plans (the chat adapters, the command line, tests of the limits).
__all__ = [
    "MAX_DOCX_BLOCKS",
    "MAX_DOCX_XML_BYTES",
    "MAX_PDF_PAGES",
    "MAX_PLAN_BYTES",
    "MAX_PLAN_CHARS",
    "PackedPlanError",
    "PlanError",
    "PlanText",
    "TooLargePlanError",
    "TooLongPlanError",
    "TooManyBlocksPlanError",
    "TooManyPagesError",
    "normalise",
    "plan_text_from_bytes",
    "read_plan_bytes",
    "read_plan_file",
]

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u3000"), " ")
# Leftovers of .docx -> .txt conversion, e.g. "[bookmark: _GoBack]" in the seed plans.
_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")


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
            raise TooLargePlanError(path.name, limit=MAX_PLAN_BYTES // CHUNK_BYTES)
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
        raise TooLargePlanError(name, limit=MAX_PLAN_BYTES // CHUNK_BYTES)
    if not data.strip():
        raise EmptyPlanError(name)
    if data.startswith(b"%PDF"):
        text, kind = pdf_text(data, name), "pdf"
    elif data.startswith(b"PK\x03\x04"):
        text, kind = docx_text(data, name), "docx"
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise OldWordPlanError(name)
    elif data.startswith((b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"II*\x00", b"MM\x00*")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    ):
        raise ImagePlanError(name)
    else:
        text, kind = plain_text(data, name), "txt"
    _check_length(text, name)
    text = normalise(text)
    _check_length(text, name)
    if not _has_text(text):
        raise EmptyPlanError(name)
    return PlanText(text=text, kind=kind, name=name)


def _check_length(text: str, name: str) -> None:
    if len(text) > MAX_PLAN_CHARS:
        raise TooLongPlanError(name, limit=MAX_PLAN_CHARS)
