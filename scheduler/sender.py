"""The sender drains the outbox within Telegram's limits: about 30 messages a second overall and one a
second per chat, paced by itself (the library's rate limiter is only a safety net).

RetryAfter: the row waits as told and the whole wave pauses. Blocked: the person is marked
unreachable on that channel and never written to there again. Network faults: retried with backoff,
and after `max_attempts` the failure is recorded with its reason. A reminder whose unit has
submitted in the meantime is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.channels import BlockedError, OutboundChannel, RetryAfterError, SendError
from bot.clock import Clock
from bot.domain import Channel
from bot.reminder_text import payload_to_reply
from storage import outbox
from storage import people as people_store
from storage import reminders as reminder_store
from storage.db import Database
from storage.outbox import OutboxRow

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SendStats:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    blocked: int = 0
    errors: list[str] = field(default_factory=list)


class OutboxSender:
    def __init__(
        self,
        db: Database,
        channels: Mapping[str, OutboundChannel],
        clock: Clock,
        *,
        per_second: float = 29.0,
        per_chat_interval: float = 1.0,
        max_attempts: int = 5,
        flush_every: int = 1,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        batch: int = 200,
    ) -> None:
        self.db, self.channels, self.clock = db, channels, clock
        self.min_gap = 1.0 / per_second if per_second > 0 else 0.0
        self.per_chat_interval = per_chat_interval
        self.max_attempts = max_attempts
        self.monotonic, self.sleep, self.batch = monotonic, sleep, batch
        # Each outcome is recorded before the next send (1): a hard crash repeats at most the message in
        # flight. A larger value trades that bound for throughput (measured in bench/reminders.py).
        self.flush_every = max(flush_every, 1)
        self._next_at = -1e18
        self._last_chat: dict[str, float] = {}
        self._done: list[tuple[int, str, str | None]] = []
        self._submitted: dict[int, set[int]] = {}

    async def recover(self) -> int:
        """On start: messages in flight at a crash go back to pending."""
        return await outbox.reset_in_flight(self.db)

    async def drain(self, max_seconds: float | None = None, max_messages: int | None = None) -> SendStats:
        stats = SendStats()
        started = self.monotonic()
        while True:
            if max_seconds is not None and self.monotonic() - started >= max_seconds:
                break
            limit = self.batch if max_messages is None else min(self.batch, max_messages - stats.sent)
            if limit <= 0:
                break
            rows = await outbox.claim(self.db, self.clock.now(), limit)
            if not rows:
                break
            self._submitted: dict[int, set[int]] = {}  # per claimed batch: one query per period
            queue: deque[OutboxRow] = deque(rows)
            try:
                while queue:
                    if max_seconds is not None and self.monotonic() - started >= max_seconds:
                        await self._flush()
                        await outbox.release(self.db, [r.id for r in queue])  # the rest go next tick
                        return stats
                    row = queue.popleft()
                    chat = f"{row.channel}:{row.payload.get('chat_id')}"
                    wait_chat = self._last_chat.get(chat, -1e18) + self.per_chat_interval - self.monotonic()
                    if wait_chat > 0 and any(
                        self._last_chat.get(f"{r.channel}:{r.payload.get('chat_id')}", -1e18) + self.per_chat_interval
                        <= self.monotonic() for r in queue
                    ):
                        queue.append(row)  # another chat is ready: send that one first
                        continue
                    await self._pace(max(wait_chat, 0.0))
                    await self._send_one(row, stats)
                    self._last_chat[chat] = self.monotonic()
                    if len(self._done) >= self.flush_every:
                        await self._flush()
            finally:
                await self._flush()
        return stats

    async def _flush(self) -> None:
        """Write the outcomes not yet recorded (a crash before this repeats them: they are still 'sending')."""
        done, self._done = self._done, []
        await outbox.finish_many(self.db, done, self.clock.now())

    async def _pace(self, extra: float) -> None:
        """Send at a steady rate against a running schedule, so small oversleeps do not add up."""
        now = self.monotonic()
        at = max(self._next_at, now + extra)
        if at > now:
            await self.sleep(at - now)
        self._next_at = at + self.min_gap

    async def _submitted_units(self, period_id: int) -> set[int]:
        if period_id not in self._submitted:
            self._submitted[period_id] = await reminder_store.submitted_units(self.db, period_id)
        return self._submitted[period_id]

    async def _send_one(self, row: OutboxRow, stats: SendStats) -> None:
        now = self.clock.now()
        if row.kind in ("reminder", "manual") and row.period_id is not None and row.unit_id is not None and \
                row.unit_id in await self._submitted_units(row.period_id):
            self._done.append((row.id, "skipped", "submitted meanwhile"))
            stats.skipped += 1
            return
        channel = self.channels.get(row.channel)
        if channel is None:
            self._done.append((row.id, "failed", f"no channel {row.channel!r} configured"))
            stats.failed += 1
            return
        chat_id = str(row.payload.get("chat_id"))
        try:
            await channel.send(chat_id, payload_to_reply(row.payload))
        except RetryAfterError as exc:
            await outbox.retry_later(self.db, row.id, now + timedelta(seconds=exc.seconds), str(exc),
                                     count_attempt=False)
            stats.retried += 1
            await self.sleep(exc.seconds)  # flood control is for the whole bot, not this chat only
            return
        except BlockedError as exc:
            await people_store.mark_blocked_chat(self.db, Channel(row.channel), chat_id, now)
            self._done.append((row.id, "failed", f"blocked: {exc}"))
            stats.blocked += 1
            return
        except Exception as exc:
            if not isinstance(exc, SendError):
                log.exception("unexpected error sending outbox row %s", row.id)
            attempts = row.attempts + 1
            if attempts >= self.max_attempts:
                self._done.append((row.id, "failed", f"gave up after {attempts} tries: {exc}"))
                stats.failed += 1
                stats.errors.append(str(exc))
            else:
                backoff = timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))
                await outbox.retry_later(self.db, row.id, now + backoff, str(exc))
                stats.retried += 1
            return
        self._done.append((row.id, "sent", None))
        stats.sent += 1
