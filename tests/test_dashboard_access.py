"""The dashboard's sign-in links and sessions on both backends: a link works once and for ten minutes, a
tampered one never; a session expires and a signed-out one is refused; only hashes are stored; only people with a
scope get in; Telegram's initData signs in the person of that Telegram identity."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import Config
from bot.dashboard.access import DashboardAccess, NotForYouError
from storage.db import Database
from tests.dashboard_people import (
    CHAIR_TG,
    DEPARTMENT_TG,
    OFFICER_TG,
    STRANGER_TG,
    DashboardPeople,
    seed_people,
    signed_init_data,
)
from tests.fakes import FakeClock
from tests.telegram_fakes import FAKE_TOKEN

BOT_TOKEN = FAKE_TOKEN


def with_token(config: Config, **dashboard: object) -> Config:
    telegram = config.telegram.model_copy(update={"token": SecretStr(BOT_TOKEN)})
    return config.model_copy(update={"telegram": telegram,
                                     "dashboard": config.dashboard.model_copy(update={"enabled": True, **dashboard})})


@pytest.fixture
async def seeded(db: Database, repo: Path, clock: FakeClock, config: Config) -> tuple[DashboardAccess, DashboardPeople]:
    return DashboardAccess(db, clock, with_token(config)), await seed_people(db, repo, clock)


def init_data(user_id: int, clock: FakeClock, token: str = BOT_TOKEN, age: timedelta = timedelta()) -> str:
    return signed_init_data(user_id, clock.now() - age, token)


async def test_a_link_signs_in_once(seeded: tuple[DashboardAccess, DashboardPeople]) -> None:
    access, who = seeded
    link = await access.new_link(who.officer)
    session = await access.redeem_link(link)
    assert session is not None
    info = await access.session(session)
    assert info is not None
    assert info.person_id == who.officer
    assert info.locale == "vi"
    assert await access.redeem_link(link) is None  # used twice: the second time nothing


async def test_two_clicks_at_once_give_one_session(seeded: tuple[DashboardAccess, DashboardPeople]) -> None:
    access, who = seeded
    link = await access.new_link(who.officer)
    results = await asyncio.gather(*(access.redeem_link(link) for _ in range(5)))
    assert sum(r is not None for r in results) == 1


async def test_an_expired_link_is_refused(seeded: tuple[DashboardAccess, DashboardPeople], clock: FakeClock) -> None:
    access, who = seeded
    link = await access.new_link(who.officer)
    clock.advance(minutes=10, seconds=1)
    assert await access.redeem_link(link) is None
    fresh = await access.new_link(who.officer)
    clock.advance(minutes=9, seconds=59)
    assert await access.redeem_link(fresh) is not None


async def test_a_tampered_link_is_refused(seeded: tuple[DashboardAccess, DashboardPeople]) -> None:
    access, who = seeded
    link = await access.new_link(who.officer)
    flipped = link[:-1] + ("A" if link[-1] != "A" else "B")
    for token in (flipped, link[:-1], link + "x", "../" + link[3:], "", "x" * 5000):
        assert await access.redeem_link(token) is None
    assert await access.redeem_link(link) is not None  # the real one was not used up by the attempts


async def test_only_hashes_are_stored(seeded: tuple[DashboardAccess, DashboardPeople], db: Database) -> None:
    access, who = seeded
    link = await access.new_link(who.officer)
    session = await access.redeem_link(link)
    assert session is not None
    stored = [r[0] for r in await db.fetchall("SELECT token_hash FROM dashboard_links")]
    stored += [r[0] for r in await db.fetchall("SELECT token_hash FROM dashboard_sessions")]
    assert len(stored) == 2
    assert link not in stored
    assert session not in stored
    # A copy of the database gives no sign-in: presenting a stored hash as a token finds nothing.
    assert all([await access.session(h[:43]) is None for h in stored])


async def test_a_session_expires(seeded: tuple[DashboardAccess, DashboardPeople], clock: FakeClock) -> None:
    access, who = seeded
    session = await access.redeem_link(await access.new_link(who.officer))
    assert session is not None
    clock.advance(hours=7, minutes=59)
    assert await access.session(session) is not None
    clock.advance(minutes=2)
    assert await access.session(session) is None


async def test_the_session_lifetime_is_configurable(db: Database, repo: Path, clock: FakeClock,
                                                    config: Config) -> None:
    who = await seed_people(db, repo, clock)
    access = DashboardAccess(db, clock, with_token(config, session_hours=1, link_minutes=2))
    link = await access.new_link(who.officer)
    clock.advance(minutes=3)
    assert await access.redeem_link(link) is None
    session = await access.redeem_link(await access.new_link(who.officer))
    assert session is not None
    clock.advance(minutes=61)
    assert await access.session(session) is None


async def test_a_signed_out_session_is_refused(seeded: tuple[DashboardAccess, DashboardPeople]) -> None:
    access, who = seeded
    session = await access.redeem_link(await access.new_link(who.officer))
    other = await access.redeem_link(await access.new_link(who.officer))
    assert session is not None
    assert other is not None
    await access.sign_out(session)
    assert await access.session(session) is None
    assert await access.session(other) is not None  # one sign-out ends that session only


async def test_each_session_has_its_own_csrf_token(seeded: tuple[DashboardAccess, DashboardPeople]) -> None:
    access, who = seeded
    one = await access.redeem_link(await access.new_link(who.officer))
    two = await access.redeem_link(await access.new_link(who.officer))
    assert one
    assert two
    a, b = await access.session(one), await access.session(two)
    assert a
    assert b
    assert a.csrf != b.csrf
    assert len(a.csrf) >= 32
    assert a.session_id != b.session_id
    assert a == await access.session(one)  # stable for the session


async def test_a_chair_gets_no_link(seeded: tuple[DashboardAccess, DashboardPeople]) -> None:
    access, who = seeded
    with pytest.raises(NotForYouError):
        await access.new_link(who.chair)


async def test_a_link_of_someone_who_lost_their_scope_opens_nothing(
        seeded: tuple[DashboardAccess, DashboardPeople], db: Database) -> None:
    access, who = seeded
    link = await access.new_link(who.officer)
    async with db.transaction() as tx:
        await tx.execute("UPDATE memberships SET revoked_at = '2024-08-01T00:00:00+00:00' WHERE person_id = ?",
                         (who.officer,))
    with pytest.raises(NotForYouError):
        await access.redeem_link(link)
    assert await db.fetchval("SELECT count(*) FROM dashboard_sessions WHERE ended_at IS NULL") == 0


async def test_the_session_speaks_the_persons_language(seeded: tuple[DashboardAccess, DashboardPeople],
                                                       db: Database) -> None:
    access, who = seeded
    session = await access.redeem_link(await access.new_link(who.department))
    assert session is not None
    info = await access.session(session)
    assert info is not None
    assert info.locale == "en"
    async with db.transaction() as tx:
        await tx.execute("UPDATE people SET locale = 'vi' WHERE id = ?", (who.department,))
    info = await access.session(session)
    assert info is not None
    assert info.locale == "vi"


async def test_telegram_sign_in_finds_the_person_by_their_telegram_id(
        seeded: tuple[DashboardAccess, DashboardPeople], clock: FakeClock) -> None:
    access, who = seeded
    session = await access.sign_in_telegram(init_data(DEPARTMENT_TG, clock))
    assert session is not None
    info = await access.session(session)
    assert info is not None
    assert info.person_id == who.department
    session = await access.sign_in_telegram(init_data(OFFICER_TG, clock))
    info = await access.session(session or "")
    assert info is not None
    assert info.person_id == who.officer


async def test_telegram_sign_in_refuses_forged_stale_and_strangers(
        seeded: tuple[DashboardAccess, DashboardPeople], clock: FakeClock, db: Database) -> None:
    access, _who = seeded
    assert await access.sign_in_telegram(init_data(OFFICER_TG, clock, token="1:other-bot")) is None
    assert await access.sign_in_telegram(init_data(OFFICER_TG, clock, age=timedelta(hours=25))) is None
    with pytest.raises(NotForYouError):
        await access.sign_in_telegram(init_data(CHAIR_TG, clock))
    with pytest.raises(NotForYouError):
        await access.sign_in_telegram(init_data(STRANGER_TG, clock))
    assert await db.fetchval("SELECT count(*) FROM dashboard_sessions") == 0


async def test_telegram_sign_in_without_a_bot_token_is_refused(db: Database, repo: Path, clock: FakeClock,
                                                               config: Config) -> None:
    await seed_people(db, repo, clock)
    access = DashboardAccess(db, clock, config)  # no TELEGRAM_BOT_TOKEN
    assert await access.sign_in_telegram(init_data(OFFICER_TG, clock)) is None


async def test_sign_ins_and_sign_outs_are_in_the_audit_log(seeded: tuple[DashboardAccess, DashboardPeople],
                                                           clock: FakeClock, db: Database) -> None:
    access, who = seeded
    by_link = await access.redeem_link(await access.new_link(who.officer))
    by_telegram = await access.sign_in_telegram(init_data(DEPARTMENT_TG, clock))
    assert by_link is not None
    assert by_telegram is not None
    await access.sign_out(by_link)
    await access.sign_out(by_link)  # twice: nothing more happens
    rows = await db.fetchall("SELECT actor, action, detail FROM audit_log WHERE entity = 'dashboard_session' "
                             "ORDER BY id")
    assert [(r["actor"], r["action"], r["detail"]) for r in rows] == [
        (f"person:{who.officer}", "sign-in", '{"via": "link"}'),
        (f"person:{who.department}", "sign-in", '{"via": "telegram"}'),
        (f"person:{who.officer}", "sign-out", None)]
    tokens = {by_link, by_telegram}
    assert not any(t in str(tuple(r)) for r in await db.fetchall("SELECT * FROM audit_log") for t in tokens)
