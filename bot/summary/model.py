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
    on_time: int
    late: int

    @property
    def reported(self) -> int:
        return self.on_time + self.late

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

    @property
    def expected(self) -> int:
        return len(self.units)

    @property
    def on_time(self) -> int:
        return sum(1 for u in self.units if u.status == "on_time")

    @property
    def late(self) -> int:
        return sum(1 for u in self.units if u.status == "late")

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
