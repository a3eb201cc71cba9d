"""The sender drains the outbox within Telegram's limits: about 30 messages a second overall and one a
second per chat, paced by itself (the library's rate limiter is only a safety net).

Pipelined: with a round trip of 50-200 ms one send at a time reaches 5-17 messages a second, so up to
`max_in_flight` sends are on the wire at once. The starts are spaced 1/rate apart (no burst: no sliding
second holds more than the rate), a chat has at most one message on the wire and one start per
`per_chat_interval`, and each outcome is recorded before its slot is reused: before every start the
dispatcher waits for the sends that have come back, so a crash repeats at most the messages on the wire.

RetryAfter: the row waits as told and the whole wave pauses (nothing new starts until the wait is over).
Blocked: the person is marked unreachable on that channel and never written to there again. Network
faults: retried with backoff, and after `max_attempts` the failure is recorded with its reason. An
ambiguous failure (UncertainDeliveryError: the request left, no clear answer) may have delivered the
message: a reminder is not sent again (its next slot comes anyway) and ends "uncertain"; the other kinds
are retried like a fault (see README, "Gửi lại khi không chắc"). A reminder whose unit has submitted in
the meantime is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.channels import BlockedError, OutboundChannel, RetryAfterError, SendError, UncertainDeliveryError
from bot.clock import Clock
from bot.dialog.model import Reply
from bot.domain import Channel
from bot.pacing import SendPacer
from scheduler.progress import ProgressListener, WaveReporter
from scheduler.role import new_owner_id
from storage import outbox
from storage import people as people_store
from storage import reminders as reminder_store
from storage.db import Database
from storage.outbox import OutboxRow

log = logging.getLogger(__name__)

# Kinds not sent again after an ambiguous failure: the next slot of the same reminder comes anyway, and a
# chair reminded twice in a minute stops trusting the bot. An escalation and a pushed summary have no
# next slot that repeats them: a lost one costs more than a duplicate, so they are retried.
NOT_RETRIED_WHEN_UNCERTAIN = frozenset({"reminder", "manual"})

_NEVER = float("inf")


@dataclass(slots=True)
class SendStats:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    blocked: int = 0
    uncertain: int = 0  # the request left, no clear answer: maybe delivered, not sent again
    errors: list[str] = field(default_factory=list)
    sender_elsewhere: str | None = None  # nothing sent here: this process of that id holds the sender role


class OutboxSender:
    """Drains the outbox, pacing each channel by its own rate and each chat by `per_chat_interval`:
    the next message started is the first one in the batch whose channel and chat are both ready, while
    fewer than `max_in_flight` are on the wire."""

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
        max_in_flight: int = 16,
        owner: str | None = None,
        may_send: Callable[[], bool] | None = None,
        lease: timedelta = outbox.OUTBOX_LEASE,
        pacer: SendPacer | None = None,
    ) -> None:
        self.db, self.channels, self.clock = db, channels, clock
        # Whose claims these are (one random id per sender), and whether this process may send now: the holder
        # of the sender role (scheduler/role.py); None for a sender that is alone on its database.
        self.owner = owner or new_owner_id()
        self.may_send = may_send or (lambda: True)
        self.lease = lease
        self._renewed_at = -1e18  # monotonic moment of the last claim or renewal of this sender's leases
        rates = per_second if isinstance(per_second, Mapping) else {name: per_second for name in channels}
        # The channel's budget and the chats' intervals, shared with the dialog replies when the wiring
        # passes one pacer to both (a reply takes the next slot, the wave moves one gap later).
        self.pacer = pacer or SendPacer(rates, per_chat_interval=per_chat_interval, monotonic=monotonic, sleep=sleep)
        self.min_gap = dict(self.pacer.gaps)
        self.per_chat_interval = self.pacer.per_chat_interval
        self.max_attempts = max_attempts
        self.monotonic, self.sleep, self.batch = monotonic, sleep, batch
        # 16 covers a 500 ms round trip at 30/s; more in flight only widens what a crash can repeat.
        self.max_in_flight = max(max_in_flight, 1)
        # Each outcome is recorded before its slot is reused (1): a hard crash repeats at most the messages
        # on the wire. A larger value trades that bound for throughput (measured in bench/reminders.py).
        self.flush_every = max(flush_every, 1)
        self._busy_chats: set[str] = set()  # chats with a message in flight: one at a time, in order
        self._in_flight: dict[asyncio.Task[None], int] = {}  # task -> outbox row id
        self._on_wire: set[int] = set()  # row ids whose request has not come back yet
        self._done: list[tuple[int, str, str | None]] = []
        self._submitted: dict[int, set[int]] = {}
        self.progress_every = progress_every  # seconds between the wave's progress lines in the log
        self.on_progress: ProgressListener | None = None  # told after each message (the command line's bar)
        self._reporter: WaveReporter | None = None
        self._stats = SendStats()

    async def recover(self) -> int:
        """At start and every tick: messages whose claimer's lease ran out (it crashed) go back to pending; a
        live process's messages in flight are left to it."""
        return await outbox.reclaim_expired(self.db, self.clock.now())

    async def _keep_leases(self, queue: list[OutboxRow]) -> None:
        """Every third of the lease, extend this sender's claims; rows it no longer holds (its lease ran out
        during a long pause and they were put back) leave the queue unsent."""
        if self.monotonic() - self._renewed_at < self.lease.total_seconds() / 3:
            return
        held = await outbox.renew(self.db, self.owner, self.clock.now(), self.lease)
        self._renewed_at = self.monotonic()
        lost = [r.id for r in queue if r.id not in held]
        if lost:
            log.warning("%d claimed messages were taken back after this sender's lease ran out: not sent here",
                        len(lost))
            queue[:] = [r for r in queue if r.id in held]

    @staticmethod
    def _chat(row: OutboxRow) -> str:
        return f"{row.channel}:{row.payload.get('chat_id')}"

    def _ready_at(self, row: OutboxRow) -> float:
        if self._chat(row) in self._busy_chats:
            return _NEVER
        return self.pacer.ready_at(row.channel, str(row.payload.get("chat_id")))

    def _pick(self, queue: list[OutboxRow]) -> tuple[int, float]:
        """The first row that may go now, else the one that may go soonest (its index and moment)."""
        now = self.monotonic()
        best, best_at = 0, _NEVER
        for i, row in enumerate(queue):
            at = self._ready_at(row)
            if at <= now:
                return i, at
            if at < best_at:
                best, best_at = i, at
        return best, best_at

    async def drain(self, max_seconds: float | None = None, max_messages: int | None = None) -> SendStats:
        stats = SendStats()
        started = self.monotonic()
        self._reporter = None  # this drain's progress lines, made at its first claim
        self._stats = stats
        try:
            while True:
                if max_seconds is not None and self.monotonic() - started >= max_seconds:
                    break
                await self._settle()  # what came back is recorded (and counted) before claiming more
                room = self.batch if max_messages is None else max_messages - stats.sent - len(self._in_flight)
                if not self.may_send():  # not (or no longer) the sender role's holder: start nothing more
                    room = 0
                rows = await self._claim(min(self.batch, room)) if room > 0 else []
                if not rows:
                    if not self._in_flight:
                        break
                    await self._wait_one()  # what comes back may free a row (a 429's) or room
                    continue
                self._submitted = {}  # per claimed batch: one query per period
                if self._reporter is None:  # the first batch of a wave: counted once, an empty tick costs nothing
                    total = len(rows) + await outbox.due_count(self.db, self.clock.now())
                    self._reporter = WaveReporter(self.clock, total, self.progress_every, self.on_progress)
                if not await self._run(rows, stats, started, max_seconds):
                    break
            await self._settle(everything=True)
        finally:
            await self._abandon_in_flight()
            await self._flush()
        return stats

    async def _claim(self, limit: int) -> list[OutboxRow]:
        self._renewed_at = self.monotonic()
        return await outbox.claim(self.db, self.clock.now(), limit, owner=self.owner, lease=self.lease)

    async def _run(self, queue: list[OutboxRow], stats: SendStats, started: float, max_seconds: float | None) -> bool:
        """Start every row of a claimed batch at its moment; False when time ran out or the sender role was lost
        (the rest are released)."""
        while queue:
            await self._settle()
            out_of_time = max_seconds is not None and self.monotonic() - started >= max_seconds
            if out_of_time or not self.may_send():
                # The rest go next tick, or to the new holder.
                await outbox.release(self.db, [r.id for r in queue], owner=self.owner)
                return False
            await self._keep_leases(queue)
            if not queue:
                break
            index, at = self._pick(queue)
            if at == _NEVER or len(self._in_flight) >= self.max_in_flight:
                await self._wait_one()
                continue
            wait = at - self.monotonic()
            if wait > 0:
                await self.sleep(wait)
                continue  # what came back meanwhile is recorded before this start
            await self._start(queue.pop(index), stats)
        return True

    async def _wait_one(self) -> None:
        if self._in_flight:
            await asyncio.wait(list(self._in_flight), return_when=asyncio.FIRST_COMPLETED)

    async def _settle(self, *, everything: bool = False) -> None:
        """Wait for the sends that came back to record their outcome (or sit out a 429) before the next start;
        a crash inside one (not an error a send can have) is raised here."""
        while True:
            back = [t for t, row_id in self._in_flight.items() if everything or row_id not in self._on_wire]
            if not back:
                return
            for task in back:
                try:
                    await task
                finally:
                    self._in_flight.pop(task, None)
                if self._reporter is not None:  # one outcome more: the log's progress line, the command line's bar
                    self._reporter.step(self._stats)

    async def _abandon_in_flight(self) -> None:
        """Cancelled or crashed: the sends still on the wire are cancelled; their rows stay 'sending' and
        recover() puts them back (they may repeat: the bound a crash has)."""
        tasks = list(self._in_flight)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._in_flight.clear()
        self._on_wire.clear()
        self._busy_chats.clear()

    async def _flush(self) -> None:
        """Write the outcomes not yet recorded (a crash before this repeats them: they are still 'sending')."""
        done, self._done = self._done, []
        await outbox.finish_many(self.db, done, self.clock.now())

    async def _record(self, row_id: int, status: str, error: str | None) -> None:
        self._done.append((row_id, status, error))
        if len(self._done) >= self.flush_every:
            await self._flush()

    async def _submitted_units(self, period_id: int) -> set[int]:
        if period_id not in self._submitted:
            self._submitted[period_id] = await reminder_store.submitted_units(self.db, period_id)
        return self._submitted[period_id]

    async def _start(self, row: OutboxRow, stats: SendStats) -> None:
        """Send one row in its own task, or record at once why it is not sent (no pacing slot spent)."""
        if row.kind in ("reminder", "manual") and row.period_id is not None and row.unit_id is not None and \
                row.unit_id in await self._submitted_units(row.period_id):
            stats.skipped += 1
            await self._record(row.id, "skipped", "submitted meanwhile")
            return
        channel = self.channels.get(row.channel)
        if channel is None:
            stats.failed += 1
            await self._record(row.id, "failed", f"no channel {row.channel!r} configured")
            return
        chat = self._chat(row)
        self._busy_chats.add(chat)
        self._on_wire.add(row.id)
        self._in_flight[asyncio.create_task(self._send_one(row, channel, stats))] = row.id
        await asyncio.sleep(0)  # the request leaves now (its slot taken): a cancel after this finds it on the wire

    async def _send_one(self, row: OutboxRow, channel: OutboundChannel, stats: SendStats) -> None:
        chat_id = str(row.payload.get("chat_id"))
        # The slot is taken when the request really leaves (this task's first step, before the dispatcher
        # goes on), so the spacing holds between what reaches the messenger, replies included.
        self.pacer.started(row.channel, chat_id, self.monotonic())
        try:
            try:
                await channel.send(chat_id, (Reply.from_json(row.payload),))  # outside any dialog: no version
            finally:
                self._on_wire.discard(row.id)
        except Exception as exc:  # noqa: BLE001 - any fault of a channel is this row's outcome, logged in _failed
            await self._failed(row, chat_id, exc, stats)
        else:
            stats.sent += 1
            await self._record(row.id, "sent", None)
        finally:
            self._busy_chats.discard(self._chat(row))

    async def _failed(self, row: OutboxRow, chat_id: str, exc: Exception, stats: SendStats) -> None:
        now = self.clock.now()
        if isinstance(exc, RetryAfterError):
            log.warning("%s asked to slow down (429): the wave pauses %.0f s and the message is sent later",
                        row.channel, exc.seconds)
            self.pacer.pause(row.channel, exc.seconds)  # the dialog replies of this channel wait too
            await outbox.retry_later(self.db, row.id, now + timedelta(seconds=exc.seconds), str(exc),
                                     count_attempt=False)
            stats.retried += 1
            await self.sleep(exc.seconds)  # flood control is for the whole bot: nothing starts meanwhile
        elif isinstance(exc, BlockedError):
            await people_store.mark_blocked_chat(self.db, Channel(row.channel), chat_id, now)
            stats.blocked += 1
            await self._record(row.id, "failed", f"blocked: {exc}")
        elif isinstance(exc, UncertainDeliveryError) and row.kind in NOT_RETRIED_WHEN_UNCERTAIN:
            log.warning("outbox row %s (%s) may have been delivered (%s): not sent again", row.id, row.kind, exc)
            stats.uncertain += 1
            await self._record(row.id, "uncertain", f"uncertain: {exc}")
        else:
            if not isinstance(exc, SendError):
                log.error("unexpected error sending outbox row %s", row.id, exc_info=exc)
            attempts = row.attempts + 1
            if attempts >= self.max_attempts:
                stats.failed += 1
                stats.errors.append(str(exc))
                await self._record(row.id, "failed", f"gave up after {attempts} tries: {exc}")
            else:
                backoff = timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))
                await outbox.retry_later(self.db, row.id, now + backoff, str(exc))
                stats.retried += 1
