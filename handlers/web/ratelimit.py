"""Rate limits on the sign-in endpoints: an in-process sliding window per client address and per route.

In process, on purpose: it slows down guessing from one address through this process; the tokens' 256 bits are
what make guessing hopeless. Behind a reverse proxy every request comes from the proxy's address, so the client's
address is taken from X-Forwarded-For when [web] forwarded_for says a proxy adds it."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from aiohttp import web

MAX_KEYS = 10_000  # addresses remembered at once; past that the idlest are forgotten first


class SlidingWindow:
    """At most `limit` events per key within any `window` seconds; `now` is a monotonic clock (tests pass one)."""

    def __init__(self, limit: int, window: float, now: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.now = limit, window, now
        self._events: dict[tuple[str, str], deque[float]] = {}

    def allow(self, route: str, client: str) -> bool:
        """Count one attempt; False (and not counted) when the window is full."""
        now = self.now()
        key = (route, client)
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        allowed = len(events) < self.limit
        if allowed:
            events.append(now)
        if events:
            self._events[key] = events  # re-inserted: the dict's order is least recently used first
        if len(self._events) > MAX_KEYS:
            del self._events[next(iter(self._events))]
        return allowed

    def retry_after(self, route: str, client: str) -> int:
        """Whole seconds until the oldest counted attempt leaves the window."""
        events = self._events.get((route, client))
        if not events:
            return 0
        return max(1, int(events[0] + self.window - self.now() + 0.999))


def client_address(request: web.Request, *, forwarded_for: bool) -> str:
    if forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last[:64]
    return request.remote or "?"
