"""Several processes on one database: outbox claims are leased, recovery takes back only expired leases, and one
process at a time holds the sender role. Fake clocks throughout: the wall clock (FakeClock) and the monotonic
time of each process (FakeTime, or the wall clock read as seconds) move only when the test says so."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.channels import RetryAfterError
from bot.cli import app as cli_app
from bot.clock import Clock
from bot.config import Config, load_config
from bot.domain import Channel, Role
from scheduler.progress import ProgressListener
from scheduler.role import RENEW_EVERY_SECONDS, ROLE_TTL_SECONDS, SAFETY_MARGIN_SECONDS, SENDER_ROLE, SenderRole
from scheduler.sender import OutboxSender, SendStats
from scheduler.service import PlanResult
from storage import leases, outbox
from storage import people as people_store
from storage import units as unit_store
from storage.db import Database
from storage.migrations import migrate
from tests.fakes import FakeClock
from tests.reminder_fakes import FakeTime, RecordingChannel, SimulatedCrash
from tests.telegram_fakes import FAKE_TOKEN, LoopbackBotAPI
from tests.test_sender_pipeline import fill

LEASE = outbox.OUTBOX_LEASE.total_seconds()


def chats(n: int, first: int = 60_000) -> list[str]:
    return [str(first + i) for i in range(n)]


def sender(db: Database, clock: FakeClock, channel: RecordingChannel, time: FakeTime, **kw: object) -> OutboxSender:
    return OutboxSender(db, {"telegram": channel}, clock, monotonic=time.monotonic, sleep=time.sleep, **kw)  # type: ignore[arg-type]


def wall_seconds(clock: FakeClock) -> float:
    return clock.now().timestamp()


# ---------------------------------------------------------------- outbox leases


async def test_a_second_process_starting_mid_wave_sends_none_of_the_first_ones_messages_again(
        db: Database, clock: FakeClock) -> None:
    """The measured bug: a process started during a wave called recover() and put the first one's claimed rows
    back in the queue, then sent them too."""
    await fill(db, clock, chats(40))
    time = FakeTime(clock)
    channel = RecordingChannel(clock, time)
    second = sender(db, clock, channel, time)
    put_back: list[int] = []

    async def first_sleeps(seconds: float) -> None:
        await time.sleep(seconds)
        if len(channel.sent) == 10 and not put_back:  # the second process starts now
            put_back.append(await second.recover())
            await second.drain()

    first = OutboxSender(db, {"telegram": channel}, clock, per_second=10, monotonic=time.monotonic,
                         sleep=first_sleeps)
    stats = await first.drain()
    assert put_back == [0]
    assert stats.sent == 40
    assert Counter(d.chat_id for d in channel.sent) == Counter(chats(40))  # each chat once
    assert await outbox.counts(db) == {"sent": 40}


async def test_a_crashed_claimers_messages_go_back_only_once_its_lease_has_run_out(
        db: Database, clock: FakeClock) -> None:
    await fill(db, clock, chats(20))
    time = FakeTime(clock)
    channel = RecordingChannel(clock, time)
    channel.crash_on_call(5)
    with pytest.raises(SimulatedCrash):
        await sender(db, clock, channel, time).drain()
    in_flight = (await outbox.counts(db))["sending"]
    assert in_flight == 16
    restarted = sender(db, clock, channel, FakeTime(clock))
    assert await restarted.recover() == 0  # the claimer may be alive: its lease runs
    clock.advance(seconds=LEASE - 1)
    assert await restarted.recover() == 0
    clock.advance(seconds=1)
    assert await restarted.recover() == in_flight  # expired: dead, its messages go back
    assert (await restarted.drain()).sent == in_flight
    rows = await outbox.all_rows(db)
    assert {r.status for r in rows} == {"sent"}
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE owner IS NOT NULL OR lease_until IS NOT NULL") == 0


async def test_a_wave_longer_than_the_lease_keeps_renewing_it_so_nobody_takes_its_messages(
        db: Database, clock: FakeClock) -> None:
    """Two minutes of sending at 0.5/s (60 messages) with one claim: the lease (one minute) is renewed as the wave goes."""
    await fill(db, clock, chats(60))
    time = FakeTime(clock)
    channel = RecordingChannel(clock, time)
    other = sender(db, clock, channel, FakeTime(clock))
    put_back: list[int] = []

    async def sleeps(seconds: float) -> None:
        await time.sleep(seconds)
        put_back.append(await other.recover())  # another process's periodic recovery, all along the wave

    long_wave = OutboxSender(db, {"telegram": channel}, clock, per_second=0.5, monotonic=time.monotonic,
                             sleep=sleeps)
    stats = await long_wave.drain()
    assert time.slept > 1.5 * LEASE
    assert stats.sent == 60
    assert sum(put_back) == 0
    assert Counter(d.chat_id for d in channel.sent) == Counter(chats(60))


async def test_a_claimer_that_hung_past_its_lease_does_not_send_what_was_taken_back(
        db: Database, clock: FakeClock) -> None:
    """A 429 asking for two leases' wait stalls the first sender's wave; meanwhile its lease runs out, another
    process takes the messages back and sends them. When the first wakes up it drops them."""
    await fill(db, clock, chats(20))
    time = FakeTime(clock)
    channel = RecordingChannel(clock, time)
    channel.fail_call(1, RetryAfterError(int(2 * LEASE)))
    other = sender(db, clock, channel, FakeTime(clock))
    taken_back: list[int] = []

    async def sleeps(seconds: float) -> None:
        await time.sleep(seconds)
        if seconds >= LEASE and not taken_back:  # the stall: the other process's tick runs meanwhile
            taken_back.append(await other.recover())
            await other.drain()

    hung = OutboxSender(db, {"telegram": channel}, clock, monotonic=time.monotonic, sleep=sleeps)
    await hung.drain()
    assert taken_back == [19]  # all but the refused one, which waits for its retry_after
    assert Counter(d.chat_id for d in channel.sent) == Counter(chats(20))  # each once, the refused one too
    assert await outbox.counts(db) == {"sent": 20}


async def test_a_sender_that_may_no_longer_send_stops_and_hands_back_its_claimed_messages(
        db: Database, clock: FakeClock) -> None:
    await fill(db, clock, chats(30))
    time = FakeTime(clock)
    channel = RecordingChannel(clock, time)
    stats = await sender(db, clock, channel, time, may_send=lambda: len(channel.sent) < 8).drain()
    assert stats.sent == len(channel.sent) == 8
    assert await outbox.counts(db) == {"sent": 8, "pending": 22}  # handed back at once, not stranded
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE owner IS NOT NULL") == 0


async def test_handing_back_leaves_alone_a_row_another_claimer_holds_now(db: Database, clock: FakeClock) -> None:
    await fill(db, clock, chats(4))
    first = await outbox.claim(db, clock.now(), 4, owner="first")
    clock.advance(seconds=LEASE)  # the first hung past its lease
    assert await outbox.reclaim_expired(db, clock.now()) == 4
    second = await outbox.claim(db, clock.now(), 2, owner="second")
    await outbox.release(db, [r.id for r in first], owner="first")  # the first wakes up and hands back its batch
    rows = {r.id: r.status for r in await outbox.all_rows(db)}
    assert [rows[r.id] for r in second] == ["sending", "sending"]  # still the second's
    assert await outbox.renew(db, "second", clock.now()) == {r.id for r in second}


# ---------------------------------------------------------------- the sender role


def role(db: Database, clock: FakeClock, owner: str) -> SenderRole:
    return SenderRole(db, clock, owner, monotonic=lambda: wall_seconds(clock))


async def test_one_process_holds_the_sender_role_and_keeps_it_by_renewing(db: Database, clock: FakeClock) -> None:
    a, b = role(db, clock, "a"), role(db, clock, "b")
    assert await a.try_take()
    assert a.held()
    assert not await b.try_take()
    assert not b.held()
    for _ in range(10):  # well past one lease: renewals keep it
        clock.advance(seconds=RENEW_EVERY_SECONDS)
        assert await a.try_take()
        assert not await b.try_take()
    holder = await b.holder()
    assert holder is not None
    assert holder.owner == "a"
    assert holder.expires_at == clock.now() + timedelta(seconds=ROLE_TTL_SECONDS)


async def test_the_sender_role_passes_on_once_the_holder_stops_renewing(db: Database, clock: FakeClock) -> None:
    a, b = role(db, clock, "a"), role(db, clock, "b")
    assert await a.try_take()
    clock.advance(seconds=ROLE_TTL_SECONDS - SAFETY_MARGIN_SECONDS)
    assert not a.held()  # the holder stops trusting its role before anyone may take it
    clock.advance(seconds=SAFETY_MARGIN_SECONDS - 0.001)
    assert not await b.try_take()  # its lease still runs
    clock.advance(seconds=0.001)
    assert await b.try_take()  # expired: taken over
    assert b.held()
    assert not await a.try_take()  # the old holder, back from a hang, does not get it back
    holder = await a.holder()
    assert holder is not None
    assert holder.owner == "b"
    # Taken over at most ttl after the last renewal; tried every RENEW_EVERY: within 10 s of the death.
    assert ROLE_TTL_SECONDS + RENEW_EVERY_SECONDS <= 10


async def test_taking_the_role_over_puts_the_dead_holders_messages_back_at_once(
        db: Database, clock: FakeClock) -> None:
    await fill(db, clock, chats(12))
    dead = role(db, clock, "dead")
    assert await dead.try_take()
    claimed = await outbox.claim(db, clock.now(), 10, owner="dead")
    assert len(claimed) == 10
    clock.advance(seconds=ROLE_TTL_SECONDS)
    heir = role(db, clock, "heir")
    assert await heir.try_take()
    assert await outbox.counts(db) == {"pending": 12}  # not after the outbox lease: now


async def test_a_released_role_is_free_at_once_and_nobody_holds_it(db: Database, clock: FakeClock) -> None:
    a, b = role(db, clock, "a"), role(db, clock, "b")
    assert await a.try_take()
    await a.release()
    assert not a.held()
    assert await a.holder() is None
    assert await b.try_take()


async def second_connection(db: Database) -> Database:
    """Another process's own connection to the same database (file or server)."""
    if db.dialect == "sqlite":
        return await Database.open(db.path)
    from storage.connect import open_url

    return await open_url(db.url, pool_size=2)  # type: ignore[attr-defined]


