"""The deployment's health, for `python -m bot health` and a monitor: which process sends (the sender role), how
deep the outbox is, and when each process's reminder clock last ticked. Read from the database, so any process,
or the command line on the same database, sees the same picture.

Unhealthy (the command exits 1, for a monitor or systemd): no process ticked within STALE_AFTER; messages are due
and nobody holds the sender role; or a due message has waited longer than STUCK_AFTER (the sender is alive but
does not get through)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.role import SENDER_ROLE
from storage import beats, leases, outbox
from storage.db import Database

STALE_AFTER = timedelta(minutes=3)  # three missed ticks of the one-minute clock
STUCK_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ProcessState:
    owner: str
    started_at: datetime
    last_tick_at: datetime
    alive: bool  # ticked within STALE_AFTER
    sends: bool  # holds the sender role now


@dataclass(frozen=True, slots=True)
class Health:
    now: datetime
    sender: leases.Holder | None
    depth: outbox.Depth
    processes: tuple[ProcessState, ...]
    problems: tuple[str, ...]  # keys of PROBLEMS, in the order found

    @property
    def ok(self) -> bool:
        return not self.problems


# The problems a health check can find; the command line words them (bot/cli/health_cmd.py).
NO_PROCESS, NO_SENDER, STUCK = "no_process", "no_sender", "stuck"


async def record_tick(db: Database, owner: str, started_at: datetime, now: datetime) -> None:
    """A process's clock ticked (called by every process at each tick, whether it sends or not)."""
    await beats.beat(db, owner, started_at, now)


async def check(db: Database, now: datetime) -> Health:
    holder = await leases.holder(db, SENDER_ROLE, now)
    depth = await outbox.depth(db, now)
    processes = tuple(
        ProcessState(b.owner, b.started_at, b.last_tick_at, alive=now - b.last_tick_at <= STALE_AFTER,
                     sends=holder is not None and holder.owner == b.owner)
        for b in await beats.recent(db))
    problems = []
    if not any(p.alive for p in processes):
        problems.append(NO_PROCESS)
    if depth.due and holder is None:
        problems.append(NO_SENDER)
    if depth.oldest_due is not None and now - depth.oldest_due > STUCK_AFTER:
        problems.append(STUCK)
    return Health(now, holder, depth, processes, tuple(problems))
