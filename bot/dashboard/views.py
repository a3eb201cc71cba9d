"""Every dashboard page's data, for one person, re-authorised from the database on every call (reach.py).

`DashboardViews(services, config)` takes the running conversation (bot.conversation.common.Services: the database,
the clock, the zone, the reminders, the files folder, the review settings, the translators). Each method answers
None when the thing asked for does not exist or is outside the person's scope: the adapter shows one "not found"
page for both, so nothing tells another province's ids from missing ones.

Completeness and its drill-down take the fast path of the pushed completeness (service.unit_rows without the
answers, compute.compute_completeness): a department at 10,000 units renders in a small part of a second (see
bench/dashboard.py). Targets and downloads read the answers (build_summary), as /tonghop does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from bot.campaign_model import Campaign
from bot.config import Config
from bot.conversation.common import Services
from bot.i18n import Translator
from bot.summary.compute import compute_completeness, target_result
from bot.summary.model import Summary, TargetResult, UnitRow, UpperBreakdown
from bot.summary.service import build_summary, unit_rows
from storage import campaigns as campaign_store
from storage.db import Database

from . import actions, unit_page
from .model import (
    CompletenessPage,
    Counts,
    DecisionResult,
    DrillDown,
    PeriodItem,
    Queue,
    RemindResult,
    StoredFile,
    TargetLine,
    TargetsPage,
    UnitLine,
    UnitPage,
    UpperLine,
)
from .reach import Reach, listed, live_periods, period_in_reach, reach_of

DAY = timedelta(days=1)


def period_item(campaign: Campaign, row: campaign_store.PeriodRow, now: datetime, locale: str) -> PeriodItem:
    left = (row.due_at - now) / DAY
    return PeriodItem(row.id, campaign.title.get(locale), campaign.period(row.key).name.get(locale), row.due_at,
                      row.closes_at, now < row.closes_at, max(0, math.ceil(left)), max(0, math.floor(-left)))


def counts_of(summary: Summary) -> Counts:
    """The scope's counts, added up from its upper levels' (one pass over the units is already in them)."""
    rows = [upper_counts(b) for b in summary.uppers]
    return Counts(*(sum(getattr(c, name) for c in rows)
                    for name in ("expected", "on_time", "late", "returned", "approved", "waiting", "missing")))


def upper_counts(b: UpperBreakdown) -> Counts:
    return Counts(b.expected, b.on_time, b.late, b.returned, b.approved, b.waiting, b.missing)


def unit_line(r: UnitRow) -> UnitLine:
    return UnitLine(r.unit_id, r.code, r.name, r.state, r.status == "late", r.submitted_at, r.revision, r.contacts,
                    r.reachable)


def _target_line(r: TargetResult, locale: str) -> TargetLine:
    t = r.target
    return TargetLine(t.label.get(locale), t.text, t.comparator.sign, t.threshold, t.unit == "%", r.value, r.met,
                      r.units_meeting, r.units_in_scope, r.units_reported)


class DashboardViews:
    def __init__(self, services: Services, config: Config | None = None) -> None:
        self.services = services
        self.config = config

    @property
    def db(self) -> Database:
        return self.services.db

    def _t(self, locale: str) -> Translator:
        return self.services.translator(locale)

    # --- reading ----------------------------------------------------------------------------------------------

    async def periods(self, person_id: int, locale: str) -> list[PeriodItem] | None:
        """Periods open now and closed within the last 30 days that reach the scope, latest due first; None for
        someone who sees no other unit."""
        reach = await reach_of(self.db, person_id)
        if reach is None:
            return None
        now = self.services.clock.now()
        rows = [(c, r) for c, r in await live_periods(self.db, reach) if listed(c, r, now)]
        rows.sort(key=lambda cr: (not (now < cr[1].closes_at), cr[1].due_at if now < cr[1].closes_at else now,
                                  cr[0].id))
        return [period_item(c, r, now, locale) for c, r in rows]

    async def _completeness(self, reach: Reach, campaign: Campaign, row: campaign_store.PeriodRow,
                            roots: list[int] | None = None) -> Summary:
        """Who has reported within `roots` (by default the whole scope; a scope that is the whole tree is read as
        "everything", which unit_rows reads without walking it again)."""
        if roots is None and len(reach.ids) < len(reach.tree):
            roots = reach.roots
        rows = await unit_rows(self.db, campaign, row.id, roots, tree=reach.tree, answers=False)
        return compute_completeness(campaign=campaign, period=campaign.period(row.key), period_id=row.id,
                                    due_at=row.due_at, closes_at=row.closes_at, as_of=self.services.clock.now(),
                                    scope_name=reach.name, units=rows,
                                    waiting_days=self.services.review.waiting_days)

    def _may_remind(self, row: campaign_store.PeriodRow) -> bool:
        return self.services.reminders is not None and self.services.clock.now() < row.closes_at

    @staticmethod
    def _upper_lines(reach: Reach, summary: Summary) -> list[UpperLine]:
        wanted = {b.code for b in summary.uppers}
        ids = {v[0]: uid for uid, v in reach.tree.items() if v[0] in wanted}
        return [UpperLine(ids[b.code], b.code, b.name, upper_counts(b)) for b in summary.uppers if b.code in ids]

    async def completeness(self, person_id: int, period_id: int, locale: str) -> CompletenessPage | None:
        reach = await reach_of(self.db, person_id)
        found = await period_in_reach(self.db, reach, period_id) if reach else None
        if reach is None or found is None:
            return None
        campaign, row = found
        summary = await self._completeness(reach, campaign, row)
        return CompletenessPage(period_item(campaign, row, self.services.clock.now(), locale), reach.name,
                                counts_of(summary), self._upper_lines(reach, summary), self._may_remind(row))

    async def drill_down(self, person_id: int, period_id: int, upper_id: int, locale: str) -> DrillDown | None:
        """One upper level's grassroots units (and its own report), when that upper level is a row of the
        reader's completeness page."""
        reach = await reach_of(self.db, person_id)
        found = await period_in_reach(self.db, reach, period_id) if reach else None
        if reach is None or found is None or upper_id not in reach.ids:
            return None
        campaign, row = found
        # Only the upper level's subtree is read: a unit in the scope has its whole subtree in it.
        summary = await self._completeness(reach, campaign, row, [upper_id])
        upper = next((u for u in self._upper_lines(reach, summary) if u.unit_id == upper_id), None)
        if upper is None:
            return None
        units = [unit_line(r) for r in summary.units if r.upper_code == upper.code]
        return DrillDown(period_item(campaign, row, self.services.clock.now(), locale), upper, units,
                         self._may_remind(row))

    async def targets(self, person_id: int, period_id: int, locale: str) -> TargetsPage | None:
        """Each target of the period: value against threshold, met or not, for the whole scope and per upper
        level (the figures of the reports as /tonghop adds them up)."""
        reach = await reach_of(self.db, person_id)
        found = await period_in_reach(self.db, reach, period_id) if reach else None
        if reach is None or found is None:
            return None
        campaign, row = found
        summary = await build_summary(self.db, campaign.id, row.key, scope_roots=reach.roots, scope_name=reach.name,
                                      now=self.services.clock.now(), waiting_days=self.services.review.waiting_days)
        overall = [_target_line(r, locale) for r in summary.targets]
        by_code: dict[str, list[UnitRow]] = {}
        for u in summary.units:
            by_code.setdefault(u.upper_code, []).append(u)
        by_upper = []
        for line in self._upper_lines(reach, summary):
            results = [target_result(campaign, r.target, by_code.get(line.code, [])) for r in summary.targets]
            by_upper.append((line, [_target_line(r, locale) for r in results]))
        return TargetsPage(period_item(campaign, row, self.services.clock.now(), locale), reach.name, overall,
                           by_upper)

    async def unit(self, person_id: int, period_id: int, unit_id: int, locale: str) -> UnitPage | None:
        reach = await reach_of(self.db, person_id)
        found = await period_in_reach(self.db, reach, period_id) if reach else None
        if reach is None or found is None or unit_id not in reach.ids:
            return None
        campaign, row = found
        rows = await unit_rows(self.db, campaign, row.id, [unit_id], tree=reach.tree, answers=False)
        mine = next((r for r in rows if r.unit_id == unit_id), None)
        if mine is None:  # not expected to report in this campaign
            return None
        return await unit_page.build(self.services, reach, person_id, campaign, row, unit_line(mine),
                                     mine.upper_code, self._t(locale), self._may_remind(row),
                                     period_item(campaign, row, self.services.clock.now(), locale))

    async def photo(self, person_id: int, upload_id: int) -> StoredFile | None:
        """A kept photo or document, only when its unit is in the scope."""
        reach = await reach_of(self.db, person_id)
        if reach is None:
            return None
        return await unit_page.stored_file(self.db, reach, upload_id, self._uploads_root())

    def _uploads_root(self) -> Path | None:
        return self.config.data_dir / "uploads" if self.config is not None else None

    async def queue(self, person_id: int, locale: str) -> Queue:
        return await actions.queue(self.services, person_id, locale)

    # --- acting -----------------------------------------------------------------------------------------------

    async def remind(self, person_id: int, period_id: int, unit_id: int | None = None,
                     upper_id: int | None = None) -> RemindResult | None:
        reach = await reach_of(self.db, person_id)
        found = await period_in_reach(self.db, reach, period_id) if reach else None
        if reach is None or found is None:
            return None
        return await actions.remind(self.services, reach, found[1], unit_id, upper_id)

    async def decide(self, person_id: int, submission_id: int, revision: int, action: str, reason: str = "",
                     locale: str = "vi", fields: Sequence[str] = ()) -> DecisionResult | None:
        """approve | return (a reason required; `fields`: the questions the chair should look at)."""
        return await actions.decide(self.services, person_id, submission_id, revision, action, reason,
                                    self._t(locale), fields)

    async def download(self, person_id: int, period_id: int, fmt: str, locale: str) -> StoredFile | None:
        reach = await reach_of(self.db, person_id)
        found = await period_in_reach(self.db, reach, period_id) if reach else None
        if reach is None or found is None or fmt not in actions.DOWNLOADS:
            return None
        return await actions.download(self.services, reach, found[0], found[1], fmt, self._t(locale))
