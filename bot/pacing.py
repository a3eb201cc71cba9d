"""One send budget per channel, shared by the clock's wave (scheduler/sender.py) and the dialog replies the
adapters send, so that together they stay within the messenger's limits while a person talking to the bot
never waits behind the wave.

Every start of a channel, wave or reply, is at least one gap (1 / rate) from every other: no sliding second
holds more than the rate. A reply takes the very next free slot (a reservation) and the wave's next start
moves one gap later around it, so a wave delays an answer by at most one slot. A chat gets one start per
`per_chat_interval`, whoever sends it; the messages of one turn after its first go back to back, as a
person expects an answer and its next question together. A 429 (retry_after) pauses the whole channel,
replies and wave alike.

Channel-neutral: no messenger library here; the adapters call it through bot.port.Port.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Awaitable, Callable, Mapping

_EPS = 1e-9
_PAST = -1e18

Pace = Callable[[], Awaitable[None]]  # awaited before each message of one reply


class SendPacer:
    def __init__(self, per_second: Mapping[str, float], *, per_chat_interval: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.gaps = {name: (1.0 / rate if rate > 0 else 0.0) for name, rate in per_second.items()}
        self.per_chat_interval = per_chat_interval
        self.monotonic, self.sleep = monotonic, sleep
        self._next: dict[str, float] = {}  # per channel: one gap after the last start that happened
        self._paused: dict[str, float] = {}  # per channel: nothing starts before this (a 429)
        self._reserved: dict[str, list[float]] = {}  # per channel: replies' future starts, sorted
        self._last_chat: dict[str, float] = {}  # "channel:chat" -> its last (or reserved) start

    def gap(self, channel: str) -> float:
        return self.gaps.get(channel, 0.0)

    @staticmethod
    def _key(channel: str, chat: str) -> str:
        return f"{channel}:{chat}"

    def _settle_reservations(self, channel: str, now: float) -> list[float]:
        """Reservations whose moment has come count as starts; the future ones are returned."""
        reserved = self._reserved.setdefault(channel, [])
        while reserved and reserved[0] <= now:
            self._next[channel] = max(self._next.get(channel, _PAST), reserved.pop(0) + self.gap(channel))
        return reserved

    def _free_from(self, channel: str, at: float, reserved: list[float]) -> float:
        """The first moment from `at` that is a gap away from every reservation."""
        gap = self.gap(channel)
        for moment in reserved:
            if at <= moment - gap + _EPS:
                break
            if abs(at - moment) < gap - _EPS:
                at = moment + gap
        return at

    def ready_at(self, channel: str, chat: str) -> float:
        """The earliest start of a wave message to `chat`: after the channel's gap, a 429's pause and the
        chat's interval, and clear of every reply's reserved slot."""
        reserved = self._settle_reservations(channel, self.monotonic())
        at = max(self._next.get(channel, _PAST), self._paused.get(channel, _PAST),
                 self._last_chat.get(self._key(channel, chat), _PAST) + self.per_chat_interval)
        return self._free_from(channel, at, reserved)

    def started(self, channel: str, chat: str, at: float) -> None:
        """A wave message started at `at` (its moment from ready_at)."""
        self._next[channel] = max(self._next.get(channel, _PAST), at) + self.gap(channel)
        key = self._key(channel, chat)
        self._last_chat[key] = max(self._last_chat.get(key, _PAST), at)

    def pause(self, channel: str, seconds: float) -> None:
        """The messenger said 429: nothing starts on this channel for `seconds`, replies included."""
        self._paused[channel] = max(self._paused.get(channel, _PAST), self.monotonic() + seconds)

    def _reserve(self, channel: str, chat: str, honour_chat: bool) -> tuple[float, float | None]:
        now = self.monotonic()
        reserved = self._settle_reservations(channel, now)
        key = self._key(channel, chat)
        before = self._last_chat.get(key)
        at = max(now, self._next.get(channel, _PAST), self._paused.get(channel, _PAST))
        if honour_chat:
            at = max(at, (before if before is not None else _PAST) + self.per_chat_interval)
        at = self._free_from(channel, at, reserved)
        bisect.insort(reserved, at)
        self._last_chat[key] = max(before if before is not None else _PAST, at)
        return at, before

    def _cancel(self, channel: str, chat: str, at: float, before: float | None) -> None:
        reserved = self._reserved.get(channel, [])
        if at in reserved:
            reserved.remove(at)
        key = self._key(channel, chat)
        if self._last_chat.get(key) == at:
            if before is None:
                self._last_chat.pop(key, None)
            else:
                self._last_chat[key] = before

    async def reply_slot(self, channel: str, chat: str, *, honour_chat: bool = True) -> None:
        """Wait for the next free slot of `channel` for a reply to `chat` (before any queued wave message).
        A 429 that arrives while waiting moves the reply after the pause."""
        while True:
            at, before = self._reserve(channel, chat, honour_chat)
            try:
                wait = at - self.monotonic()
                if wait > 0:
                    await self.sleep(wait)
            except BaseException:  # cancelled: the slot goes back to the wave
                self._cancel(channel, chat, at, before)
                raise
            if self._paused.get(channel, _PAST) <= at + _EPS:
                return
            self._cancel(channel, chat, at, before)  # a pause came meanwhile: take a slot after it

    def turn(self, channel: str, chat: str) -> Pace:
        """What one reply (one turn, possibly several messages) awaits before each message: the first
        honours the chat's interval, the rest only the channel's rate."""
        first = True

        async def pace() -> None:
            nonlocal first
            honour, first = first, False
            await self.reply_slot(channel, chat, honour_chat=honour)

        return pace
