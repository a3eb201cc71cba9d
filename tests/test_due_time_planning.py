"""The reminder planner with a deadline at a time of day: the stored period carries the instant, the slot of the
day itself comes before the deadline, and a changed time is planned again at the next tick."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from storage import campaigns as campaign_store
from tests import test_reminders
from tests.test_due_time_of_day import daklak_text
from tests.test_incremental_planning import Reads, planned_and_quiet
from tests.test_reminders import DAKLAK_95, World, key_parts, sync_text, vn

world = test_reminders.world  # the reminder tests' fixture: the sample organisation, the seed campaigns


async def dot1_due(world: World) -> datetime:
    [row] = [p for p in await campaign_store.periods_of(world.db, DAKLAK_95) if p.key == "dot-1"]
    return row.due_at


async def test_on_the_day_of_a_17_00_deadline_the_morning_reminder_says_it_is_the_last_day(
        world: World, tmp_path: Path) -> None:
    await world.staff_everyone()
    await sync_text(world, tmp_path, daklak_text('"17:00"'))
    due = await dot1_due(world)
    assert due == vn(2024, 8, 5, 17, 0)
    world.clock.set(vn(2024, 8, 5, 8, 0))
    result = await world.planner.plan_once(world.clock.now())
    period_id = await world.period_id()
    mine = [p.rendered() for p in result.planned  # the slots missed before the first tick are superseded
            if p.status == "pending" and p.item.kind == "reminder" and p.item.period_id == period_id]
    assert mine
    assert {key_parts(item.key)[4] for item in mine} == {"before-0"}
    assert all(item.planned_for < due for item in mine)
    assert all("trước 17:00, Thứ Hai, 05/08/2024 — hôm nay là ngày cuối" in item.payload["text"] for item in mine)


async def test_a_deadline_whose_time_changed_is_stored_and_planned_again_at_the_next_tick(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.staff_everyone()
    reads = Reads(monkeypatch)
    await planned_and_quiet(world, reads)
    assert await dot1_due(world) == vn(2024, 8, 5, 0, 0)
    await sync_text(world, tmp_path, daklak_text('"17:00"'))
    assert await dot1_due(world) == vn(2024, 8, 5, 17, 0)  # the sync wrote the new instant
    await world.planner.plan_once(world.clock.now())
    assert reads.take()["recipients"] > 0  # the period's fingerprint moved: it was planned again
    await sync_text(world, tmp_path, daklak_text('"16:30"'))
    assert await dot1_due(world) == vn(2024, 8, 5, 16, 30)
    await world.planner.plan_once(world.clock.now())
    assert reads.take()["recipients"] > 0
    quiet = await world.planner.plan_once(world.clock.now())
    assert (quiet.pending, quiet.planned) == (0, [])
    assert reads.take() == Counter()
