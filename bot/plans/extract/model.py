"""What the readers propose: plain frozen records, each with the sentence it was read from (`Evidence`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.campaign_model import DEFAULT_TIMEZONE, DueWording, due_instant
from bot.campaign_model import last_day as last_moment

ZONE = ZoneInfo(DEFAULT_TIMEZONE)  # the zone the draft campaign is written in
# How sure a reader is of a date: written in full, its year inferred (d/m), or proposed by the importer.
Confidence = Literal["stated", "inferred_year", "proposed"]

@dataclass(frozen=True, slots=True)
class Evidence:
    """The sentence a proposal was read from, and its line in the plan (1-based)."""

    sentence: str
    line: int

    def to_json(self) -> dict[str, Any]:
        return {"sentence": self.sentence, "line": self.line}


@dataclass(frozen=True, slots=True)
class Identity:
    kind: str | None = None  # ke_hoach, thong_bao, huong_dan, quyet_dinh, cong_van, giao_uoc, bao (news) ...
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
            "type": self.kind,
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
    time: dt.time | None = None  # "trước 17h00 ngày D": due at that time of the day, not at midnight
    confidence: Confidence = "stated"
    yearly: bool = False  # "trước ngày 15/12 hằng năm": one of the proposed yearly deadlines

    @property
    def due_at(self) -> datetime | None:
        if self.date and self.time:
            return datetime.combine(self.date, self.time, tzinfo=ZONE)
        return due_instant(self.date, self.wording, ZONE) if self.date and self.wording else None

    @property
    def last_day(self) -> dt.date | None:  # dt.: `date` is also a field here
        """The last day to report on: the day before a "before" date, the date itself for "on or before"
        or when a time of that day is written."""
        if self.date and self.time:
            return self.date
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
            "time": self.time.strftime("%H:%M") if self.time else None,
            "confidence": self.confidence,
            "yearly": self.yearly,
            **self.evidence.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Milestone:
    """"hoàn thành tổng kết xong trước ngày D": a date that ends a task, not a report. Shown, never a period."""

    date: date
    wording: DueWording
    text: str  # "trước ngày 20/12/2024"
    evidence: Evidence
    time: dt.time | None = None
    confidence: Confidence = "stated"

    def to_json(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "wording": self.wording, "text": self.text,
                "time": self.time.strftime("%H:%M") if self.time else None, "confidence": self.confidence,
                **self.evidence.to_json()}


@dataclass(frozen=True, slots=True)
class Round:
    """"Đợt 1 (từ tháng 01/2024 đến 31/7/2024)": a round of the plan with its dates."""

    number: int
    start: date
    end: date
    evidence: Evidence
    name: str | None = None  # "Quý 3/2024", "năm học 2021–2022": a named period read as a round
    confidence: Confidence = "stated"

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "name": self.name, "confidence": self.confidence, **self.evidence.to_json()}


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
    # The plan writes no reporting date at all: the department must type one before the draft loads.
    due_missing: bool = False
    time: dt.time | None = None  # "trước 17h00 ngày D": due at that time on D, written as the due's `time`

    @property
    def due_at(self) -> datetime:
        return due_instant(self.due_date, self.wording, ZONE, self.time)

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
                    "text": self.due_text, "time": self.time.strftime("%H:%M") if self.time else None},
            "due_at": self.due_at.isoformat(),
            "last_day": self.last_day.isoformat(),
            "proposed": self.proposed,
            "no_date_in_plan": self.proposed,
            "due_missing": self.due_missing,
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
    milestones: tuple[Milestone, ...] = ()

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
            "milestones": [m.to_json() for m in self.milestones],
            "rounds": [r.to_json() for r in self.rounds],
            "activity_window": self.activity_window.to_json() if self.activity_window else None,
            "periods": [p.to_json() for p in self.periods],
            "targets": [t.to_json() for t in self.targets],
            "audience": self.audience.to_json(),
            "contact": self.contact.to_json(),
            "channels": [c.to_json() for c in self.channels],
            "activities": list(self.activities),
        }
