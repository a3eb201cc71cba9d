"""Realistic mode of bench/reminders.py: a wave through the real Telegram channel (python-telegram-bot over
HTTP) to a local fake Bot API on 127.0.0.1 with a round trip and Telegram-like enforcement.

    python bench/reminders.py --realistic [--chats 2000] [--rtt-ms 150] [--jitter-ms 50] [--rate 29]
                                          [--reply-every 0.3]

The fake Bot API answers sendMessage after rtt ± jitter; a request over 30 in the last sliding second, or a
second one to a chat within 1 s, gets 429 with retry_after = 1 (and is not delivered). Printed: the wave's
duration against the physical minimum (chats / rate), the most deliveries in any sliding second, the chats
that received two messages within 1 s, the 429s, and the most requests in flight at once.
During the wave a simulated chair wants a dialog reply sent every --reply-every seconds (± 30%), each to a chat
of its own, the way the adapters send one: a slot from the send budget the wave shares (bot/pacing.py), then
the Telegram channel. Printed: the reply's delay from wanting to send it to the fake API receiving it (p50,
p95, max, count); the duration is also compared with the minimum for the wave and the replies together.
No timing is asserted; the count delivered is checked.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import deque
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels import RetryAfterError
from bot.dialog.model import Reply
from bot.pacing import SendPacer
from handlers.telegram_channel import TelegramChannel
from scheduler.sender import OutboxSender
from storage import outbox
from storage.connect import open_url
from storage.migrations import migrate

TOKEN = "123456:BENCH"
NOW = datetime(2024, 8, 2, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


class FakeBotApi:
    """sendMessage with a round trip and Telegram's limits (sliding 30/s, 1/s per chat, 429 retry_after)."""

    def __init__(self, rtt: float, jitter: float, limit: int = 30) -> None:
        self.rtt, self.jitter, self.limit = rtt, jitter, limit
        self.random = random.Random(13)
        self.recent: deque[float] = deque()
        self.last_chat: dict[str, float] = {}
        self.delivered: list[tuple[float, str]] = []
        self.arrived: dict[str, float] = {}  # chat -> when its (last) request arrived
        self.refused = self.in_flight = self.most_in_flight = 0

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        data = dict(await request.post()) if request.can_read_body else {}
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if method == "getMe":
                return web.json_response({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "B",
                                                                  "username": "BenchBot"}})
            chat, now = str(data.get("chat_id")), time.monotonic()
            self.arrived[chat] = now
            while self.recent and self.recent[0] <= now - 1.0:
                self.recent.popleft()
            if len(self.recent) >= self.limit or now - self.last_chat.get(chat, -1e9) < 1.0:
                self.refused += 1
                await asyncio.sleep(self.rtt)
                return web.json_response({"ok": False, "error_code": 429, "description": "Too Many Requests",
                                          "parameters": {"retry_after": 1}}, status=429)
            self.recent.append(now)
            self.last_chat[chat] = now
            self.delivered.append((now, chat))
            await asyncio.sleep(max(0.0, self.rtt + self.random.uniform(-self.jitter, self.jitter)))
            return web.json_response({"ok": True, "result": {
                "message_id": len(self.delivered), "date": int(time.time()), "text": "x",
                "chat": {"id": int(chat), "type": "private"}}})
        finally:
            self.in_flight -= 1


class RunningClock:
    """NOW, moving with real time: a row told to retry after a 429 comes due again within the same drain."""

    def __init__(self, at: datetime) -> None:
        self.at, self.started = at, time.monotonic()

    def now(self) -> datetime:
        return self.at + timedelta(seconds=time.monotonic() - self.started)


def peak_per_sliding_second(times: list[float]) -> int:
    best, left = 0, 0
    for right, t in enumerate(times):
        while times[left] <= t - 1.0:
            left += 1
        best = max(best, right - left + 1)
    return best


