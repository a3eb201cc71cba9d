"""Fakes for the reminder sender: a channel that records what it delivers and fails on cue, and a
monotonic clock whose sleep moves time (and the FakeClock) forward without waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.dialog.model import Reply
from tests.fakes import FakeClock

ErrorSpec = BaseException | Callable[[], BaseException]


class SimulatedCrash(BaseException):
    """The process dies here (like KeyboardInterrupt or a kill): not an error anyone handles."""


def _make(spec: ErrorSpec) -> BaseException:
    return spec() if callable(spec) and not isinstance(spec, BaseException) else spec


class FakeTime:
    """time.monotonic and asyncio.sleep for the sender: sleeping advances the monotonic time and the
    wall clock at once, records the request, and returns at once."""

    def __init__(self, clock: FakeClock | None = None, start: float = 1_000.0) -> None:
        self.clock = clock
        self.now = start
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], None] | None = None  # called before each sleep suspends (e.g. to cancel)

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            self.now += seconds
            if self.clock is not None:
                self.clock.advance(seconds=seconds)
        if self.on_sleep is not None:
            self.on_sleep()
        await asyncio.sleep(0)  # still a suspension point, like the real one

    @property
    def slept(self) -> float:
        return sum(s for s in self.sleeps if s > 0)


@dataclass(frozen=True, slots=True)
class Delivery:
    chat_id: str
    reply: Reply
    at: datetime | None  # the wall clock when it was delivered
    mono: float | None  # the monotonic time when it was delivered


@dataclass(frozen=True, slots=True)
class Attempt:
    call: int  # 1-based
    chat_id: str
    error: BaseException | None


class RecordingChannel:
    """An OutboundChannel named "telegram" that records every delivered (chat_id, reply).

    Scripted failures: `fail_chat(chat, error, times)` raises for that chat (`times=None`: always),
    `fail_call(n, error)` raises on the n-th call to send (1-based), and `crash_on_call(n)` delivers
    the n-th message and then raises SimulatedCrash, as if the process died right after the message
    went out and before the outbox heard of it."""

    name = "telegram"

    def __init__(self, clock: FakeClock | None = None, time: FakeTime | None = None) -> None:
        self.clock = clock
        self.time = time
        self.sent: list[Delivery] = []
        self.removed: list[tuple[str, str]] = []
        self.attempts: list[Attempt] = []
        self._by_chat: dict[str, list[tuple[ErrorSpec, int | None]]] = {}
        self._by_call: dict[int, ErrorSpec] = {}
        self._crash_on: int | None = None
        self.after_delivery: Callable[[Delivery], None] | None = None  # called after each delivery

    @property
    def calls(self) -> int:
        return len(self.attempts)

    def fail_chat(self, chat_id: str, error: ErrorSpec, times: int | None = 1) -> None:
        self._by_chat.setdefault(str(chat_id), []).append((error, times))

    def fail_call(self, call: int, error: ErrorSpec) -> None:
        self._by_call[call] = error

    def crash_on_call(self, call: int) -> None:
        self._crash_on = call

    def _scripted(self, chat_id: str, call: int) -> BaseException | None:
        if call in self._by_call:
            return _make(self._by_call.pop(call))
        plans = self._by_chat.get(chat_id, [])
        if plans:
            error, times = plans[0]
            if times is not None:
                if times <= 1:
                    plans.pop(0)
                else:
                    plans[0] = (error, times - 1)
            return _make(error)
        return None

    async def send(self, chat_id: str, replies: Sequence[Reply], *, version: int | None = None,
                   locale: str | None = None) -> None:
        for reply in replies:
            await self._send_one(chat_id, reply)

    async def send_file(self, chat_id: str, reply: Reply, *, locale: str | None = None) -> None:
        await self._send_one(chat_id, reply)

    async def remove_choices(self, chat_id: str, message_id: str) -> None:
        self.removed.append((chat_id, message_id))

    async def _send_one(self, chat_id: str, reply: Reply) -> None:
        call = len(self.attempts) + 1
        error = self._scripted(chat_id, call)
        self.attempts.append(Attempt(call, chat_id, error))
        if error is not None:
            raise error
        delivery = Delivery(chat_id, reply, self.clock.now() if self.clock else None,
                            self.time.monotonic() if self.time else None)
        self.sent.append(delivery)
        if self.after_delivery is not None:
            self.after_delivery(delivery)
        if self._crash_on == call:
            raise SimulatedCrash(f"killed right after call {call}")

    def texts_to(self, chat_id: str) -> list[str]:
        return [d.reply.text for d in self.sent if d.chat_id == str(chat_id)]
