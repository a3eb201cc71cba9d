"""The outbox: every message the clock decides to send is a row under a unique key before it is sent.

pending -> sending -> sent | failed | skipped | uncertain (the request left, no clear answer: maybe
delivered, not retried blindly); superseded rows record slots that were never sent
because a newer one replaced them after downtime.

Several processes may share the database. A claimed row carries its claimer (`owner`, one random id per sender)
and a lease (`lease_until`), renewed while the claimer works through its batch. Recovery puts back to 'pending'
only rows whose lease ran out: a process that crashed, never one still sending. So a second process, or
`reminders run-once`, started during a wave repeats nothing; after a crash at most the messages in flight can
repeat. Every outcome clears the lease. On PostgreSQL the claim skips rows another claim has locked.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.db import Database, Write
from storage.timefmt import from_db, to_db

# How long a claim holds its rows without renewal. The sender renews every third of it while it works; a batch
# of 200 at 30/s takes 7 s, a 429 pause or a slow send at most a few tens of seconds.
OUTBOX_LEASE = timedelta(seconds=60)
_NO_LEASE = "owner = NULL, lease_until = NULL"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    key: str
    kind: str  # "reminder", "escalation", "manual", "summary", "review" (a returned report, to its chair)
    person_id: int | None
    unit_id: int | None
    period_id: int | None
    channel: str
    chat_id: str
    planned_for: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    key: str
    kind: str
    person_id: int | None
    unit_id: int | None
    period_id: int | None
    channel: str
    payload: dict[str, Any]
    planned_for: datetime
    status: str
    attempts: int
    last_error: str | None


def _row(r: sqlite3.Row) -> OutboxRow:
    return OutboxRow(r["id"], r["key"], r["kind"], r["person_id"], r["unit_id"], r["period_id"], r["channel"],
                     json.loads(r["payload"]), from_db(r["planned_for"]), r["status"], r["attempts"], r["last_error"])


async def add(db: Database, items: Iterable[OutboxItem], now: datetime, status: str = "pending") -> int:
    """Insert items whose key is new; return how many were new. A key planned before is never planned again."""
    created = to_db(now)
    # next_try_at is the planned moment: a message planned for the morning is not sent before it.
    rows = [
        (i.key, i.kind, i.person_id, i.unit_id, i.period_id, i.channel,
         json.dumps({**i.payload, "chat_id": i.chat_id}, ensure_ascii=False), to_db(i.planned_for), status,
         to_db(i.planned_for), created)
        for i in items
    ]
    if not rows:
        return 0
    async with db.transaction() as tx:
        # The rows the inserts changed, as both drivers count them (a key already there inserts nothing): no
        # count(*) over the whole outbox.
        return await tx.executemany(
            "INSERT OR IGNORE INTO outbox(key, kind, person_id, unit_id, period_id, channel, payload, planned_for, "
            "status, next_try_at, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )


async def existing_keys(db: Database, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        marks = ",".join("?" * len(chunk))
        rows = await db.fetchall(f"SELECT key FROM outbox WHERE key IN ({marks})", chunk)
        found.update(r["key"] for r in rows)
    return found


async def claim(db: Database, now: datetime, limit: int, *, owner: str | None = None,
                lease: timedelta = OUTBOX_LEASE) -> list[OutboxRow]:
    """Take up to `limit` pending rows that are due, oldest first, and mark them in flight for `owner` (None: a
    one-off claimer that will not renew) until `now + lease`. Two claims never take the same row: SQLite's write
    transaction runs one at a time, and on PostgreSQL the rows are locked as read and rows another claim has
    locked are skipped."""
    owner = owner or f"claim:{secrets.token_hex(6)}"
    lock = " FOR UPDATE SKIP LOCKED" if getattr(db, "dialect", "sqlite") == "postgresql" else ""
    async with db.transaction() as tx:
        rows = await tx.fetchall(
            "SELECT * FROM outbox WHERE status = 'pending' AND next_try_at <= ? ORDER BY planned_for, id LIMIT ?"
            + lock,
            (to_db(now), limit),
        )
        if rows:
            marks = ",".join("?" * len(rows))
            await tx.execute(f"UPDATE outbox SET status = 'sending', owner = ?, lease_until = ? WHERE id IN ({marks})",
                             [owner, to_db(now + lease), *(r["id"] for r in rows)])
    return [_row(r) for r in rows]


async def renew(db: Database, owner: str, now: datetime, lease: timedelta = OUTBOX_LEASE) -> set[int]:
    """Extend `owner`'s leases to `now + lease`; return the ids it still holds (a row whose lease ran out and
    was put back is no longer there: its claimer must not send it)."""
    async with db.transaction() as tx:
        await tx.execute("UPDATE outbox SET lease_until = ? WHERE status = 'sending' AND owner = ?",
                         (to_db(now + lease), owner))
        rows = await tx.fetchall("SELECT id FROM outbox WHERE status = 'sending' AND owner = ?", (owner,))
    return {r["id"] for r in rows}


async def finish_many(db: Database, results: list[tuple[int, str, str | None]], now: datetime) -> None:
    """Record several outcomes (row id, status, error) in one transaction and one trip to the database."""
    if not results:
        return
    stamp = to_db(now)
    await db.write([
        Write(f"UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, sent_at = ?, {_NO_LEASE} "
              "WHERE id = ?",
              (status, error, stamp if status == "sent" else None, row_id))
        for row_id, status, error in results
    ])


async def release(db: Database, row_ids: list[int], owner: str | None = None) -> None:
    """Claimed rows not sent this time (out of time, or the sender role lost) go back to pending, untouched;
    with `owner`, only those it still holds (one taken back meanwhile may be another claimer's now)."""
    if not row_ids:
        return
    mine = " AND status = 'sending' AND owner = ?" if owner is not None else ""
    await db.write([Write(f"UPDATE outbox SET status = 'pending', {_NO_LEASE} WHERE id = ?{mine}",
                          (i, owner) if owner is not None else (i,)) for i in row_ids])


async def retry_later(db: Database, row_id: int, at: datetime, error: str, count_attempt: bool = True) -> None:
    await db.write([Write(
        f"UPDATE outbox SET status = 'pending', next_try_at = ?, last_error = ?, attempts = attempts + ?, {_NO_LEASE} "
        "WHERE id = ?",
        (to_db(at), error, 1 if count_attempt else 0, row_id),
    )])


async def reclaim_expired(db: Database, now: datetime) -> int:
    """Rows whose claimer's lease ran out (it crashed or hung) go back to 'pending': they may repeat, nothing is
    lost. A live claimer's rows, whose lease it keeps renewing, are left alone. Returns how many went back."""
    async with db.transaction() as tx:
        return await tx.execute_rowcount(
            f"UPDATE outbox SET status = 'pending', {_NO_LEASE} "
            "WHERE status = 'sending' AND (lease_until IS NULL OR lease_until <= ?)", (to_db(now),))


async def reclaim_from(db: Database, owner: str) -> int:
    """Every row still in flight for `owner` goes back to 'pending' before its lease runs out: for the one
    that takes the sender role over from a holder whose role lease expired (dead or hung: it sends no more)."""
    async with db.transaction() as tx:
        return await tx.execute_rowcount(
            f"UPDATE outbox SET status = 'pending', {_NO_LEASE} WHERE status = 'sending' AND owner = ?", (owner,))


async def counts(db: Database) -> dict[str, int]:
    rows = await db.fetchall("SELECT status, count(*) AS n FROM outbox GROUP BY status")
    return {r["status"]: r["n"] for r in rows}


async def all_rows(db: Database) -> list[OutboxRow]:
    return [_row(r) for r in await db.fetchall("SELECT * FROM outbox ORDER BY id")]


async def due_count(db: Database, now: datetime) -> int:
    """How many pending rows are due now (the rest of a wave, for its progress report)."""
    return int(await db.fetchval("SELECT count(*) FROM outbox WHERE status = 'pending' AND next_try_at <= ?",
                                 (to_db(now),)))


def item_write(item: OutboxItem, now: datetime) -> Write:
    """One item as a Write for a caller's batch (a reviewer's decision and the chair's message, together); a key
    planned before is left as it is."""
    return Write(
        "INSERT INTO outbox(key, kind, person_id, unit_id, period_id, channel, payload, planned_for, status, "
        "next_try_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (key) DO NOTHING",
        (item.key, item.kind, item.person_id, item.unit_id, item.period_id, item.channel,
         json.dumps({**item.payload, "chat_id": item.chat_id}, ensure_ascii=False), to_db(item.planned_for),
         to_db(item.planned_for), to_db(now)),
    )


@dataclass(frozen=True, slots=True)
class Depth:
    """The outbox seen by `python -m bot health`: what waits now, what waits for its moment, what is on the wire."""

    due: int  # pending and due: the sender should be on it
    later: int  # pending, planned for later (or waiting out a retry)
    sending: int  # claimed by a sender, outcome not yet recorded
    oldest_due: datetime | None  # the moment the longest-waiting due message became due


async def depth(db: Database, now: datetime) -> Depth:
    row = await db.fetchone(
        "SELECT sum(CASE WHEN status = 'pending' AND next_try_at <= ? THEN 1 ELSE 0 END) AS due, "
        "sum(CASE WHEN status = 'pending' AND next_try_at > ? THEN 1 ELSE 0 END) AS later, "
        "sum(CASE WHEN status = 'sending' THEN 1 ELSE 0 END) AS sending, "
        "min(CASE WHEN status = 'pending' AND next_try_at <= ? THEN next_try_at END) AS oldest "
        "FROM outbox WHERE status IN ('pending', 'sending')", (to_db(now), to_db(now), to_db(now)))
    assert row is not None  # an aggregate always gives one row
    return Depth(int(row["due"] or 0), int(row["later"] or 0), int(row["sending"] or 0),
                 from_db(row["oldest"]) if row["oldest"] else None)
