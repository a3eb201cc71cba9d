"""Who may see and do what, over two provinces in one database: every role × target relation × action, 0 leaks.

Đắk Lắk (the sample organisation) and Lai Châu (imported here) share one database, each with upper levels,
grassroots unions, chairs, officers, department staff and an administrator, and each with its own live
campaign (`audience.within` = the province). In each province the actors are bound as follows:

    P (province)            department staff
    ├── U1 (upper)          officer
    │   ├── G1              chair
    │   └── G2
    └── U2 (upper)          administrator
        └── G3

and each actor's targets are named by their relation to the actor's unit: own, child (in its subtree),
sibling, parent, other subtree, other province. A province has no parent, and its siblings and other
subtrees are the other province's units, so department staff have own, child and other province only.

Expected: officers, department staff and admins see (summaries, reminders on request) exactly the subtree of
their membership's unit; chairs report for their own unit, officers for their subtree; nobody else. Any
unit code or name outside what the actor may see, in any output (chat text, XLSX, DOCX, menus, queued
reminders), is a leak.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import prepare
from bot.campaign_model import Campaign
from bot.campaigns import load_campaign_bytes
from bot.config import Config
from bot.conversation import Command, Conversation, PlanFile, Press, Response, Sender
from bot.deadlines import campaigns_for_unit
from bot.domain import Channel, Role, Unit, UnitKind
from scheduler.service import ReminderPlanner
from storage import campaigns as campaign_store
from storage import outbox
from storage import people as people_store
from storage import submissions as submission_store
from storage import units as unit_store
from storage.db import Database
from tests.conftest import VN
from tests.fakes import FakeClock

LAI_CHAU = [
    ("LC", "Liên đoàn Lao động tỉnh Lai Châu", UnitKind.PROVINCE, None),
    ("LC-PT", "Liên đoàn Lao động huyện Phong Thổ", UnitKind.UPPER, "LC"),
    ("LC-TD", "Liên đoàn Lao động huyện Tam Đường", UnitKind.UPPER, "LC"),
    ("LC-PT-001", "Công đoàn Trường Tiểu học Mường So", UnitKind.PUBLIC_AGENCY, "LC-PT"),
    ("LC-PT-002", "Công đoàn Công ty Thủy điện Nậm Na", UnitKind.ENTERPRISE_STATE, "LC-PT"),
    ("LC-TD-001", "Công đoàn Bệnh viện Đa khoa huyện Tam Đường", UnitKind.PUBLIC_AGENCY, "LC-TD"),
]
# The slots of the tree above, in each province.
SLOTS = {
    "DL": {"P": "DL", "U1": "DL-BMT", "U2": "DL-KP", "G1": "DL-BMT-001", "G2": "DL-BMT-002", "G3": "DL-KP-001"},
    "LC": {"P": "LC", "U1": "LC-PT", "U2": "LC-TD", "G1": "LC-PT-001", "G2": "LC-PT-002", "G3": "LC-TD-001"},
}
OTHER = {"DL": "LC", "LC": "DL"}
ACTOR_SLOT = {Role.CHAIR: "G1", Role.OFFICER: "U1", Role.DEPARTMENT: "P", Role.ADMIN: "U2"}
# Relation → the target's slot (in the other province for "other province").
RELATIONS: dict[Role, dict[str, str]] = {
    Role.CHAIR: {"own": "G1", "sibling": "G2", "parent": "U1", "other subtree": "G3", "other province": "G1"},
    Role.OFFICER: {"own": "U1", "child": "G1", "sibling": "U2", "parent": "P", "other subtree": "G3",
                   "other province": "U1"},
    Role.DEPARTMENT: {"own": "P", "child": "G1", "other province": "P"},
    Role.ADMIN: {"own": "U2", "child": "G3", "sibling": "U1", "parent": "P", "other subtree": "G1",
                 "other province": "U2"},
}
SUBMITTED = ("G2", "U1")  # the others are late
DAKLAK_95 = "daklak-95-nam-cdvn-2024"
LAICHAU_95 = "laichau-95-nam-cdvn-2024"  # the same plan issued in Lai Châu: its own campaign, within = "LC"
CAMPAIGN = {"DL": DAKLAK_95, "LC": LAICHAU_95}
TAN_BIEN = Path(__file__).parent / "plans" / "tanbien_thang_cong_nhan_2024.txt"


@dataclass
class World:
    db: Database
    conv: Conversation
    planner: ReminderPlanner
    clock: FakeClock
    campaigns_dir: Path
    units: dict[str, Unit]
    dot1: dict[str, int]  # province → dot-1 period of its own campaign
    actors: dict[tuple[str, Role], Sender] = field(default_factory=dict)
    _next: int = 500_000

    def unit(self, province: str, slot: str) -> Unit:
        return self.units[SLOTS[province][slot]]

    async def member(self, unit: Unit, role: Role, locale: str = "vi") -> Sender:
        self._next += 1
        sender = Sender(Channel.TELEGRAM, str(self._next), str(self._next), f"Người {self._next}", None, "vi")
        await people_store.ensure_local_member(self.db, channel=Channel.TELEGRAM, external_id=sender.external_id,
                                               display_name=sender.display_name, unit=unit, role=role, locale=locale,
                                               now=self.clock.now(), chat_id=sender.chat_id)
        return sender

    async def subtree(self, unit: Unit) -> set[int]:
        return {u.id for u in await unit_store.subtree(self.db, unit.id)}


@pytest.fixture
async def world(config: Config, clock: FakeClock, tmp_path: Path) -> AsyncIterator[World]:
    prepared = await prepare(config, clock.now())
    db = prepared.db
    try:
        rows = [unit_store.UnitRow(code, name, kind, parent) for code, name, kind, parent in LAI_CHAU]
        await unit_store.apply_import(db, rows, actor="test", now=clock.now())
        # Lai Châu's own campaign: the Đắk Lắk plan as if Lai Châu had issued it (issuer, titles, within).
        source = (config.campaigns_dir / f"{DAKLAK_95}.toml").read_text(encoding="utf-8")
        assert 'within = "DL"' in source
        raw = source.replace("Đắk Lắk", "Lai Châu").replace(DAKLAK_95, LAICHAU_95).replace(
            'within = "DL"', 'within = "LC"').encode()
        laichau = load_campaign_bytes(raw, config.campaigns_dir / f"{LAICHAU_95}.toml")
        await campaign_store.sync_campaigns(db, [(laichau, "lai-chau", f"{LAICHAU_95}.toml")], actor="test",
                                            now=clock.now())
        units = {u.code: u for u in await unit_store.all_units(db)}
        dot1 = {}
        for province, campaign_id in CAMPAIGN.items():
            dot1[province] = next(p.id for p in await campaign_store.periods_of(db, campaign_id) if p.key == "dot-1")
        planner = ReminderPlanner(db, config.reminders, VN, config.locales_dir)
        campaigns_dir = tmp_path / "published"
        conv = Conversation(db, clock, VN, config.locales_dir, reminders=planner, files_dir=tmp_path / "files",
                            campaigns_dir=campaigns_dir)
        w = World(db, conv, planner, clock, campaigns_dir, units, dot1)
        for province, slots in SLOTS.items():
            for slot in ("G1", "G2", "G3"):
                await w.member(units[slots[slot]], Role.CHAIR)
            for slot in ("U1", "U2"):
                await w.member(units[slots[slot]], Role.OFFICER)
            for role, slot in ACTOR_SLOT.items():
                w.actors[(province, role)] = await w.member(units[slots[slot]], role)
            for slot in SUBMITTED:
                async with db.transaction() as tx:
                    await submission_store.record(tx, period_id=dot1[province], unit_id=units[slots[slot]].id,
                                                  person_id=1, channel="telegram",
                                                  answers={"propaganda_sessions": 3}, now=clock.now(), late=False)
        yield w
    finally:
        await db.close()


def text_of(*responses: Response) -> str:
    return "\n".join(f"{r.title or ''}\n{r.text}\n" + " ".join(b.label for b in (*r.choices, *r.nav))
                     for response in responses for r in response.replies)


def file_text(path: Path) -> str:
    """Every string a workbook or a Word document holds (shared strings, inline strings, document text)."""
    with zipfile.ZipFile(path) as z:
        xml = " ".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    return re.sub(r"<[^>]+>", " ", xml).replace("&amp;", "&")


def leaks(output: str, units: list[Unit], allowed: set[int]) -> list[str]:
    """Codes and names of units outside `allowed` found in `output`."""
    found = []
    for u in units:
        if u.id in allowed:
            continue
        if u.name in output or re.search(rf"(?<![\w-]){re.escape(u.code)}(?![\w-])", output):
            found.append(u.code)
    return found


async def visible(w: World, province: str, role: Role) -> set[int]:
    """What the actor may see: its unit's subtree; a chair only its own unit."""
    unit = w.unit(province, ACTOR_SLOT[role])
    return {unit.id} if role is Role.CHAIR else await w.subtree(unit)


