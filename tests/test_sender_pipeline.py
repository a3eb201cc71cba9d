"""The pipelined sender (scheduler/sender.py) on a virtual timeline: several sends on the wire at once, starts
paced so that no sliding second holds more than the rate, one start a second and one message on the wire
per chat, a 429 pausing everyone, a crash repeating at most what was on the wire, and the per-kind policy
after an ambiguous failure (the request left, no clear answer)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from telegram.error import NetworkError, TimedOut

from bot.channels import RetryAfterError, SendError, TransientError, UncertainDeliveryError
from bot.dialog.model import Reply
from handlers.telegram_channel import _named
from scheduler.sender import OutboxSender
from storage import outbox
from storage.db import Database, Write
from storage.migrations import MIGRATIONS, migrate
from tests.fakes import FakeClock
from tests.reminder_fakes import SimulatedCrash

EPS = 1e-9
T = TypeVar("T")


class VirtualTime:
    """time.monotonic and asyncio.sleep on a virtual timeline: sleep(s) waits until the timeline reaches
    now + s. A helper task moves the timeline to the earliest sleeper after letting everything else run
    (a short real pause lets the database's thread answer), and moves the FakeClock with it."""

    def __init__(self, clock: FakeClock, start: float = 1_000.0) -> None:
        self.clock, self.now = clock, start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._seq), future))
        await future

    async def _advance(self) -> None:
        while True:
            await asyncio.sleep(0.002)
            while self._sleepers and self._sleepers[0][2].done():  # a cancelled sleeper
                heapq.heappop(self._sleepers)
            if not self._sleepers:
                continue
            at, _, future = heapq.heappop(self._sleepers)
            if at > self.now:
                self.clock.advance(seconds=at - self.now)
                self.now = at
            future.set_result(None)

    async def run(self, work: Awaitable[T]) -> T:
        mover = asyncio.create_task(self._advance())
        try:
            return await work
        finally:
            mover.cancel()


@dataclass
class Call:
    chat_id: str
    text: str
    start: float
    end: float | None = None
    error: BaseException | None = None


@dataclass
class WireChannel:
    """A Telegram-like channel on the virtual timeline: a message reaches the chat when the request arrives
    (at its start), the answer comes back a round trip later. `script` maps a 1-based call number to what
    the answer is instead of success (an error to raise after the round trip)."""

    time: VirtualTime
    rtt: Callable[[], float] = lambda: 0.2
    script: dict[int, BaseException] = field(default_factory=dict)
    name: str = "telegram"
    calls: list[Call] = field(default_factory=list)
    on_wire: int = 0
    most_on_wire: int = 0
    wire_at_crash: list[str] = field(default_factory=list)
    _open: dict[int, Call] = field(default_factory=dict)

    async def send(self, chat_id: str, replies: Sequence[Reply], *, version: int | None = None,
                   locale: str | None = None) -> None:
        number = len(self.calls) + 1
        call = Call(chat_id, replies[0].text, self.time.now)
        self.calls.append(call)
        self._open[number] = call
        self.on_wire += 1
        self.most_on_wire = max(self.most_on_wire, self.on_wire)
        try:
            await self.time.sleep(self.rtt())
        finally:
            self.on_wire -= 1
            call.end = self.time.now
            del self._open[number]
        error = self.script.get(number)
        if error is not None:
            call.error = error
            if isinstance(error, SimulatedCrash):
                self.wire_at_crash = [c.text for c in self._open.values()]
            raise error

    async def send_file(self, chat_id: str, reply: Reply, *, locale: str | None = None) -> None:
        await self.send(chat_id, [reply])

    async def remove_choices(self, chat_id: str, message_id: str) -> None:
        return None

    def starts(self) -> list[float]:
        return [c.start for c in self.calls]


async def fill(db: Database, clock: FakeClock, chats: Sequence[str], kind: str = "reminder") -> list[str]:
    """One outbox row per entry of `chats` (a chat may repeat), all due now; returns their keys in order."""
    items = [outbox.OutboxItem(f"k{i:05d}", kind, None, None, None, "telegram", chat, clock.now(),
                               {"text": f"k{i:05d}"}) for i, chat in enumerate(chats)]
    await outbox.add(db, items, clock.now())
    return [i.key for i in items]


def sender(db: Database, channel: WireChannel, clock: FakeClock, **options: object) -> OutboxSender:
    base: dict = {"per_second": 30.0, "per_chat_interval": 1.0, "max_in_flight": 8}
    base.update(options)
    return OutboxSender(db, {"telegram": channel}, clock, monotonic=channel.time.monotonic,
                        sleep=channel.time.sleep, **base)


def most_in_a_sliding_second(starts: list[float]) -> int:
    ordered = sorted(starts)
    return max((sum(1 for s in ordered[i:] if s < first + 1.0 - EPS) for i, first in enumerate(ordered)),
               default=0)


@pytest.fixture
def vt(clock: FakeClock) -> VirtualTime:
    return VirtualTime(clock)


# ---------------------------------------------------------------- pacing and concurrency


