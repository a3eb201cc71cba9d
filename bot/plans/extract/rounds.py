"""Reader: the rounds of a plan ("Đợt 1 (từ ... đến ...)") and the window its activities happen in.

Entry points: `read_rounds(doc, ctx)`, `read_activity_window(doc, ctx)`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from bot.plans.extract.dates import DASH, RANGE, range_dates
from bot.plans.extract.document import Context, Document, Sentence
from bot.plans.extract.duties import round_number
from bot.plans.extract.folding import clean, vi
from bot.plans.extract.model import Coverage, Round

_ROUND = vi(r"\bđợt\s+(?P<n>\d{1,2}|i{1,3}|iv|v)\s*(?:[(:,]|" + DASH + r")?\s*\(?\s*(?=từ\b)")
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


def read_rounds(doc: Document, ctx: Context) -> list[Round]:
    rounds: dict[int, Round] = {}
    for s, m, _, (start, end) in _ranges_after(doc, _ROUND, ctx):
        n = round_number(m.group("n"))
        if n not in rounds:
            rounds[n] = Round(n, start, end, s.evidence)
    return [rounds[n] for n in sorted(rounds)]


def read_activity_window(doc: Document, ctx: Context) -> Coverage | None:
    """"Thời gian thực hiện: Từ tháng 3 đến hết tháng 5 năm 2021": when the plan's activities happen."""
    for s, m, r, (start, end) in _ranges_after(doc, _WINDOW, ctx):
        return Coverage(start, end, "activity_window", clean(s.raw[m.start() : r.end()]))
    return None
