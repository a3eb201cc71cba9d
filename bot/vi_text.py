"""Vietnamese text as people type it: folding (marks off) and the short words that carry a meaning.

People type on phones without a Vietnamese keyboard ("khong co" for "không có"), so every word list is
written once, with its marks, and compared after folding both sides. A leaf module: it imports nothing
of the project.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_D = "đĐðÐ"  # Ð (U+00D0) stands in for Đ in text typed with old Vietnamese keyboards


@lru_cache(maxsize=4096)
def fold_char(c: str) -> str:
    """One character in lower case without its marks ("Ộ" -> "o", "đ" -> "d"); always one character."""
    if c in _D:
        return "d"
    if c.isascii():
        return c.lower()
    base = unicodedata.normalize("NFD", c)[0]
    if base.isascii():
        return base.lower()
    low = c.lower()
    return low if len(low) == 1 else c


def fold_chars(text: str) -> str:
    """Lower case without marks, one character for one character, so offsets into it stay valid in `text`."""
    return "".join(map(fold_char, text))


def fold(text: str) -> str:
    """Lower case without marks, đ as d, runs of spaces as one: "  Không   CÓ " -> "khong co". Marks typed
    apart from their letter (NFD, as some phones send) are dropped too."""
    if text.isascii():
        return " ".join(text.lower().split())
    composed = unicodedata.normalize("NFC", text)
    return " ".join("".join(fold_char(c) for c in composed if not unicodedata.combining(c)).split())


def words(*spellings: str) -> frozenset[str]:
    """A word set written with its marks, kept folded: match it with `fold(typed) in the_set`."""
    return frozenset(fold(w) for w in spellings)


def typed_word(text: str) -> str:
    """A typed move ("Quay lại.", "xong!") as it is compared with the word sets below."""
    return fold(text).strip(".!")


# --- answers ------------------------------------------------------------------------------------

YES_WORDS = words(
    "có", "có ạ", "có rồi", "rồi", "đã", "đã làm", "đã có", "đã xong", "xong", "xong rồi", "làm rồi",
    "ok", "oke", "okie", "oki", "okay", "ừ", "ừm", "uh", "vâng", "dạ", "yes", "y", "yep", "yeah",
    "x", "đúng", "đúng rồi", "đồng ý", "✅", "👍",
)  # fmt: skip
NO_WORDS = words(
    "không", "ko", "k", "kh", "kg", "hông", "hok", "khum", "0", "chưa", "chưa có", "chưa làm", "chưa xong",
    "không có", "ko có", "k có", "không làm", "no", "n", "nope", "sai", "không đúng", "❌", "👎",
)  # fmt: skip
# There is nothing to give: a count reads it as 0, a question for a file as skipping it.
NONE_WORDS = words(
    "không", "ko", "k", "kh", "hông", "hok", "0",
    "chưa", "chưa có", "ko có", "k có", "không có", "không ai", "không có ai", "chưa có ai", "ko có ai",
    "không có gì", "chưa có gì",
)  # fmt: skip
# Said before the answer proper: "dạ, chưa ạ" is a polite no.
LEADING_WORDS = words("dạ", "vâng", "ừ", "em", "tôi", "mình")

# --- moves in a form ----------------------------------------------------------------------------

BACK_WORDS = words("quay lại", "trở lại", "lùi", "back")
SKIP_WORDS = words("bỏ qua", "bỏ", "skip")
DONE_WORDS = words("xong", "hết", "done")
SUBMIT_WORDS = words("gửi", "nộp", "gửi báo cáo", "gửi bản sửa", "submit", "send")
EDIT_WORDS = words("sửa", "edit", "change")
# What may stand between "sửa" and the number of the answer to change: "sửa câu 3", "edit question 3".
QUESTION_WORDS = words("câu", "số", "question")
