"""What a unit has to report, and when: its campaigns' periods with due instants and status."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.campaign_model import Campaign, Period, last_day
from bot.domain import Unit
from storage import campaigns as campaign_store
from storage import submissions as submission_store
from storage import units as unit_store
from storage.db import Database
from storage.submissions import SubmissionRow


class Status(enum.StrEnum):
    OPEN = "open"  # before the due instant, not submitted
    OVERDUE = "overdue"  # past due, still accepted (marked late) until the period closes
    SUBMITTED = "submitted"
    CLOSED = "closed"  # past the closing instant, not submitted


@dataclass(frozen=True, slots=True)
class Deadline:
    campaign: Campaign
    period: Period
    period_id: int
    due_at: datetime
    closes_at: datetime
    status: Status
    days: int  # whole days left (OPEN) or late (OVERDUE, CLOSED); 0 when SUBMITTED
    submission: SubmissionRow | None


async def campaigns_for_unit(db: Database, unit: Unit) -> list[Campaign]:
    """Live campaigns whose audience includes this unit's kind and (if set) the subtree it must be in."""
    out = []
    lineage: set[str] | None = None
    for campaign in await campaign_store.live_campaigns(db):
        audience = campaign.audience
        if not audience.scope.includes(unit.kind):
            continue
        if audience.within:
            if lineage is None:
                lineage = {unit.code} | {u.code for u in await unit_store.ancestors(db, unit.id)}
            if audience.within not in lineage:
                continue
        out.append(campaign)
    return out


def days_left_or_late(due_at: datetime, now: datetime, zone: ZoneInfo) -> int:
    """Days as a union chair counts them, by the calendar in `zone` rather than in 24-hour spans. Before the
    due instant: the days left, today included (1 on the last day). From it on: the days late (1 on the day
    after the last day). /hannop, reminders and receipts all count with this, so they never disagree."""
    last = last_day(due_at).astimezone(zone).date()
    today = now.astimezone(zone).date()
    days = (last - today).days + 1 if now < due_at else (today - last).days
    return max(days, 1)  # a due instant off midnight must not read "0 days late"


def _status(due_at: datetime, closes_at: datetime, now: datetime, zone: ZoneInfo,
            sub: SubmissionRow | None) -> tuple[Status, int]:
    if sub is not None:
        return Status.SUBMITTED, 0
    days = days_left_or_late(due_at, now, zone)
    if now < due_at:
        return Status.OPEN, days
    return (Status.OVERDUE if now < closes_at else Status.CLOSED), days


async def deadlines_for_unit(db: Database, unit: Unit, now: datetime) -> list[Deadline]:
    """Every period of the unit's campaigns, soonest due first."""
    subs = await submission_store.of_unit(db, unit.id)
    items: list[Deadline] = []
    for campaign in await campaigns_for_unit(db, unit):
        rows = {p.key: p for p in await campaign_store.periods_of(db, campaign.id)}
        for period in campaign.periods:
            row = rows.get(period.key)
            if row is None:
                continue
            sub = subs.get(row.id)
            status, days = _status(row.due_at, row.closes_at, now, campaign.zone, sub)
            items.append(Deadline(campaign, period, row.id, row.due_at, row.closes_at, status, days, sub))
    items.sort(key=lambda d: (d.status is Status.CLOSED, d.due_at))
    return items