async def test_two_processes_racing_for_a_free_role_leave_one_holder(db: Database, clock: FakeClock) -> None:
    other = await second_connection(db)
    try:
        results = [await leases.acquire(conn, SENDER_ROLE, owner, clock.now(), timedelta(seconds=6))
                   for conn, owner in ((db, "a"), (other, "b"))]
    finally:
        await other.close()
    assert [r.held for r in results] == [True, False]


# ---------------------------------------------------------------- the wiring: the bot's tick and `reminders run-once`


async def test_a_process_without_the_sender_role_plans_but_sends_nothing(config: Config, clock: FakeClock) -> None:
    from handlers.serve import close, make_sender, open_running, tick, with_sender_role

    running = await open_running(config, clock)
    try:
        unit = await unit_store.by_code(running.db, "DL-BMT-001")
        assert unit is not None
        await people_store.ensure_local_member(running.db, channel=Channel.TELEGRAM, external_id="c1",
                                               display_name="Chủ tịch", unit=unit, role=Role.CHAIR, locale="vi",
                                               now=clock.now(), chat_id="111")
        elsewhere = role(running.db, clock, "the other process")
        assert await elsewhere.try_take()
        channel = RecordingChannel(clock)
        running.channels["telegram"] = channel
        mine = with_sender_role(running)
        mine.monotonic = lambda: wall_seconds(clock)
        sender = make_sender(config, running)
        assert not await mine.try_take()
        result, stats = await tick(running, sender, max_seconds=None)
        assert result.pending >= 1  # planned here too: the slot keys keep it once
        assert (stats.sent, channel.sent) == (0, [])
        await elsewhere.release()  # the other process stops cleanly
        assert await mine.try_take()
        _again, stats = await tick(running, sender, max_seconds=None)
        assert stats.sent == result.pending == len(channel.sent)
    finally:
        await close(running)


