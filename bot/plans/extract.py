"""Read a plan's (kế hoạch) Vietnamese text and propose what a campaign needs.

Pure functions from text to proposals: no network, no model, no clock. Every proposal carries the
sentence it was read from (`Evidence`), so a person can check it before publishing.

How the text is read
--------------------
* Matching runs on a *folded* copy of the text: lower case, tone marks and hats removed, đ -> d
  ("Đợt" -> "dot", "chậm nhất" -> "cham nhat"). Folding maps each character to exactly one
  character, so a match in the folded text is sliced from the original at the same offsets. It makes
  the rules indifferent to "Đợt"/"đợt", "hoà"/"hòa", and to text typed without accents.
  Patterns are written in Vietnamese and folded the same way (`_vi`).
* Dates that are never deadlines are blanked out of the folded text before anything else:
  anniversary ranges ("28/7/1929 - 28/7/2024") and dates of cited documents ("Kế hoạch số
  17/KH-TLĐ, ngày 05/02/2024").
* A reporting duty is a sentence with a report verb (báo cáo, gửi, nộp) and either a deadline
  ("trước ngày D", "chậm nhất ngày D", "đến hết ngày D") or a rhythm ("6 tháng, năm",
  "6 tháng đầu năm"). A date written d/m takes its year from the plan's own date.
* Targets (chỉ tiêu) are clauses with a threshold: "N%" or "ít nhất NN <việc>" / "có NN <việc>".
  Outside a section titled "chỉ tiêu" a clause counts only if it names the units it binds
  ("Mỗi CĐCS ...", "Liên đoàn Lao động huyện có ít nhất ..."), so tasks that merely repeat a
  target, or "Chương trình 01 triệu sáng kiến", are not taken for targets.
"""

from __future__ import annotations

import itertools
import re
from calendar import monthrange
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.campaign_model import DEFAULT_TIMEZONE, DueWording, due_instant
from bot.campaign_model import last_day as last_moment
from bot.plans.text import is_capitals
from bot.vi_text import fold_char as _fold_char
from bot.vi_text import fold_chars as fold  # one character for one: offsets found in it stay valid

ZONE = ZoneInfo(DEFAULT_TIMEZONE)  # the zone the draft campaign is written in
_Date = date  # inside Duty, `date` names a field
# A round or rhythm without a deadline in the plan: propose "before (end of the period + this)".
PROPOSED_DAYS_AFTER_END = 10


def _vi(pattern: str) -> re.Pattern[str]:
    """Compile a pattern written in (lower-case) Vietnamese to run on folded text. ASCII is kept as
    written, so escapes such as \\s, \\d, \\b keep their meaning."""
    return re.compile("".join(c if c.isascii() else _fold_char(c) for c in pattern))


def _clean(text: str) -> str:
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


# ================================================================ dates
DASH = "[-‐‑‒–—−]"
# d/m, d/m/yyyy, d.m.yyyy, "5 tháng 8 năm 2024". The "." form needs a year ("2.3." is a heading).
DATE = (
    r"(?<![\d/])(?:\d{1,2}\s*/\s*\d{1,2}(?:\s*/\s*\d{4})?|\d{1,2}\.\d{1,2}\.\d{4}"
    r"|\d{1,2}\s+thang\s+\d{1,2}(?:\s+nam\s+\d{4})?)(?![\d/])"
)
DATE_FULL = r"(?<![\d/])\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}(?![\d/])"
_DATE_PARTS = re.compile(r"(\d{1,2})\s*(?:/|\.|\s+thang\s+)\s*(\d{1,2})(?:\s*(?:/|\.|\s+nam\s+)\s*(\d{4}))?")
# One end of a range: a date, a month ("tháng 01/2024", "tháng 5 năm 2021"), the start of a year.
MONTH_ATOM = r"thang\s+\d{1,2}(?:\s*/\s*\d{4}|\s+nam\s+\d{4})?"
YEAR_START_ATOM = r"dau\s+nam(?:\s+\d{4})?"
ATOM = "(?:" + DATE + "|" + MONTH_ATOM + "|" + YEAR_START_ATOM + ")"
# "từ đầu năm đến 31/7/2024", "(từ tháng 01/2024 đến 31/7/2024)", "Từ tháng 3 đến hết tháng 5 năm 2021"
RANGE = _vi(
    r"từ\s+(?:ngày\s+)?(?P<a>" + ATOM + r")\s*(?:đến|tới|" + DASH + r")\s*(?:hết\s+)?(?:ngày\s+)?(?P<b>" + ATOM + ")"
)
# "28/7/1929 - 28/7/2024": an anniversary, never a deadline or a period (years differ).
ANNIVERSARY = _vi(r"(?P<a>" + DATE_FULL + r")\s*" + DASH + r"\s*(?P<b>" + DATE_FULL + ")")
# The kinds of document a plan cites by number ("Nghị quyết liên tịch số ...").
DOCUMENT_KIND = (
    r"(?:kế\s+hoạch|nghị\s+quyết|chỉ\s+thị|công\s+văn|quyết\s+định|hướng\s+dẫn|kết\s+luận|thông\s+báo"
    r"|thông\s+tri|chương\s+trình|văn\s+bản|điều\s+lệ)(?:\s+liên\s+tịch)?"
)
# "Kế hoạch số 17/KH-TLĐ, ngày 05/02/2024", "Nghị quyết số 02-NQ/TW ngày 12/6/2021": a cited document.
CITED_DOCUMENT = _vi(DOCUMENT_KIND + r"\s+số\s*[\w./\- –]{1,30}?,?\s*(?:ngày\s+)?(?P<date>" + DATE + ")")


@dataclass(frozen=True, slots=True)
class _DateParts:
    day: int | None
    month: int
    year: int | None


def _date_parts(folded: str) -> _DateParts | None:
    m = _DATE_PARTS.search(folded)
    if not m:
        return None
    return _DateParts(int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None)


def _month_end(year: int, month: int) -> date:
    return date(year, month, monthrange(year, month)[1])


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# ================================================================ evidence and results
@dataclass(frozen=True, slots=True)
class Evidence:
    """The sentence a proposal was read from, and its line in the plan (1-based)."""

    sentence: str
    line: int

    def to_json(self) -> dict[str, Any]:
        return {"sentence": self.sentence, "line": self.line}


@dataclass(frozen=True, slots=True)
class Identity:
    issuer: str | None = None
    issuer_from: Literal["header", "preamble"] | None = None
    parent_issuer: str | None = None
    number: str | None = None
    date: date | None = None
    # "ngày tháng 3 năm 2024": the day is left blank; month and year are kept.
    blank_day_month: int | None = None
    blank_day_year: int | None = None
    place: str | None = None
    title: str | None = None
    basis: tuple[str, ...] = ()
    evidence: dict[str, Evidence] = field(default_factory=dict)

    @property
    def year(self) -> int | None:
        return self.date.year if self.date else self.blank_day_year

    def to_json(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "issuer_from": self.issuer_from,
            "parent_issuer": self.parent_issuer,
            "number": self.number,
            "date": self.date.isoformat() if self.date else None,
            "date_blank_day": (
                {"month": self.blank_day_month, "year": self.blank_day_year} if self.blank_day_year else None
            ),
            "place": self.place,
            "title": self.title,
            "basis": list(self.basis),
            "sources": {k: v.to_json() for k, v in self.evidence.items()},
        }


@dataclass(frozen=True, slots=True)
class Coverage:
    start: date
    end: date
    how: Literal["plan", "round", "rhythm", "named_period", "activity_window", "inferred"]
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "how": self.how, "text": self.text}


