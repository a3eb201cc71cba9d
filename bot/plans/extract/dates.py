"""Dates as plans write them ("5/8", "05/8/2024", "tháng 5 năm 2021", "từ ... đến ..."), and the year a d/m
date belongs to (`Years`)."""

from __future__ import annotations

import re
from calendar import monthrange
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.plans.extract.folding import fold, vi

if TYPE_CHECKING:
    from bot.plans.extract.model import Identity

DASH = "[-‐‑‒–—−]"
# d/m, d/m/yyyy, d.m.yyyy, "5 tháng 8 năm 2024". The "." form needs a year ("2.3." is a heading).
DATE = (
    r"(?<![\d/])(?:\d{1,2}\s*/\s*\d{1,2}(?:\s*/\s*\d{4})?|\d{1,2}\.\d{1,2}\.\d{4}"
    r"|(?<!-)\d{1,2}-\d{1,2}(?:-\d{4})?(?!-)"
    r"|\d{1,2}\s+thang\s+\d{1,2}(?:\s+nam\s+\d{4})?)(?![\d/])"
)
DATE_FULL = r"(?<![\d/])\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}(?![\d/])"
_DATE_PARTS = re.compile(r"(\d{1,2})\s*(?:/|\.|-|\s+thang\s+)\s*(\d{1,2})(?:\s*(?:/|\.|-|\s+nam\s+)\s*(\d{4}))?")
# "Giai đoạn 2025 - 2027": the last year a yearly deadline ("trước ngày 15/12 hằng năm") recurs in.
_SPAN_OF_YEARS = re.compile(r"giai\s+doan\s+(\d{4})\s*[-‐‑‒–—−]\s*(\d{4})")
# One end of a range: a date, a month ("tháng 01/2024", "tháng 5 năm 2021"), the start of a year.
MONTH_ATOM = r"thang\s+\d{1,2}(?:\s*/\s*\d{4}|\s+nam\s+\d{4})?"
YEAR_START_ATOM = r"dau\s+nam(?:\s+\d{4})?"
ATOM = "(?:" + DATE + "|" + MONTH_ATOM + "|" + YEAR_START_ATOM + ")"
# "từ đầu năm đến 31/7/2024", "(từ tháng 01/2024 đến 31/7/2024)", "Từ tháng 3 đến hết tháng 5 năm 2021"
RANGE = vi(
    r"từ\s+(?P<after>sau\s+)?(?:ngày\s+)?(?P<a>" + ATOM + r")\s*(?:đến|tới|" + DASH + r")\s*(?:hết\s+)?(?:ngày\s+)?"
    r"(?P<b>" + ATOM + ")"
)
# "28/7/1929 - 28/7/2024": an anniversary, never a deadline or a period (years differ).
ANNIVERSARY = vi(r"(?P<a>" + DATE_FULL + r")\s*" + DASH + r"\s*(?P<b>" + DATE_FULL + ")")
# The kinds of document a plan cites by number ("Nghị quyết liên tịch số ...").
DOCUMENT_KIND = (
    r"(?:kế\s+hoạch|nghị\s+quyết|chỉ\s+thị|công\s+văn|quyết\s+định|hướng\s+dẫn|kết\s+luận|thông\s+báo"
    r"|thông\s+tri|chương\s+trình|văn\s+bản|điều\s+lệ)(?:\s+liên\s+tịch)?"
)
# "Kế hoạch số 17/KH-TLĐ, ngày 05/02/2024", "Nghị quyết số 02-NQ/TW ngày 12/6/2021": a cited document.
CITED_DOCUMENT = vi(DOCUMENT_KIND + r"\s+số\s*[\w./\- –]{1,30}?,?\s*(?:ngày\s+)?(?P<date>" + DATE + ")")


@dataclass(frozen=True, slots=True)
class DateParts:
    day: int | None
    month: int
    year: int | None


def date_parts(folded: str) -> DateParts | None:
    m = _DATE_PARTS.search(folded)
    if not m:
        return None
    return DateParts(int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None)


def month_end(year: int, month: int) -> date:
    return date(year, month, monthrange(year, month)[1])


def safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


class Years:
    """Resolves d/m dates to a year: the plan's own date first, else the plan's year."""

    def __init__(self, identity: Identity, folded: str) -> None:
        """`folded`: the plan's folded text, with the dates of cited documents blanked out."""
        self.reference: date | None = identity.date or (
            date(identity.blank_day_year, identity.blank_day_month or 1, 1) if identity.blank_day_year else None
        )
        year = identity.year
        if year is None and identity.title:
            m = re.search(r"nam\s+(\d{4})", fold(identity.title))
            year = int(m.group(1)) if m else None
        if year is None:  # the most common year among the plan's own (unmasked) full dates
            years = Counter(int(m.group(1)) for m in re.finditer(r"(?<![\d#])\d{1,2}\s*/\s*\d{1,2}\s*/\s*(\d{4})",
                                                                   folded))
            year = years.most_common(1)[0][0] if years else None
        if year is None:  # a text without a full date: the year it names most ("Tháng Công nhân năm 2025")
            named = Counter(int(m.group(1)) for m in re.finditer(r"\bnam\s+(\d{4})\b", folded))
            year = named.most_common(1)[0][0] if named else None
        self.year = year
        span = _SPAN_OF_YEARS.search(folded)
        self.last_year: int | None = int(span.group(2)) if span and int(span.group(2)) >= int(span.group(1)) else None

    def resolve(self, parts: DateParts, day_default: int = 1, *, year_hint: int | None = None) -> date | None:
        day = parts.day or day_default
        if parts.year:
            return safe_date(parts.year, parts.month, day)
        year = year_hint or self.year
        if year is None:
            return None
        found = safe_date(year, parts.month, day)
        # "chậm nhất ngày 15/01" in a plan dated 20/12/2024 is in 2025.
        if found and year_hint is None and self.reference and found < self.reference - timedelta(days=31):
            found = safe_date(year + 1, parts.month, day)
        return found


def _atom_bounds(atom: str, years: Years, year_hint: int | None) -> tuple[date, date] | None:
    atom = atom.strip()
    if atom.startswith("dau"):
        m = re.search(r"\d{4}", atom)
        year = int(m.group()) if m else (year_hint or years.year)
        return (date(year, 1, 1), date(year, 1, 1)) if year else None
    if atom.startswith("thang"):
        m = re.match(r"thang\s+(\d{1,2})(?:\s*/\s*(\d{4})|\s+nam\s+(\d{4}))?", atom)
        if not m or not 1 <= int(m.group(1)) <= 12:
            return None
        year = int(m.group(2) or m.group(3) or 0) or year_hint or years.year
        if not year:
            return None
        month = int(m.group(1))
        return date(year, month, 1), month_end(year, month)
    parts = date_parts(atom)
    if not parts:
        return None
    found = years.resolve(parts, year_hint=year_hint)
    return (found, found) if found else None


def range_dates(m: re.Match[str], years: Years) -> tuple[date, date] | None:
    a_text, b_text = m.group("a"), m.group("b")
    b_year = re.search(r"\d{4}", b_text)
    a_year = re.search(r"\d{4}", a_text)
    hint_b = int(a_year.group()) if a_year and not b_year else None
    b = _atom_bounds(b_text, years, hint_b)
    if not b:
        return None
    a = _atom_bounds(a_text, years, None if a_year else b[1].year)
    if not a or a[0] > b[1]:
        return None
    if m.groupdict().get("after"):  # "từ sau ngày 15/5": the day after
        start = a[1] + timedelta(days=1)
        return (start, b[1]) if start <= b[1] else None
    return a[0], b[1]
