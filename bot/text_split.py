"""Splitting a long reply into messages that fit a messenger's limit.

Lengths are counted in UTF-16 code units, as Telegram's entity offsets are and as is safe for Zalo,
which does not say how it counts: an emoji then counts twice, so a part never ends up too long.
"""

from __future__ import annotations


def utf16_length(text: str) -> int:
    """Zalo does not say how it counts; an emoji counts twice in UTF-16, so measure that way to be safe."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """Split at line boundaries, then at spaces, then hard, so that every part fits one message."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while utf16_length(line) > limit:
            if current:
                parts.append(current)
                current = ""
            head = _fit(line, limit) or line[0]  # a limit below one character: one anyway, never a loop
            cut = head.rfind(" ")
            if cut > limit // 2:
                head = head[:cut]
            parts.append(head)
            line = line[len(head):].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if utf16_length(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current.strip() or not parts:
        parts.append(current)
    return [p for p in parts if p.strip()] or [""]


def _fit(text: str, limit: int) -> str:
    """The longest prefix of `text` whose UTF-16 length is at most `limit`."""
    out, used = [], 0
    for ch in text:
        size = 2 if ord(ch) > 0xFFFF else 1
        if used + size > limit:
            break
        out.append(ch)
        used += size
    return "".join(out)