@dataclass(frozen=True, slots=True)
class Duty:
    """A reporting duty as the plan words it."""

    kind: Literal["results", "plan"]  # "plan": units send their own plan, not results
    evidence: Evidence
    date: date | None = None
    wording: DueWording | None = None
    wording_text: str | None = None  # "trước ngày 5/8/2024"
    rhythm: Literal["half_year", "half_and_year"] | None = None
    rhythm_text: str | None = None
    round: int | None = None
    covers: Coverage | None = None
    covers_note: str | None = None  # "(kết quả các hoạt động kỷ niệm theo kế hoạch)": words without dates
    sender_kinds: tuple[str, ...] = ()
    sender_text: str | None = None
    recipient: str | None = None
    via: str | None = None  # "Ban Tuyên giáo – Nữ công"
    channels: tuple[str, ...] = ()

    @property
    def due_at(self) -> datetime | None:
        return due_instant(self.date, self.wording, ZONE) if self.date and self.wording else None

    @property
    def last_day(self) -> _Date | None:
        """The last day to report on: the day before a "before" date, the date itself for "on or before"."""
        return last_moment(self.due_at).date() if self.due_at else None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "date": self.date.isoformat() if self.date else None,
            "wording": self.wording,
            "wording_text": self.wording_text,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "rhythm": self.rhythm,
            "rhythm_text": self.rhythm_text,
            "round": self.round,
            "covers": self.covers.to_json() if self.covers else None,
            "covers_note": self.covers_note,
            "sender": {"kinds": list(self.sender_kinds), "text": self.sender_text},
            "recipient": self.recipient,
            "via": self.via,
            "channels": list(self.channels),
            **self.evidence.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Round:
    """"Đợt 1 (từ tháng 01/2024 đến 31/7/2024)": a round of the plan with its dates."""

    number: int
    start: date
    end: date
    evidence: Evidence

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "start": self.start.isoformat(), "end": self.end.isoformat(),
                **self.evidence.to_json()}


@dataclass(frozen=True, slots=True)
class Need:
    """A question a target needs answered by each unit."""

    role: Literal["check", "count", "numerator", "denominator", "total"]
    type: Literal["yes_no", "integer"]
    label: str  # the question, Vietnamese
    name_hint: str  # words the field name is made from
    unit: str | None = None  # what the number counts: "hoạt động", "đoàn viên", "bản"


@dataclass(frozen=True, slots=True)
class TargetProposal:
    key: str
    text: str  # the clause that states the target
    evidence: Evidence
    measure: Literal["share_of_units", "ratio", "total"]
    comparator: str
    threshold: Decimal
    unit: Literal["%", "count"]
    scope: tuple[str, ...] | None  # unit kinds or groups; None: the campaign's audience
    needs: tuple[Need, ...]
    count_at_least: int | None = None  # share_of_units whose condition is "count >= N"
    per_unit_share: Decimal | None = None  # companion: units whose own ratio reaches this share
    companion_of: str | None = None
    parent: str | None = None  # "trong đó N% ...": a share of the parent's numerator
    unclear: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "measure": self.measure,
            "comparator": self.comparator,
            "threshold": float(self.threshold),
            "unit": self.unit,
            "scope": {"kinds": list(self.scope)} if self.scope else None,
            "companion_of": self.companion_of,
            "parent": self.parent,
            "questions": [{"role": n.role, "type": n.type, "label": n.label, "unit": n.unit} for n in self.needs],
            **self.evidence.to_json(),
        }


@dataclass(frozen=True, slots=True)
class ContactProposal:
    department: str | None = None
    name: str | None = None
    position: str | None = None
    phone: str | None = None
    email: str | None = None
    evidence: Evidence | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"department": self.department, "name": self.name, "position": self.position,
                               "phone": self.phone, "email": self.email}
        if self.evidence:
            out.update(self.evidence.to_json())
        return out


@dataclass(frozen=True, slots=True)
class Channel:
    kind: Literal["email", "website"]
    value: str
    evidence: Evidence

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, **self.evidence.to_json()}


@dataclass(frozen=True, slots=True)
class PeriodProposal:
    """A reporting period of the draft campaign: from a duty, a rhythm or a round."""

    key: str
    name: str
    covers: Coverage
    due_date: date
    wording: DueWording
    due_source: Literal["plan", "department"]  # "department": proposed here, the plan gives no date
    due_text: str
    kind: Literal["results", "plan"]
    evidence: Evidence
    round: int | None = None
    note: str | None = None

    @property
    def due_at(self) -> datetime:
        return due_instant(self.due_date, self.wording, ZONE)

    @property
    def last_day(self) -> date:
        return last_moment(self.due_at).date()

    @property
    def proposed(self) -> bool:
        return self.due_source == "department"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "round": self.round,
            "covers": self.covers.to_json(),
            "due": {"date": self.due_date.isoformat(), "wording": self.wording, "source": self.due_source,
                    "text": self.due_text},
            "due_at": self.due_at.isoformat(),
            "last_day": self.last_day.isoformat(),
            "proposed": self.proposed,
            "no_date_in_plan": self.proposed,
            "note": self.note,
            **self.evidence.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Audience:
    kinds: tuple[str, ...]
    reports_to: str | None
    reports_to_from: Literal["plan", "issuer"] | None
    how: Literal["plan", "addressees", "default"]

    def to_json(self) -> dict[str, Any]:
        return {"kinds": list(self.kinds), "reports_to": self.reports_to, "reports_to_from": self.reports_to_from,
                "how": self.how}


@dataclass(frozen=True, slots=True)
class PlanProposal:
    identity: Identity
    duties: tuple[Duty, ...]
    rounds: tuple[Round, ...]
    activity_window: Coverage | None
    periods: tuple[PeriodProposal, ...]
    targets: tuple[TargetProposal, ...]
    audience: Audience
    contact: ContactProposal
    channels: tuple[Channel, ...]
    activities: tuple[str, ...]

    @property
    def deadlines(self) -> tuple[Duty, ...]:
        """The duties with a date written in the plan."""
        return tuple(d for d in self.duties if d.date)

    @property
    def target_periods(self) -> tuple[str, ...]:
        """The periods the targets, and the questions on results, are asked in: the results periods when
        units also send their own plan (which has no results to count); () for every period otherwise."""
        if not any(p.kind == "plan" for p in self.periods):
            return ()
        return tuple(p.key for p in self.periods if p.kind == "results")

    def to_json(self) -> dict[str, Any]:
        return {
            "identity": self.identity.to_json(),
            "deadlines": [d.to_json() for d in self.deadlines],
            "rhythms": [d.to_json() for d in self.duties if d.rhythm and not d.date],
            "rounds": [r.to_json() for r in self.rounds],
            "activity_window": self.activity_window.to_json() if self.activity_window else None,
            "periods": [p.to_json() for p in self.periods],
            "targets": [t.to_json() for t in self.targets],
            "audience": self.audience.to_json(),
            "contact": self.contact.to_json(),
            "channels": [c.to_json() for c in self.channels],
            "activities": list(self.activities),
        }


# ================================================================ the document
@dataclass(frozen=True, slots=True)
class _Sentence:
    raw: str  # the original text
    folded: str  # folded, non-deadline dates blanked; same length as raw
    line: int
    headings: tuple[str, ...]  # headings above it in its section, nearest last
    section: str  # folded roman-numeral section title
    in_targets: bool  # under a heading "chỉ tiêu"

    @property
    def evidence(self) -> Evidence:
        return Evidence(_clean(self.raw), self.line)


# A numbered heading: "III. TỔ CHỨC THỰC HIỆN", "2. Công đoàn cấp trên trực tiếp cơ sở", "a. Ban ...".
_NUMBERED = re.compile(r"^\s*(?P<mark>\d{1,2}(?:\.\d{1,2}){0,3}|[a-z])\s*[.)]\s*(?P<title>\S.*)$")
_ROMAN = re.compile(r"^\s*(?P<mark>[IVX]{1,4})\s*[.)]\s*(?P<title>\S.*)$")
_SENTENCE_END = re.compile(r"[.!?…]+\s+")
_LIST_MARK = re.compile(r"\s*(?:[-+•*]\s*)?(?:[IVX]{1,4}|\d{1,2}(?:\.\d{1,2}){0,3}|[a-zđ])?\s*")
_TARGETS_HEADING = _vi(r"chỉ\s+tiêu")
# The longest sentence of the seed plans has about 900 characters; a longer one is cut (see _Document._add).
MAX_SENTENCE = 2000
MAX_HEADINGS = 16  # headings kept above a sentence within its section; the seed plans have at most 7


def _mask(folded: str) -> str:
    """Blank the dates that are never deadlines: anniversary ranges and cited documents."""
    chars = list(folded)
    for m in ANNIVERSARY.finditer(folded):
        a, b = _date_parts(m.group("a")), _date_parts(m.group("b"))
        if a and b and a.year != b.year:
            chars[m.start() : m.end()] = "#" * (m.end() - m.start())
    for m in CITED_DOCUMENT.finditer(folded):
        chars[m.start("date") : m.end("date")] = "#" * (m.end("date") - m.start("date"))
    return "".join(chars)


def _heading_title(raw_title: str) -> str | None:
    """A numbered line is a heading when it is short, or when what precedes its ":" is."""
    title = raw_title.strip()
    if len(title) <= 120:
        return title
    head = title.split(":", 1)[0]
    return head if len(head) <= 80 and ":" in title else None


