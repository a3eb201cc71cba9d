"""Submissions: one per unit and period, with every revision and its answers kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.timefmt import from_db


@dataclass(frozen=True, slots=True)
class SubmissionRow:
    id: int
    period_id: int
    unit_id: int
    reference: str
    revision: int
    first_submitted_at: datetime
    last_submitted_at: datetime
    late: bool


async def of_unit(db: Database, unit_id: int) -> dict[int, SubmissionRow]:
    """The unit's submissions keyed by period id."""
    rows = await db.fetchall("SELECT * FROM submissions WHERE unit_id = ?", (unit_id,))
    return {
        r["period_id"]: SubmissionRow(
            r["id"],
            r["period_id"],
            r["unit_id"],
            r["reference"],
            r["revision"],
            from_db(r["first_submitted_at"]),
            from_db(r["last_submitted_at"]),
            bool(r["late"]),
        )
        for r in rows
    }
