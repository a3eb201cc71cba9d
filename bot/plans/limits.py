"""What a plan file may cost to read, and the named errors a file that cannot be drafted is refused with.

A leaf: the readers (bot.plans.readers) and the choice of reader (bot.plans.text) both use it.
"""

from __future__ import annotations

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
CHUNK_BYTES = 1024 * 1024  # a megabyte: the unit of the size limits, and how much is inflated at a time


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