class _Document:
    def __init__(self, text: str) -> None:
        self.text = text
        self.folded = _mask(fold(text))
        self.lines = text.split("\n")
        self.sentences: list[_Sentence] = []
        self.headings: list[tuple[int, str]] = []  # (line, original title)
        offset = 0
        section = ""
        headings: list[str] = []
        in_targets = False
        for no, line in enumerate(self.lines, start=1):
            folded_line = self.folded[offset : offset + len(line)]
            roman = _ROMAN.match(line)
            numbered = _NUMBERED.match(folded_line) if not roman else None
            if roman:
                section = fold(roman.group("title"))
                headings = []
                in_targets = bool(_TARGETS_HEADING.search(section))
                self.headings.append((no, roman.group("title").strip()))
            elif numbered:
                title = _heading_title(line[numbered.start("title") :])
                if title is not None:
                    # The nearest few are what a sentence looks up; keeping all would copy O(n²) on a plan
                    # of thousands of numbered lines.
                    headings = [*headings[1 - MAX_HEADINGS :], _clean(title)]
                    in_targets = bool(_TARGETS_HEADING.search(fold(title)))
                    self.headings.append((no, title))
            start = 0
            for m in _SENTENCE_END.finditer(line):
                nxt = line[m.end() : m.end() + 1]
                # pos/endpos, not a slice: the piece since `start` can grow long on a line of lower-case sentences.
                if _LIST_MARK.fullmatch(line, start, m.start()):
                    continue  # "I. MỤC ĐÍCH", "2.1. Thi đua": a marker, not a sentence
                if (nxt and (nxt.isupper() or nxt in "“\"(")) or m.end() - start >= MAX_SENTENCE:
                    self._add(line[start : m.end()], folded_line[start : m.end()], no, headings, section, in_targets)
                    start = m.end()
            self._add(line[start:], folded_line[start:], no, headings, section, in_targets)
            offset += len(line) + 1

    def _add(self, raw: str, folded: str, no: int, headings: list[str], section: str, in_targets: bool) -> None:
        # Every sentence is searched several times per deadline it holds: a bound on its length keeps the
        # whole extraction linear in the size of the plan. A longer "sentence" is cut at a space.
        while len(raw) > MAX_SENTENCE:
            cut = raw.rfind(" ", MAX_SENTENCE // 2, MAX_SENTENCE) + 1 or MAX_SENTENCE
            self._add(raw[:cut], folded[:cut], no, headings, section, in_targets)
            raw, folded = raw[cut:], folded[cut:]
        if raw.strip():
            self.sentences.append(_Sentence(raw, folded, no, tuple(headings), section, in_targets))


# ================================================================ unit kinds
# Upper level (công đoàn cấp trên trực tiếp cơ sở): LĐLĐ huyện, Công đoàn ngành, CĐ Viên chức tỉnh.
_UPPER = _vi(
    r"cấp\s+trên(?:\s+trực\s+tiếp)?(?:\s+cơ\s+sở)?"
    r"|(?:lđlđ|liên\s+đoàn\s+lao\s+động)\s+(?:các\s+)?(?:huyện|thị\s+xã|quận)"
    r"|(?:công\s+đoàn|\bcđ)\s+ngành|(?:công\s+đoàn|\bcđ)\s+viên\s+chức\s+tỉnh"
)
# A grassroots union, with what qualifies it right after: "CĐCS doanh nghiệp", "Công đoàn cơ sở cơ
# quan hành chính, đơn vị sự nghiệp", "Công đoàn cơ sở trong các loại hình doanh nghiệp", "Các Công
# đoàn cơ sở trực thuộc Công đoàn Viên chức tỉnh" (those are in public agencies).
_GRASSROOTS = _vi(
    r"(?:\bcđcs\b|công\s+đoàn\s+cơ\s+sở)(?:\s*\(cđcs\))?"
    r"(?:\s*(?:trực\s+thuộc|thuộc|ở|tại|trong)?\s*(?:các\s+)?(?:khối\s+|loại\s+hình\s+)?"
    r"(?P<q>doanh\s+nghiệp(?:\s+(?P<private>ngoài\s+(?:khu\s+vực\s+)?nhà\s+nước)|\s+(?P<state>nhà\s+nước))?"
    r"|cơ\s+quan\s+hành\s+chính(?:\s*,\s*đơn\s+vị\s+sự\s+nghiệp)?|đơn\s+vị\s+sự\s+nghiệp|hcsn|khối\s+cơ\s+quan"
    r"|(?P<cdvc>(?:công\s+đoàn|cđ)\s+viên\s+chức(?:\s+tỉnh)?)))?"
)
_CDVC = _vi(r"công\s+đoàn\s+viên\s+chức|\bcđvc\b|\bcđ\s+viên\s+chức")
_GROUP_ORDER = ("upper", "grassroots", "enterprise", "enterprise_state", "enterprise_private", "public_agency")


@dataclass(frozen=True, slots=True)
class _Context:
    grassroots_kind: str  # "public_agency" in a plan of Công đoàn Viên chức (its CĐCS are all HCSN)
    years: _Years


def _kinds_in(folded: str, ctx: _Context) -> tuple[str, ...]:
    """The unit kinds a phrase names, most specific first removed when covered."""
    kinds: set[str] = set()
    chars = list(folded)
    for m in _GRASSROOTS.finditer(folded):
        if m.group("private"):
            kinds.add("enterprise_private")
        elif m.group("state"):
            kinds.add("enterprise_state")
        elif m.group("cdvc"):
            kinds.add("public_agency")
        elif m.group("q"):
            kinds.add("enterprise" if fold(m.group("q")).startswith("doanh") else "public_agency")
        else:
            kinds.add(ctx.grassroots_kind)
        chars[m.start() : m.end()] = " " * (m.end() - m.start())
    if _UPPER.search("".join(chars)):
        kinds.add("upper")
    return _simplify(kinds)


def _simplify(kinds: set[str]) -> tuple[str, ...]:
    if "grassroots" in kinds:
        kinds -= {"enterprise", "enterprise_state", "enterprise_private", "public_agency"}
    if "enterprise" in kinds:
        kinds -= {"enterprise_state", "enterprise_private"}
    return tuple(k for k in _GROUP_ORDER if k in kinds)


# ================================================================ years
class _Years:
    """Resolves d/m dates to a year: the plan's own date first, else the plan's year."""

    def __init__(self, identity: Identity, doc: _Document) -> None:
        self.reference: date | None = identity.date or (
            date(identity.blank_day_year, identity.blank_day_month or 1, 1) if identity.blank_day_year else None
        )
        year = identity.year
        if year is None and identity.title:
            m = re.search(r"nam\s+(\d{4})", fold(identity.title))
            year = int(m.group(1)) if m else None
        if year is None:  # the most common year among the plan's own (unmasked) full dates
            years = Counter(int(m.group(1)) for m in re.finditer(r"(?<![\d#])\d{1,2}\s*/\s*\d{1,2}\s*/\s*(\d{4})",
                                                                   doc.folded))
            year = years.most_common(1)[0][0] if years else None
        self.year = year

    def resolve(self, parts: _DateParts, day_default: int = 1, *, year_hint: int | None = None) -> date | None:
        day = parts.day or day_default
        if parts.year:
            return _safe_date(parts.year, parts.month, day)
        year = year_hint or self.year
        if year is None:
            return None
        found = _safe_date(year, parts.month, day)
        # "chậm nhất ngày 15/01" in a plan dated 20/12/2024 is in 2025.
        if found and year_hint is None and self.reference and found < self.reference - timedelta(days=31):
            found = _safe_date(year + 1, parts.month, day)
        return found


def _atom_bounds(atom: str, years: _Years, year_hint: int | None) -> tuple[date, date] | None:
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
        return date(year, month, 1), _month_end(year, month)
    parts = _date_parts(atom)
    if not parts:
        return None
    found = years.resolve(parts, year_hint=year_hint)
    return (found, found) if found else None


def _range_dates(m: re.Match[str], years: _Years) -> tuple[date, date] | None:
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
    return a[0], b[1]


# ================================================================ identity
_NUMBER = _vi(r"\bsố\s*:\s*(?P<n>\d+[a-z]?\s*/\s*[a-z]+(?:\s*" + DASH + r"\s*[a-z]+)*)")
_PLACE_DATE = _vi(
    r"(?P<place>[^\d,:;\t|]{2,40}?)\s*,\s*ngày\s*(?P<d>\d{1,2})?\s*tháng\s*(?P<m>\d{1,2})\s*năm\s*(?P<y>\d{4})"
)
_NOT_ISSUER = _vi(r"cộng\s+hòa|cộng\s+hoà|độc\s+lập|tự\s+do|hạnh\s+phúc|\bsố\s*:|ngày.*tháng.*năm|^[-_*=. ]*$")
_ORG_WORDS = _vi(r"công\s+đoàn|liên\s+đoàn|\bban\b|\blđlđ\b|\bcđ")
# The committees that issue a plan in its opening sentence ("Ban Thường vụ LĐLĐ tỉnh ban hành ...").
_ISSUING_COMMITTEE = r"ban\s+thường\s+vụ|ban\s+chấp\s+hành"
_PREAMBLE_ISSUER = _vi(
    r"(?P<who>" + _ISSUING_COMMITTEE + r")\s+(?P<org>(?:liên\s+đoàn|lđlđ|công\s+đoàn|cđ)[^,;.]{2,80}?)\s+"
    r"(?:ban\s+hành|xây\s+dựng|phát\s+động|triển\s+khai)"
)
_TITLE_STOP = _vi(r"^(?:thực\s+hiện|căn\s+cứ|nhằm|để|trên\s+cơ\s+sở|[ivx]+\s*\.)")
# Fewer kinds than DOCUMENT_KIND on purpose: a title may carry out a programme or a guide itself
# ("Kế hoạch triển khai thực hiện Chương trình ..."), and there is no "số" to tell a citation.
_TITLE_STOP_INLINE = _vi(r"\s(?:thực\s+hiện|căn\s+cứ)\s+(?:kế\s+hoạch|nghị\s+quyết|chỉ\s+thị|công\s+văn|quyết\s+định)")
_PLAN_WORD = re.compile(r"^\s*KẾ\s+HOẠCH\b")
_BASIS_START = _vi(r"^\s*(?:thực\s+hiện|căn\s+cứ)\b")
# "Thực hiện Kế hoạch số 17/KH-TLĐ ...; Nghị quyết số ..., Ban Thường vụ ... ban hành": up to the issuer.
_BASIS_ITEM = _vi(DOCUMENT_KIND + r"\s+số\s*[^;]{3,400}?(?=;|\.\s|\.$|$|,\s+(?:" + _ISSUING_COMMITTEE + r")\s)")
# Lower-case words inside an organisation's name once the header's capitals are undone.
_NAME_CASE: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\bLiên Đoàn Lao Động\b"), "Liên đoàn Lao động"),
    (re.compile(r"\bCông Đoàn\b"), "Công đoàn"),
    (re.compile(r"\bViên Chức\b"), "Viên chức"),
    (re.compile(r"\b(Tỉnh|Huyện|Thị Xã|Thành Phố|Quận|Ngành)\b"), lambda m: m.group(1).lower()),
]


