"""Folding (from bot.vi_text, written once): the readers match lower-case text without tone marks, one character for
one character; patterns written in Vietnamese are folded the same way."""

from __future__ import annotations

import re

from bot.vi_text import fold_char
from bot.vi_text import fold_chars as fold  # one character for one, so offsets into the folded text stay valid

__all__ = ["clean", "fold", "fold_char", "slug", "vi"]


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
