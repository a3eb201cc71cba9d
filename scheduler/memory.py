"""What the last successful plan saw, so the per-minute tick does work only for what changed.

For each open period the planner remembers a fingerprint of everything its messages' keys depend on: the
campaign's version, the period's dates, the names of the due slots, the marks of the audience (units, people,
memberships, identities: storage.reminders.audience_marks) and of the submissions. A tick whose
fingerprint is the one remembered has nothing new to plan and skips the period without reading a recipient.

This is only a shortcut: the database stays the source of truth. A new planner (a restart, a second process)
remembers nothing and plans everything once, which the outbox's unique keys make idempotent; every period is
planned in full again at least every `full_every` whatever the marks say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

# The slots' names, the campaign's version and dates, the audience's marks: all but the submissions.
Base = tuple[object, ...]
Submitted = tuple[int, int]  # (how many submissions there are, the newest id), over every period


@dataclass(frozen=True, slots=True)
class PeriodMark:
    base: Base
    submitted: Submitted


@dataclass
class PlanMemory:
    full_every: timedelta = timedelta(hours=1)
    periods: dict[int, tuple[PeriodMark, datetime]] = field(default_factory=dict)
    summaries: dict[tuple[int, str], tuple[Base, datetime]] = field(default_factory=dict)

    def period_verdict(self, period_id: int, mark: PeriodMark, now: datetime) -> str:
        """"same": nothing to plan; "submitted": only the submissions moved (the caller checks that they were
        only added); "plan": plan the period in full."""
        seen = self.periods.get(period_id)
        if seen is None or now - seen[1] >= self.full_every or now < seen[1] or seen[0].base != mark.base:
            return "plan"
        if seen[0].submitted == mark.submitted:
            return "same"
        return "submitted"

    def previous_submitted(self, period_id: int) -> Submitted:
        return self.periods[period_id][0].submitted

    def remember_period(self, period_id: int, mark: PeriodMark, now: datetime, planned: bool) -> None:
        """After a successful plan (planned) or a skip (the full plan's time is kept)."""
        at = now if planned or period_id not in self.periods else self.periods[period_id][1]
        self.periods[period_id] = (mark, at)

    def forget_periods_except(self, period_ids: set[int]) -> None:
        """Periods with nothing due any more are dropped: the memory stays as small as what is due."""
        for pid in [p for p in self.periods if p not in period_ids]:
            del self.periods[pid]

    def summary_is_new(self, period_id: int, slot: str, base: Base, now: datetime) -> bool:
        seen = self.summaries.get((period_id, slot))
        return seen is None or seen[0] != base or now - seen[1] >= self.full_every or now < seen[1]

    def remember_summaries(self, current: dict[tuple[int, str], Base], planned: set[tuple[int, str]],
                           now: datetime) -> None:
        """The summary slots in their window now; those planned this tick are stamped now, the others keep
        their stamp, slots out of their window are dropped."""
        self.summaries = {key: (base, now if key in planned or key not in self.summaries else self.summaries[key][1])
                          for key, base in current.items()}