def _org_case(upper: str) -> str:
    """'LIÊN ĐOÀN LAO ĐỘNG TỈNH ĐẮK LẮK' -> 'Liên đoàn Lao động tỉnh Đắk Lắk'."""
    words = [w[:1].upper() + w[1:].lower() for w in _clean(upper).split(" ")]
    text = " ".join(words)
    for pattern, repl in _NAME_CASE:
        text = pattern.sub(repl, text)
    return text


def _identity(doc: _Document) -> Identity:
    lines = doc.lines
    plan_line = next((i for i, line in enumerate(lines) if _PLAN_WORD.match(line)), None)
    header_end = plan_line if plan_line is not None else min(len(lines), 15)
    evidence: dict[str, Evidence] = {}

    # Issuer: the capitals above the title, left of the national motto. The last is the issuer,
    # the one above it the body it belongs to ("TỔNG LIÊN ĐOÀN LAO ĐỘNG VIỆT NAM").
    orgs: list[tuple[int, str]] = []
    number = place = None
    doc_date: date | None = None
    blank_month = blank_year = None
    for i in range(header_end):
        line = lines[i]
        folded_line = fold(line)
        if number is None and (m := _NUMBER.search(folded_line)):
            number = re.sub(r"\s+", "", line[m.start("n") : m.end("n")]).replace("–", "-")
            evidence["number"] = Evidence(_clean(line), i + 1)
        # On the whole line: a blank day is often typed as a run of spaces ("ngày      tháng 3").
        if place is None and (m := _PLACE_DATE.search(folded_line)):
            place = _clean(line[m.start("place") : m.end("place")])
            day, month, year = m.group("d"), int(m.group("m")), int(m.group("y"))
            if day:
                doc_date = _safe_date(year, month, int(day))
            else:
                blank_month, blank_year = month, year
            evidence["date"] = Evidence(_clean(line), i + 1)
        for piece in re.split(r"\t+| {3,}|\s\|\s", line):
            piece = piece.strip()
            folded = fold(piece)
            # 0.9: a header piece may hold a stray lower-case letter.
            if is_capitals(piece, 0.9) and not _NOT_ISSUER.search(folded) and _ORG_WORDS.search(folded):
                orgs.append((i + 1, piece))
    issuer = parent = None
    issuer_from: Literal["header", "preamble"] | None = None
    if orgs:
        issuer, issuer_from = _org_case(orgs[-1][1]), "header"
        evidence["issuer"] = Evidence(_clean(orgs[-1][1]), orgs[-1][0])
        if len(orgs) > 1:
            parent = _org_case(orgs[-2][1])

    # Title: the lines after "KẾ HOẠCH" up to the first sentence of the preamble.
    title = None
    basis_from = 0
    if plan_line is not None:
        rest = _PLAN_WORD.sub("", lines[plan_line]).strip()
        parts = [rest] if rest else []
        j = plan_line + 1
        while j < len(lines):
            line = lines[j].strip()
            if not line:
                if parts:
                    break
            elif _TITLE_STOP.match(fold(line)):
                break
            else:
                parts.append(line)
            j += 1
        if parts:
            joined = _clean(" ".join(parts))
            if m := _TITLE_STOP_INLINE.search(fold(joined)):
                joined = joined[: m.start()].strip()
            title = "Kế hoạch " + joined[:1].lower() + joined[1:] if joined else None
            evidence["title"] = Evidence(joined, plan_line + 2)
        basis_from = j

    # Issuer named in the preamble: "Ban Thường vụ LĐLĐ tỉnh ban hành Kế hoạch ..."
    # The preamble: what comes before section I (or the first lines, in a plan without sections).
    preamble = [s for s in doc.sentences if s.line > basis_from and s.line <= basis_from + 40 and not s.section]
    if issuer is None:
        for s in preamble:
            if _BASIS_START.match(s.folded):
                continue  # "Thực hiện Kế hoạch số ... của Ban Thường vụ LĐLĐ tỉnh": the cited document's issuer
            if (m := _PREAMBLE_ISSUER.search(s.folded)) and not re.search(r"\b(?:ve viec|cua)\b", m.group("org")):
                who = "Ban Thường vụ" if m.group("who").startswith("ban thuong") else "Ban Chấp hành"
                issuer = _clean(who + " " + s.raw[m.start("org") : m.end("org")])
                issuer_from = "preamble"
                evidence["issuer"] = s.evidence
                break

    basis: list[str] = []
    for s in preamble:
        if _BASIS_START.match(s.folded):
            basis.extend(_clean(s.raw[m.start() : m.end()]).rstrip(",") for m in _BASIS_ITEM.finditer(s.folded))
    return Identity(
        issuer=issuer, issuer_from=issuer_from, parent_issuer=parent, number=number, date=doc_date,
        blank_day_month=blank_month, blank_day_year=blank_year, place=place, title=title,
        basis=tuple(dict.fromkeys(basis)), evidence=evidence,
    )


