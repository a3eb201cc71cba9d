"""Build a summary for a campaign period within a scope, from the database."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from bot.campaign_model import Campaign
from bot.errors import N_, TranslatableError
from bot.gc_pause import cyclic_gc_paused, return_free_memory
from bot.scope import Children, children_index, scope_units, upper_of, walk, within
from bot.summary.compute import compute_completeness, compute_summary
from bot.summary.model import Summary, UnitRow
from storage import campaigns as campaign_store
from storage import summaries as summary_store
from storage import units as unit_store
from storage.db import Database


class SummaryNotFoundError(TranslatableError, LookupError):
    """A campaign, period or unit code the summary was asked for does not exist; render(t) names it."""


async def build_summary(db: Database, campaign_id: str, period_key: str, *, scope_roots: list[int] | None,
                        scope_name: str, now: datetime, approved_only: bool = False,
                        waiting_days: int = 3) -> Summary:
    """`approved_only`: the figures are those of approved reports only (the counts by state show every report)."""
    campaign = await campaign_store.campaign(db, campaign_id)
    if campaign is None:
        raise SummaryNotFoundError(N_("unknown campaign {campaign}"), campaign=repr(campaign_id))
    rows = {p.key: p for p in await campaign_store.periods_of(db, campaign_id)}
    if period_key not in rows:
        raise SummaryNotFoundError(N_("unknown period {period} of {campaign}; expected one of {periods}"),
                                   period=repr(period_key), campaign=campaign_id, periods=", ".join(rows))
    row = rows[period_key]
    with cyclic_gc_paused():  # ten thousand rows of answers: see bot/gc_pause.py
        units = await unit_rows(db, campaign, row.id, scope_roots)
        # The computing is pure and takes most of a second at 10,000 units: in a worker thread, so the
        # event loop goes on answering other people meanwhile.
        summary = await asyncio.to_thread(
            compute_summary, campaign=campaign, period=campaign.period(period_key), period_id=row.id,
            due_at=row.due_at, closes_at=row.closes_at, as_of=now, scope_name=scope_name, units=units,
            approved_only=approved_only, waiting_days=waiting_days)
    return_free_memory()  # the answers' JSON read for the rows: ~85 MB at 50,000 units, not kept for the files
    return summary


async def unit_rows(db: Database, campaign: Campaign, period_id: int, scope_roots: list[int] | None, *,
                    tree: summary_store.UnitTree | None = None, answers: bool = True) -> list[UnitRow]:
    """One row per unit expected to report in the period, within the scope (None: everything): the tree, the
    period's submissions and the contacts in a handful of queries whatever the number of units. `answers=False`:
    the answers are not read (empty), for who-has-reported alone."""
    if tree is None:
        tree = await summary_store.unit_tree(db)
    allowed = set(tree) if scope_roots is None else within(tree, scope_roots)
    whole = len(allowed) == len(tree)  # a province's staff in a one-province database: read contacts in one query
    if campaign.audience.within:
        root = next((uid for uid, v in tree.items() if v[0] == campaign.audience.within), None)
        allowed &= within(tree, [root]) if root is not None else set()
    expected = [uid for uid in allowed if campaign.audience.scope.includes(tree[uid][2])]
    subs = await summary_store.latest_submissions(db, period_id, answers=answers)
    reasons = await summary_store.last_review_reasons(db, period_id)
    contacts, reachable = await summary_store.contacts(db, expected, everything=whole)
    rows = []
    uppers: dict[int, tuple[str, str]] = {}
    for uid in _in_summary_order(tree, expected, uppers):
        code, name, kind, _parent = tree[uid]
        upper_code, upper_name = uppers[uid]
        sub = subs.get(uid)
        status = "missing" if sub is None else ("late" if sub.late else "on_time")
        rows.append(UnitRow(
            uid, code, name, kind, upper_code, upper_name, status,
            sub.first_submitted_at() if sub else None, sub.revision if sub else 0,
            sub.reference if sub else None, sub.answers() if sub and answers else {}, uid in reachable,
            tuple(contacts.get(uid, [])), sub.review_state if sub else "", reasons.get(uid),
            sub.review_since() if sub else None,
        ))
    return rows


def _in_summary_order(tree: summary_store.UnitTree, expected: list[int], uppers: dict[int, tuple[str, str]]
                      ) -> list[int]:
    """The units in the order every summary lists them (by upper level, then code; compute_summary's order),
    each one's upper level memoised in `uppers`. Rows made in this order sit in memory in the order they are
    read afterwards: made in the order of a set of ids and then sorted, 20,000 rows (and their answers) were
    read in scattered order by every later pass, twice the units cost 2.5x the time (cache misses)."""
    keyed = sorted((upper_of(tree, uid, uppers)[0], tree[uid][0], uid) for uid in expected)
    return [uid for _upper, _code, uid in keyed]


@dataclass(frozen=True, slots=True)
class PeriodRead:
    """A period read once for the whole organisation, to be cut per reader's scope in memory: the pushed
    summary has hundreds of readers, and a read per reader would make the tick grow with the square of the
    province."""

    campaign: Campaign
    period_key: str
    period_id: int
    due_at: datetime
    closes_at: datetime
    children: Children
    rows: dict[int, UnitRow]  # unit id -> its row, every unit expected to report; answers not read


async def read_period(db: Database, campaign: Campaign, row: campaign_store.PeriodRow) -> PeriodRead:
    """The tree, the submissions and the contacts of one period: the same queries as one whole-organisation
    summary, whatever the number of readers; the answers are not read (the push shows who has reported)."""
    with cyclic_gc_paused():  # see build_summary
        tree = await summary_store.unit_tree(db)
        rows = await unit_rows(db, campaign, row.id, None, tree=tree, answers=False)
    return PeriodRead(campaign, row.key, row.id, row.due_at, row.closes_at, children_index(tree),
                      {r.unit_id: r for r in rows})


def completeness_within(read: PeriodRead, scope_roots: list[int] | None, *, scope_name: str,
                        now: datetime, waiting_days: int = 3) -> Summary:
    """Who has reported within this scope (None: everything), as build_summary gives it but without totals,
    targets or narratives (the pushed text shows none), cut from the period read in the size of the scope."""
    units = (list(read.rows.values()) if scope_roots is None
             else [read.rows[uid] for uid in walk(read.children, scope_roots) if uid in read.rows])
    return compute_completeness(campaign=read.campaign, period=read.campaign.period(read.period_key),
                                period_id=read.period_id, due_at=read.due_at, closes_at=read.closes_at, as_of=now,
                                scope_name=scope_name, units=units, waiting_days=waiting_days)


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
        raise SummaryNotFoundError(N_("unknown unit code {code}"), code=repr(code))
    return [unit.id], unit.name
