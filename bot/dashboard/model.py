"""What each dashboard page shows, as plain records (bot/dashboard/views.py fills them; the web adapter renders
them). Names and labels are already in the reader's language; numbers, dates and states stay values, formatted
by the templates (1.234.567, 12,5%, dd/mm/yyyy in Asia/Ho_Chi_Minh, a state in words)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from bot.summary.model import share_reported


@dataclass(frozen=True, slots=True)
class PeriodItem:
    period_id: int
    campaign_title: str
    period_name: str
    due_at: datetime
    closes_at: datetime
    is_open: bool  # not yet closed (reports and reminders still possible)
    days_left: int  # whole days until the due instant (0 once due)
    days_late: int  # whole days since the due instant (0 before it)


@dataclass(frozen=True, slots=True)
class Counts:
    """A scope's (or an upper level's) reports by state; the rates are shares of `expected`."""

    expected: int
    on_time: int  # counted as submitted (a returned report is not), on time
    late: int
    returned: int
    approved: int
    waiting: int  # submitted, not yet reviewed
    missing: int

    @property
    def reported(self) -> int:
        return self.on_time + self.late

    def rate(self, name: str) -> Decimal:
        value = self.reported if name == "reported" else getattr(self, name)
        return share_reported(value, self.expected)


@dataclass(frozen=True, slots=True)
class UpperLine:
    unit_id: int
    code: str
    name: str
    counts: Counts


@dataclass(frozen=True, slots=True)
class CompletenessPage:
    period: PeriodItem
    scope_name: str
    counts: Counts
    uppers: list[UpperLine]
    may_remind: bool  # the period is open and reminders run


@dataclass(frozen=True, slots=True)
class UnitLine:
    unit_id: int
    code: str
    name: str
    state: str  # missing, waiting, returned, approved
    late: bool
    submitted_at: datetime | None
    revision: int
    contacts: tuple[str, ...]
    reachable: bool  # someone registered who has not blocked the bot


@dataclass(frozen=True, slots=True)
class DrillDown:
    period: PeriodItem
    upper: UpperLine
    units: list[UnitLine]
    may_remind: bool


@dataclass(frozen=True, slots=True)
class FileRef:
    attachment_id: int
    name: str
    is_photo: bool


@dataclass(frozen=True, slots=True)
class AnswerLine:
    number: int
    name: str  # the question's name: a return may point the chair at it
    label: str
    value: str  # as the reviewer's screen shows it
    flags: tuple[str, ...] = ()  # far from last period, more than the members
    files: tuple[FileRef, ...] = ()


@dataclass(frozen=True, slots=True)
class RevisionLine:
    revision: int
    at: datetime
    by: str
    channel: str
    late: bool


@dataclass(frozen=True, slots=True)
class HistoryLine:
    revision: int
    action: str  # approved, returned, resubmitted, reopened
    state_after: str
    at: datetime
    by: str
    reason: str | None
    fields: tuple[str, ...]  # the questions named, by their short labels


@dataclass(frozen=True, slots=True)
class UnitPage:
    period: PeriodItem
    unit: UnitLine
    upper_id: int | None  # the drill-down this unit belongs to, when the reader sees it
    submission_id: int | None
    reference: str | None
    answers: list[AnswerLine]
    revisions: list[RevisionLine]
    history: list[HistoryLine]
    photos: list[FileRef]
    may_decide: bool  # waiting, and the reader reviews this unit
    may_remind: bool


@dataclass(frozen=True, slots=True)
class TargetLine:
    label: str
    text: str
    sign: str  # ≥, >, ≤, <, =
    threshold: Decimal
    is_percent: bool
    value: Decimal | None
    met: bool | None
    units_meeting: int | None
    units_in_scope: int
    units_reported: int


@dataclass(frozen=True, slots=True)
class TargetsPage:
    period: PeriodItem
    scope_name: str
    overall: list[TargetLine]
    by_upper: list[tuple[UpperLine, list[TargetLine]]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class QueueItem:
    submission_id: int
    revision: int
    period_id: int
    unit_id: int
    unit_code: str
    unit_name: str
    title: str  # campaign — period
    reference: str
    late: bool
    waiting_since: datetime
    waiting_long: bool


@dataclass(frozen=True, slots=True)
class Queue:
    items: list[QueueItem]
    total: int  # waiting in all; `items` holds the oldest of them
    may_review: bool


@dataclass(frozen=True, slots=True)
class RemindResult:
    kind: str  # done; closed (the period has closed); off (reminders do not run in this process)
    late: int = 0  # late units chosen (within the scope)
    queued: int = 0  # messages queued
    unreachable: int = 0  # of the late units, those nobody can be reached at


@dataclass(frozen=True, slots=True)
class DecisionResult:
    # done, held (roll-up rule), replaced, already, reason (a return without one), not_yours
    kind: str
    action: str
    unit_name: str = ""
    told: int = 0
    note: str = ""
    cut: bool = False  # the reason was longer than the limit and was cut
    period_id: int | None = None
    unit_id: int | None = None


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: Path
    name: str
    mime: str