async def may_report(w: World, province: str, role: Role, target: Unit) -> bool:
    own = w.unit(province, ACTOR_SLOT[role])
    if role is Role.CHAIR:
        return target.id == own.id
    return role is Role.OFFICER and target.id in await w.subtree(own)


def targets(w: World, province: str, role: Role) -> list[tuple[str, Unit]]:
    return [(rel, w.unit(OTHER[province] if rel == "other province" else province, slot))
            for rel, slot in RELATIONS[role].items()]


CELLS = [(p, r) for p in SLOTS for r in ACTOR_SLOT]
IDS = [f"{p}-{r.value}" for p, r in CELLS]


@pytest.mark.parametrize(("province", "role"), CELLS, ids=IDS)
async def test_report_and_reminder_button_only_for_units_the_role_reports_for(
        world: World, province: str, role: Role) -> None:
    units = list(world.units.values())
    allowed = await visible(world, province, role)
    for relation, target in targets(world, province, role):
        expected = await may_report(world, province, role, target)
        period = world.dot1["DL" if target.code.startswith("DL") else "LC"]
        for action in ("report", "reminder button"):
            # A fresh dialog per cell, in English so that a refusal is recognised by its words.
            actor = await world.member(world.unit(province, ACTOR_SLOT[role]), role, "en")
            event = Command("baocao", target.code) if action == "report" else Press(0, f"open:{period}:{target.id}")
            output = text_of(await world.conv.handle(actor, event))
            refused = "You cannot report for unit" in output or "not for a unit you report for" in output
            cell = f"{province} {role.value} × {relation} ({target.code}) × {action}: {output}"
            assert refused != expected, cell
            if expected:  # the form, the choice of report, or "nothing waiting" for that very unit
                assert target.name in output, cell
            # A refusal names no unit; /baocao CODE may echo the code the person typed, nothing more.
            if action == "report":
                output = output.replace(target.code, "")
            assert leaks(output, units, allowed | ({target.id} if expected else set())) == [], cell


