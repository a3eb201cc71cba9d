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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.channels import BlockedError, OutboundChannel, RetryAfterError, SendError
from bot.clock import Clock
from bot.dialog.model import Reply
from bot.domain import Channel
from scheduler.progress import ProgressListener, WaveReporter
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
    """Drains the outbox, pacing each channel by its own rate and each chat by `per_chat_interval`:
    the next message sent is the first one in the batch whose channel and chat are both ready."""

    def __init__(
        self,
        db: Database,
        channels: Mapping[str, OutboundChannel],
        clock: Clock,
        *,
        per_second: float | Mapping[str, float] = 29.0,
        per_chat_interval: float = 1.0,
        max_attempts: int = 5,
        flush_every: int = 1,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        batch: int = 200,
        progress_every: float = 10.0,
    ) -> None:
        self.db, self.channels, self.clock = db, channels, clock
        rates = per_second if isinstance(per_second, Mapping) else {name: per_second for name in channels}
        self.min_gap = {name: (1.0 / rate if rate > 0 else 0.0) for name, rate in rates.items()}
        self.per_chat_interval = per_chat_interval
        self.max_attempts = max_attempts
        self.monotonic, self.sleep, self.batch = monotonic, sleep, batch
        # Each outcome is recorded before the next send (1): a hard crash repeats at most the message in
        # flight. A larger value trades that bound for throughput (measured in bench/reminders.py).
        self.flush_every = max(flush_every, 1)
        self._next_at: dict[str, float] = {}  # per channel: the earliest moment of its next send
        self._last_chat: dict[str, float] = {}
        self._done: list[tuple[int, str, str | None]] = []
        self._submitted: dict[int, set[int]] = {}
        self.progress_every = progress_every  # seconds between the wave's progress lines in the log
        self.on_progress: ProgressListener | None = None  # told after each message (the command line's bar)

    async def recover(self) -> int:
        """On start: messages in flight at a crash go back to pending."""
        return await outbox.reset_in_flight(self.db)

    def _ready_at(self, row: OutboxRow) -> float:
        chat = self._last_chat.get(f"{row.channel}:{row.payload.get('chat_id')}", -1e18) + self.per_chat_interval
        return max(chat, self._next_at.get(row.channel, -1e18))

    def _pick(self, queue: list[OutboxRow]) -> OutboxRow:
        """The first row that may go now, else the one that may go soonest."""
        now = self.monotonic()
        best, best_at = 0, float("inf")
        for i, row in enumerate(queue):
            at = self._ready_at(row)
            if at <= now:
                best = i
                break
            if at < best_at:
                best, best_at = i, at
        return queue.pop(best)

    async def drain(self, max_seconds: float | None = None, max_messages: int | None = None) -> SendStats:
        stats = SendStats()
        started = self.monotonic()
        reporter: WaveReporter | None = None
        while True:
            if max_seconds is not None and self.monotonic() - started >= max_seconds:
                break
            limit = self.batch if max_messages is None else min(self.batch, max_messages - stats.sent)
            if limit <= 0:
                break
            rows = await outbox.claim(self.db, self.clock.now(), limit)
            if not rows:
                break
            self._submitted = {}  # per claimed batch: one query per period
            if reporter is None:  # the first batch of a wave: counted once, an empty tick costs nothing
                total = len(rows) + await outbox.due_count(self.db, self.clock.now())
                reporter = WaveReporter(self.clock, total, self.progress_every, self.on_progress)
            queue = list(rows)
            try:
                while queue:
                    if max_seconds is not None and self.monotonic() - started >= max_seconds:
                        await self._flush()
                        await outbox.release(self.db, [r.id for r in queue])  # the rest go next tick
                        return stats
                    row = self._pick(queue)
                    wait = self._ready_at(row) - self.monotonic()
                    if wait > 0:
                        await self.sleep(wait)
                    at = self.monotonic()
                    await self._send_one(row, stats)
                    reporter.step(stats)
                    self._next_at[row.channel] = max(self._next_at.get(row.channel, -1e18), at) + \
                        self.min_gap.get(row.channel, 0.0)
                    self._last_chat[f"{row.channel}:{row.payload.get('chat_id')}"] = at
                    if len(self._done) >= self.flush_every:
                        await self._flush()
            finally:
                await self._flush()
        return stats

    async def _flush(self) -> None:
        """Write the outcomes not yet recorded (a crash before this repeats them: they are still 'sending')."""
        done, self._done = self._done, []
        await outbox.finish_many(self.db, done, self.clock.now())

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
            await channel.send(chat_id, (Reply.from_json(row.payload),))  # outside any dialog: no version
        except RetryAfterError as exc:
            log.warning("%s asked to slow down (429): the wave pauses %.0f s and the message is sent later",
                        row.channel, exc.seconds)
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
