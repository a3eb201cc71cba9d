"""When reminders fall: slots before and after a due instant, moved out of quiet hours, Sundays and
public holidays (Tết included, from the maintained `holidays` package)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.campaign_model import Campaign
from bot.config import RemindersConfig

DEFAULT_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True, slots=True)
class Policy:
    days_before: tuple[int, ...]
    days_after: tuple[int, ...]
    send_time: time
    quiet_start: time
    quiet_end: time
    skip_sundays: bool
    skip_holidays: bool
    grace: timedelta
    escalate_after_days: int
    zone: ZoneInfo = DEFAULT_ZONE  # quiet hours and send times are local times here

    @classmethod
    def for_campaign(cls, cfg: RemindersConfig, campaign: Campaign) -> Policy:
        over = campaign.reminders
        return cls(
            days_before=over.days_before if over and over.days_before is not None else cfg.days_before,
            days_after=over.days_after if over and over.days_after is not None else cfg.days_after,
            send_time=over.send_time if over and over.send_time is not None else cfg.send_time,
            quiet_start=cfg.quiet_start,
            quiet_end=cfg.quiet_end,
            skip_sundays=cfg.skip_sundays,
            skip_holidays=cfg.skip_holidays,
            grace=timedelta(hours=cfg.grace_hours),
            escalate_after_days=cfg.escalate_after_days,
            zone=campaign.zone,
        )

    def in_grace(self, at: datetime, now: datetime) -> bool:
        """Whether a message planned for `at` is due at `now` and not yet stale (at most `grace` late)."""
        return at <= now and now - at <= self.grace


@dataclass(frozen=True, slots=True)
class Slot:
    """One reminder moment for a period: `name` is part of the outbox key, so it never changes."""

    name: str  # "before-7", "before-0", "after-3", "escalate-3"
    at: datetime  # aware, already moved to an allowed time
    days: int  # days before the due instant (negative: days late)


@lru_cache(maxsize=16)
def _vn_holidays(year: int) -> frozenset[date]:
    import holidays  # its country tables are slow to import; only the reminder clock needs them

    return frozenset(holidays.country_holidays("VN", years=[year]).keys())


def is_holiday(day: date) -> bool:
    return day in _vn_holidays(day.year)


def in_quiet_hours(moment: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # the quiet time runs over midnight


def _blocked_day(day: date, policy: Policy) -> bool:
    return (policy.skip_sundays and day.weekday() == 6) or (policy.skip_holidays and is_holiday(day))


def allowed_moment(at: datetime, policy: Policy) -> datetime:
    """The first allowed moment at or after `at`: out of quiet hours, off Sundays and holidays when those
    are skipped. Both moves repeat until neither applies (a skipped day can land in quiet hours)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    zone = policy.zone
    local = at.astimezone(zone)  # an instant in UTC must be judged by the local clock
    for _ in range(60):
        if in_quiet_hours(local.time(), policy.quiet_start, policy.quiet_end):
            day = local.date()
            if policy.quiet_start > policy.quiet_end and local.time() >= policy.quiet_start:
                day += timedelta(days=1)
            local = datetime.combine(day, policy.quiet_end, tzinfo=zone)
            continue
        if _blocked_day(local.date(), policy):
            local = datetime.combine(local.date() + timedelta(days=1), policy.send_time, tzinfo=zone)
            continue
        return local
    return local


def allowed_before(at: datetime, deadline: datetime, policy: Policy) -> datetime:
    """An allowed moment for a reminder due before `deadline`: forward if that is still in time, else the
    latest allowed moment before `at` (a warning late in the evening beats none)."""
    forward = allowed_moment(at, policy)
    if forward < deadline:
        return forward
    step = timedelta(minutes=30)
    moment = at
    for _ in range(14 * 48):  # at most two weeks back
        moment -= step
        if allowed_moment(moment, policy) == moment:
            return moment
    return at


def slots(policy: Policy, due_at: datetime) -> list[Slot]:
    """Every reminder moment of a period, in time order. "N days before" is the send time on the
    date N days before the due date (trước ngày 5/8: 3 days before is 2/8); 0 and 1 both fall on the last
    day when the due instant is midnight, so the slot is kept once; with a time of day (17:00 on D) "0" is the
    morning of D, before the deadline. Overdue "+N" is the N-th morning after the due instant. Dates and times
    are the policy's zone's."""
    zone = policy.zone
    due_local = due_at.astimezone(zone)
    due_day = due_local.date()
    out: dict[datetime, Slot] = {}
    for n in sorted(policy.days_before, reverse=True):
        day = due_day - timedelta(days=n)
        at = datetime.combine(day, policy.send_time, tzinfo=zone)
        if at >= due_local:  # "0" with a midnight due instant: the morning of the last day
            at = datetime.combine(day - timedelta(days=1), policy.send_time, tzinfo=zone)
        moved = allowed_before(at, due_local, policy)
        out.setdefault(moved, Slot(f"before-{n}", moved, n))
    for n in sorted(policy.days_after):
        moved = allowed_moment(_morning_after(policy, due_local, n), policy)
        out.setdefault(moved, Slot(f"after-{n}", moved, -n))
    return sorted(out.values(), key=lambda s: s.at)


def _morning_after(policy: Policy, due_local: datetime, n: int) -> datetime:
    """The N-th send time at or after the due instant (N = 0 counts as 1): the morning of D for a midnight
    deadline (D 00:00), the morning of D+1 for one at 17:00 on D."""
    first = datetime.combine(due_local.date(), policy.send_time, tzinfo=policy.zone)
    if first < due_local:
        first = datetime.combine(due_local.date() + timedelta(days=1), policy.send_time, tzinfo=policy.zone)
    return first + timedelta(days=max(n - 1, 0))


def escalation_slot(policy: Policy, due_at: datetime) -> Slot:
    n = policy.escalate_after_days
    at = _morning_after(policy, due_at.astimezone(policy.zone), n)
    return Slot(f"escalate-{n}", allowed_moment(at, policy), -n)
