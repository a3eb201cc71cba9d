"""What a summary says, as plain records; every renderer reads only these."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.campaign_model import Campaign, FormField, Period, Target
from bot.domain import UnitKind

ONE_PLACE = Decimal("0.1")


def share_reported(reported: int, expected: int) -> Decimal:
    """Reported as a % of expected, to one place; 0 when nothing is expected."""
    if not expected:
        return Decimal(0)
    return (Decimal(reported) * 100 / Decimal(expected)).quantize(ONE_PLACE)


@dataclass(frozen=True, slots=True)
class UnitRow:
    unit_id: int
    code: str
    name: str
    kind: UnitKind
    upper_code: str  # the upper-level union it belongs to (itself for an upper-level union)
    upper_name: str
    status: str  # "on_time", "late", "missing"
    submitted_at: datetime | None
    revision: int
    reference: str | None
    answers: dict[str, Any]
    reachable: bool  # someone registered who has not blocked the bot
    contacts: tuple[str, ...] = ()  # names of the people who report for it
    review_state: str = ""  # storage/reviews.py's state of its report: submitted, returned, approved ("": none)
    review_reason: str | None = None  # the reviewer's last reason (a return, a reopening)
    review_since: datetime | None = None  # when the report entered that state

    @property
    def state(self) -> str:
        """missing, waiting (submitted, not yet reviewed), returned or approved: the four counts summaries show."""
        if self.status == "missing":
            return "missing"
        if self.review_state in ("returned", "approved"):
            return self.review_state
        return "waiting"

    @property
    def counts_as_reported(self) -> bool:
        """A report returned for correction is not counted as submitted until it comes back."""
        return self.status != "missing" and self.review_state != "returned"


@dataclass(frozen=True, slots=True)
class FieldTotal:
    field: FormField
    answered: int
    sum: Decimal | None = None
    average: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    yes: int | None = None  # yes/no fields
    choices: dict[str, int] = dataclasses.field(default_factory=dict)  # select fields: value -> units


@dataclass(frozen=True, slots=True)
class TargetResult:
    target: Target
    value: Decimal | None  # % or count; None when nothing could be computed yet
    met: bool | None
    units_meeting: int | None
    units_in_scope: int
    units_reported: int


@dataclass(frozen=True, slots=True)
class UpperBreakdown:
    code: str
    name: str
    expected: int
    on_time: int  # reports counted as submitted (returned ones are not), on time or late
    late: int
    returned: int = 0
    approved: int = 0
    waiting_long: int = 0  # reports waiting for review longer than the configured days

    @property
    def reported(self) -> int:
        return self.on_time + self.late

    @property
    def waiting(self) -> int:
        """Submitted and not yet reviewed."""
        return self.reported - self.approved

    @property
    def missing(self) -> int:
        return self.expected - self.reported - self.returned

    @property
    def completeness(self) -> Decimal:
        return share_reported(self.reported, self.expected)


@dataclass(frozen=True, slots=True)
class Narrative:
    unit_name: str
    upper_name: str
    text: str


@dataclass(frozen=True, slots=True)
class Summary:
    campaign: Campaign
    period: Period
    period_id: int
    due_at: datetime
    closes_at: datetime
    as_of: datetime
    scope_name: str
    units: list[UnitRow]
    uppers: list[UpperBreakdown]
    totals: list[FieldTotal]
    targets: list[TargetResult]
    narratives: list[Narrative]
    approved_only: bool = False  # the figures (totals, targets, highlights) are those of approved reports only
    waiting_days: int = 3  # a report waiting for review longer than this is pointed out ([review] waiting_days)

    @property
    def waiting_long(self) -> int:
        return sum(u.waiting_long for u in self.uppers)

    @property
    def expected(self) -> int:
        return len(self.units)

    @property
    def on_time(self) -> int:
        return sum(1 for u in self.units if u.status == "on_time" and u.counts_as_reported)

    @property
    def late(self) -> int:
        return sum(1 for u in self.units if u.status == "late" and u.counts_as_reported)

    def count_state(self, state: str) -> int:
        """How many units are in this state: missing, waiting, returned, approved."""
        return sum(1 for u in self.units if u.state == state)

    @property
    def missing(self) -> int:
        return sum(1 for u in self.units if u.status == "missing")

    @property
    def reported(self) -> int:
        return self.on_time + self.late

    @property
    def completeness(self) -> Decimal:
        return share_reported(self.reported, self.expected)

    def furthest_behind(self, n: int) -> list[UpperBreakdown]:
        """The n upper-level unions with the lowest share reported (by code among equals), for the views too
        small to list them all."""
        return sorted(self.uppers, key=lambda u: (u.completeness, u.code))[:n]

    @property
    def missing_units(self) -> list[UnitRow]:
        return [u for u in self.units if u.status == "missing"]
