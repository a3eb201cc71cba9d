"""Each bot process's heartbeat: when it started and when its reminder clock last ticked (the `process_beats`
table). Every process of a deployment writes its own row once a tick; `python -m bot health` reads them with the
sender role's holder (storage/leases.py) and the outbox's depth. Plain SQL that SQLite and PostgreSQL both run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import Database, Write
from storage.timefmt import from_db, to_db

# A process silent this long is gone (killed, or its machine is): its row is dropped at the next beat of another.
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Beat:
    owner: str  # host:pid:random, the same id as the process's claims and sender role
    started_at: datetime
    last_tick_at: datetime


async def beat(db: Database, owner: str, started_at: datetime, now: datetime) -> None:
    """This process's clock ticked at `now` (one row per process, updated in place)."""
    await db.write([
        Write("INSERT INTO process_beats (owner, started_at, last_tick_at) VALUES (?, ?, ?) "
              "ON CONFLICT (owner) DO UPDATE SET last_tick_at = excluded.last_tick_at",
              (owner, to_db(started_at), to_db(now))),
        Write("DELETE FROM process_beats WHERE last_tick_at < ?", (to_db(now - FORGET_AFTER),)),
    ])


async def recent(db: Database) -> list[Beat]:
    """Every process seen within FORGET_AFTER, the latest tick first."""
    rows = await db.fetchall("SELECT owner, started_at, last_tick_at FROM process_beats ORDER BY last_tick_at DESC")
    return [Beat(r["owner"], from_db(r["started_at"]), from_db(r["last_tick_at"])) for r in rows]
