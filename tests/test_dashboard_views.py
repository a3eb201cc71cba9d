"""The dashboard's core (bot/dashboard/views.py) on SQLite and on PostgreSQL: the scope re-read on every call, the
completeness's fast path, the unit page, the queue, a decision, "Nhắc" and a kept photo, over the sample
organisation (tests/conftest.py's `world`)."""

from __future__ import annotations

import pytest

from bot.dashboard.views import DashboardViews
from bot.domain import Channel, Role
from storage import campaigns as campaign_store
from storage import outbox, reviews
from storage import people as people_store
from storage import submissions as submission_store
from storage import units as unit_store
from tests.test_conversation import World

pytestmark = pytest.mark.both_backends

CAMPAIGN = "daklak-95-nam-cdvn-2024"


async def member(world: World, code: str, role: Role, n: int) -> int:
    unit = await unit_store.by_code(world.db, code)
    assert unit is not None
    return await people_store.ensure_local_member(
        world.db, channel=Channel.TELEGRAM, external_id=f"dash{n}", display_name=f"Người {n}", unit=unit, role=role,
        locale="vi", now=world.clock.now(), chat_id=f"dash{n}")


async def setup(world: World) -> tuple[DashboardViews, int, dict[str, int]]:
    period = next(p.id for p in await campaign_store.periods_of(world.db, CAMPAIGN) if p.key == "dot-1")
    ids = {u.code: u.id for u in await unit_store.all_units(world.db)}
    submitter = await member(world, "DL-BMT-001", Role.CHAIR, 0)
    for code in ("DL-BMT-001", "DL-BMT-002", "DL-KP-001"):
        async with world.db.transaction() as tx:
            await submission_store.record(tx, period_id=period, unit_id=ids[code], person_id=submitter,
                                          channel="telegram",
                                          answers={"propaganda_sessions": 2}, now=world.clock.now(), late=False)
    return DashboardViews(world.conv, world.config), period, ids


async def test_an_officer_sees_only_the_subtree_and_loses_it_with_the_membership(world: World) -> None:
    views, period, ids = await setup(world)
    officer = await member(world, "DL-BMT", Role.OFFICER, 1)
    page = await views.completeness(officer, period, "vi")
    assert page is not None
    assert [u.code for u in page.uppers] == ["DL-BMT"]
    assert page.counts.reported == 2
    drill = await views.drill_down(officer, period, ids["DL-BMT"], "vi")
    assert drill is not None
    assert {u.code for u in drill.units} >= {"DL-BMT-001", "DL-BMT-002"}
    assert await views.drill_down(officer, period, ids["DL-KP"], "vi") is None
    assert await views.unit(officer, period, ids["DL-KP-001"], "vi") is None
    unit = await views.unit(officer, period, ids["DL-BMT-001"], "vi")
    assert unit is not None
    assert unit.answers[0].value.startswith("2")
    # No cache of authority: the membership revoked, the next call sees nothing.
    await people_store.revoke_memberships(world.db, officer, actor="test", now=world.clock.now())
    assert await views.completeness(officer, period, "vi") is None
    assert await views.periods(officer, "vi") is None


async def test_the_department_reviews_remind_and_sees_the_whole_province(world: World) -> None:
    views, period, ids = await setup(world)
    department = await member(world, "DL", Role.DEPARTMENT, 2)
    officer = await member(world, "DL-BMT", Role.OFFICER, 3)
    await member(world, "DL-BMT-003", Role.CHAIR, 4)
    listed = await views.periods(department, "vi")
    assert listed is not None
    assert period in [p.period_id for p in listed]
    page = await views.completeness(department, period, "vi")
    assert page is not None
    assert {"DL-BMT", "DL-KP"} <= {u.code for u in page.uppers}
    queue = await views.queue(officer, "vi")
    assert {q.unit_code for q in queue.items} == {"DL-BMT-001", "DL-BMT-002"}
    item = queue.items[0]
    refused = await views.decide(officer, item.submission_id, item.revision, "return", " ", "vi")
    assert refused is not None
    assert refused.kind == "reason"
    done = await views.decide(officer, item.submission_id, item.revision, "return", "Sai câu 1", "vi")
    assert done is not None
    assert done.kind == "done"
    status = await reviews.status_of(world.db, item.submission_id)
    assert status is not None
    assert status.state == "returned"
    assert await views.decide(department, item.submission_id, item.revision, "approve", "", "vi") is None
    reminded = await views.remind(department, period, unit_id=ids["DL-BMT-003"])
    assert reminded is not None
    assert reminded.kind == "done"
    assert reminded.queued == 1
    rows = await outbox.all_rows(world.db)
    assert {r.unit_id for r in rows if r.kind == "manual"} == {ids["DL-BMT-003"]}
    assert await views.remind(officer, period, unit_id=ids["DL-KP-001"]) is None


async def test_a_photo_is_served_only_within_the_scope(world: World) -> None:
    views, period, ids = await setup(world)
    chair = await member(world, "DL-BMT-002", Role.CHAIR, 7)
    folder = world.config.data_dir / "uploads" / str(ids["DL-BMT-001"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "p.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    photo = await submission_store.add_attachment(
        world.db, person_id=chair, unit_id=ids["DL-BMT-001"], period_id=period, field="photos", channel="telegram",
        file_id=None, file_unique_id=None, file_name="p.png", mime_type="image/png", size_bytes=8, sha256=None,
        local_path=str(folder / "p.png"), now=world.clock.now())
    outside = world.config.data_dir.parent / "elsewhere.png"
    outside.write_bytes(b"\x89PNG\r\n\x1a\n")
    stray = await submission_store.add_attachment(
        world.db, person_id=chair, unit_id=ids["DL-BMT-001"], period_id=period, field="photos", channel="telegram",
        file_id=None, file_unique_id=None, file_name="x.png", mime_type="image/png", size_bytes=8, sha256=None,
        local_path=str(outside), now=world.clock.now())
    officer = await member(world, "DL-BMT", Role.OFFICER, 5)
    other = await member(world, "DL-KP", Role.OFFICER, 6)
    found = await views.photo(officer, photo)
    assert found is not None
    assert found.mime == "image/png"
    assert await views.photo(other, photo) is None
    assert await views.photo(officer, stray) is None  # a path outside the uploads folder is never served
    assert await views.photo(officer, 10**9) is None