@pytest.mark.parametrize(("province", "role"), CELLS, ids=IDS)
async def test_summaries_in_text_xlsx_and_docx_show_only_the_subtree(
        world: World, province: str, role: Role) -> None:
    actor = world.actors[(province, role)]
    units = list(world.units.values())
    allowed = await visible(world, province, role)
    menu = await world.conv.handle(actor, Command("tonghop"))
    outputs = [text_of(menu)]
    actions = [b.action for r in menu.replies for b in r.choices]
    if role is Role.CHAIR:
        assert actions == []
    else:
        assert f"m:{world.dot1[province]}" in actions
        assert f"m:{world.dot1[OTHER[province]]}" not in actions  # the other province's campaign is not offered
        chosen = await world.conv.handle(actor, Press(menu.version, f"m:{world.dot1[province]}"))
        outputs.append(text_of(chosen))
        files = [Path(r.file_path) for r in chosen.replies if r.file_path]
        assert {p.suffix for p in files} >= {".xlsx", ".docx"}
        outputs += [file_text(p) for p in files if p.suffix in (".xlsx", ".docx")]
    # The Word report is written in the name of the campaign's issuer (the plan's own text): the province
    # federation of the actor's own province may be named; nothing else outside the subtree.
    issuer = world.unit(province, "P")
    for i, output in enumerate(outputs):
        assert leaks(output, units, allowed | {issuer.id}) == [], f"{province} {role.value} × summary output {i}"
    everything = "\n".join(outputs)
    for relation, target in targets(world, province, role):
        if target.id == issuer.id:
            continue  # named as the issuer whatever the scope: see above
        shown = target.name in everything
        expected = role is not Role.CHAIR and target.id in allowed
        assert shown == expected, f"{province} {role.value} × {relation} ({target.code}) × summary"