async def test_run_once_sends_nothing_while_a_running_bot_holds_the_sender_role(config_path: Path,
                                                                              clock: FakeClock) -> None:
    from handlers.serve import send_reminders_once

    async with LoopbackBotAPI() as api:
        cfg = load_config(config_path, environ={"TELEGRAM_BOT_TOKEN": FAKE_TOKEN,
                                                "BOT__TELEGRAM__BASE_URL": api.base_url})
        async with await Database.open(cfg.db_path) as db:
            await migrate(db)
            await outbox.add(db, [outbox.OutboxItem("manual:1", "manual", None, None, None, "telegram", "4242",
                                                    clock.now(), {"text": "Nhắc nộp báo cáo"})], clock.now())
            assert await role(db, clock, "host:1:bot").try_take()
            _result, stats = await send_reminders_once(cfg, clock)
            assert stats.sender_elsewhere == "host:1:bot"
            assert "sendMessage" not in api.methods()
            assert await outbox.counts(db) == {"pending": 1}
            await leases.release(db, SENDER_ROLE, "host:1:bot")
            _result, stats = await send_reminders_once(cfg, clock)
            assert stats.sender_elsewhere is None
            assert [p["chat_id"] for m, p in api.calls if m == "sendMessage"] == ["4242"]
            assert await leases.holder(db, SENDER_ROLE, clock.now()) is None  # run-once gave the role back


