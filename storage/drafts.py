"""Dialog state, one row per person, saved after every step.

Each save carries the version it was computed from; a save against a newer version is refused,
so two updates racing for the same person never overwrite each other. The update's key is
recorded in the same transaction, so a re-delivered update is recognised and not acted on twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Database, Write
from storage.timefmt import from_db, to_db


@dataclass(frozen=True, slots=True)
class Draft:
    person_id: int
    state: dict[str, Any]
    version: int
    unit_id: int | None
    period_id: int | None
    step: int
    steps_total: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DraftProgress:
    person_id: int
    unit_id: int
    period_id: int
    step: int
    steps_total: int
    updated_at: datetime


class StaleVersionError(Exception):
    """Another update changed the dialog first."""


class DuplicateUpdateError(Exception):
    """This update was handled before."""


async def load(db: Database, person_id: int) -> Draft | None:
    row = await db.fetchone("SELECT * FROM drafts WHERE person_id = ?", (person_id,))
    return None if row is None else from_row(person_id, row)


def from_row(person_id: int, row: Any) -> Draft:
    return Draft(person_id, json.loads(row["state"]), row["version"], row["unit_id"], row["period_id"],
                 row["step"], row["steps_total"], from_db(row["updated_at"]))


async def seen(db: Database, channel: str, update_key: str) -> bool:
    row = await db.fetchone("SELECT 1 FROM processed_updates WHERE channel = ? AND update_key = ?",
                            (channel, update_key))
    return row is not None


def update_mark(channel: str, update_key: str, now: datetime) -> Write:
    """The statement that records an update as handled; DuplicateUpdateError when it already was."""
    return Write("INSERT OR IGNORE INTO processed_updates(channel, update_key, at) VALUES (?, ?, ?)",
                 (channel, update_key, to_db(now)), refusal=DuplicateUpdateError(update_key))


def state_save(
    *,
    person_id: int,
    expected_version: int,
    state: dict[str, Any],
    unit_id: int | None,
    period_id: int | None,
    step: int,
    steps_total: int,
    now: datetime,
) -> Write:
    """The statement that stores the state as version expected_version + 1; StaleVersionError if another
    update changed the draft first (or, for version 0, created it)."""
    stamp = to_db(now)
    payload = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
    stale = StaleVersionError(person_id)
    if expected_version == 0:
        return Write(
            "INSERT INTO drafts(person_id, unit_id, period_id, state, step, steps_total, version, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT(person_id) DO UPDATE SET "
            "unit_id = excluded.unit_id, period_id = excluded.period_id, state = excluded.state, "
            "step = excluded.step, steps_total = excluded.steps_total, version = 1, "
            "updated_at = excluded.updated_at WHERE drafts.version = 0",
            (person_id, unit_id, period_id, payload, step, steps_total, stamp, stamp), refusal=stale)
    return Write(
        "UPDATE drafts SET unit_id = ?, period_id = ?, state = ?, step = ?, steps_total = ?, "
        "version = version + 1, updated_at = ? WHERE person_id = ? AND version = ?",
        (unit_id, period_id, payload, step, steps_total, stamp, person_id, expected_version), refusal=stale)


async def open_for(db: Database, period_id: int) -> list[DraftProgress]:
    """Drafts in progress for a period: reminders tell the unit where it stopped."""
    rows = await db.fetchall(
        "SELECT person_id, unit_id, period_id, step, steps_total, updated_at FROM drafts "
        "WHERE period_id = ? AND unit_id IS NOT NULL",
        (period_id,),
    )
    return [DraftProgress(r["person_id"], r["unit_id"], r["period_id"], r["step"], r["steps_total"],
                          from_db(r["updated_at"])) for r in rows]