async def test_several_sends_are_on_the_wire_at_once_and_no_sliding_second_exceeds_the_rate(
        db: Database, clock: FakeClock, vt: VirtualTime) -> None:
    jitter = random.Random(7)
    channel = WireChannel(vt, rtt=lambda: 0.15 + jitter.uniform(-0.05, 0.05))
    keys = await fill(db, clock, [str(10_000 + i) for i in range(120)])
    stats = await vt.run(sender(db, channel, clock, per_second=20.0, max_in_flight=6).drain())
    assert stats.sent == 120
    assert sorted(c.text for c in channel.calls) == keys
    assert 1 < channel.most_on_wire <= 6  # pipelined, within the pool
    assert most_in_a_sliding_second(channel.starts()) <= 20
    gaps = [b - a for a, b in itertools.pairwise(sorted(channel.starts()))]
    assert min(gaps) >= 1 / 20 - EPS  # starts spaced: no burst inside the second either


async def test_the_pool_bounds_the_sends_on_the_wire(db: Database, clock: FakeClock, vt: VirtualTime) -> None:
    channel = WireChannel(vt, rtt=lambda: 1.0)  # a slow Bot API: 30/s would need 30 on the wire
    await fill(db, clock, [str(20_000 + i) for i in range(40)])
    await vt.run(sender(db, channel, clock, max_in_flight=4).drain())
    assert channel.most_on_wire == 4
    assert (await outbox.counts(db)) == {"sent": 40}


async def test_one_start_a_second_and_one_message_on_the_wire_per_chat(
        db: Database, clock: FakeClock, vt: VirtualTime) -> None:
    channel = WireChannel(vt, rtt=lambda: 1.5)  # longer than the chat interval: order needs the busy rule
    chats = ["7001"] * 5 + ["7002"] * 5 + [str(30_000 + i) for i in range(20)]
    keys = await fill(db, clock, chats)
    await vt.run(sender(db, channel, clock, max_in_flight=8).drain())
    per_chat: dict[str, list[Call]] = defaultdict(list)
    for call in channel.calls:
        per_chat[call.chat_id].append(call)
    for calls in per_chat.values():
        for before, after in itertools.pairwise(calls):
            assert after.start - before.start >= 1.0 - EPS
            assert before.end is not None
            assert after.start >= before.end - EPS  # never two on the wire to one chat
    # In the order they were planned, within each chat.
    assert [c.text for c in per_chat["7001"]] == keys[:5]
    assert [c.text for c in per_chat["7002"]] == keys[5:10]


async def test_a_429_pauses_every_start_for_its_retry_after_and_the_row_goes_later(
        db: Database, clock: FakeClock, vt: VirtualTime) -> None:
    channel = WireChannel(vt, rtt=lambda: 0.2, script={5: RetryAfterError(3)})
    keys = await fill(db, clock, [str(40_000 + i) for i in range(30)])
    stats = await vt.run(sender(db, channel, clock, max_in_flight=8).drain())
    refused = channel.calls[4]
    assert refused.end is not None
    told_at = refused.end
    assert not [c for c in channel.calls if told_at < c.start < told_at + 3 - EPS]
    assert [c for c in channel.calls if c.start >= told_at + 3 - EPS]  # the wave went on afterwards
    assert stats.retried == 1
    assert stats.sent == 30
    delivered = Counter(c.text for c in channel.calls if c.error is None)
    assert delivered == Counter(keys)  # the refused one too, once, after the pause


@pytest.mark.sqlite_only("the crash is simulated with a copy of the SQLite file at the kill")
async def test_a_crash_with_messages_on_the_wire_repeats_at_most_those(
        db: Database, clock: FakeClock, vt: VirtualTime, tmp_path: Path) -> None:
    channel = WireChannel(vt, rtt=lambda: 0.5, script={12: SimulatedCrash("killed when call 12 answered")})
    keys = await fill(db, clock, [str(50_000 + i) for i in range(40)])
    snapshot = tmp_path / "at-the-kill.sqlite3"
    original = channel.send

    async def send_then_snapshot(chat_id: str, replies: Sequence[Reply], **kw: object) -> None:
        try:
            await original(chat_id, replies)
        except SimulatedCrash:  # a kill -9: what survives is what was committed at this instant
            source, target = sqlite3.connect(db.path), sqlite3.connect(snapshot)
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
            raise

    channel.send = send_then_snapshot  # type: ignore[method-assign]
    with pytest.raises(SimulatedCrash):
        await vt.run(sender(db, channel, clock, max_in_flight=6).drain())
    on_wire = set(channel.wire_at_crash) | {channel.calls[11].text}
    assert len(on_wire) > 1  # the crash did catch several in flight

    revived = await Database.open(snapshot)
    try:
        # What a kill can repeat: the messages started whose outcome was not yet committed at that instant. That is
        # those on the wire, plus one whose answer had come back while its outcome was still being written.
        still_sending = {r.key for r in await outbox.all_rows(revived) if r.status == "sending"}
        unrecorded = still_sending & {c.text for c in channel.calls}
        assert on_wire <= unrecorded
        assert len(unrecorded) <= 6  # never more than max_in_flight: a slot is reused only after its outcome
        restart = WireChannel(vt, rtt=lambda: 0.5)
        restarted = sender(revived, restart, clock, max_in_flight=6)
        clock.advance(seconds=outbox.OUTBOX_LEASE.total_seconds())  # the killed claimer's lease runs out
        await restarted.recover()
        await vt.run(restarted.drain())
        assert (await outbox.counts(revived)) == {"sent": 40}
    finally:
        await revived.close()
    delivered = Counter(c.text for c in channel.calls) + Counter(c.text for c in restart.calls)
    assert set(delivered) == set(keys)  # nothing lost
    repeated = {k for k, n in delivered.items() if n > 1}
    assert repeated <= unrecorded