# ================================================================ reporting duties
_REPORT_VERB = _vi(r"\b(?:báo\s+cáo|gửi|nộp)\b")
_BEFORE = _vi(r"\btrước\s+(?:ngày\s+)?(?P<date>" + DATE + ")")
_ON_OR_BEFORE = (
    _vi(r"\b(?:chậm|muộn)\s+nhất\s*(?:là\s+)?(?:vào\s+)?(?:ngày\s+)?(?P<date>" + DATE + ")"),
    _vi(r"\b(?:đến|tới)\s+hết\s+ngày\s+(?P<date>" + DATE + ")"),
)
_HALF_AND_YEAR = _vi(r"\b6\s+tháng\s*(?:,|và|/)\s*(?:cả\s+)?năm\b")
_FIRST_HALF = _vi(r"\b6\s+tháng\s+đầu\s+năm\b")
_PLAN_SUBMISSION = _vi(r"\b(?:gửi|nộp)\s+(?:01\s+|một\s+)?(?:bản\s+)?kế\s+hoạch")
_ROUND_WORD = _vi(r"\bđợt\s+(?P<n>\d{1,2}|i{1,3}|iv|v)\b")
_RESULTS_NAMED_PERIOD = _vi(r"kết\s+quả[^;()]{0,80}?tháng\s+công\s+nhân(?:\s+năm\s+(?P<y>\d{4}))?")
_RECIPIENT = _vi(
    r"\b(?:báo\s+cáo|gửi|nộp)\b[^;]*?\s(?:về|lên|cho|tới|đến)\s+"
    r"(?P<who>(?:lđlđ|liên\s+đoàn|tổng\s+liên\s+đoàn|công\s+đoàn|cđ|ban|văn\s+phòng|thường\s+trực)\b[^,;.]*)"
)
_RECIPIENT_STOP = _vi(
    r"\s(?:vào|trước|chậm|muộn|đến\s+hết|tới\s+hết|theo|để|trong|định\s+kỳ|bằng|tại|gửi|kèm"
    r"|qua\s+(?:báo\s+cáo|mail|e-?mail|thư|gmail|phần\s+mềm|zalo|địa\s+chỉ))\b|\s*\|"
)
_VIA = _vi(r"\bqua\s+(?P<via>(?:ban|văn\s+phòng|phòng)\b[^,;.)]*)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_URL = re.compile(r"(?:https?://|www\.)[^\s,;)\]]+")
_ROMAN_NUMBERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}


def _round_number(text: str) -> int:
    return int(text) if text.isdigit() else _ROMAN_NUMBERS[text]


def _deadlines_in(folded: str) -> list[tuple[re.Match[str], DueWording]]:
    ranges = [m.span() for m in RANGE.finditer(folded)]
    found = [(m, DueWording.BEFORE) for m in _BEFORE.finditer(folded)]
    for pattern in _ON_OR_BEFORE:
        found.extend((m, DueWording.ON_OR_BEFORE) for m in pattern.finditer(folded))
    # "từ 01/8/2024 đến hết ngày 31/12/2024" is a period, not a deadline.
    found = [(m, w) for m, w in found if not any(a <= m.start() < b for a, b in ranges)]
    return sorted(found, key=lambda item: item[0].start())


def _recipient(s: _Sentence) -> tuple[str | None, str | None]:
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
    who = _clean(raw).rstrip(" -–:")
    via = None
    if v := _VIA.search(folded):
        via = _clean(raw[v.start("via") : v.end("via")])
    return (who or None), via


def _channels_in(raw: str) -> tuple[str, ...]:
    found = [m.group() for m in _EMAIL.finditer(raw)]
    found += [m.group().rstrip(".") for m in _URL.finditer(raw)]
    return tuple(dict.fromkeys(found))


def _sender(s: _Sentence, verb_at: int, ctx: _Context) -> tuple[tuple[str, ...], str | None]:
    """Who reports: the subject before the verb ("Các CĐCS gửi ..."), else the nearest heading
    that names units ("2. Công đoàn cấp trên trực tiếp cơ sở")."""
    kinds = _kinds_in(s.folded[:verb_at], ctx)
    if kinds:
        return kinds, _clean(s.raw[:verb_at]) or None
    for heading in reversed(s.headings):
        kinds = _kinds_in(fold(heading), ctx)
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


def _coverage_in(s: _Sentence, start: int, end: int, ctx: _Context, skip: tuple[int, int] | None = None
                 ) -> tuple[Coverage | None, str | None]:
    """What a report covers, when its own words say so."""
    seg = s.folded[start:end]
    m: re.Match[str] | None
    for m in RANGE.finditer(seg):
        if skip and start + m.start() <= skip[0] < start + m.end():
            continue
        span = _range_dates(m, ctx.years)
        if span:
            return Coverage(span[0], span[1], "plan", _clean(s.raw[start + m.start() : start + m.end()])), None
    if m := _RESULTS_NAMED_PERIOD.search(seg):
        # "kết quả ... Tháng Công nhân năm 2024": the Workers' Month is May, every year.
        year = int(m.group("y")) if m.group("y") else ctx.years.year
        if year:
            text = _clean(s.raw[start + m.start() : start + m.end()])
            return Coverage(date(year, 5, 1), date(year, 5, 31), "named_period", text), None
    note = None
    if skip:
        after = s.raw[skip[1] : end]
        if p := re.match(r"\s*\(([^)]{3,200})\)", after):
            note = _clean(p.group(1))
    return None, note


def _duties(doc: _Document, ctx: _Context) -> list[Duty]:
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
        channels = _channels_in(s.raw)
        common: dict[str, Any] = {"evidence": s.evidence, "sender_kinds": sender_kinds, "sender_text": sender_text,
                  "recipient": recipient, "via": via, "channels": channels}
        for i, (m, wording) in enumerate(deadlines):
            start, end = _segment(s.folded, deadlines, i)
            seg = s.folded[start:end]
            parts = _date_parts(m.group("date"))
            due = ctx.years.resolve(parts) if parts else None
            if due is None:
                continue
            rounds = [r for r in _ROUND_WORD.finditer(seg) if start + r.start() < m.start()] or list(
                _ROUND_WORD.finditer(seg)
            )
            covers, note = _coverage_in(s, start, end, ctx, skip=m.span())
            half = _FIRST_HALF.search(seg)
            if covers is None and half:  # "báo cáo 6 tháng đầu năm ... trước ngày 05/7"
                covers = Coverage(date(due.year, 1, 1), date(due.year, 6, 30), "rhythm", _clean(
                    s.raw[start + half.start() : start + half.end()]))
            duties.append(Duty(
                kind="plan" if _PLAN_SUBMISSION.search(seg) or _PLAN_SUBMISSION.search(s.folded) else "results",
                date=due, wording=wording, wording_text=_clean(s.raw[m.start() : m.end()]),
                round=_round_number(rounds[-1].group("n")) if rounds else None,
                covers=covers, covers_note=note, **common,
            ))
        if not deadlines and rhythm_match:
            half_and_year = bool(_HALF_AND_YEAR.search(s.folded))
            covers, _ = _coverage_in(s, 0, len(s.folded), ctx)
            duties.append(Duty(
                kind="results", rhythm="half_and_year" if half_and_year else "half_year",
                rhythm_text=_clean(s.raw[rhythm_match.start() : rhythm_match.end()]), covers=covers, **common,
            ))
    return duties


# ================================================================ rounds and the activity window
_ROUND = _vi(r"\bđợt\s+(?P<n>\d{1,2}|i{1,3}|iv|v)\s*(?:[(:,]|" + DASH + r")?\s*\(?\s*(?=từ\b)")
_WINDOW = _vi(r"\bthời\s+gian(?:\s+(?:thực\s+hiện|tổ\s+chức|triển\s+khai))?\s*:\s*")


def _ranges_after(doc: _Document, lead: re.Pattern[str], ctx: _Context
                  ) -> Iterator[tuple[_Sentence, re.Match[str], re.Match[str], tuple[date, date]]]:
    """Each `lead` followed at once by a range of dates ("Đợt 1 (từ ... đến ...)"), in the plan's order:
    the sentence, the lead, the range and its dates."""
    for s in doc.sentences:
        for m in lead.finditer(s.folded):
            r = RANGE.match(s.folded, m.end())
            span = _range_dates(r, ctx.years) if r else None
            if r and span:
                yield s, m, r, span


def _rounds(doc: _Document, ctx: _Context) -> list[Round]:
    rounds: dict[int, Round] = {}
    for s, m, _, (start, end) in _ranges_after(doc, _ROUND, ctx):
        n = _round_number(m.group("n"))
        if n not in rounds:
            rounds[n] = Round(n, start, end, s.evidence)
    return [rounds[n] for n in sorted(rounds)]


def _activity_window(doc: _Document, ctx: _Context) -> Coverage | None:
    """"Thời gian thực hiện: Từ tháng 3 đến hết tháng 5 năm 2021": when the plan's activities happen."""
    for s, m, r, (start, end) in _ranges_after(doc, _WINDOW, ctx):
        return Coverage(start, end, "activity_window", _clean(s.raw[m.start() : r.end()]))
    return None


# ================================================================ targets
_PERCENT = re.compile(r"(?<![\d.,])(?P<n>\d{1,3}(?:[.,]\d{1,2})?)\s*%")
_AT_LEAST_BEFORE = _vi(r"(?:ít\s+nhất|tối\s+thiểu|không\s+dưới)\s*$")
_AT_MOST_BEFORE = _vi(r"(?:tối\s+đa|không\s+quá|không\s+vượt\s+quá)\s*$")
_AND_ABOVE_AFTER = _vi(r"^\s*trở\s+lên")
_AND_BELOW_AFTER = _vi(r"^\s*trở\s+xuống")
_OF_WHICH = _vi(r"\btrong\s+(?:đó|số\s+đó)\s*,?\s*$")
_ARTICLE = _vi(r"\s*(?:số\s+)?(?:các\s+)?")
_UNIT_WORD = _vi(r"đơn\s+vị")
_PEOPLE = _vi(
    r"^\s*(?:số\s+)?(?P<who>nữ\s+đoàn\s+viên|đoàn\s+viên|người\s+lao\s+động|nlđ|cnvclđ|cbccvclđ|ccvclđ"
    r"|công\s+nhân(?:\s+viên\s+chức)?\s+lao\s+động|cán\s+bộ\s+công\s+đoàn)\b"
)
_OF_UNIT = _vi(r"^\s*(?:của|ở|tại|trong)\s+(?:mỗi\s+|các\s+|từng\s+)?(?=cđcs\b|công\s+đoàn\s+cơ\s+sở|đơn\s+vị)")
_ITEMS = _vi(r"^\s*(?:số\s+)?(?:các\s+)?(?P<noun>bản|văn\s+bản|hồ\s+sơ|vụ\s+việc|trường\s+hợp|hợp\s+đồng)\b")
_PASSIVE = _vi(r"\s(?:đã\s+)?được\s")
_COUNT_NOUN = (
    r"(?:tin\s*,?\s*bài|hoạt\s+động|việc\s+làm|sáng\s+kiến|công\s+trình|mô\s+hình|sản\s+phẩm|phần\s+việc"
    r"|buổi|cuộc|lớp|bài|tin|đoàn\s+viên|người|lượt)"
)
_COUNT = _vi(
    r"(?:(?:\bcó\s+)?(?:ít\s+nhất|tối\s+thiểu)\s+|\bcó\s+)(?P<n>\d{1,3})(?![\d.,]?\d)(?!\s*%)\s+(?P<noun>"
    + _COUNT_NOUN + ")"
)
_AND_COUNT = _vi(r"\s+và\s+(?:ít\s+nhất\s+)?(?P<n>\d{1,3})\s+(?P<noun>" + _COUNT_NOUN + ")")
# Collective agreements (TƯLĐTT) are signed in enterprises.
_AGREEMENTS = _vi(r"thỏa\s+ước|tưlđtt")
_LEADING = re.compile(r"^[\s\-+•*–]+")


def _units_at(folded: str, pos: int) -> int:
    """Where the units named at `pos` end ("các CĐCS khối doanh nghiệp| tổ chức ..."); 0: none there."""
    at = _ARTICLE.match(folded, pos).end()  # type: ignore[union-attr]  # every part is optional: it always matches
    m = _GRASSROOTS.match(folded, at) or _UPPER.match(folded, at)
    return m.end() if m else 0


def _cut(text: str) -> str:
    return _LEADING.sub("", _clean(text)).rstrip(" .;,:…/")


@dataclass
class _TargetBuilder:
    ctx: _Context
    targets: list[TargetProposal] = field(default_factory=list)
    seen: set[tuple[Any, ...]] = field(default_factory=set)

    def add(self, t: TargetProposal, predicate: str) -> TargetProposal | None:
        key = (t.measure, t.threshold, t.comparator, t.scope, fold(predicate)[:60])
        if key in self.seen:
            return None
        self.seen.add(key)
        keys = {x.key for x in self.targets}
        base = t.key
        n = 2
        while t.key in keys:
            t = replace(t, key=f"{base[:36]}-{n}")
            n += 1
        self.targets.append(t)
        return t


def _comparator(before: str, after: str) -> tuple[str, int]:
    """The comparator a threshold is worded with, and how many characters of `after` it used."""
    if m := _AND_ABOVE_AFTER.match(after):
        return ">=", m.end()
    if m := _AND_BELOW_AFTER.match(after):
        return "<=", m.end()
    if _AT_MOST_BEFORE.search(before):
        return "<=", 0
    if _AT_LEAST_BEFORE.search(before):
        return ">=", 0
    return ">=", 0  # a bare "100%" in a list of chỉ tiêu is a floor too


def _key(text: str, threshold: Decimal) -> str:
    base = slug(text, 30, "-") or "chi-tieu"
    return f"{base}-{threshold.normalize():f}".replace(".", "-")[:40].strip("-")


def _count_need(raw_phrase: str, noun: str, role: Literal["count", "total"] = "count") -> Need:
    phrase = _cut(raw_phrase)
    return Need(role, "integer", f"Đơn vị có bao nhiêu {phrase}?", phrase, _clean(noun))


def _percent_targets(b: _TargetBuilder, s: _Sentence, start: int, end: int, m: re.Match[str],
                     previous: TargetProposal | None) -> TargetProposal | None:
    ctx = b.ctx
    folded, raw = s.folded, s.raw
    threshold = Decimal(m.group("n").replace(",", "."))
    before, after = folded[start : m.start()], folded[m.end() : end]
    comparator, used = _comparator(before, after)
    rest_at = m.end() + used
    rest_f, rest_r = folded[rest_at:end], raw[rest_at:end]
    clause = _cut(raw[start:end])
    before_kinds = _kinds_in(before, ctx)

    def make(measure: Literal["share_of_units", "ratio"], scope: tuple[str, ...] | None, needs: tuple[Need, ...],
             predicate: str, **extra: Any) -> TargetProposal | None:
        t = TargetProposal(key=_key(predicate, threshold), text=clause, evidence=s.evidence, measure=measure,
                           comparator=comparator, threshold=threshold, unit="%", scope=scope or None,
                           needs=needs, **extra)
        return b.add(t, predicate)

    # "trong đó 45% trở lên được xếp loại B": a share of what the previous target counted.
    if _OF_WHICH.search(before) and previous is not None and previous.measure == "ratio":
        num = next(n for n in previous.needs if n.role == "numerator")
        phrase = _cut(rest_r)
        noun = num.unit or "trường hợp"
        need = Need("numerator", "integer", f"Trong số đó, số {noun} {phrase}?", f"{noun} {phrase}", noun)
        return make("ratio", previous.scope, (need, replace(num, role="denominator")), phrase, parent=previous.key)

    # "100% CĐCS ...", "30% trở lên Công đoàn cơ sở cơ quan hành chính, đơn vị sự nghiệp ...": units.
    if np_end := _units_at(rest_f, 0):
        return _share(make, rest_r[np_end:], _kinds_in(rest_f[:np_end], ctx))

    # "ít nhất 50% đoàn viên của CĐCS tham gia ...": people, a ratio of two counts.
    if p := _PEOPLE.match(rest_f):
        who = _clean(rest_r[p.start("who") : p.end("who")])
        tail_f, tail_r = rest_f[p.end() :], rest_r[p.end() :]
        per_unit = False
        scope = before_kinds
        if o := _OF_UNIT.match(tail_f):
            # _OF_UNIT looks ahead for the unit word, so it is there when _units_at finds no unit
            np_end = _units_at(tail_f, o.end()) or _UNIT_WORD.match(tail_f, o.end()).end()  # type: ignore[union-attr]
            scope = _kinds_in(tail_f[o.start() : np_end], ctx) or scope
            per_unit = True
            tail_r = tail_r[np_end:]
        predicate = _cut(tail_r)
        numerator = Need("numerator", "integer", f"Bao nhiêu {who} của đơn vị {predicate}?", f"{who} {predicate}", who)
        denominator = Need("denominator", "integer", f"Đơn vị hiện có bao nhiêu {who}?", f"tổng số {who}", who)
        t = make("ratio", scope, (numerator, denominator), predicate)
        if t and per_unit:
            # Read per unit, the same words ask every unit to reach the rate: proposed beside the
            # overall ratio, for a person to keep one or both.
            b.add(replace(t, key=f"{t.key[:33]}-moi-dv", measure="share_of_units", threshold=Decimal(100),
                          comparator=">=", per_unit_share=threshold, companion_of=t.key), predicate + " moi don vi")
        return t

    # "100% các bản TƯLĐTT hết hạn ... được sửa đổi, ký lại": items, counted and then the share done.
    if it := _ITEMS.match(rest_f):
        noun = _clean(rest_r[it.start("noun") : it.end("noun")])
        scope = before_kinds or (("enterprise",) if _AGREEMENTS.search(rest_f) else ())
        passive = _PASSIVE.search(rest_f)
        if passive:
            denominator_phrase, done = _cut(rest_r[: passive.start()]), _cut(rest_r[passive.start() :])
            unclear = False
        else:
            denominator_phrase, done, unclear = _cut(rest_r), "đạt yêu cầu", True
        denominator_phrase = re.sub(r"^(?:số\s+)?(?:các\s+)?", "", denominator_phrase)
        denominator = Need("denominator", "integer", f"Số {denominator_phrase}?", f"số {denominator_phrase}", noun)
        numerator = Need("numerator", "integer", f"Trong đó, số {noun} {done}?", f"{noun} {done}", noun)
        return make("ratio", scope, (numerator, denominator), denominator_phrase + " " + done, unclear=unclear)

    # "Chỉ đạo CĐCS trong các loại hình doanh nghiệp phấn đấu 50% trở lên tổ chức ...": the units
    # are named before the threshold, the rest is what each must do.
    if before_kinds or s.in_targets:
        return _share(make, rest_r, before_kinds)
    return None


def _share(make: Any, predicate_raw: str, scope: tuple[str, ...]) -> TargetProposal | None:
    predicate_raw = re.sub(r"^\s*\((?:cđcs|CĐCS)\)", "", predicate_raw)
    predicate = _cut(predicate_raw)
    if not predicate:
        return None
    count = _COUNT.search(fold(predicate_raw))
    if count:
        phrase = predicate_raw[count.start("noun") :]
        noun = predicate_raw[count.start("noun") : count.end("noun")]
        need = _count_need(phrase, noun)
        return make("share_of_units", scope, (need,), predicate, count_at_least=int(count.group("n")))
    need = Need("check", "yes_no", f"Đơn vị đã {predicate} chưa?", predicate)
    return make("share_of_units", scope, (need,), predicate)


def _count_targets(b: _TargetBuilder, s: _Sentence, start: int, end: int) -> None:
    """"Mỗi CĐCS có ít nhất 01 hoạt động ... và 01 hoạt động ...", "LĐLĐ huyện có ít nhất 02 tin, bài"."""
    ctx = b.ctx
    folded, raw = s.folded, s.raw
    m = _COUNT.search(folded, start, end)
    if not m:
        return
    scope = _kinds_in(folded[start : m.start()], ctx)
    if not scope and not s.in_targets:
        return  # a task that names no units is not a target ("Tổ chức ít nhất 01 việc làm ...")
    clause = _cut(raw[start:end])
    counts = [(m.start("n"), int(m.group("n")), m.start("noun"), m.end("noun"))]
    pos = m.end()
    while a := _AND_COUNT.search(folded, pos, end):
        counts.append((a.start("n"), int(a.group("n")), a.start("noun"), a.end("noun")))
        pos = a.end()
    for i, (_n_at, n, noun_start, noun_end) in enumerate(counts):
        phrase_end = counts[i + 1][0] if i + 1 < len(counts) else end
        phrase = re.sub(r"\s+và\s*$", "", raw[noun_start:phrase_end])
        noun = raw[noun_start:noun_end]
        threshold = Decimal(n)
        if scope == ("upper",):
            # The district itself (one unit): its own count must reach the number.
            need = _count_need(phrase, noun, "total")
            t = TargetProposal(key=_key(phrase, threshold), text=clause, evidence=s.evidence, measure="total",
                               comparator=">=", threshold=threshold, unit="count", scope=scope, needs=(need,))
        else:
            need = _count_need(phrase, noun)
            t = TargetProposal(key=_key(phrase, threshold), text=clause, evidence=s.evidence,
                               measure="share_of_units", comparator=">=", threshold=Decimal(100), unit="%",
                               scope=scope or None, needs=(need,), count_at_least=n)
        b.add(t, _cut(phrase))


def _targets(doc: _Document, ctx: _Context) -> list[TargetProposal]:
    b = _TargetBuilder(ctx)
    for s in doc.sentences:
        previous: TargetProposal | None = None
        bounds = [0, *[i + 1 for i, c in enumerate(s.folded) if c == ";"], len(s.folded) + 1]
        for start, stop in itertools.pairwise(bounds):
            end = stop - 1
            if not s.folded[start:end].strip():
                continue
            p = _PERCENT.search(s.folded, start, end)
            if p:
                made = _percent_targets(b, s, start, end, p, previous)
                previous = made or previous
            else:
                _count_targets(b, s, start, end)
    return b.targets


# ================================================================ contact, channels, activities
_CONTACT = _vi(r"\bliên\s+hệ\s*:?\s*(?:với\s+)?")
_PERSON = _vi(r"^(?:đ/c|đồng\s+chí|ông|bà|chị|anh)\s+")
_DEPARTMENT = _vi(r"^(?:ban|văn\s+phòng|phòng)\b[^,;.()]*?(?=\s+(?:để|theo|qua|số|sđt|đt)\b|[,;.()]|$)")
_PHONE = _vi(r"\b(?:sđt|đt|điện\s+thoại|số\s+điện\s+thoại|dđ|di\s+động)\s*[:.]?\s*(?P<phone>\+?\d[\d .]{7,14}\d)")


def _contact(doc: _Document, duties: list[Duty], channels: list[Channel]) -> ContactProposal:
    name = position = phone = department = None
    evidence = None
    for s in doc.sentences:
        m = _CONTACT.search(s.folded)
        if not m:
            continue
        rest_f, rest_r = s.folded[m.end() :], s.raw[m.end() :]
        if p := _PERSON.match(rest_f):
            words = []
            for w in rest_r[p.end() :].split():
                clean = w.rstrip(",;.")
                if not clean[:1].isupper():
                    break
                words.append(clean)
                if clean != w:
                    break
            name = " ".join(words) or None
            after = rest_r[p.end() :].split(",", 1)
            if len(after) > 1:
                pos = after[1].split(",")[0]
                if not _PHONE.search(fold(pos)):
                    position = _clean(pos).rstrip(")") or None
        elif d := _DEPARTMENT.match(rest_f):
            department = _clean(rest_r[: d.end()])
        if ph := _PHONE.search(s.folded):
            phone = _clean(s.raw[ph.start("phone") : ph.end("phone")])
        evidence = s.evidence
        break
    if department is None:
        via = next((d.via for d in duties if d.via), None)
        if via:
            department = via
        elif position and (dept := re.search(r"(?i)\bban\b.*", position)):
            department = "Ban" + dept.group()[3:]
    email = next((c for d in duties for c in d.channels if "@" in c), None) or next(
        (c.value for c in channels if c.kind == "email"), None)
    return ContactProposal(department=department, name=name, position=position, phone=phone, email=email,
                           evidence=evidence)


def _channels(doc: _Document) -> list[Channel]:
    found: dict[str, Channel] = {}
    for s in doc.sentences:
        for value in _channels_in(s.raw):
            kind: Literal["email", "website"] = "email" if "@" in value else "website"
            found.setdefault(value, Channel(kind, value, s.evidence))
    return list(found.values())


_CONTENT_SECTION = _vi(r"nội\s+dung|hoạt\s+động|chủ\s+đề")
_NOT_CONTENT = _vi(r"chỉ\s+tiêu|mục\s+đích|yêu\s+cầu|tổ\s+chức\s+thực\s+hiện|thời\s+gian|kinh\s+phí")
_NOT_ACTIVITY = _vi(r"chỉ\s+tiêu|^nội\s+dung|^hình\s+thức|^thời\s+gian|^đối\s+tượng|^đối\s+với|^chủ\s+đề")


def _activities(doc: _Document) -> list[str]:
    """The numbered items of the plan's content sections ("II. NỘI DUNG HOẠT ĐỘNG"), shortened."""
    items: list[str] = []
    section = ""
    for line in doc.lines:
        if r := _ROMAN.match(line):
            section = fold(r.group("title"))
            continue
        if not _CONTENT_SECTION.search(section) or _NOT_CONTENT.search(section):
            continue
        n = _NUMBERED.match(fold(line))
        if not n:
            continue
        title = line[n.start("title") :]
        short = re.split(r"[:;]|\.\s", title, maxsplit=1)[0]
        short = _cut(short)
        if len(short) > 160:
            short = short[:157].rsplit(" ", 1)[0] + "…"
        if len(short) >= 8 and not _NOT_ACTIVITY.search(fold(short)):
            items.append(short)
    return list(dict.fromkeys(items))[:15]


# ================================================================ periods and audience
def _fmt(d: date) -> str:
    return f"{d.day}/{d.month}/{d.year}"


def _span_name(start: date, end: date) -> str:
    return f"{start:%d/%m}–{end:%d/%m/%Y}"


def _proposed_due(end: date) -> date:
    return end + timedelta(days=PROPOSED_DAYS_AFTER_END)


class UsedKeys(set[str]):
    """The keys given so far, and for each key the next number to try: a plan with thousands of
    periods of one name stays linear (a plain set works too, but rescans the numbers)."""

    def __init__(self) -> None:
        super().__init__()
        self.next_number: dict[str, int] = {}


def unique_key(key: str, used: set[str], sep: str = "-") -> str:
    numbers = used.next_number if isinstance(used, UsedKeys) else {}
    out, n = key, numbers.get(key, 2)
    if out in used:
        out = f"{key}{sep}{n}"
    while out in used:
        n += 1
        out = f"{key}{sep}{n}"
    if out != key:
        numbers[key] = n + 1
    used.add(out)
    return out


def _periods(identity: Identity, duties: list[Duty], rounds: list[Round], window: Coverage | None,
             years: _Years) -> list[PeriodProposal]:
    periods: list[PeriodProposal] = []
    used: set[str] = UsedKeys()
    by_number = {r.number: r for r in rounds}
    dated = sorted((d for d in duties if d.date and d.wording), key=lambda d: (d.date, d.kind != "plan"))
    prev_end: date | None = None
    for d in dated:
        assert d.date
        assert d.wording
        assert d.last_day
        end_default = d.last_day
        if d.covers:
            covers = d.covers
        elif d.round and d.round in by_number:
            r = by_number[d.round]
            covers = Coverage(r.start, r.end, "round", r.evidence.sentence)
        elif d.kind == "results" and window and window.start < d.date:
            covers = window
        else:
            start = prev_end + timedelta(days=1) if prev_end else (
                identity.date if identity.date and identity.date <= end_default else date(end_default.year, 1, 1))
            covers = Coverage(start, max(start, end_default), "inferred", d.covers_note)
        if d.kind == "plan":
            said = "trước" if d.wording is DueWording.BEFORE else "chậm nhất"
            key, name = "ke-hoach", f"Gửi kế hoạch ({said} {_fmt(d.date)})"
        elif d.round:
            key, name = f"dot-{d.round}", f"Đợt {d.round} ({_span_name(covers.start, covers.end)})"
        else:
            key, name = "ket-qua", f"Báo cáo kết quả ({_span_name(covers.start, covers.end)})"
        periods.append(PeriodProposal(
            key=unique_key(key, used), name=name, covers=covers, due_date=d.date, wording=d.wording,
            due_source="plan", due_text=d.wording_text or _fmt(d.date), kind=d.kind, evidence=d.evidence,
            round=d.round, note=f"Kế hoạch ghi: “{d.covers_note}”." if d.covers_note else None,
        ))
        prev_end = covers.end

    for d in duties:
        if d.date or not d.rhythm:
            continue
        year = (d.covers.end.year if d.covers else None) or years.year
        if year is None:
            continue
        said = d.rhythm_text or "6 tháng"
        spans: list[tuple[str, str, Coverage]] = []
        if d.rhythm == "half_and_year":
            spans.append(("6-thang", "Báo cáo 6 tháng", Coverage(date(year, 1, 1), date(year, 6, 30), "rhythm", said)))
            spans.append(("nam", f"Báo cáo năm {year}", Coverage(date(year, 1, 1), date(year, 12, 31), "rhythm", said)))
        else:
            covers = d.covers or Coverage(date(year, 1, 1), date(year, 6, 30), "rhythm", said)
            spans.append(("6-thang-dau-nam", "Báo cáo 6 tháng đầu năm", covers))
        for key, label, covers in spans:
            due = _proposed_due(covers.end)
            periods.append(PeriodProposal(
                key=unique_key(key, used), name=f"{label} ({_span_name(covers.start, covers.end)})", covers=covers,
                due_date=due, wording=DueWording.BEFORE, due_source="department",
                due_text=f"Kế hoạch không ghi hạn (chỉ ghi “{said}”); đề xuất: trước ngày {_fmt(due)} — cần xác nhận",
                kind="results", evidence=d.evidence,
                note="Hạn nộp là đề xuất vì kế hoạch không nêu ngày.",
            ))

    if not periods:
        for r in rounds:
            due = _proposed_due(r.end)
            periods.append(PeriodProposal(
                key=unique_key(f"dot-{r.number}", used), name=f"Đợt {r.number} ({_span_name(r.start, r.end)})",
                covers=Coverage(r.start, r.end, "round", r.evidence.sentence), due_date=due,
                wording=DueWording.BEFORE,
                due_source="department",
                due_text=f"Kế hoạch không nêu hạn báo cáo; đề xuất: trước ngày {_fmt(due)} — cần xác nhận",
                kind="results", evidence=r.evidence, round=r.number,
                note="Hạn nộp là đề xuất vì kế hoạch không nêu ngày.",
            ))
    return sorted(periods, key=lambda p: (p.due_at, p.covers.start))


_ADDRESSEES = _vi(r"\bđề\s+nghị\s+(?:các\s+)?(?P<who>[^,;.]{3,80})")
_ISSUER_BODY = _vi(r"^(?:" + _ISSUING_COMMITTEE + r"|thường\s+trực)\s+")


def _audience(doc: _Document, identity: Identity, duties: list[Duty], targets: list[TargetProposal],
              ctx: _Context) -> Audience:
    kinds: set[str] = set()
    for d in duties:
        kinds.update(d.sender_kinds)
    how: Literal["plan", "addressees", "default"] = "plan"
    if not kinds:
        for s in doc.sentences:
            if m := _ADDRESSEES.search(s.folded):
                kinds.update(_kinds_in(m.group("who"), ctx))
        how = "addressees" if kinds else "default"
    for t in targets:
        kinds.update(t.scope or ())
    if not kinds:
        kinds.add(ctx.grassroots_kind)
    if "upper" in kinds and not kinds & {"grassroots", "enterprise", "enterprise_state", "enterprise_private",
                                        "public_agency"}:
        # The upper level sums up what its grassroots unions did: in the bot they report to it.
        kinds.add(ctx.grassroots_kind)
    kinds.discard("province")
    recipient = next((d.recipient for d in duties if d.recipient), None)
    reports_to_from: Literal["plan", "issuer"] | None = "plan" if recipient else None
    if recipient is None and identity.issuer:
        f = fold(identity.issuer)
        m = _ISSUER_BODY.match(f)
        recipient = identity.issuer[m.end() :] if m else identity.issuer
        recipient = recipient[:1].upper() + recipient[1:]
        reports_to_from = "issuer"
    return Audience(_simplify(kinds), recipient, reports_to_from, how)


# ================================================================ the whole plan
def extract_plan(text: str) -> PlanProposal:
    """Everything the plan's text says that a campaign needs, each with its sentence."""
    doc = _Document(text)
    identity = _identity(doc)
    years = _Years(identity, doc)
    grassroots_kind = "public_agency" if identity.issuer and _CDVC.search(fold(identity.issuer)) else "grassroots"
    ctx = _Context(grassroots_kind=grassroots_kind, years=years)
    duties = _duties(doc, ctx)
    rounds = _rounds(doc, ctx)
    window = _activity_window(doc, ctx)
    targets = _targets(doc, ctx)
    channels = _channels(doc)
    periods = _periods(identity, duties, rounds, window, years)
    audience = _audience(doc, identity, duties, targets, ctx)
    contact = _contact(doc, duties, channels)
    return PlanProposal(
        identity=identity, duties=tuple(duties), rounds=tuple(rounds), activity_window=window,
        periods=tuple(periods), targets=tuple(targets), audience=audience, contact=contact,
        channels=tuple(channels), activities=tuple(_activities(doc)),
    )
