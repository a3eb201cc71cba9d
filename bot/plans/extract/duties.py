"""Reader: reporting duties, each with its deadline ("trước ngày 5/8/2024") or its rhythm ("6 tháng, năm"),
who reports, to whom and what the report covers.

Entry point: `read_duties(doc, ctx)`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, time

from bot.campaign_model import DueWording
from bot.plans.extract.dates import DATE, RANGE, date_parts, range_dates, safe_date
from bot.plans.extract.document import Context, Document, Sentence
from bot.plans.extract.folding import clean, fold, vi
from bot.plans.extract.kinds import kinds_in
from bot.plans.extract.model import Confidence, Coverage, Duty, Milestone

_REPORT_VERB = vi(r"\b(?:báo\s+cáo|gửi|nộp)\b")
# A clause that ends a task rather than sends a report: "hoàn thành tổng kết xong trước ngày D".
_TASK_END = vi(r"\b(?:hoàn\s+thành|xong|kết\s+thúc|tổ\s+chức|triển\s+khai)\b")
# "17h00", "16 giờ 30", "9h30", "10 giờ", "11 giờ 00 phút", then "," or "thứ Hai," before the day.
_TIME = r"(?:(?P<h>\d{1,2})\s*(?:h|giờ|g)\s*(?P<mi>\d{2})?(?:\s*phút)?\s*,?\s*(?:,|ngày|hôm)?\s*)?"
_WEEKDAY = r"(?:(?:thứ\s+(?:hai|ba|tư|năm|sáu|bảy|\d)|chủ\s+nhật)\s*,?\s*)?"
_DAY = r"(?:ngày\s+)?(?P<date>" + DATE + ")"
_YEARLY = vi(r"^\s*,?\s*(?:của\s+)?(?:hằng|hàng|mỗi)\s+năm\b")
_BEFORE = vi(r"\btrước\s+" + _TIME + _WEEKDAY + _DAY)
_ON_OR_BEFORE = (
    vi(r"\b(?:chậm|muộn)\s+nhất\s*(?:là\s+)?(?:vào\s+)?(?:đến\s+)?(?:trước\s+)?" + _TIME + _WEEKDAY + _DAY),
    vi(r"\b(?:đến|tới)\s+hết\s+ngày\s+(?P<date>" + DATE + ")"),
    vi(r"\bhạn\s+(?:cuối|chót|nộp)(?:\s+cùng)?\s*(?:là\s+|:\s*)?(?:vào\s+)?(?:đến\s+)?" + _TIME + _WEEKDAY + _DAY),
)
_HALF_AND_YEAR = vi(r"\b6\s+tháng\s*(?:,|và|/)\s*(?:cả\s+)?năm\b")
_FIRST_HALF = vi(r"\b6\s+tháng\s+đầu\s+năm\b")
_PLAN_SUBMISSION = vi(r"\b(?:gửi|nộp)\s+(?:01\s+|một\s+)?(?:bản\s+)?kế\s+hoạch")
_ROUND_WORD = vi(r"\bđợt\s+(?P<n>\d{1,2}|i{1,3}|iv|v)\b")
_RESULTS_NAMED_PERIOD = vi(r"kết\s+quả[^;()]{0,80}?tháng\s+công\s+nhân(?:\s+năm\s+(?P<y>\d{4}))?")
_RECIPIENT = vi(
    r"\b(?:báo\s+cáo|gửi|nộp)\b[^;]*?\s(?:về|lên|cho|tới|đến)\s+"
    r"(?P<who>(?:lđlđ|liên\s+đoàn|tổng\s+liên\s+đoàn|công\s+đoàn|cđ|ban|văn\s+phòng|thường\s+trực)\b[^,;.]*)"
)
_RECIPIENT_STOP = vi(
    r"\s(?:vào|trước|chậm|muộn|đến\s+hết|tới\s+hết|theo|để|trong|định\s+kỳ|bằng|tại|gửi|kèm"
    r"|qua\s+(?:báo\s+cáo|mail|e-?mail|thư|gmail|phần\s+mềm|zalo|địa\s+chỉ))\b|\s*\|"
)
_VIA = vi(r"\bqua\s+(?P<via>(?:ban|văn\s+phòng|phòng)\b[^,;.)]*)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_URL = re.compile(r"(?:https?://|www\.)[^\s,;)\]]+")
_ROMAN_NUMBERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}


def round_number(text: str) -> int:
    return int(text) if text.isdigit() else _ROMAN_NUMBERS[text]


def _deadlines_in(folded: str) -> list[tuple[re.Match[str], DueWording]]:
    ranges = [m.span() for m in RANGE.finditer(folded)]
    found = [(m, DueWording.BEFORE) for m in _BEFORE.finditer(folded)]
    for pattern in _ON_OR_BEFORE:
        found.extend((m, DueWording.ON_OR_BEFORE) for m in pattern.finditer(folded))
    # "từ 01/8/2024 đến hết ngày 31/12/2024" is a period, not a deadline.
    found = [(m, w) for m, w in found if not any(a <= m.start() < b for a, b in ranges)]
    return sorted(found, key=lambda item: item[0].start())


def _recipient(s: Sentence) -> tuple[str | None, str | None]:
    m = _RECIPIENT.search(s.folded)
    if not m:
        return None, None
    start, end = m.span("who")
    folded, raw = s.folded[start:end], s.raw[start:end]
    if stop := _RECIPIENT_STOP.search(folded):
        folded, raw = folded[: stop.start()], raw[: stop.start()]
    paren = folded.find("(")
    if paren >= 0 and not folded[paren:].startswith("(qua"):
        folded, raw = folded[:paren], raw[:paren]
    elif paren >= 0 and ")" in folded[paren:]:
        close = folded.index(")", paren) + 1
        folded, raw = folded[:close], raw[:close]
    who = clean(raw).rstrip(" -–:")
    via = None
    if v := _VIA.search(folded):
        via = clean(raw[v.start("via") : v.end("via")])
    return (who or None), via


def channels_in(raw: str) -> tuple[str, ...]:
    found = [m.group() for m in _EMAIL.finditer(raw)]
    found += [m.group().rstrip(".") for m in _URL.finditer(raw)]
    return tuple(dict.fromkeys(found))


def _sender(s: Sentence, verb_at: int, ctx: Context) -> tuple[tuple[str, ...], str | None]:
    """Who reports: the subject before the verb ("Các CĐCS gửi ..."), else the nearest heading
    that names units ("2. Công đoàn cấp trên trực tiếp cơ sở")."""
    kinds = kinds_in(s.folded[:verb_at], ctx)
    if kinds:
        return kinds, clean(s.raw[:verb_at]) or None
    for heading in reversed(s.headings):
        kinds = kinds_in(fold(heading), ctx)
        if kinds:
            return kinds, heading
    return (), None


def _segment(folded: str, deadlines: list[tuple[re.Match[str], DueWording]], i: int) -> tuple[int, int]:
    """The part of a sentence that belongs to its i-th deadline: its ";"-clause, or, when a clause
    holds several deadlines, the text between the neighbouring ones."""
    m = deadlines[i][0]
    start = folded.rfind(";", 0, m.start()) + 1
    end = folded.find(";", m.end())
    end = len(folded) if end < 0 else end
    # The deadlines are in order, so another one lies in the clause when a neighbour does.
    if (i > 0 and deadlines[i - 1][0].start() >= start) or (
        i + 1 < len(deadlines) and deadlines[i + 1][0].start() < end
    ):
        start = deadlines[i - 1][0].end() if i > 0 else 0
        end = deadlines[i + 1][0].start() if i + 1 < len(deadlines) else len(folded)
    return start, end


def _coverage_in(s: Sentence, start: int, end: int, ctx: Context, skip: tuple[int, int] | None = None
                 ) -> tuple[Coverage | None, str | None]:
    """What a report covers, when its own words say so."""
    seg = s.folded[start:end]
    for m in RANGE.finditer(seg):
        if skip and start + m.start() <= skip[0] < start + m.end():
            continue
        span = range_dates(m, ctx.years)
        if span:
            return Coverage(span[0], span[1], "plan", clean(s.raw[start + m.start() : start + m.end()])), None
    if named := _RESULTS_NAMED_PERIOD.search(seg):
        # "kết quả ... Tháng Công nhân năm 2024": the Workers' Month is May, every year.
        year = int(named.group("y")) if named.group("y") else ctx.years.year
        if year:
            text = clean(s.raw[start + named.start() : start + named.end()])
            return Coverage(date(year, 5, 1), date(year, 5, 31), "named_period", text), None
    note = None
    if skip:
        after = s.raw[skip[1] : end]
        if p := re.match(r"\s*\(([^)]{3,200})\)", after):
            note = clean(p.group(1))
    return None, note


def time_of(m: re.Match[str]) -> time | None:
    """The time of day a deadline is written with ("trước 17h00 ngày D"), if any."""
    hour = m.groupdict().get("h")
    if hour is None or int(hour) > 23:
        return None
    minute = int(m.group("mi") or 0)
    return time(int(hour), minute) if minute < 60 else None


def _yearly(s: Sentence, m: re.Match[str], due: date, parts_year: int | None, said: Duty, ctx: Context
            ) -> list[Duty]:
    """"trước ngày 15/12 hằng năm": one deadline a year from the document's date (never before it),
    up to the last year of the plan's span ("giai đoạn 2025 - 2027"); the later ones are proposals."""
    if parts_year is not None or not _YEARLY.match(s.folded[m.end() :]):
        return [said]
    reference = ctx.years.reference
    if reference and due < reference:  # a yearly date already past when the document was signed: next year's
        due = safe_date(due.year + 1, due.month, due.day) or due
    out = [replace(said, date=due, yearly=True)]
    last = ctx.years.last_year or due.year
    for year in range(due.year + 1, min(last, due.year + 10) + 1):
        nxt = safe_date(year, due.month, due.day)
        if nxt:
            out.append(replace(said, date=nxt, yearly=True, confidence="proposed"))
    return out


