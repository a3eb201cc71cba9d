"""The reminder planner: a pure function from (periods, who has not reported, now) to the messages due.

For each period it takes the latest slot that is due; if that slot is still inside the grace window
it is planned for every reachable person of every unit that has not submitted, under the key
(period, unit, person, slot). Older due slots that were never planned are recorded as superseded:
after downtime a stale reminder is replaced by the newer one instead of sending both. The outbox's
unique key makes planning the same slot twice impossible, however often the clock ticks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial

from bot.campaign_model import Campaign, Period
from scheduler.policy import Policy, Slot, allowed_moment, escalation_slot
from storage.outbox import OutboxItem
from storage.reminders import Recipient


@dataclass(frozen=True, slots=True)
class UnitTask:
    unit_id: int
    code: str
    name: str
    parent_id: int | None
    recipients: tuple[Recipient, ...]
    draft: tuple[int, int] | None = None  # (question, questions) of an open draft


@dataclass(frozen=True, slots=True)
class PeriodTask:
    period_id: int
    campaign: Campaign
    period: Period
    due_at: datetime
    closes_at: datetime
    policy: Policy
    late_units: tuple[UnitTask, ...]  # expected and not submitted
    # Escalation: for each parent unit id, the officers (or department staff) to tell.
    superiors: dict[int, tuple[Recipient, ...]] = field(default_factory=dict)
    # What is due at the moment the task was gathered for (ReminderPlanner.tasks): the reminder slot to send, the older
    # due slots it supersedes, the escalation slot when one is due.
    current: Slot | None = None
    stale: tuple[Slot, ...] = ()
    escalation: Slot | None = None


@dataclass(frozen=True, slots=True)
class Planned:
    item: OutboxItem  # payload still empty: rendering waits until the key is known to be new
    status: str  # "pending" or "superseded"
    render: Callable[[], dict] | None = None

    def rendered(self) -> OutboxItem:
        return replace(self.item, payload=self.render()) if self.render is not None else self.item


Render = Callable[[PeriodTask, Slot, UnitTask, Recipient], dict]
RenderEscalation = Callable[[PeriodTask, Slot, int, list[UnitTask], Recipient], dict]


def reminder_key(period_id: int, unit_id: int, person_id: int, slot: str) -> str:
    return f"r:{period_id}:{unit_id}:{person_id}:{slot}"


def escalation_key(period_id: int, parent_id: int, person_id: int, slot: str) -> str:
    return f"e:{period_id}:{parent_id}:{person_id}:{slot}"


def summary_key(period_id: int, person_id: int, slot: str) -> str:
    return f"s:{period_id}:{person_id}:{slot}"


def due_slot(all_slots: list[Slot], now: datetime, policy: Policy) -> tuple[Slot | None, list[Slot]]:
    """(the slot to send now, or None; the older due slots it supersedes)."""
    due = [s for s in all_slots if s.at <= now]
    if not due:
        return None, []
    latest = due[-1]
    if not policy.in_grace(latest.at, now):
        return None, due  # everything due is stale: nothing is sent, all are superseded
    return latest, due[:-1]


def escalation_due(policy: Policy, due_at: datetime, now: datetime) -> Slot | None:
    """The escalation slot if escalating is on and the slot is due and still within the grace period."""
    if policy.escalate_after_days <= 0:
        return None
    slot = escalation_slot(policy, due_at)
    return slot if policy.in_grace(slot.at, now) else None


def plan(tasks: list[PeriodTask], now: datetime, render: Render, render_escalation: RenderEscalation
         ) -> list[Planned]:
    """The messages of `tasks`, open periods gathered at `now` with their due slots (ReminderPlanner.tasks)."""
    out: list[Planned] = []
    for task in tasks:
        current = task.current
        for unit in task.late_units:
            for person in unit.recipients:
                if person.channel is None or person.chat_id is None:
                    continue  # unreachable: shown to superiors instead
                for slot in task.stale:
                    out.append(Planned(reminder_item(task, slot, unit, person, {}), "superseded"))
                if current is not None:
                    item = reminder_item(task, current, unit, person, {})
                    # A catch-up after downtime waits for waking hours instead of going out at night.
                    item = replace(item, planned_for=max(current.at, allowed_moment(now, task.policy)))
                    out.append(Planned(item, "pending", partial(render, task, current, unit, person)))
        out.extend(_escalations(task, render_escalation))
    return out


def reminder_item(task: PeriodTask, slot: Slot, unit: UnitTask, person: Recipient, payload: dict,
                  kind: str = "reminder") -> OutboxItem:
    """A reminder to one reachable person of a late unit, planned for the slot's moment."""
    assert person.channel is not None
    assert person.chat_id is not None
    return OutboxItem(
        key=reminder_key(task.period_id, unit.unit_id, person.person_id, slot.name),
        kind=kind, person_id=person.person_id, unit_id=unit.unit_id, period_id=task.period_id,
        channel=person.channel, chat_id=person.chat_id, planned_for=slot.at, payload=payload,
    )


def _escalations(task: PeriodTask, render: RenderEscalation) -> list[Planned]:
    slot = task.escalation
    if slot is None or not task.superiors:
        return []
    by_parent: dict[int, list[UnitTask]] = {}
    for unit in task.late_units:
        if unit.parent_id is not None:
            by_parent.setdefault(unit.parent_id, []).append(unit)
    out = []
    for parent_id, units in sorted(by_parent.items()):
        for person in task.superiors.get(parent_id, ()):
            if person.channel is None or person.chat_id is None:
                continue
            out.append(Planned(OutboxItem(
                key=escalation_key(task.period_id, parent_id, person.person_id, slot.name),
                kind="escalation", person_id=person.person_id, unit_id=parent_id, period_id=task.period_id,
                channel=person.channel, chat_id=person.chat_id, planned_for=slot.at, payload={},
            ), "pending", partial(render, task, slot, parent_id, units, person)))
    return out
