"""The clock's side of the product: gather what the planner needs, record its plan in the outbox, and
let the sender drain it. Every minute (a plain APScheduler job that handlers/serve.py adds to the bot's event
loop) or once from the command line; the database, not the scheduler, remembers what was planned and sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.campaign_model import Campaign
from bot.config import RemindersConfig, ReviewConfig
from bot.dialog.model import Reply
from bot.domain import Role, UnitKind
from bot.gc_pause import cyclic_gc_paused
from bot.i18n import Translator, translator
from bot.reminder_text import escalation_reply, reminder_reply
from bot.summary.model import Summary
from bot.summary.service import PeriodRead, completeness_within, read_period
from bot.summary.text import completeness_text
from scheduler.memory import Base, PeriodMark, PlanMemory
from scheduler.planner import PeriodTask, Planned, UnitTask, due_slot, escalation_due, plan, reminder_item, summary_key
from scheduler.policy import Policy, Slot, allowed_moment, slots
from scheduler.review_digest import digest_items, due_day
from storage import campaigns as campaign_store
from storage import drafts as draft_store
from storage import outbox
from storage import reminders as reminder_store
from storage import units as unit_store
from storage.db import Database
from storage.outbox import OutboxItem
from storage.reminders import Recipient

BUTTON_CHANNELS = frozenset({"telegram"})


@dataclass(frozen=True, slots=True)
class PlanResult:
    pending: int  # new messages recorded for sending
    superseded: int
    planned: list[Planned]


@dataclass(frozen=True, slots=True)
class _Due:
    """An open period with a reminder or an escalation due at the moment asked, before anything is gathered."""
    campaign: Campaign
    policy: Policy
    row: campaign_store.PeriodRow
    current: Slot | None
    stale: tuple[Slot, ...]
    escalation: Slot | None

    def names(self) -> tuple[object, ...]:
        return (self.row.due_at, self.row.closes_at, self.current.name if self.current else None,
                tuple(s.name for s in self.stale), self.escalation.name if self.escalation else None)


# (campaign, period row, slot name, at): a pushed summary whose window is open now
_SummarySlot = tuple[Campaign, campaign_store.PeriodRow, str, datetime]


class ReminderPlanner:
    def __init__(self, db: Database, config: RemindersConfig, zone: ZoneInfo, locales_dir: Path, *,
                 review: ReviewConfig | None = None) -> None:
        self.db, self.config, self.zone, self.locales_dir = db, config, zone, locales_dir
        self.review = review or ReviewConfig()
        self.digests = review is not None  # the reviewers' daily digest: for a planner given the [review] settings
        self._digest_day: date | None = None  # the day whose digests this planner has recorded
        self.memory = PlanMemory()  # what plan_once last saw: a shortcut, never the truth (scheduler/memory.py)

    def t(self, locale: str) -> Translator:
        return translator(locale, self.locales_dir)

    async def tasks(self, now: datetime, period_ids: set[int] | None = None) -> list[PeriodTask]:
        """Periods with a reminder or an escalation due now, with their units that have not reported."""
        return [await self._gather(d) for d in await self._due(now) if period_ids is None or d.row.id in period_ids]

    async def _due(self, now: datetime) -> list[_Due]:
        """The open periods with a slot or an escalation due now: campaigns and periods only, no recipient."""
        out = []
        for campaign in await campaign_store.live_campaigns(self.db):
            policy = Policy.for_campaign(self.config, campaign)
            for row in await campaign_store.periods_of(self.db, campaign.id):
                if now >= row.closes_at:
                    continue
                current, stale = due_slot(slots(policy, row.due_at), now, policy)
                escalation = escalation_due(policy, row.due_at, now)
                if current is None and escalation is None:
                    continue
                out.append(_Due(campaign, policy, row, current, tuple(stale), escalation))
        return out

    async def _gather(self, due: _Due) -> PeriodTask:
        return await self._task(due.campaign, due.policy, due.row, due.current, due.stale, due.escalation)

    async def _task(self, campaign: Campaign, policy: Policy, row: campaign_store.PeriodRow,
                    current: Slot | None = None, stale: tuple[Slot, ...] = (), escalation: Slot | None = None
                    ) -> PeriodTask:
        within = None
        if campaign.audience.within:
            root = await unit_store.by_code(self.db, campaign.audience.within)
            within = root.id if root else -1
        expected = await unit_store.of_kinds(self.db, campaign.audience.scope.kinds, within)
        done = await reminder_store.submitted_units(self.db, row.id)
        late = [u for u in expected if u.id not in done]
        people = await reminder_store.recipients(self.db, [u.id for u in late], (Role.CHAIR.value, Role.OFFICER.value))
        drafts: dict[int, tuple[int, int]] = {}
        for d in sorted(await draft_store.open_for(self.db, row.id), key=lambda d: d.updated_at):
            drafts[d.unit_id] = (d.step, d.steps_total)
        units = tuple(
            UnitTask(u.id, u.code, u.name, u.parent_id,
                     tuple(p for p in people.get(u.id, []) if _reports_for(p, u.kind)), drafts.get(u.id))
            for u in late
        )
        superiors: dict[int, tuple[Recipient, ...]] = {}
        if escalation is not None:
            parents = sorted({u.parent_id for u in late if u.parent_id is not None})
            found = await reminder_store.recipients(self.db, parents, (Role.OFFICER.value, Role.DEPARTMENT.value))
            superiors = {pid: tuple(found.get(pid, [])) for pid in parents}
        return PeriodTask(row.id, campaign, campaign.period(row.key), row.due_at, row.closes_at, policy, units,
                          superiors, current, stale, escalation)

    async def task_for(self, period_id: int) -> PeriodTask | None:
        row = await campaign_store.period_by_id(self.db, period_id)
        campaign = await campaign_store.campaign(self.db, row.campaign_id) if row else None
        if row is None or campaign is None:
            return None
        return await self._task(campaign, Policy.for_campaign(self.config, campaign), row)

    async def on_request(self, period_id: int, now: datetime, within: set[int] | None
                         ) -> tuple[list[UnitTask], list[OutboxItem]]:
        """"Remind them now": the late units in scope and a reminder for each reachable person, under a slot
        named after the minute of the request (so a second request in the same minute adds nothing)."""
        task = await self.task_for(period_id)
        if task is None:
            return [], []
        late = [u for u in task.late_units if within is None or u.unit_id in within]
        slot = Slot(f"manual-{now.astimezone(self.zone):%Y%m%d%H%M}", now, 0)
        items = [
            reminder_item(task, slot, u, p, self._render(task, slot, u, p), kind="manual")
            for u in late for p in u.recipients if p.channel is not None and p.chat_id is not None
        ]
        return late, items

    async def enqueue(self, items: Sequence[OutboxItem], now: datetime) -> int:
        return await outbox.add(self.db, list(items), now)

    def _render(self, task: PeriodTask, slot: Slot, unit: UnitTask, person: Recipient) -> dict:
        reply = reminder_reply(
            self.t(person.locale), campaign=task.campaign, period=task.period, period_id=task.period_id,
            unit_id=unit.unit_id, unit_name=unit.name, due_at=task.due_at, at=slot.at, zone=task.campaign.zone,
            draft=unit.draft, buttons=person.channel in BUTTON_CHANNELS,
        )
        return reply.to_json()

    def _render_escalation(self, task: PeriodTask, slot: Slot, parent_id: int, units: list[UnitTask],
                           person: Recipient) -> dict:
        late = [(u.name, any(p.channel for p in u.recipients)) for u in units]
        reply = escalation_reply(self.t(person.locale), campaign=task.campaign, period=task.period,
                                 due_at=task.due_at, at=slot.at, zone=task.campaign.zone, late_units=late)
        return reply.to_json()

    async def preview(self, now: datetime) -> list[Planned]:
        """What would be planned at `now` (new keys only, pushed summaries included), writing nothing."""
        return await self._preview(now, await self._due(now), await self._summary_slots(now))

    async def _preview(self, now: datetime, due: list[_Due], summary_slots: list[_SummarySlot]) -> list[Planned]:
        planned = plan([await self._gather(d) for d in due], now, self._render, self._render_escalation)
        known = await outbox.existing_keys(self.db, [p.item.key for p in planned])
        # Only new messages are rendered: a tick inside the grace window finds most keys already known.
        out = [Planned(p.rendered(), p.status) for p in planned if p.item.key not in known]
        for campaign, row, slot, at in summary_slots:
            out.extend(Planned(item, "pending") for item in await self._summary_slot(campaign, row, slot, at, now))
        return out

    async def summary_items(self, now: datetime) -> list[OutboxItem]:
        """Completeness pushed without asking: at the due instant and again days later, to the department
        (everything) and to each upper-level officer (their subtree); once per slot, through the outbox."""
        items: list[OutboxItem] = []
        for campaign, row, slot, at in await self._summary_slots(now):
            items.extend(await self._summary_slot(campaign, row, slot, at, now))
        return items

    async def _summary_slots(self, now: datetime) -> list[_SummarySlot]:
        out: list[_SummarySlot] = []
        if not self.config.summary_days_after:
            return out
        for campaign in await campaign_store.live_campaigns(self.db):
            policy = Policy.for_campaign(self.config, campaign)
            for row in await campaign_store.periods_of(self.db, campaign.id):
                for days in self.config.summary_days_after:
                    # At the due instant (midnight) means the first waking moment after it.
                    at = allowed_moment(row.due_at + timedelta(days=days), policy)
                    if policy.in_grace(at, now):
                        out.append((campaign, row, f"summary-{days}", at))
        return out

    async def _summary_slot(self, campaign: Campaign, row: campaign_store.PeriodRow, slot: str, at: datetime,
                            now: datetime) -> list[OutboxItem]:
        """One read of the period, cut per reader's scope in memory; readers of the same scope share one
        build and, in the same language, one text: the tick stays linear in the size of the province."""
        readers = [(person, roots, name) for person, roots, name in await reminder_store.summary_readers(self.db)
                   if person.channel is not None and person.chat_id is not None]
        keys = {person.person_id: summary_key(row.id, person.person_id, slot) for person, _r, _n in readers}
        known = await outbox.existing_keys(self.db, keys.values())
        readers = [r for r in readers if keys[r[0].person_id] not in known]
        if not readers:
            return []
        read = await read_period(self.db, campaign, row)
        builds: dict[frozenset[int] | None, Summary] = {}
        texts: dict[tuple[frozenset[int] | None, str, str], str | None] = {}
        out: list[OutboxItem] = []
        with cyclic_gc_paused():  # a build per scope over thousands of rows: see bot/gc_pause.py
            for person, roots, scope_name in readers:
                text_key = (None if roots is None else frozenset(roots), scope_name, person.locale)
                if text_key not in texts:
                    texts[text_key] = self._completeness(read, builds, roots, scope_name, person.locale, now)
                text = texts[text_key]
                if text is None or person.channel is None or person.chat_id is None:
                    continue
                title = self.t(person.locale)("📊 Reporting status — /tonghop for the full summary")
                out.append(OutboxItem(keys[person.person_id], "summary", person.person_id, None, row.id,
                                      person.channel, person.chat_id, at, Reply(text, title=title).to_json()))
        return out

    def _completeness(self, read: PeriodRead, builds: dict[frozenset[int] | None, Summary],
                      roots: list[int] | None, scope_name: str, locale: str, now: datetime) -> str | None:
        """The pushed text for one scope (None: nothing to report there); the build is shared by every reader of
        the same units, whatever their scope's name."""
        scope = None if roots is None else frozenset(roots)
        if scope not in builds:
            builds[scope] = completeness_within(read, roots, scope_name=scope_name, now=now,
                                                waiting_days=self.review.waiting_days)
        summary = replace(builds[scope], scope_name=scope_name)
        return completeness_text(summary, self.t(locale), self.zone) if summary.units else None

    async def plan_once(self, now: datetime) -> PlanResult:
        """Plan and record what is new at `now`. Only periods and summary slots whose fingerprint moved since
        the last successful plan are gathered (scheduler/memory.py); the outbox's keys keep it idempotent."""
        # A report returned for correction puts its unit back among those reminded: part of the fingerprint.
        audience = (await reminder_store.audience_marks(self.db), await reminder_store.return_marks(self.db))
        versions = await reminder_store.campaign_versions(self.db)
        due = await self._due(now)
        submitted = await reminder_store.submission_marks(self.db)
        marks = {d.row.id: PeriodMark((versions.get(d.campaign.id), audience, *d.names()), submitted) for d in due}
        todo = [d for d in due if await self._needs_plan(d.row.id, marks[d.row.id], now)]
        summary_slots = await self._summary_slots(now)
        summary_marks: dict[tuple[int, str], Base] = {(row.id, slot): (versions.get(campaign.id), audience)
                                                      for campaign, row, slot, _at in summary_slots}
        summary_todo = [s for s in summary_slots
                        if self.memory.summary_is_new(s[1].id, s[2], summary_marks[(s[1].id, s[2])], now)]
        planned = await self._preview(now, todo, summary_todo)
        pending = await outbox.add(self.db, [p.item for p in planned if p.status == "pending"], now)
        superseded = await outbox.add(self.db, [p.item for p in planned if p.status == "superseded"], now,
                                      status="superseded")
        # Remembered only now that the plan is recorded: a tick that failed half-way is planned again in full.
        pending += await self._review_digests(now)
        planned_ids = {d.row.id for d in todo}
        for d in due:
            self.memory.remember_period(d.row.id, marks[d.row.id], now, d.row.id in planned_ids)
        self.memory.forget_periods_except(set(marks))
        self.memory.remember_summaries(summary_marks, {(s[1].id, s[2]) for s in summary_todo}, now)
        return PlanResult(pending, superseded, planned)

    async def _review_digests(self, now: datetime) -> int:
        """Today's reviewers' digests (scheduler/review_digest.py), looked for once a day once their time has come;
        the outbox keys keep another process or a restart from sending them twice."""
        due = due_day(now, self.review, self.config, self.zone) if self.digests else None
        if due is None or self._digest_day == due[0]:
            return 0
        day = due[0]
        items = await digest_items(self.db, self.review, self.config, self.zone, self.t, now)
        added = await outbox.add(self.db, items, now)
        self._digest_day = day
        return added

    async def _needs_plan(self, period_id: int, mark: PeriodMark, now: datetime) -> bool:
        verdict = self.memory.period_verdict(period_id, mark, now)
        if verdict != "submitted":
            return verdict == "plan"
        # A submission only takes a unit off the late list (its queued reminders are skipped when sent), so
        # submissions that were only added since the last plan leave nothing new to plan; one removed does.
        count, newest = self.memory.previous_submitted(period_id)
        return await reminder_store.submissions_after(self.db, newest) != mark.submitted[0] - count


def _reports_for(person: Recipient, kind: UnitKind) -> bool:
    """Grassroots units are reminded through their chairs, upper-level units through their officers."""
    return person.role == (Role.OFFICER.value if kind is UnitKind.UPPER else Role.CHAIR.value)
