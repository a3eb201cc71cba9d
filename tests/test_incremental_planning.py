"""The per-minute tick does work only for what changed (issue 13, item 4).

A tick whose periods and summary slots have the fingerprint of the last successful plan reads no recipient
list and plans nothing; each kind of change (a new slot due, a new chair, an identity unblocked, a campaign
file changed, a submission added or withdrawn) is picked up by the next tick; a new planner (a restart)
plans everything once more, idempotently. Reads are counted with recording wrappers, not timed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.domain import Channel, Role
from scheduler.service import PlanResult, ReminderPlanner
from storage import outbox
from storage import people as people_store
from storage import reminders as reminder_store
from storage import units as unit_store
from storage.db import Write
from storage.timefmt import to_db
from tests import test_reminders
from tests.test_reminders import DAKLAK_95, World, key_parts, sync_text, vn

world = test_reminders.world  # the reminder tests' fixture: the sample organisation, the seed campaigns


class Reads:
    """Counts the calls to the storage functions that read who is reminded (a recording wrapper)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: Counter[str] = Counter()
        for owner, name in ((reminder_store, "recipients"), (reminder_store, "summary_readers"),
                            (unit_store, "of_kinds"), (reminder_store, "submitted_units")):
            monkeypatch.setattr(owner, name, self._wrap(name, getattr(owner, name)))

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        async def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return await fn(*args, **kwargs)
        return recorded

    def take(self) -> Counter[str]:
        out, self.calls = self.calls, Counter()
        return out


def new_keys(result: PlanResult) -> set[str]:
    return {p.item.key for p in result.planned}


async def planned_and_quiet(world: World, reads: Reads) -> None:
    """A first tick that plans before-3, then a quiet one a minute later: nothing new, nothing read."""
    first = await world.planner.plan_once(world.clock.now())
    assert first.pending > 0
    assert reads.take()["recipients"] > 0
    world.clock.advance(minutes=1)
    quiet = await world.planner.plan_once(world.clock.now())
    assert (quiet.pending, quiet.superseded, quiet.planned) == (0, 0, [])
    assert reads.take() == Counter()


