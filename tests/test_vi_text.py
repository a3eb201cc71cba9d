"""Vietnamese text helpers: folding written once, word sets written once with their marks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import vi_text
from bot.vi_text import fold, fold_chars, words


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Không có", "khong co"),
        ("  KHÔNG   CÓ \n", "khong co"),
        ("Kho\u0302ng co\u0301", "khong co"),  # NFD, as some phones send it
        ("Đồng ý", "dong y"),
        ("ðồng", "dong"),  # Ð typed for Đ by old keyboards
        ("Quay lại", "quay lai"),
        ("Trường Hợp", "truong hop"),
        ("1.500.000đ", "1.500.000d"),
        ("👍", "👍"),
        ("", ""),
    ],
)
def test_fold_takes_off_marks_case_and_extra_spaces(typed: str, folded: str) -> None:
    assert fold(typed) == folded


def test_fold_chars_keeps_every_offset() -> None:
    text = "Kế hoạch số 12/KH-LĐLĐ ngày 5/8 — Đợt 1"
    folded = fold_chars(text)
    assert len(folded) == len(text)
    assert folded == "ke hoach so 12/kh-ldld ngay 5/8 — dot 1"
    start = folded.index("dot")
    assert text[start : start + 3] == "Đợt"


def test_a_word_set_matches_what_is_typed_with_or_without_marks() -> None:
    back = words("quay lại", "lùi")
    assert back == {"quay lai", "lui"}
    for typed in ("Quay lại", "quay lai", "QUAY  LẠI", "Lùi", "lui"):
        assert fold(typed) in back


def test_the_answer_word_sets_are_folded_and_do_not_overlap() -> None:
    for name in ("YES_WORDS", "NO_WORDS", "NONE_WORDS", "BACK_WORDS", "SKIP_WORDS", "DONE_WORDS", "SUBMIT_WORDS",
                 "EDIT_WORDS"):
        word_set = getattr(vi_text, name)
        assert word_set, name
        assert all(fold(w) == w for w in word_set), name
    assert not vi_text.YES_WORDS & vi_text.NO_WORDS
    assert {"co", "ok", "dong y"} <= vi_text.YES_WORDS
    assert {"khong", "chua co", "ko"} <= vi_text.NO_WORDS


def test_vietnamese_folding_is_written_once(repo: Path) -> None:
    """Taking marks off is done in bot/vi_text.py only; elsewhere it is imported."""
    marks_off = re.compile(r"normalize\(\s*[\"']NF(K?)D[\"']|unicodedata\.combining\(")
    found = [
        str(path.relative_to(repo))
        for package in ("bot", "handlers", "scheduler", "storage")
        for path in sorted((repo / package).rglob("*.py"))
        if path != repo / "bot" / "vi_text.py" and marks_off.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_vi_text_imports_nothing_of_the_project(repo: Path) -> None:
    source = (repo / "bot" / "vi_text.py").read_text(encoding="utf-8")
    imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", source, flags=re.MULTILINE)
    assert imports
    assert not [m for m in imports if m.split(".")[0] in {"bot", "handlers", "scheduler", "storage"}]
