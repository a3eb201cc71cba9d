"""The completeness summary pushed at the due instant: one read of the period per slot, cut per reader's scope
in memory, and the same text for every reader as a build of their own scope gives (build_summary, the path
/tonghop takes and the push took before issue 13)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.app import prepare
from bot.config import Config
from bot.dialog.model import Reply
from bot.domain import Channel, Role, Unit, UnitKind
from bot.summary.service import build_summary
from bot.summary.text import completeness_text
from scheduler.policy import Policy, allowed_moment
from scheduler.service import ReminderPlanner
from storage import campaigns as campaign_store
from storage import people as people_store
from storage import reminders as reminder_store
from storage import submissions as submission_store
from storage import summaries as summary_store
from storage import units as unit_store
from storage.db import Database
from storage.units import UnitRow
from tests.conftest import VN
from tests.fakes import FakeClock

DAKLAK_95 = "daklak-95-nam-cdvn-2024"
DUE_MORNING = datetime(2024, 8, 5, 8, 0, tzinfo=VN)  # the morning of dot-1's due instant
GRASSROOTS = (UnitKind.ENTERPRISE_STATE, UnitKind.ENTERPRISE_PRIVATE, UnitKind.PUBLIC_AGENCY)


@dataclass
class Province:
    db: Database
    planner: ReminderPlanner
    units: dict[str, Unit]
    now: datetime
    _next: int = 500_000

    async def bind(self, code: str, role: Role, *, locale: str = "vi", person: str | None = None) -> str:
        """A person (new, or the one with external id `person`) bound to `code`; returns their external id."""
        if person is None:
            self._next += 1
            person = f"tg-{self._next}"
        await people_store.ensure_local_member(
            self.db, channel=Channel.TELEGRAM, external_id=person, display_name=f"Người {person}",
            unit=self.units[code], role=role, locale=locale, now=self.now, chat_id=person.removeprefix("tg-"))
        return person


@pytest.fixture
async def province(config: Config, clock: FakeClock) -> AsyncIterator[Province]:
    """The sample organisation of Đắk Lắk grown to a few hundred units: upper levels with an upper level nested
    inside one of them, chairs for most units (some without a channel), dot-1 reported by ~70% (some late)."""
    rng = random.Random(13)
    prepared = await prepare(config, clock.now())
    db = prepared.db
    try:
        rows = [UnitRow("DL-H1", "Liên đoàn Lao động huyện Một", UnitKind.UPPER, "DL"),
                UnitRow("DL-H2", "Liên đoàn Lao động huyện Hai", UnitKind.UPPER, "DL"),
                UnitRow("DL-H3", "Công đoàn ngành Y tế", UnitKind.UPPER, "DL"),
                UnitRow("DL-H1-N", "Công đoàn Khu công nghiệp Hòa Phú", UnitKind.UPPER, "DL-H1")]
        parents = ["DL-H1", "DL-H2", "DL-H3", "DL-H1-N", "DL-BMT", "DL-KP"]
        rows += [UnitRow(f"{parent}-G{i:03d}", f"Công đoàn cơ sở số {i}", GRASSROOTS[i % 3], parent)
                 for i in range(300) for parent in [parents[i % len(parents)]]]
        await unit_store.apply_import(db, rows, actor="test", now=clock.now())
        units = {u.code: u for u in await unit_store.all_units(db)}
        planner = ReminderPlanner(db, config.reminders, config.app.zone, config.locales_dir)
        world = Province(db, planner, units, clock.now())
        period_id = next(p.id for p in await campaign_store.periods_of(db, DAKLAK_95) if p.key == "dot-1")
        for code, unit in units.items():
            if unit.kind is UnitKind.PROVINCE or rng.random() < 0.15:
                continue
            chair = await world.bind(code, Role.OFFICER if unit.kind is UnitKind.UPPER else Role.CHAIR)
            if rng.random() < 0.7:
                person = await people_store.person_by_identity(db, Channel.TELEGRAM, chair)
                assert person is not None
                late = rng.random() < 0.2
                async with db.transaction() as tx:
                    await submission_store.record(
                        tx, period_id=period_id, unit_id=unit.id, person_id=person.id, channel="telegram",
                        answers={"propaganda_sessions": rng.randint(0, 9)}, late=late,
                        now=DUE_MORNING + timedelta(hours=rng.randint(1, 20) * (1 if late else -1)))
        yield world
    finally:
        await db.close()


async def readers_of_every_shape(p: Province) -> None:
    """Department staff on the province (two, in two languages: one build, two texts), an officer on an upper
    level and another on the upper level nested inside it, one person bound to two upper levels, one bound as
    officer of one and department of another, and an officer of a unit with nobody below."""
    await p.bind("DL", Role.DEPARTMENT)
    await p.bind("DL", Role.DEPARTMENT, locale="en")
    await p.bind("DL-H1", Role.OFFICER)
    await p.bind("DL-H1-N", Role.OFFICER, locale="en")
    two = await p.bind("DL-H2", Role.OFFICER)
    await p.bind("DL-BMT", Role.OFFICER, person=two)
    mixed = await p.bind("DL-H3", Role.OFFICER)
    await p.bind("DL-H1", Role.DEPARTMENT, person=mixed)
    await p.bind("DL-H1-N-G003", Role.OFFICER)


async def per_reader_builds(p: Province, now: datetime) -> dict[str, dict[str, Any]]:
    """What the push gave before issue 13: for every slot in its grace, a whole build_summary of each reader's
    scope, read from the database reader by reader."""
    out: dict[str, dict[str, Any]] = {}
    config = p.planner.config
    for campaign in await campaign_store.live_campaigns(p.db):
        policy = Policy.for_campaign(config, campaign)
        for row in await campaign_store.periods_of(p.db, campaign.id):
            for days in config.summary_days_after:
                at = allowed_moment(row.due_at + timedelta(days=days), policy)
                if not policy.in_grace(at, now):
                    continue
                for person, roots, scope_name in await reminder_store.summary_readers(p.db):
                    if person.channel is None or person.chat_id is None:
                        continue
                    summary = await build_summary(p.db, campaign.id, row.key, scope_roots=roots,
                                                  scope_name=scope_name, now=now)
                    if not summary.units:
                        continue
                    t = p.planner.t(person.locale)
                    reply = Reply(completeness_text(summary, t, p.planner.zone),
                                  title=t("📊 Reporting status — /tonghop for the full summary"))
                    out[f"s:{row.id}:{person.person_id}:summary-{days}"] = reply.to_json()
    return out


async def test_pushed_texts_equal_each_readers_own_build(province: Province) -> None:
    await readers_of_every_shape(province)
    expected = await per_reader_builds(province, DUE_MORNING)
    pushed = {item.key: item.payload for item in await province.planner.summary_items(DUE_MORNING)}
    assert len(expected) >= 8, "every reader of the fixture gets a summary"
    assert set(pushed) == set(expected)
    for key, payload in expected.items():
        assert pushed[key] == payload, key
    # The scopes really differ: the province's staff see more units than an upper level's officer.
    lengths = sorted({len(p["text"]) for p in pushed.values()})
    assert len(lengths) >= 4


def _counting(calls: list[str], name: str, real: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return await real(*args, **kwargs)
    return wrapper


async def test_pushed_summary_reads_the_period_once_whatever_the_number_of_readers(
        province: Province, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read of the whole period per reader made the tick grow with the square of the province (issue 13)."""
    for code in ("DL-H1", "DL-H2", "DL-H3", "DL-H1-N", "DL-BMT", "DL-KP", "DL-CDVC"):
        await province.bind(code, Role.OFFICER)
    calls: list[str] = []
    for name in ("unit_tree", "latest_submissions", "contacts"):
        monkeypatch.setattr(summary_store, name, _counting(calls, name, getattr(summary_store, name)))
    items = await province.planner.summary_items(DUE_MORNING)
    slots = {item.key.rsplit(":", 1)[1] for item in items}
    assert len({item.person_id for item in items}) >= 7
    assert sorted(calls) == sorted(["unit_tree", "latest_submissions", "contacts"] * len(slots))


async def test_a_second_tick_reads_nothing_when_every_reader_has_their_summary(
        province: Province, monkeypatch: pytest.MonkeyPatch) -> None:
    await province.bind("DL-H1", Role.OFFICER)
    await province.planner.plan_once(DUE_MORNING)
    calls: list[str] = []
    monkeypatch.setattr(summary_store, "latest_submissions",
                        _counting(calls, "latest_submissions", summary_store.latest_submissions))
    assert await province.planner.summary_items(DUE_MORNING + timedelta(minutes=1)) == []
    assert calls == []