@pytest.mark.parametrize(("language", "words"), [("vi", "lệnh này không gửi gì"), ("en", "nothing sent here")])
def test_run_once_says_which_process_sends_when_it_may_not(config_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           language: str, words: str) -> None:
    import handlers.serve

    async def held_elsewhere(cfg: Config, clock: Clock, on_progress: ProgressListener | None = None,
                             ) -> tuple[PlanResult, SendStats]:
        return PlanResult(3, 0, []), SendStats(sender_elsewhere="host:77:ab12")

    monkeypatch.setattr(handlers.serve, "send_reminders_once", held_elsewhere)
    result = CliRunner(env={"TELEGRAM_BOT_TOKEN": FAKE_TOKEN, "BOT__APP__LANGUAGE": language}).invoke(
        cli_app, ["--config", str(config_path), "reminders", "run-once"])
    assert result.exit_code == 0, result.output
    assert words in result.stdout
    assert "host:77:ab12" in result.stdout


async def test_keeping_the_role_renews_it_and_starts_sending_each_time_it_is_gained(
        db: Database, clock: FakeClock) -> None:
    gained: list[float] = []
    turns = 0

    async def sleep(seconds: float) -> None:
        nonlocal turns
        turns += 1
        clock.advance(seconds=seconds)
        if turns == 5:  # another process got in while this one hung: it must wait for the other's lease
            await leases.release(db, SENDER_ROLE, "keeper")
            await leases.acquire(db, SENDER_ROLE, "other", clock.now(), timedelta(seconds=ROLE_TTL_SECONDS))
        if turns == 12:
            raise asyncio.CancelledError

    keeper = SenderRole(db, clock, "keeper", monotonic=lambda: wall_seconds(clock), sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        await keeper.keep(on_gained=lambda: gained.append(wall_seconds(clock)))
    start = gained[0]
    # Gained at once; renewed every RENEW_EVERY (never lost); lost to the other at turn 5 and gained back once
    # the other's lease ran out without renewal.
    assert [round(t - start, 3) for t in gained] == [0.0, 5 * RENEW_EVERY_SECONDS + ROLE_TTL_SECONDS]