@pytest.mark.parametrize(("province", "role"), CELLS, ids=IDS)
async def test_reminders_on_request_reach_only_the_subtree(world: World, province: str, role: Role) -> None:
    actor = world.actors[(province, role)]
    units = list(world.units.values())
    allowed = await visible(world, province, role)
    menu = await world.conv.handle(actor, Command("nhacnho"))
    assert leaks(text_of(menu), units, allowed) == []
    assert "Lai Châu" not in text_of(menu) if province == "DL" else "Đắk Lắk" not in text_of(menu)
    actions = [b.action for r in menu.replies for b in r.choices]
    if role is Role.CHAIR:
        assert actions == []
        assert await outbox.all_rows(world.db) == []
        return
    assert f"n:{world.dot1[OTHER[province]]}" not in actions
    listed = await world.conv.handle(actor, Press(menu.version, f"n:{world.dot1[province]}"))
    assert leaks(text_of(listed), units, allowed) == []
    done = await world.conv.handle(actor, Press(listed.version, "yes"))
    assert leaks(text_of(done), units, allowed) == []
    rows = await outbox.all_rows(world.db)
    assert rows
    assert {r.unit_id for r in rows} <= allowed
    for r in rows:
        assert leaks(str(r.payload), units, allowed) == []
    reminded = {r.unit_id for r in rows}
    submitted = {world.unit(province, s).id for s in SUBMITTED}
    for relation, target in targets(world, province, role):
        expected = target.id in allowed and target.kind is not UnitKind.PROVINCE and target.id not in submitted
        assert (target.id in reminded) == expected, f"{province} {role.value} × {relation} ({target.code}) × remind"


@pytest.mark.parametrize(("province", "role"), CELLS, ids=IDS)
@pytest.mark.parametrize("command", ["danop", "hannop"])
async def test_own_reports_and_deadlines_name_only_the_own_unit(
        world: World, province: str, role: Role, command: str) -> None:
    actor = world.actors[(province, role)]
    own = world.unit(province, ACTOR_SLOT[role])
    output = text_of(await world.conv.handle(actor, Command(command)))
    assert leaks(output, list(world.units.values()), {own.id}) == []
    for relation, target in targets(world, province, role):
        expected = role in (Role.CHAIR, Role.OFFICER) and target.id == own.id and (
            command == "hannop" or ACTOR_SLOT[role] in SUBMITTED)  # /danop lists what was submitted
        assert (target.name in output) == expected, f"{province} {role.value} × {relation} × /{command}"