async def test_a_second_tick_with_nothing_new_plans_nothing_and_reads_no_recipient_list(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.staff_everyone()
    reads = Reads(monkeypatch)
    first = await world.planner.plan_once(world.clock.now())
    assert first.pending == len(world.reporting_codes)
    assert reads.take()["recipients"] > 0
    for minute in range(1, 4):
        world.clock.set(vn(2024, 8, 2, 8, minute))
        again = await world.planner.plan_once(world.clock.now())
        assert (again.pending, again.superseded, again.planned) == (0, 0, [])
        assert reads.take() == Counter()


async def test_a_new_slot_due_is_planned_on_the_next_tick(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.staff_everyone()
    reads = Reads(monkeypatch)
    await planned_and_quiet(world, reads)
    world.clock.set(vn(2024, 8, 4))  # before-1 of dot-1 (other campaigns have slots that morning too)
    result = await world.planner.plan_once(world.clock.now())
    dot1 = [k for k in new_keys(result) if key_parts(k)[1] == await world.period_id()]
    assert len(dot1) == len(world.reporting_codes)
    assert {key_parts(k)[4] for k in dot1} == {"before-1"}
    assert reads.take()["recipients"] > 0


async def test_a_chair_registered_since_the_last_tick_is_reminded_on_the_next(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.staff_everyone()
    reads = Reads(monkeypatch)
    await planned_and_quiet(world, reads)
    newcomer = await world.add_member("DL-KP-004")
    result = await world.planner.plan_once(world.clock.now())
    assert {(p.item.person_id, p.item.unit_id) for p in result.planned} == {
        (newcomer.person_id, world.units["DL-KP-004"].id)}
    assert result.pending == 1


async def test_an_identity_unblocked_since_the_last_tick_is_reminded_on_the_next(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.staff_everyone()
    victim = world.members["DL-BMT-001"][0]
    await people_store.mark_blocked(world.db, Channel.TELEGRAM, victim.external_id, world.clock.now())
    reads = Reads(monkeypatch)
    await planned_and_quiet(world, reads)
    # The chair unblocks the bot and writes to it: identity_touch clears blocked_at.
    await world.db.write([people_store.identity_touch(Channel.TELEGRAM, victim.external_id, world.clock.now())])
    result = await world.planner.plan_once(world.clock.now())
    assert {p.item.person_id for p in result.planned} == {victim.person_id}


async def test_a_membership_revoked_and_another_granted_in_one_minute_is_picked_up(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same count of memberships, same clock: the checksum of the live ones still moves."""
    await world.staff_everyone()
    reads = Reads(monkeypatch)
    await planned_and_quiet(world, reads)
    leaving = world.members["DL-KP-004"][0]
    await world.db.write([Write("UPDATE memberships SET revoked_at = ? WHERE person_id = ?",
                                (to_db(world.clock.now()), leaving.person_id))])
    newcomer = await world.add_member("DL-KP-004")
    result = await world.planner.plan_once(world.clock.now())
    assert {p.item.person_id for p in result.planned} == {newcomer.person_id}


async def test_a_campaign_file_changed_since_the_last_tick_is_planned_again(
        world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, repo: Path) -> None:
    await world.staff_everyone()
    original = (repo / "campaigns" / f"{DAKLAK_95}.toml").read_text(encoding="utf-8")
    grassroots_only = original.replace('scope = { kinds = ["upper", "grassroots"] }',
                                       'scope = { kinds = ["grassroots"] }', 1)
    assert grassroots_only != original
    await sync_text(world, tmp_path, grassroots_only)
    reads = Reads(monkeypatch)
    await planned_and_quiet(world, reads)
    await sync_text(world, tmp_path, original)  # the upper level reports again: its officers are owed before-3
    result = await world.planner.plan_once(world.clock.now())
    uppers = {u.id for c, u in world.units.items() if c in world.reporting_codes and not u.kind.is_grassroots}
    assert uppers
    assert {p.item.unit_id for p in result.planned} == uppers


async def test_a_unit_submitted_since_the_last_tick_costs_no_read_and_is_not_reminded_again(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.staff_everyone()
    reads = Reads(monkeypatch)
    await planned_and_quiet(world, reads)
    period_id = await world.period_id()
    await world.submit("DL-KP-004", period_id)
    quiet = await world.planner.plan_once(world.clock.now())
    assert (quiet.pending, quiet.planned) == (0, [])
    assert reads.take() == Counter()  # a submission only takes a unit off the list: nothing to gather
    world.clock.set(vn(2024, 8, 4))
    later = await world.planner.plan_once(world.clock.now())
    dot1 = {p.item.unit_id for p in later.planned if p.item.period_id == period_id}
    assert dot1 == {world.units[c].id for c in world.reporting_codes} - {world.units["DL-KP-004"].id}


async def test_a_submission_withdrawn_since_the_last_tick_is_reminded_again(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """No product path deletes a submission today; if one is removed by hand while another unit submits in the
    same minute (the count of submissions does not move), the unit is late again and the next tick plans it."""
    await world.staff_everyone()
    period_id = await world.period_id()
    await world.submit("DL-KP-004", period_id)
    await world.submit("DL-BMT-001", period_id)
    reads = Reads(monkeypatch)
    await planned_and_quiet(world, reads)
    withdrawn = world.units["DL-KP-004"].id
    async with world.db.transaction() as tx:  # the revision rows and their answers point at it: they go first
        await tx.execute("DELETE FROM answers WHERE revision_id IN (SELECT r.id FROM submission_revisions r "
                         "JOIN submissions s ON s.id = r.submission_id WHERE s.unit_id = ?)", (withdrawn,))
        await tx.execute("DELETE FROM submission_revisions WHERE submission_id IN "
                         "(SELECT id FROM submissions WHERE unit_id = ?)", (withdrawn,))
        await tx.execute("DELETE FROM submissions WHERE unit_id = ?", (withdrawn,))
    await world.submit("DL-BMT-002", period_id)
    result = await world.planner.plan_once(world.clock.now())
    assert {p.item.unit_id for p in result.planned} == {withdrawn}


async def test_a_restarted_planner_plans_once_again_without_doubling_anything(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.staff_everyone()
    first = await world.planner.plan_once(world.clock.now())
    rows = len(await outbox.all_rows(world.db))
    reads = Reads(monkeypatch)
    restarted = ReminderPlanner(world.db, world.config.reminders, world.config.app.zone, world.config.locales_dir)
    world.clock.advance(minutes=1)
    again = await restarted.plan_once(world.clock.now())
    assert (again.pending, again.superseded) == (0, 0)
    assert reads.take()["recipients"] > 0  # it remembers nothing: everything is gathered once
    assert len(await outbox.all_rows(world.db)) == rows == first.pending + first.superseded
    world.clock.advance(minutes=1)
    await restarted.plan_once(world.clock.now())
    assert reads.take() == Counter()


async def test_a_tick_that_fails_before_recording_is_planned_in_full_by_the_next(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.staff_everyone()
    reads = Reads(monkeypatch)
    real_add = outbox.add

    async def refused(*args: Any, **kwargs: Any) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(outbox, "add", refused)
    with pytest.raises(OSError, match="disk full"):
        await world.planner.plan_once(world.clock.now())
    monkeypatch.setattr(outbox, "add", real_add)
    world.clock.advance(minutes=1)
    result = await world.planner.plan_once(world.clock.now())
    assert result.pending == len(world.reporting_codes)
    assert reads.take()["recipients"] > 0
    world.clock.advance(minutes=1)
    await world.planner.plan_once(world.clock.now())
    assert reads.take() == Counter()  # remembered once recorded


async def test_every_period_is_planned_in_full_at_least_every_hour(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory is a shortcut: even with marks that never move, the database is read again every hour."""
    await world.staff_everyone()
    reads = Reads(monkeypatch)
    await planned_and_quiet(world, reads)
    world.clock.advance(minutes=59)
    await world.planner.plan_once(world.clock.now())
    assert reads.take()["recipients"] > 0
    world.clock.advance(minutes=1)
    await world.planner.plan_once(world.clock.now())
    assert reads.take() == Counter()


async def test_pushed_summaries_are_read_again_only_for_a_new_slot_or_a_new_reader(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.staff_everyone()  # officers on the upper levels: they are owed dot-1's summary at its due instant
    reads = Reads(monkeypatch)
    world.clock.set(vn(2024, 8, 5))
    first = await world.planner.plan_once(world.clock.now())
    assert [p for p in first.planned if p.item.kind == "summary"]
    assert reads.take()["summary_readers"] > 0
    world.clock.advance(minutes=1)
    quiet = await world.planner.plan_once(world.clock.now())
    assert (quiet.pending, quiet.planned) == (0, [])
    assert reads.take() == Counter()
    staff = await world.add_member("DL", role=Role.DEPARTMENT)
    result = await world.planner.plan_once(world.clock.now())
    assert {(p.item.kind, p.item.person_id) for p in result.planned} == {("summary", staff.person_id)}