def repeats_within_a_second(delivered: list[tuple[float, str]]) -> int:
    last: dict[str, float] = {}
    repeats = 0
    for t, chat in delivered:
        if t - last.get(chat, -1e9) < 1.0:
            repeats += 1
        last[chat] = t
    return repeats


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def chair_replies(bot: Bot, pacer: SendPacer, every: float, done: asyncio.Event,
                        wanted: dict[str, float]) -> None:
    """A person talking to the bot during the wave: a reply wanted every `every` s (± 30%), each to its own chat."""
    jitter = random.Random(29)
    sending: list[asyncio.Task[None]] = []
    number = 0
    while every > 0 and not done.is_set():
        await asyncio.sleep(every * jitter.uniform(0.7, 1.3))
        if done.is_set():
            break
        number += 1
        chat = str(900_000 + number)
        wanted[chat] = time.monotonic()
        channel = TelegramChannel(bot, pacer.turn("telegram", chat))
        sending.append(asyncio.create_task(channel.send(chat, [Reply(f"Câu {number % 15 + 1}/15")], version=1)))
    for outcome in await asyncio.gather(*sending, return_exceptions=True):
        if isinstance(outcome, BaseException) and not isinstance(outcome, RetryAfterError):  # 429: counted by the API
            raise outcome


async def realistic(chats: int, rtt_ms: float, jitter_ms: float, rate: float, in_flight: int,
                    reply_every: float = 0.3) -> int:
    api = FakeBotApi(rtt_ms / 1000, jitter_ms / 1000)
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", api.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot",
              request=HTTPXRequest(connection_pool_size=in_flight + 4))
    await bot.initialize()
    with tempfile.TemporaryDirectory() as tmp:
        db = await open_url(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        try:
            await migrate(db)
            items = [outbox.OutboxItem(f"wave:{i}", "reminder", None, None, None, "telegram", str(500_000 + i), NOW,
                                       {"text": f"Nhắc nộp báo cáo {i}"}) for i in range(chats)]
            await outbox.add(db, items, NOW)
            pacer = SendPacer({"telegram": rate})  # the wiring's: one budget for the wave and the replies
            sender = OutboxSender(db, {"telegram": TelegramChannel(bot)}, RunningClock(NOW), per_second=rate,
                                  max_in_flight=in_flight, pacer=pacer)
            done, wanted = asyncio.Event(), {}
            chair = asyncio.create_task(chair_replies(bot, pacer, reply_every, done, wanted))
            start = time.monotonic()
            stats = await sender.drain()
            took = time.monotonic() - start
            done.set()
            await chair
        finally:
            await db.close()
    await bot.shutdown()
    await runner.cleanup()
    times = sorted(t for t, _ in api.delivered)
    minimum = chats / rate
    delays = [api.arrived[chat] - at for chat, at in wanted.items() if chat in api.arrived]
    print(f"realistic wave: {chats:,} chats, round trip {rtt_ms:g} ± {jitter_ms:g} ms, rate {rate:g}/s, "
          f"max_in_flight {in_flight}")
    print(f"   duration            {took:8.2f} s   minimum {minimum:.2f} s   ratio {took / minimum:.3f}")
    both = (chats + len(wanted)) / rate
    print(f"   with the replies    minimum {both:.2f} s ({chats:,} + {len(wanted):,} messages)   "
          f"ratio {took / both:.3f}")
    print(f"   dialog reply delay  p50 {percentile(delays, 0.5) * 1000:.0f} ms   "
          f"p95 {percentile(delays, 0.95) * 1000:.0f} ms   max {max(delays, default=float('nan')) * 1000:.0f} ms   "
          f"count {len(delays):,} (one every "
          f"{reply_every:g} s ± 30% during the wave)")
    print(f"   peak / sliding 1 s  {peak_per_sliding_second(times):8d}     (Telegram allows 30)")
    print(f"   per-chat repeats <1s{repeats_within_a_second(api.delivered):8d}")
    print(f"   429 answered        {api.refused:8d}")
    print(f"   most in flight      {api.most_in_flight:8d}")
    ok = stats.sent == chats and len(api.delivered) == chats + len(wanted) == chats + len(delays)
    print(f"   sent {stats.sent:,}, failed {stats.failed}, uncertain {stats.uncertain}, retried {stats.retried}  "
          f"{'OK' if ok else 'MISMATCH'}")
    return 0 if ok else 1
