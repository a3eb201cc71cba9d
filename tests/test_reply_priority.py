"""Replies go first during a wave: one send budget per channel (bot/pacing.py) shared by the outbox sender's
starts and the dialog replies. A reply takes the very next slot (the wave moves one gap later), the sum stays
within the rate in every sliding second, one start a second per chat holds across both, and a 429 pauses
both. On the virtual timeline of tests/test_sender_pipeline.py."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.app import prepare
from bot.channels import RetryAfterError
from bot.config import Config, load_config
from bot.dialog.model import Reply
from bot.pacing import SendPacer
from bot.port import Port
from handlers.telegram import TelegramDeps
from scheduler.sender import OutboxSender
from storage.db import Database
from tests.fakes import FakeClock
from tests.telegram_fakes import FAKE_TOKEN
from tests.test_sender_pipeline import EPS, VirtualTime, WireChannel, fill, most_in_a_sliding_second
from tests.test_telegram import REPORT_95_DOT_1, TelegramHarness, new_invite, register
from tests.test_zalo import ZaloHarness
from tests.zalo_fake_server import FakeZaloServer

RATE = 30.0
GAP = 1 / RATE


@pytest.fixture
def vt(clock: FakeClock) -> VirtualTime:
    return VirtualTime(clock)


def shared(channel: WireChannel) -> SendPacer:
    return SendPacer({"telegram": RATE}, per_chat_interval=1.0, monotonic=channel.time.monotonic,
                     sleep=channel.time.sleep)


def wave_sender(db: Database, channel: WireChannel, clock: FakeClock, pacer: SendPacer) -> OutboxSender:
    return OutboxSender(db, {"telegram": channel}, clock, per_second=RATE, per_chat_interval=1.0, max_in_flight=8,
                        monotonic=channel.time.monotonic, sleep=channel.time.sleep, pacer=pacer)


class Chair:
    """People talking to the bot during the wave: at each moment one wants an answer sent to `chat`; the
    reply goes the way the adapters send it (a reply slot from the shared pacer, then the channel)."""

    def __init__(self, pacer: SendPacer, channel: WireChannel) -> None:
        self.pacer, self.channel = pacer, channel
        self.wanted: dict[str, float] = {}  # reply text -> when it was wanted

    async def reply(self, chat: str, text: str, at: float) -> None:
        await self.channel.time.sleep(at - self.channel.time.now)
        self.wanted[text] = self.channel.time.now
        pace = self.pacer.turn("telegram", chat)
        await pace()
        await self.channel.send(chat, [Reply(text)])

    async def replies(self, plan: Sequence[tuple[str, str, float]], *, after_calls: int = 0) -> None:
        """Each (chat, text, moment); moments count from when the wave has made `after_calls` calls (the
        virtual timeline would otherwise jump ahead while the sender waits for the database)."""
        while len(self.channel.calls) < after_calls:
            await asyncio.sleep(0.001)  # real time: a virtual sleeper here would let the timeline jump
        start = self.channel.time.now
        await asyncio.gather(*(self.reply(chat, text, start + at) for chat, text, at in plan))

    def delays(self) -> list[float]:
        starts = {c.text: c.start for c in self.channel.calls}
        return [starts[text] - wanted for text, wanted in self.wanted.items()]


async def test_a_reply_wanted_during_a_wave_starts_within_one_gap_and_the_wave_yields_its_slot(
        db: Database, clock: FakeClock, vt: VirtualTime) -> None:
    channel = WireChannel(vt, rtt=lambda: 0.15)
    pacer = shared(channel)
    await fill(db, clock, [str(60_000 + i) for i in range(150)])
    chair = Chair(pacer, channel)
    plan = [(str(90_000 + i), f"reply {i}", 0.3 + 0.31 * i + 0.007 * (i % 5)) for i in range(12)]
    stats, _ = await vt.run(asyncio.gather(wave_sender(db, channel, clock, pacer).drain(),
                                           chair.replies(plan, after_calls=1)))
    assert stats.sent == 150
    assert len(chair.delays()) == 12
    assert max(chair.delays()) <= GAP + EPS  # never behind the queued wave: at most one slot
    starts = sorted(channel.starts())
    assert min(b - a for a, b in itertools.pairwise(starts)) >= GAP - EPS  # the wave moved, no double slot
    replies_in_wave = [c.start for c in channel.calls if c.text.startswith("reply")]
    assert max(replies_in_wave) < max(c.start for c in channel.calls if c.text.startswith("k"))  # during it


async def test_the_wave_and_the_replies_together_never_exceed_the_rate_in_any_sliding_second(
        db: Database, clock: FakeClock, vt: VirtualTime) -> None:
    channel = WireChannel(vt, rtt=lambda: 0.1)
    pacer = shared(channel)
    await fill(db, clock, [str(61_000 + i) for i in range(120)])
    chair = Chair(pacer, channel)
    # A burst: ten people answered at the same instant, twice, on top of the wave.
    plan = [(str(91_000 + i), f"reply {i}", 1.0 + (i // 10) * 1.5) for i in range(20)]
    await vt.run(asyncio.gather(wave_sender(db, channel, clock, pacer).drain(), chair.replies(plan, after_calls=1)))
    assert len(channel.calls) == 140
    assert most_in_a_sliding_second(channel.starts()) <= RATE
    assert max(chair.delays()) <= 10 * GAP + EPS  # ten at once: one slot each, in turn, not behind the wave


async def test_one_start_a_second_per_chat_holds_between_its_wave_message_and_a_reply(
        db: Database, clock: FakeClock, vt: VirtualTime) -> None:
    channel = WireChannel(vt, rtt=lambda: 0.1)
    pacer = shared(channel)
    # "7001" is early in the wave and answers 0.2 s after its reminder went; "7002" talks to the bot first and
    # its reminder is queued right behind.
    await fill(db, clock, ["7002", "7001"] + [str(62_000 + i) for i in range(60)])
    chair = Chair(pacer, channel)
    sending = wave_sender(db, channel, clock, pacer).drain()
    await vt.run(asyncio.gather(chair.replies([("7002", "reply to 7002", 0.0)]), sending,
                                chair.replies([("7001", "reply to 7001", 0.2)], after_calls=2)))
    for chat in ("7001", "7002"):
        starts = sorted(c.start for c in channel.calls if c.chat_id == chat)
        assert len(starts) == 2
        assert starts[1] - starts[0] >= 1.0 - EPS
    assert most_in_a_sliding_second(channel.starts()) <= RATE


async def test_a_429_on_the_wave_pauses_the_replies(
        db: Database, clock: FakeClock, vt: VirtualTime) -> None:
    channel = WireChannel(vt, rtt=lambda: 0.2, script={5: RetryAfterError(3)})
    pacer = shared(channel)
    await fill(db, clock, [str(63_000 + i) for i in range(90)])
    chair = Chair(pacer, channel)

    async def in_the_pause() -> None:  # replies wanted after call 5 was refused, during the pause
        while len(channel.calls) < 5 or channel.calls[4].end is None:
            await asyncio.sleep(0.001)
        await chair.replies([(str(93_000 + i), f"reply {i}", 0.4 * i) for i in range(4)])

    await vt.run(asyncio.gather(wave_sender(db, channel, clock, pacer).drain(), in_the_pause()))
    assert len(chair.wanted) == 4
    refused = channel.calls[4]
    assert refused.end is not None
    told_at = refused.end
    assert not [c for c in channel.calls if told_at < c.start < told_at + 3 - EPS]  # neither wave nor reply
    assert all(c.start >= told_at + 3 - EPS for c in channel.calls if c.text.startswith("reply"))



async def test_a_429_on_a_reply_pauses_the_wave(db: Database, clock: FakeClock, vt: VirtualTime) -> None:
    # A reply refused with 429: the adapter tells the port (Port.slow_down), which pauses the shared budget.
    channel2 = WireChannel(vt, rtt=lambda: 0.2)
    pacer2 = shared(channel2)
    await fill(db, clock, [str(64_000 + i) for i in range(60)])
    told: list[float] = []

    async def refused_reply() -> None:
        while len(channel2.calls) < 10:  # in the middle of the wave
            await asyncio.sleep(0.001)
        await pacer2.turn("telegram", "94000")()
        await vt.sleep(0.2)  # the round trip of the refused reply
        told.append(vt.now)
        pacer2.pause("telegram", 2)

    await vt.run(asyncio.gather(wave_sender(db, channel2, clock, pacer2).drain(), refused_reply()))
    assert told
    assert not [c for c in channel2.calls if told[0] < c.start < told[0] + 2 - EPS]
    assert [c for c in channel2.calls if c.start >= told[0] + 2 - EPS]  # the wave went on after the pause


async def test_a_reply_cancelled_while_waiting_gives_its_slot_back(vt: VirtualTime) -> None:
    channel = WireChannel(vt)
    pacer = shared(channel)
    pacer.started("telegram", "1", vt.now)
    waiting = asyncio.create_task(pacer.reply_slot("telegram", "2"))
    await asyncio.sleep(0)
    assert pacer.ready_at("telegram", "3") == pytest.approx(vt.now + 2 * GAP)  # the reply holds the next slot
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert pacer.ready_at("telegram", "3") == pytest.approx(vt.now + GAP)
    assert pacer.ready_at("telegram", "2") == pytest.approx(vt.now + GAP)  # its chat is free again as well


# ---------------------------------------------------------------- the adapters take a reply slot


class RecordingPacer(SendPacer):
    """A pacer that records every reply slot asked for: (channel, chat, whether the chat's interval applies)."""

    def __init__(self) -> None:
        super().__init__({"telegram": 1e6, "zalo": 1e6}, per_chat_interval=0.0)
        self.slots: list[tuple[str, str, bool]] = []

    async def reply_slot(self, channel: str, chat: str, *, honour_chat: bool = True) -> None:
        self.slots.append((channel, chat, honour_chat))
        await super().reply_slot(channel, chat, honour_chat=honour_chat)


@pytest.fixture
def tg_config(config_path: Path) -> Config:
    return load_config(config_path, environ={"TELEGRAM_BOT_TOKEN": FAKE_TOKEN})


async def test_telegram_replies_take_a_slot_from_the_shared_pacer_before_each_call(
        tg_config: Config, clock: FakeClock) -> None:
    prepared = await prepare(tg_config, clock.now())
    harness = TelegramHarness(tg_config, clock, prepared.db)
    await harness.start()
    pacer = RecordingPacer()
    harness.app.bot_data["deps"] = TelegramDeps(Port(harness.conversation, tg_config, pacer), tg_config)
    try:
        invite = await new_invite(prepared.db, clock)
        await register(harness, invite)
        chat = str(harness.user_id)
        assert len(harness.last) >= 1
        assert pacer.slots == [("telegram", chat, True)] + [("telegram", chat, False)] * (len(harness.last) - 1)
        await harness.send("/baocao")
        pacer.slots.clear()
        edits = len(harness.api.sent("editMessageReplyMarkup"))
        await harness.press(*REPORT_95_DOT_1)  # a button: its keyboard goes away, then the answer
        calls = len(harness.api.sent("editMessageReplyMarkup")) - edits + len(harness.last)
        assert calls >= 2
        assert pacer.slots == [("telegram", chat, True)] + [("telegram", chat, False)] * (calls - 1)
    finally:
        await harness.stop()
        await prepared.db.close()


async def test_zalo_replies_take_a_slot_and_a_429_on_a_reply_pauses_the_channel(
        config_path: Path, clock: FakeClock) -> None:
    config = load_config(config_path, environ={})
    prepared = await prepare(config, clock.now())
    try:
        async with FakeZaloServer() as fake:
            harness = ZaloHarness(config, clock, prepared.db, fake)
            await harness.start()
            pacer = RecordingPacer()
            harness.adapter.port = Port(harness.conversation, config, pacer)
            try:
                await harness.send("xin chào")
                sent = len(fake.texts())
                assert sent >= 1
                assert pacer.slots == [("zalo", harness.user, True)] + [("zalo", harness.user, False)] * (sent - 1)
                assert pacer.ready_at("zalo", "someone else") <= pacer.monotonic()
                fake.fail_next("sendMessage", 429, times=4)  # the client's own retries refused as well
                await harness.send("xin chào")
                assert pacer.ready_at("zalo", "someone else") > pacer.monotonic()  # the wave waits too
            finally:
                await harness.stop()
    finally:
        await prepared.db.close()
