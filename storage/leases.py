"""Named roles held by one process at a time, through a row in the database (the `leases` table).

A role (such as "sender:telegram", the one process that sends for a bot token) has a holder and an expiry. A
process takes it when nobody holds it or the holder's lease has expired, and keeps it by renewing before the
expiry; a holder that dies stops renewing and another takes over once the lease runs out. Plain SQL that SQLite
and PostgreSQL both run: an insert that does nothing on a conflict, then a compare-and-set update, so two
processes racing for a free or expired role cannot both win.

Instants are kept to the microsecond (the leases are seconds long), in UTC ISO text like the rest of the
schema, so that they compare as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage.db import Database


@dataclass(frozen=True, slots=True)
class Holder:
    owner: str
    expires_at: datetime
    acquired_at: datetime


@dataclass(frozen=True, slots=True)
class Acquired:
    held: bool
    taken_from: str | None = None  # the previous holder, when its lease had expired and this one took over


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every instant must carry its zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


async def acquire(db: Database, name: str, owner: str, now: datetime, ttl: timedelta) -> Acquired:
    """Take the role `name` for `owner` until `now + ttl`, or renew it if `owner` holds it already. Refused
    (held=False) while another owner's lease runs."""
    until, stamp = _stamp(now + ttl), _stamp(now)
    async with db.transaction() as tx:
        if await tx.execute_rowcount(
                "INSERT INTO leases(name, owner, expires_at, acquired_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO NOTHING", (name, owner, until, stamp)) == 1:
            return Acquired(True)
        row = await tx.fetchone("SELECT owner, expires_at FROM leases WHERE name = ?", (name,))
        if row is None:  # released between the two statements: next time
            return Acquired(False)
        if row["owner"] == owner:
            renewed = await tx.execute_rowcount("UPDATE leases SET expires_at = ? WHERE name = ? AND owner = ?",
                                                (until, name, owner))
            return Acquired(renewed == 1)
        if row["expires_at"] > stamp:
            return Acquired(False)
        # Compare-and-set: only if the expired holder is still the one read (another process may have won).
        taken = await tx.execute_rowcount(
            "UPDATE leases SET owner = ?, expires_at = ?, acquired_at = ? WHERE name = ? AND owner = ? "
            "AND expires_at = ?", (owner, until, stamp, name, row["owner"], row["expires_at"]))
    return Acquired(True, row["owner"]) if taken == 1 else Acquired(False)


async def release(db: Database, name: str, owner: str) -> bool:
    """Give the role up (a clean stop), so that another process need not wait for the lease to run out."""
    async with db.transaction() as tx:
        return await tx.execute_rowcount("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner)) == 1


async def holder(db: Database, name: str, now: datetime) -> Holder | None:
    """Who holds the role now and until when; None when nobody does (never taken, released, or expired)."""
    row = await db.fetchone("SELECT owner, expires_at, acquired_at FROM leases WHERE name = ? AND expires_at > ?",
                            (name, _stamp(now)))
    if row is None:
        return None
    return Holder(row["owner"], datetime.fromisoformat(row["expires_at"]),
                  datetime.fromisoformat(row["acquired_at"]))
