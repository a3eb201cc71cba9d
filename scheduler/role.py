"""One sender per bot token, whatever the number of processes: Telegram's 30 messages a second are one budget
for the token, so two processes pacing themselves at 30/s each would send 60. Every process plans (planning
is idempotent: unique slot keys); only the holder of the sender role drains the outbox.

The role ("sender") is a lease row in the database (storage/leases.py), so it works on SQLite and PostgreSQL alike. The
holder renews it every `renew_every` seconds; the others try to take it at the same pace. A holder that dies
stops renewing: its lease expires within `ttl` and another process takes over at its next try, within
ttl + renew_every (6 + 2 = 8 s) of the death. The taker then puts the dead holder's in-flight messages back
at once (not after their outbox lease): at most those that were on the wire can repeat.

The holder trusts its role only until `ttl - margin` after its last successful renewal began, counted on its
own monotonic clock: a holder that hangs (a stalled disk, a paused VM) stops starting messages before anyone
else can take the role, so two processes never send at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.clock import Clock
from storage import leases, outbox
from storage.db import Database

log = logging.getLogger(__name__)

ROLE_TTL_SECONDS = 6.0
RENEW_EVERY_SECONDS = 2.0
# Held locally this long less than the lease: for the renewal's own trip to the database and clock drift.
SAFETY_MARGIN_SECONDS = 1.5


def new_owner_id() -> str:
    """A random id for this process's sender, readable in a health report: host, pid, and random bits (a pid
    is reused after a restart; the random part is not)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


# One role for the whole outbox: the holder sends on every channel (a bot token's budget is per channel, and
# every process of a deployment has the same tokens).
SENDER_ROLE = "sender"


class SenderRole:
    """This process's claim on the one sender role. `held()` is what the outbox sender asks before each start."""

    def __init__(self, db: Database, clock: Clock, owner: str, *, name: str = SENDER_ROLE,
                 ttl: float = ROLE_TTL_SECONDS, renew_every: float = RENEW_EVERY_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.db, self.clock, self.owner, self.name = db, clock, owner, name
        self.ttl, self.renew_every = ttl, renew_every
        self.monotonic, self.sleep = monotonic, sleep
        self._valid_until = -1.0  # monotonic moment after which this process no longer trusts its role

    def held(self) -> bool:
        return self.monotonic() < self._valid_until

    async def try_take(self) -> bool:
        """Take or renew the role once; True when this process holds it now. A take-over from an expired holder
        puts that holder's in-flight messages back to be sent."""
        began = self.monotonic()
        try:
            got = await leases.acquire(self.db, self.name, self.owner, self.clock.now(),
                                       timedelta(seconds=self.ttl))
        except Exception:
            log.exception("the sender role could not be renewed: not sending until it is")
            self._valid_until = -1.0
            return False
        was_held = self.held()
        self._valid_until = began + self.ttl - SAFETY_MARGIN_SECONDS if got.held else -1.0
        if got.taken_from is not None:
            back = await outbox.reclaim_from(self.db, got.taken_from)
            log.warning("took the sender role over from %s, whose lease had expired; %d of its messages in flight "
                        "go back to the queue", got.taken_from, back)
        if got.held and not was_held:
            log.info("this process (%s) now sends for %s", self.owner, self.name)
        elif was_held and not got.held:
            log.warning("this process (%s) lost the sender role %s: it stops sending", self.owner, self.name)
        return got.held

    async def keep(self, on_gained: Callable[[], object] | None = None) -> None:
        """Forever (until cancelled): renew the role, or try to take it; `on_gained` is called each time this
        process becomes the holder (to start sending at once rather than at the next tick)."""
        while True:
            was_held = self.held()
            if await self.try_take() and not was_held and on_gained is not None:
                on_gained()
            await self.sleep(self.renew_every)

    async def holder(self) -> leases.Holder | None:
        """Who sends now (this process or another) and until when; None: nobody holds the role."""
        return await leases.holder(self.db, self.name, self.clock.now())

    async def release(self) -> None:
        """A clean stop: give the role up so that another process takes it at its next try."""
        self._valid_until = -1.0
        with contextlib.suppress(Exception):
            await leases.release(self.db, self.name, self.owner)
