"""Submissions: one per unit and period, with every revision and its answers kept."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage import audit, reviews
from storage.db import Database, Transaction
from storage.timefmt import from_db, to_db

# Receipt numbers are read aloud and typed: no 0/O, 1/I/L.
_REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


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
    review_state: str = "submitted"  # storage/reviews.py: submitted, approved or returned (this revision's)


@dataclass(frozen=True, slots=True)
class RevisionRow:
    submission_id: int
    revision: int
    submitted_at: datetime
    submitted_by: int | None
    channel: str
    late: bool
    answers: dict[str, Any]


def _submission(r: sqlite3.Row) -> SubmissionRow:
    return SubmissionRow(r["id"], r["period_id"], r["unit_id"], r["reference"], r["revision"],
                         from_db(r["first_submitted_at"]), from_db(r["last_submitted_at"]), bool(r["late"]),
                         r["review_state"])


def new_reference() -> str:
    return "BC-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))


async def of_unit(db: Database, unit_id: int) -> dict[int, SubmissionRow]:
    """The unit's submissions keyed by period id."""
    rows = await db.fetchall("SELECT * FROM submissions WHERE unit_id = ?", (unit_id,))
    return {r["period_id"]: _submission(r) for r in rows}


async def of_units(db: Database, unit_ids: Iterable[int]) -> list[SubmissionRow]:
    ids = list(unit_ids)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = await db.fetchall(
        f"SELECT * FROM submissions WHERE unit_id IN ({marks}) ORDER BY last_submitted_at DESC", ids
    )
    return [_submission(r) for r in rows]


async def by_id(db: Database, submission_id: int) -> SubmissionRow | None:
    row = await db.fetchone("SELECT * FROM submissions WHERE id = ?", (submission_id,))
    return None if row is None else _submission(row)


async def by_reference(db: Database, reference: str) -> int | None:
    """The submission a receipt number names (a reviewer opens one by it)."""
    value = await db.fetchval("SELECT id FROM submissions WHERE reference = ?", (reference,))
    return None if value is None else int(value)


async def attachment_names(db: Database, attachment_ids: Iterable[int]) -> dict[int, str]:
    """The names of kept files (a photo's or document's answer holds their ids), for the reviewer's screen."""
    ids = [i for i in attachment_ids if isinstance(i, int)]
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = await db.fetchall(f"SELECT id, file_name, mime_type FROM attachments WHERE id IN ({marks})", ids)
    return {r["id"]: r["file_name"] or r["mime_type"] or f"#{r['id']}" for r in rows}


async def revisions(db: Database, submission_id: int) -> list[RevisionRow]:
    rows = await db.fetchall(
        "SELECT * FROM submission_revisions WHERE submission_id = ? ORDER BY revision", (submission_id,)
    )
    out = []
    for r in rows:
        answers = await db.fetchall("SELECT field, value FROM answers WHERE revision_id = ?", (r["id"],))
        out.append(RevisionRow(r["submission_id"], r["revision"], from_db(r["submitted_at"]), r["submitted_by"],
                               r["channel"], bool(r["late"]), {a["field"]: json.loads(a["value"]) for a in answers}))
    return out


async def latest_answers(db: Database, submission_id: int) -> dict[str, Any]:
    """The answers of the submission's latest revision ({} for an unknown submission): the JSON copy record()
    keeps on the submission, not a join over the answers table."""
    text = await db.fetchval("SELECT latest_answers FROM submissions WHERE id = ?", (submission_id,))
    return {} if text is None else json.loads(text)


async def record(
    tx: Transaction,
    *,
    period_id: int,
    unit_id: int,
    person_id: int,
    channel: str,
    answers: dict[str, Any],
    now: datetime,
    late: bool,
) -> SubmissionRow:
    """Store a submission, or a new revision of the unit's existing one; every revision is kept. Raises
    storage.reviews.ReportApprovedError for a new revision of an approved report."""
    stamp = to_db(now)
    existing = await tx.fetchone("SELECT * FROM submissions WHERE period_id = ? AND unit_id = ?",
                                 (period_id, unit_id))
    if existing is None:
        for _ in range(10):
            reference = new_reference()
            if await tx.fetchone("SELECT 1 FROM submissions WHERE reference = ?", (reference,)) is None:
                break
        submission_id = await tx.execute(
            "INSERT INTO submissions(period_id, unit_id, reference, revision, first_submitted_at, "
            "last_submitted_at, late, review_since) VALUES (?, ?, ?, 1, ?, ?, ?, ?)",
            (period_id, unit_id, reference, stamp, stamp, int(late), stamp),
        )
        revision = 1
    else:
        submission_id = existing["id"]
        revision = existing["revision"] + 1
        # An approved report refuses a correction (ReportApprovedError rolls back); a returned one waits again.
        await reviews.on_new_revision(tx, submission_id, revision, person_id, now)
        # "late" describes the first submission: a correction after the due date does not make it late.
        await tx.execute("UPDATE submissions SET revision = ?, last_submitted_at = ? WHERE id = ?",
                         (revision, stamp, submission_id))
    revision_id = await tx.execute(
        "INSERT INTO submission_revisions(submission_id, revision, submitted_at, submitted_by, channel, late) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (submission_id, revision, stamp, person_id, channel, int(late)),
    )
    await tx.executemany(
        "INSERT INTO answers(revision_id, field, value) VALUES (?, ?, ?)",
        [(revision_id, k, json.dumps(v, ensure_ascii=False)) for k, v in sorted(answers.items())],
    )
    await tx.execute("UPDATE submissions SET latest_answers = ? WHERE id = ?",
                     (json.dumps(answers, ensure_ascii=False, sort_keys=True), submission_id))
    await audit.record(tx, at=now, actor=f"person:{person_id}", action="submit" if revision == 1 else "revise",
                       entity="submission", entity_id=submission_id,
                       detail={"revision": revision, "channel": channel, "late": late})
    row = await tx.fetchone("SELECT * FROM submissions WHERE id = ?", (submission_id,))
    assert row is not None
    return _submission(row)


async def add_attachment(
    db: Database,
    *,
    person_id: int,
    unit_id: int | None,
    period_id: int | None,
    field: str,
    channel: str,
    file_id: str | None,
    file_unique_id: str | None,
    file_name: str | None,
    mime_type: str | None,
    size_bytes: int | None,
    sha256: str | None,
    local_path: str | None,
    now: datetime,
) -> int:
    async with db.transaction() as tx:
        return await tx.execute(
            "INSERT INTO attachments(person_id, unit_id, period_id, field, channel, file_id, file_unique_id, "
            "file_name, mime_type, size_bytes, sha256, local_path, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (person_id, unit_id, period_id, field, channel, file_id, file_unique_id, file_name, mime_type,
             size_bytes, sha256, local_path, to_db(now)),
        )