@pytest.mark.parametrize(("province", "role"), CELLS, ids=IDS)
async def test_a_plan_published_from_chat_reaches_only_the_publishers_province(
        world: World, province: str, role: Role) -> None:
    actor = world.actors[(province, role)]
    review = await world.conv.handle(actor, PlanFile("ke-hoach.txt", TAN_BIEN.read_bytes()))
    if role not in (Role.DEPARTMENT, Role.ADMIN):
        assert not any(b.action == "plan:publish" for r in review.replies for b in r.choices)
        assert not world.campaigns_dir.exists() or list(world.campaigns_dir.iterdir()) == []
        return
    done = await world.conv.handle(actor, Press(review.version, "plan:publish"))
    assert "Đã công bố" in text_of(done), text_of(review, done)
    (path,) = world.campaigns_dir.glob("*.toml")
    assert re.search(rf'^within = "{province}"', path.read_text(encoding="utf-8"), re.M)
    campaign = await campaign_store.campaign(world.db, path.stem)
    assert isinstance(campaign, Campaign)
    assert campaign.audience.within == province
    for relation, target in targets(world, province, role):
        offered = campaign.id in {c.id for c in await campaigns_for_unit(world.db, target)}
        if relation == "other province":
            assert not offered, f"{province} {role.value} × {relation} ({target.code}) × plan publish"
    for u in world.units.values():  # no unit of the other province is ever offered it
        if u.code.startswith(OTHER[province]):
            assert campaign.id not in {c.id for c in await campaigns_for_unit(world.db, u)}


def vn(month: int, day: int, hour: int = 8) -> datetime:
    return datetime(2024, month, day, hour, 0, tzinfo=VN)


@pytest.mark.parametrize("moment", [vn(7, 29), vn(8, 2), vn(8, 5), vn(8, 7), vn(8, 11)],
                         ids=["before-7", "before-3", "due", "escalation", "after-7"])
async def test_planned_reminders_escalations_and_summaries_stay_in_their_province(
        world: World, moment: datetime) -> None:
    world.clock.set(moment)
    await world.planner.plan_once(moment)
    rows = await outbox.all_rows(world.db)
    assert rows, "nothing was planned"
    units = list(world.units.values())
    province_of = {u.id: u.code.split("-")[0] for u in units}
    campaign_province = {world.dot1[p]: p for p in SLOTS}
    memberships: dict[int, set[int]] = {}
    for r in rows:
        if r.person_id not in memberships:
            views = await people_store.memberships_of(world.db, r.person_id)
            memberships[r.person_id] = set()
            for v in views:
                memberships[r.person_id] |= await world.subtree(v.unit)
        scope = memberships[r.person_id]
        if r.unit_id is not None:
            assert province_of[r.unit_id] == campaign_province.get(r.period_id, province_of[r.unit_id]), r.key
            assert r.unit_id in scope, r.key
        assert leaks(str(r.payload), units, scope) == [], r.key
    # Every late unit of each province is reminded by its own province's campaign, never by the other's.
    if moment in (vn(7, 29), vn(8, 2)):
        for province in SLOTS:
            for slot in ("G3", "U2"):
                unit = world.unit(province, slot)
                periods = {r.period_id for r in rows if r.unit_id == unit.id and r.kind == "reminder"}
                assert world.dot1[province] in periods
                assert world.dot1[OTHER[province]] not in periods


async def test_the_fixture_periods_are_open_and_due_within_a_week(world: World) -> None:
    """The fixture's submissions are on time and the dot-1 periods are open at the fixture's clock."""
    for province in SLOTS:
        row = await campaign_store.period_by_id(world.db, world.dot1[province])
        assert row is not None
        assert world.clock.now() < row.due_at < world.clock.now() + timedelta(days=7)


