"""The outbox: every message the clock decides to send is a row under a unique key before it is sent.

pending -> sending -> sent | failed | skipped | uncertain (the request left, no clear answer: maybe
delivered, not retried blindly); superseded rows record slots that were never sent
because a newer one replaced them after downtime. A row left in 'sending' by a crash is put back to
'pending' on start, so at most the messages in flight at the crash can repeat.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Database, Write
from storage.timefmt import from_db, to_db


@dataclass(frozen=True, slots=True)
class OutboxItem:
    key: str
    kind: str  # "reminder", "escalation", "manual", "summary"
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


async def claim(db: Database, now: datetime, limit: int) -> list[OutboxRow]:
    """Take up to `limit` pending rows that are due, oldest first, and mark them in flight."""
    async with db.transaction() as tx:
        rows = await tx.fetchall(
            "SELECT * FROM outbox WHERE status = 'pending' AND next_try_at <= ? ORDER BY planned_for, id LIMIT ?",
            (to_db(now), limit),
        )
        if rows:
            marks = ",".join("?" * len(rows))
            await tx.execute(f"UPDATE outbox SET status = 'sending' WHERE id IN ({marks})", [r["id"] for r in rows])
    return [_row(r) for r in rows]


async def finish_many(db: Database, results: list[tuple[int, str, str | None]], now: datetime) -> None:
    """Record several outcomes (row id, status, error) in one transaction and one trip to the database."""
    if not results:
        return
    stamp = to_db(now)
    await db.write([
        Write("UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, sent_at = ? WHERE id = ?",
              (status, error, stamp if status == "sent" else None, row_id))
        for row_id, status, error in results
    ])


async def release(db: Database, row_ids: list[int]) -> None:
    """Claimed rows not sent this time (out of time) go back to pending, untouched."""
    if not row_ids:
        return
    await db.write([Write("UPDATE outbox SET status = 'pending' WHERE id = ?", (i,)) for i in row_ids])


async def retry_later(db: Database, row_id: int, at: datetime, error: str, count_attempt: bool = True) -> None:
    await db.write([Write(
        "UPDATE outbox SET status = 'pending', next_try_at = ?, last_error = ?, attempts = attempts + ? WHERE id = ?",
        (to_db(at), error, 1 if count_attempt else 0, row_id),
    )])


async def reset_in_flight(db: Database) -> int:
    """After a crash: rows marked 'sending' go back to 'pending' (they may repeat, nothing is lost)."""
    async with db.transaction() as tx:
        return await tx.execute_rowcount("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")


async def counts(db: Database) -> dict[str, int]:
    rows = await db.fetchall("SELECT status, count(*) AS n FROM outbox GROUP BY status")
    return {r["status"]: r["n"] for r in rows}


async def all_rows(db: Database) -> list[OutboxRow]:
    return [_row(r) for r in await db.fetchall("SELECT * FROM outbox ORDER BY id")]


async def due_count(db: Database, now: datetime) -> int:
    """How many pending rows are due now (the rest of a wave, for its progress report)."""
    return int(await db.fetchval("SELECT count(*) FROM outbox WHERE status = 'pending' AND next_try_at <= ?",
                                 (to_db(now),)))