# ---------------------------------------------------------------- ambiguous failures, per kind


@pytest.mark.parametrize(("kind", "retried"), [
    ("reminder", False), ("manual", False), ("escalation", True), ("summary", True), ("review", True),
])
async def test_after_an_ambiguous_failure_a_reminder_is_not_sent_again_and_the_others_are(
        db: Database, clock: FakeClock, vt: VirtualTime, kind: str, retried: bool) -> None:
    channel = WireChannel(vt, rtt=lambda: 0.1, script={2: UncertainDeliveryError("Bad Gateway")})
    keys = await fill(db, clock, ["8001", "8002", "8003"], kind=kind)
    send = sender(db, channel, clock)
    stats = await vt.run(send.drain())
    second = channel.calls[1].text
    rows = {r.key: r for r in await outbox.all_rows(db)}
    if retried:
        assert stats.uncertain == 0
        assert stats.retried == 1
        assert rows[second].status == "pending"
        clock.advance(minutes=1)
        await vt.run(send.drain())
        assert [c.text for c in channel.calls].count(second) == 2
        assert (await outbox.all_rows(db))[1].status == "sent"
    else:
        assert stats.uncertain == 1
        assert stats.retried == 0
        assert rows[second].status == "uncertain"
        assert rows[second].last_error == "uncertain: Bad Gateway"
        clock.advance(hours=2)
        await vt.run(send.drain())
        assert [c.text for c in channel.calls].count(second) == 1  # never sent blindly again
    assert sorted({c.text for c in channel.calls}) == keys


async def test_a_certain_network_fault_is_still_retried_for_a_reminder(
        db: Database, clock: FakeClock, vt: VirtualTime) -> None:
    channel = WireChannel(vt, rtt=lambda: 0.1, script={1: TransientError("connection refused")})
    (key,) = await fill(db, clock, ["8101"])
    send = sender(db, channel, clock)
    assert (await vt.run(send.drain())).retried == 1
    clock.advance(minutes=1)
    await vt.run(send.drain())
    assert [c.text for c in channel.calls] == [key, key]
    assert (await outbox.counts(db)) == {"sent": 1}


def _caused(error: Exception, cause: BaseException) -> Exception:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(("error", "named"), [
    (_caused(TimedOut(), httpx.ReadTimeout("read")), UncertainDeliveryError),
    (_caused(TimedOut(), httpx.WriteTimeout("write")), UncertainDeliveryError),
    (NetworkError("Internal Server Error"), UncertainDeliveryError),  # a 5xx answer
    (NetworkError("Bad Gateway"), UncertainDeliveryError),
    (_caused(NetworkError("httpx.RemoteProtocolError: closed"), httpx.RemoteProtocolError("closed")),
     UncertainDeliveryError),
    (_caused(TimedOut(), httpx.ConnectTimeout("connect")), TransientError),  # never reached Telegram
    (_caused(NetworkError("httpx.ConnectError: refused"), httpx.ConnectError("refused")), TransientError),
    (TimedOut("Pool timeout: ... Request was *not* sent to Telegram."), TransientError),
])
def test_telegram_tells_an_uncertain_delivery_from_a_certain_failure(error: Exception, named: type[SendError]) -> None:
    assert type(_named(error)) is named  # type: ignore[arg-type]


async def test_migration_0003_keeps_every_outbox_row_and_allows_uncertain(tmp_path: Path, clock: FakeClock) -> None:
    async with await Database.open(tmp_path / "old.sqlite3") as db:
        await migrate(db, MIGRATIONS[:2])
        await fill(db, clock, ["9001", "9002"])
        await db.write([Write("UPDATE outbox SET status = 'sent' WHERE key = 'k00000'")])
        with pytest.raises(sqlite3.IntegrityError):
            await db.write([Write("UPDATE outbox SET status = 'uncertain' WHERE key = 'k00001'")])
        assert await migrate(db) == [m.name for m in MIGRATIONS[2:]]  # 0003 and every later one
        await outbox.finish_many(db, [(2, "uncertain", "uncertain: timed out")], clock.now())
        assert [(r.key, r.status) for r in await outbox.all_rows(db)] == [("k00000", "sent"), ("k00001", "uncertain")]
        assert await outbox.claim(db, clock.now() + timedelta(days=1), 10, owner="test") == []

