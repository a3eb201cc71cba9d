"""Reader: the rounds of a plan ("Đợt 1 (từ ... đến ...)") and the window its activities happen in.

Entry points: `read_rounds(doc, ctx)`, `read_activity_window(doc, ctx)`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from bot.plans.extract.dates import DASH, RANGE, month_end, range_dates
from bot.plans.extract.document import Context, Document, Sentence
from bot.plans.extract.duties import round_number
from bot.plans.extract.folding import clean, vi
from bot.plans.extract.model import Coverage, Round

_ROUND = vi(r"\b(?:đợt|giai\s+đoạn)\s+(?P<n>\d{1,2}|i{1,3}|iv|v)\s*(?:[(:,]|" + DASH + r")?\s*\(?\s*(?=từ\b)")
# "Đợt kiểm tra được tiến hành từ sau ngày ... đến ...": a round without a number.
_UNNUMBERED = vi(r"\b(?:đợt|giai\s+đoạn)\s+(?!\d|i{1,3}\b|iv\b|v\b)[^.;:()]{0,60}?\s(?=từ\b)")
# Named periods a report covers: "Quý 3/2024", "Quý II năm 2024", "6 tháng cuối năm 2024", "năm học 2021–2022".
_QUARTER = vi(r"\bquý\s+(?P<q>[1-4]|i{1,3}|iv)\b(?:\s*(?:/|năm)\s*(?P<y>\d{4}))?")
_HALF = vi(r"\b6\s+tháng\s+(?P<h>đầu|cuối)\s+năm(?:\s+(?P<y>\d{4}))?")
_SCHOOL_YEAR = vi(r"\bnăm\s+học\s+(?P<a>\d{4})\s*(?:" + DASH + r"|/)\s*(?P<b>\d{4})")
# A named quarter or half-year is a round only where a report covers it (not "Thời gian: Quý 1/2024").
_REPORTED = vi(r"\b(?:báo\s+cáo|gửi|nộp|sơ\s+kết|tổng\s+kết|đánh\s+giá)\b")
_QUARTERS = {"1": 1, "2": 2, "3": 3, "4": 4, "i": 1, "ii": 2, "iii": 3, "iv": 4}
_WINDOW = vi(r"\bthời\s+gian(?:\s+(?:thực\s+hiện|tổ\s+chức|triển\s+khai))?\s*:\s*")


def _ranges_after(doc: Document, lead: re.Pattern[str], ctx: Context
                  ) -> Iterator[tuple[Sentence, re.Match[str], re.Match[str], tuple[date, date]]]:
    """Each `lead` followed at once by a range of dates ("Đợt 1 (từ ... đến ...)"), in the plan's order:
    the sentence, the lead, the range and its dates."""
    for s in doc.sentences:
        for m in lead.finditer(s.folded):
            r = RANGE.match(s.folded, m.end())
            span = range_dates(r, ctx.years) if r else None
            if r and span:
                yield s, m, r, span


def _named_in(s: Sentence, ctx: Context, reported: bool) -> Iterator[tuple[date, date, str, bool]]:
    """The named periods of a sentence: start, end, the words, and whether the year was written."""
    for m in _SCHOOL_YEAR.finditer(s.folded):
        a, b = int(m.group("a")), int(m.group("b"))
        if b == a + 1:
            yield date(a, 9, 1), date(b, 8, 31), clean(s.raw[m.start() : m.end()]), True
    if not reported:
        return
    for m in _QUARTER.finditer(s.folded):
        year = int(m.group("y")) if m.group("y") else ctx.years.year
        if year:
            q = _QUARTERS[m.group("q")]
            yield (date(year, 3 * q - 2, 1), month_end(year, 3 * q), clean(s.raw[m.start() : m.end()]),
                   bool(m.group("y")))
    for m in _HALF.finditer(s.folded):
        year = int(m.group("y")) if m.group("y") else None
        if year:
            first = m.group("h") == "dau"
            yield (date(year, 1 if first else 7, 1), date(year, 6 if first else 12, 30 if first else 31),
                   clean(s.raw[m.start() : m.end()]), True)


def read_rounds(doc: Document, ctx: Context) -> list[Round]:
    rounds: dict[int, Round] = {}
    for s, m, _, (start, end) in _ranges_after(doc, _ROUND, ctx):
        n = round_number(m.group("n"))
        if n not in rounds:
            rounds[n] = Round(n, start, end, s.evidence)
    numbered = [rounds[n] for n in sorted(rounds)]
    spans = {(r.start, r.end) for r in numbered}
    named: list[Round] = []
    following = max(rounds, default=0) + 1
    for s, _, r, (start, end) in _ranges_after(doc, _UNNUMBERED, ctx):
        if (start, end) not in spans:
            spans.add((start, end))
            named.append(Round(following + len(named), start, end, s.evidence, clean(s.raw[r.start() : r.end()])))
    for s in doc.sentences:
        for start, end, words, stated in _named_in(s, ctx, bool(_REPORTED.search(s.folded))):
            if (start, end) not in spans:
                spans.add((start, end))
                named.append(Round(following + len(named), start, end, s.evidence, words,
                                   "stated" if stated else "inferred_year"))
    return numbered + named


def read_activity_window(doc: Document, ctx: Context) -> Coverage | None:
    """"Thời gian thực hiện: Từ tháng 3 đến hết tháng 5 năm 2021": when the plan's activities happen."""
    for s, m, r, (start, end) in _ranges_after(doc, _WINDOW, ctx):
        return Coverage(start, end, "activity_window", clean(s.raw[m.start() : r.end()]))
    return None
