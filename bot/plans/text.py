"""The text of a plan file (kế hoạch): .docx (python-docx, tables included), text-based .pdf (pypdf), .txt.

Only the text matters to the extractor. A file that has none to give — empty, binary, a photo, a
scanned PDF without a text layer, an old .doc — is refused with a named error whose message
(an English msgid, translated by the caller) says what to send instead. Nothing here writes a file.

This module holds the limits, the named errors and the choice of reader; the readers themselves (plain
text, .docx, .pdf) are in bot.plans.readers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bot.i18n import N_, Translator

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
CHUNK_BYTES = 1024 * 1024  # a megabyte: the unit of the size limits, and how much is inflated at a time

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u3000"), " ")
# Leftovers of .docx -> .txt conversion, e.g. "[bookmark: _GoBack]" in the seed plans.
_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")


class PlanError(Exception):
    """A plan that cannot be drafted. `msgid` is an English message id, `params` its placeholders."""

    msgid = N_("{name}: the plan cannot be read.")

    def __init__(self, name: str, **params: object) -> None:
        self.params: dict[str, object] = {"name": name, **params}
        super().__init__(self.msgid.format(**self.params))

    def render(self, t: Translator) -> str:
        """The message in the person's language, numbers written the locale's way (300.000)."""
        return t(self.msgid, **{k: t.number(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                                for k, v in self.params.items()})


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
    from bot.plans import readers  # the readers use this module's limits and errors

    if data.startswith(b"%PDF"):
        text, kind = readers.pdf_text(data, name), "pdf"
    elif data.startswith(b"PK\x03\x04"):
        text, kind = readers.docx_text(data, name), "docx"
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise OldWordPlanError(name)
    elif data.startswith((b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"II*\x00", b"MM\x00*")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    ):
        raise ImagePlanError(name)
    else:
        text, kind = readers.plain_text(data, name), "txt"
    _check_length(text, name)
    text = normalise(text)
    _check_length(text, name)
    if not _has_text(text):
        raise EmptyPlanError(name)
    return PlanText(text=text, kind=kind, name=name)


def _check_length(text: str, name: str) -> None:
    if len(text) > MAX_PLAN_CHARS:
        raise TooLongPlanError(name, limit=MAX_PLAN_CHARS)