async def test_several_memberships_see_the_union_of_their_subtrees_and_nothing_more(world: World) -> None:
    """An officer of two upper levels sees both branches (summary, reminders), not a third one, not the other
    province."""
    bmt, kp, cdvc = world.units["DL-BMT"], world.units["DL-KP"], world.units["DL-CDVC"]
    actor = await world.member(bmt, Role.OFFICER)
    await people_store.ensure_local_member(world.db, channel=actor.channel, external_id=actor.external_id,
                                           display_name=actor.display_name, unit=kp, role=Role.OFFICER, locale="vi",
                                           now=world.clock.now())
    allowed = await world.subtree(bmt) | await world.subtree(kp)
    units = list(world.units.values())
    menu = await world.conv.handle(actor, Command("tonghop"))
    chosen = await world.conv.handle(actor, Press(menu.version, f"m:{world.dot1['DL']}"))
    outputs = [text_of(chosen)] + [file_text(Path(r.file_path)) for r in chosen.replies
                                   if r.file_path and r.file_path.endswith((".xlsx", ".docx"))]
    for output in outputs:
        assert leaks(output, units, allowed | {world.units["DL"].id}) == []
        assert world.units["DL-BMT-003"].name in output
        assert world.units["DL-KP-002"].name in output
        assert world.units["DL-CDVC-001"].name not in output
    assert cdvc.id not in allowed
    menu = await world.conv.handle(actor, Command("nhacnho"))
    listed = await world.conv.handle(actor, Press(menu.version, f"n:{world.dot1['DL']}"))
    await world.conv.handle(actor, Press(listed.version, "yes"))
    reminded = {r.unit_id for r in await outbox.all_rows(world.db)}
    assert reminded <= allowed
    assert world.unit("DL", "G3").id in reminded  # DL-KP-001, late, under the second membership


def may_review(role: Role, own: Unit, target: Unit, subtree: set[int]) -> bool:
    """The reviewer of a unit (issue 15): an officer of an upper level above it, or the department (and an admin)
    for the units directly under their unit; nobody reviews their own unit, chairs review nothing."""
    if role is Role.OFFICER:
        return target.id in subtree and target.id != own.id
    return role in (Role.DEPARTMENT, Role.ADMIN) and target.parent_id == own.id


@pytest.mark.parametrize(("province", "role"), CELLS, ids=IDS)
async def test_review_lists_opens_and_decides_only_for_the_units_the_actor_reviews(
        world: World, province: str, role: Role) -> None:
    from storage import reviews

    units = list(world.units.values())
    own = world.unit(province, ACTOR_SLOT[role])
    allowed = await visible(world, province, role)
    subtree = await world.subtree(own)
    refs: dict[int, str] = {}
    for _relation, target in targets(world, province, role):  # every target has a report waiting
        period = world.dot1["DL" if target.code.startswith("DL") else "LC"]
        async with world.db.transaction() as tx:
            row = await submission_store.record(tx, period_id=period, unit_id=target.id, person_id=1,
                                                channel="telegram", answers={"propaganda_sessions": 4},
                                                now=world.clock.now(), late=False)
        refs[target.id] = row.reference
    response = await world.conv.handle(world.actors[(province, role)], Command("duyet"))
    assert leaks(text_of(response), units, allowed) == [], f"{province} {role.value} × /duyet list"
    # The waiting list is the first reply; the screen after it may name units below the report (the roll-up
    # excuse offered to the department), which the actor sees but does not review.
    listing = response.replies[0].text
    for relation, target in targets(world, province, role):
        expected = may_review(role, own, target, subtree)
        cell = f"{province} {role.value} × {relation} ({target.code}) × review"
        assert (target.name in listing) == expected, cell
        actor = await world.member(own, role, "en")  # a fresh dialog per target
        opened = await world.conv.handle(actor, Command("duyet", refs[target.id]))
        output = text_of(opened)
        assert (target.name in output) == expected, f"{cell}: {output}"
        assert leaks(output.replace(refs[target.id], ""), units, allowed) == [], cell
        actions = [a for r in opened.replies for a in r.actions]
        assert ("rv:ok" in actions) == expected, cell
        forged = await world.conv.handle(actor, Press(opened.version, "rv:ok"))  # pressed, or forged
        assert leaks(text_of(forged), units, allowed) == [], cell
        status = await reviews.status_for(world.db, world.dot1["DL" if target.code.startswith("DL") else "LC"],
                                          target.id)
        assert status is not None
        assert (status.state == "approved") == expected, cell
