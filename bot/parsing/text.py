"""What phones send, made comparable: invisible characters, dashes, spaces, case and politeness particles
taken off; and the error every reader raises (see the package docstring)."""

from __future__ import annotations

import re
import unicodedata

from bot.errors import TranslatableError
from bot.vi_text import NONE_WORDS, fold


class ParseError(TranslatableError, ValueError):
    """Carries the message to show, as an English gettext msgid + params; render(t) gives it in the user's language."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message, **params)
        self.message = message


# --- normalising what phones send ---------------------------------------------------------------

# Zero-width characters, soft hyphens, direction marks, emoji variation selectors and skin tones
# ride along invisibly with copied or emoji text.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ufe00-\ufe0f\U0001f3fb-\U0001f3ff]")
_DASHES = re.compile("[\u2010-\u2015\u2212]")
_SPACES = re.compile(r"\s+")
_TAIL_PUNCTUATION = " .!?…,;:~)]}\"'”’»*"
_HEAD_PUNCTUATION = " \"'“‘«(*•:"
_PARTICLES = frozenset({"ạ", "a", "ah", "ạh", "ak", "nhé", "nhe", "nha", "nhá"})


def _clean(text: str) -> str:
    # NFKC composes NFD input ("co\u0301" -> "có") and turns full-width digits and NBSPs into ASCII.
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _DASHES.sub("-", text)
    text = _SPACES.sub(" ", text).strip().casefold()
    text = unicodedata.normalize("NFC", text)
    return _strip_tail(text).lstrip(_HEAD_PUNCTUATION)


def _strip_tail(text: str) -> str:
    """Drop trailing punctuation and politeness particles ("15 ạ.", "có nhé!")."""
    while True:
        text = text.rstrip(_TAIL_PUNCTUATION)
        head, _, last = text.rpartition(" ")
        if not head or last not in _PARTICLES:
            return text
        text = head


def is_none_answer(text: str) -> bool:
    """ "không", "ko", "không có", "chưa có", "0" ...: there is nothing to give. A count reads it as 0; a
    question that asks for something else (a file) takes it as skipping, where skipping is allowed."""
    return fold(_clean(text)) in NONE_WORDS
