"""Folding: matching runs on lower-case text without tone marks, one character for one character."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def fold_char(c: str) -> str:
    if c in "đĐðÐ":  # Ð (U+00D0) stands in for Đ in text typed with old Vietnamese keyboards
        return "d"
    if c.isascii():
        return c.lower()
    base = unicodedata.normalize("NFD", c)[0]
    if base.isascii():
        return base.lower()
    low = c.lower()
    return low if len(low) == 1 else c


def fold(text: str) -> str:
    """Lower case without tone marks, one character for one character (offsets stay valid)."""
    return "".join(fold_char(c) for c in text)


def vi(pattern: str) -> re.Pattern[str]:
    """Compile a pattern written in (lower-case) Vietnamese to run on folded text. ASCII is kept as
    written, so escapes such as \\s, \\d, \\b keep their meaning."""
    return re.compile("".join(c if c.isascii() else fold_char(c) for c in pattern))


def clean(text: str) -> str:
    """One line, single spaces: the form a sentence is quoted in."""
    return re.sub(r"\s+", " ", text).strip()


def slug(text: str, limit: int, sep: str) -> str:
    words = re.findall(r"[a-z0-9]+", fold(text))
    out = ""
    for w in words:
        candidate = f"{out}{sep}{w}" if out else w
        if len(candidate) > limit:
            break
        out = candidate
    return out