def _dated_duties(s: Sentence, deadlines: list[tuple[re.Match[str], DueWording]], said: Duty, ctx: Context,
                  milestone_at: MilestoneTest | None = None) -> Iterator[Duty]:
    """One duty per deadline of the sentence, each read from its own part of it. `said`: what the
    whole sentence says (who reports, to whom, how)."""
    for i, (m, wording) in enumerate(deadlines):
        start, end = _segment(s.folded, deadlines, i)
        seg = s.folded[start:end]
        parts = date_parts(m.group("date"))
        due = ctx.years.resolve(parts) if parts else None
        if due is None or (milestone_at is not None and milestone_at(start, end)):
            continue
        rounds = [r for r in _ROUND_WORD.finditer(seg) if start + r.start() < m.start()] or list(
            _ROUND_WORD.finditer(seg)
        )
        covers, note = _coverage_in(s, start, end, ctx, skip=m.span())
        half = _FIRST_HALF.search(seg)
        if covers is None and half:  # "báo cáo 6 tháng đầu năm ... trước ngày 05/7"
            covers = Coverage(date(due.year, 1, 1), date(due.year, 6, 30), "rhythm", clean(
                s.raw[start + half.start() : start + half.end()]))
        confidence: Confidence = "stated" if parts and parts.year else "inferred_year"
        duty = replace(
            said, kind="plan" if _PLAN_SUBMISSION.search(seg) or _PLAN_SUBMISSION.search(s.folded) else "results",
            date=due, wording=wording, wording_text=clean(s.raw[m.start() : m.end()]),
            round=round_number(rounds[-1].group("n")) if rounds else None, covers=covers, covers_note=note,
            time=time_of(m), confidence=confidence,
        )
        yield from _yearly(s, m, due, parts.year if parts else None, duty, ctx)


