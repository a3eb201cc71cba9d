"""Build a summary for a campaign period within a scope, from the database."""

from __future__ import annotations

from datetime import datetime

from bot.gc_pause import cyclic_gc_paused
from bot.scope import scope_units
from bot.summary.compute import compute_summary
from bot.summary.model import Summary
from storage import campaigns as campaign_store
from storage import summaries as summary_store
from storage import units as unit_store
from storage.db import Database


class SummaryNotFoundError(LookupError):
    pass


async def build_summary(db: Database, campaign_id: str, period_key: str, *, scope_roots: list[int] | None,
                        scope_name: str, now: datetime) -> Summary:
    campaign = await campaign_store.campaign(db, campaign_id)
    if campaign is None:
        raise SummaryNotFoundError(f"unknown campaign {campaign_id!r}")
    rows = {p.key: p for p in await campaign_store.periods_of(db, campaign_id)}
    if period_key not in rows:
        raise SummaryNotFoundError(f"unknown period {period_key!r} of {campaign_id}; expected one of "
                                   f"{', '.join(rows)}")
    row = rows[period_key]
    with cyclic_gc_paused():  # ten thousand rows of answers: see bot/gc_pause.py
        units = await summary_store.unit_rows(db, campaign, row.id, scope_roots)
        return compute_summary(campaign=campaign, period=campaign.period(period_key), period_id=row.id,
                               due_at=row.due_at, closes_at=row.closes_at, as_of=now, scope_name=scope_name,
                               units=units)


async def scope_of(db: Database, person_id: int) -> tuple[list[int] | None, str] | None:
    """What a person may see: the subtrees of their officer, department and admin memberships' units (two
    provinces may share a database: nobody sees "everything" from a chat), or nothing (chairs)."""
    units = await scope_units(db, person_id)
    if not units:
        return None  # chairs see their own unit through /danop
    return [u.id for u in units], "; ".join(u.name for u in units)


async def scope_for_code(db: Database, code: str | None) -> tuple[list[int] | None, str]:
    """The command line's --scope: a unit code, or everything."""
    if not code:
        root = [u for u in await unit_store.all_units(db) if u.parent_id is None]
        return None, root[0].name if root else ""
    unit = await unit_store.by_code(db, code)
    if unit is None:
        raise SummaryNotFoundError(f"unknown unit code {code!r}")
    return [unit.id], unit.name