class MilestoneTest:
    """Whether the part of a sentence that holds a deadline ends a task rather than sends a report:
    judged per clause, so "hoàn thành ... trước ngày D; đồng thời gửi báo cáo ... trước ngày E" has
    one milestone (D) and one deadline (E)."""

    def __init__(self, folded: str) -> None:
        self.folded = folded

    def __call__(self, start: int, end: int) -> bool:
        seg = self.folded[start:end]
        return bool(_TASK_END.search(seg)) and not _REPORT_VERB.search(seg)


def read_milestones(doc: Document, ctx: Context) -> list[Milestone]:
    """The dates that end a task ("hoàn thành ... trước ngày D"): shown as milestones, never periods."""
    found: list[Milestone] = []
    for s in doc.sentences:
        if not _TASK_END.search(s.folded):
            continue
        deadlines = _deadlines_in(s.folded)
        is_milestone = MilestoneTest(s.folded)
        for i, (m, wording) in enumerate(deadlines):
            start, end = _segment(s.folded, deadlines, i)
            parts = date_parts(m.group("date"))
            day = ctx.years.resolve(parts) if parts else None
            if day is None or not is_milestone(start, end):
                continue
            found.append(Milestone(day, wording, clean(s.raw[m.start() : m.end()]), s.evidence, time_of(m),
                                   "stated" if parts and parts.year else "inferred_year"))
    return found


def read_duties(doc: Document, ctx: Context) -> list[Duty]:
    """Every sentence with a report verb and a deadline or a rhythm: one duty per deadline, or one for the rhythm."""
    duties: list[Duty] = []
    for s in doc.sentences:
        verb = _REPORT_VERB.search(s.folded)
        if not verb:
            continue
        deadlines = _deadlines_in(s.folded)
        rhythm_match = _HALF_AND_YEAR.search(s.folded) or _FIRST_HALF.search(s.folded)
        if not deadlines and not rhythm_match:
            continue
        sender_kinds, sender_text = _sender(s, verb.start(), ctx)
        recipient, via = _recipient(s)
        said = Duty(kind="results", evidence=s.evidence, sender_kinds=sender_kinds, sender_text=sender_text,
                    recipient=recipient, via=via, channels=channels_in(s.raw))
        duties.extend(_dated_duties(s, deadlines, said, ctx, MilestoneTest(s.folded)))
        if not deadlines and rhythm_match:
            half_and_year = bool(_HALF_AND_YEAR.search(s.folded))
            covers, _ = _coverage_in(s, 0, len(s.folded), ctx)
            duties.append(replace(
                said, rhythm="half_and_year" if half_and_year else "half_year",
                rhythm_text=clean(s.raw[rhythm_match.start() : rhythm_match.end()]), covers=covers,
            ))
    return duties
