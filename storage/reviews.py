"""Review and approval of submitted reports (issue 15): a report's state, every transition, and the exceptions.

A submission's `review_state` applies to its current revision (`submissions.revision`): submitted -> approved,
submitted -> returned -> (a new revision) submitted -> ..., approved -> (reopened) submitted. Every transition is a
row of `review_events`, never deleted. A decision is one write batch whose first statement is a compare-and-set on
the state and the revision the reviewer saw: of two reviewers acting at once exactly one wins, and a decision on a
revision that has since been replaced changes nothing. The refused one is told which of the two happened.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.errors import N_, TranslatableError
from storage.db import Database, Transaction, Write
from storage.timefmt import from_db, to_db

ReviewState = Literal["submitted", "approved", "returned"]
ReviewAction = Literal["approved", "returned", "resubmitted", "reopened"]
REVIEW_STATES: tuple[ReviewState, ...] = ("submitted", "approved", "returned")

# action -> (the states it may start from, the state after). "resubmitted" is written by storage.submissions.record
# when a returned report gets a new revision; a reviewer decides the other three.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approved": (("submitted",), "approved"),
    "returned": (("submitted",), "returned"),
    "reopened": (("approved",), "submitted"),
    "resubmitted": (("returned",), "submitted"),
}
DECISIONS = ("approved", "returned", "reopened")
RETURN_UNLOCK = timedelta(days=7)  # a report returned after its period closed stays open this long ([review])
RETURN_UNLOCK_REASON = "returned after the period closed"
REASON_LIMIT = 1000  # characters; the conversation cuts a longer reason and says so


class ReviewConflictError(TranslatableError):
    """A decision that did not apply; the conversation tells the reviewer and shows the next report."""

    msgid = N_("This report has changed since you opened it.")


class AlreadyDecidedError(ReviewConflictError):
    msgid = N_("Someone else has already decided on this report.")

    def __init__(self, state: str) -> None:
        super().__init__()
        self.state = state


class RevisionReplacedError(ReviewConflictError):
    msgid = N_("This report has been submitted again since you opened it.")

    def __init__(self, revision: int) -> None:
        super().__init__()
        self.revision = revision


class ReportApprovedError(TranslatableError):
    """A new revision of an approved report, refused until a reviewer reopens it. The conversation words the
    message with `by_name` and `at` in the reader's zone."""

    msgid = N_("This report has already been approved and can no longer be corrected.")

    def __init__(self, submission_id: int, by_name: str | None, at: datetime | None) -> None:
        super().__init__()
        self.submission_id = submission_id
        self.by_name = by_name
        self.at = at


class ReportLockedError(TranslatableError):
    """A new revision after the period closed, with no lock exception open for the unit: refused, nothing
    written. The conversation words it with the closing date in the reader's zone."""

    msgid = N_("This period has closed; the report can no longer be corrected.")

    def __init__(self, closes_at: datetime) -> None:
        super().__init__()
        self.closes_at = closes_at


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    id: int
    submission_id: int
    revision: int
    action: str
    state_after: str
    actor_id: int | None
    actor_name: str | None
    reason: str | None
    fields: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class Waiting:
    """One report waiting for review."""

    submission_id: int
    period_id: int
    unit_id: int
    reference: str
    revision: int
    late: bool
    waiting_since: datetime
    last_submitted_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewStatus:
    submission_id: int
    period_id: int
    unit_id: int
    revision: int
    state: str
    since: datetime


@dataclass(frozen=True, slots=True)
class PreviousAnswers:
    period_id: int
    period_name: str
    answers: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LockException:
    id: int
    period_id: int
    unit_id: int
    until: datetime
    reason: str
    granted_by: int | None
    granted_at: datetime


@dataclass(frozen=True, slots=True)
class Excuse:
    period_id: int
    unit_id: int
    reason: str
    excused_by: int | None
    at: datetime


_EVENT_SELECT = """SELECT e.*, p.full_name AS actor_name FROM review_events e
                   LEFT JOIN people p ON p.id = e.actor_id"""


def _event(r: sqlite3.Row) -> ReviewEvent:
    return ReviewEvent(r["id"], r["submission_id"], r["revision"], r["action"], r["state_after"], r["actor_id"],
                       r["actor_name"], r["reason"], tuple(json.loads(r["fields"] or "[]")), from_db(r["at"]))


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _event_write(submission_id: int, revision: int, action: str, state_after: str, actor_id: int | None,
                 reason: str | None, fields: Iterable[str], stamp: str) -> Write:
    return Write(
        "INSERT INTO review_events(submission_id, revision, action, state_after, actor_id, reason, fields, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (submission_id, revision, action, state_after, actor_id, reason,
         json.dumps(list(fields), ensure_ascii=False), stamp),
    )


async def decide(db: Database, submission_id: int, revision: int, action: str, actor_id: int, reason: str | None,
                 fields: Iterable[str], now: datetime, *, extra: Sequence[Write] = (),
                 unlock_for: timedelta = RETURN_UNLOCK) -> ReviewStatus:
    """Approve, return or reopen the report's `revision` (the one the reviewer saw), with its event, in one write
    batch. Raises AlreadyDecidedError or RevisionReplacedError when the report is no longer in a state this action
    starts from at that revision; nothing is written then. `extra` writes go in the same batch, after the event
    (the chair's message in the outbox: storage.outbox.item_write). A report returned after its period closed
    gets a lock exception for `unlock_for` in the same batch, so the chair can correct it."""
    if action not in DECISIONS:
        raise ValueError(f"not a reviewer's decision: {action!r}")
    if action == "returned":
        extra = [*await _unlock_after_close(db, submission_id, actor_id, now, unlock_for), *extra]
    allowed, after = TRANSITIONS[action]
    stamp = to_db(now)
    refused = ReviewConflictError()
    cas = Write(
        f"UPDATE submissions SET review_state = ?, review_since = ? WHERE id = ? AND revision = ? "
        f"AND review_state IN ({_marks(allowed)})",
        (after, stamp, submission_id, revision, *allowed), refusal=refused,
    )
    try:
        await db.write([cas, _event_write(submission_id, revision, action, after, actor_id, reason, fields, stamp),
                        *extra])
    except ReviewConflictError as exc:
        if exc is not refused:
            raise
        row = await db.fetchone("SELECT revision, review_state FROM submissions WHERE id = ?", (submission_id,))
        if row is None:
            raise LookupError(f"no submission {submission_id}") from None
        if row["revision"] != revision:
            raise RevisionReplacedError(row["revision"]) from None
        raise AlreadyDecidedError(row["review_state"]) from None
    status = await status_of(db, submission_id)
    assert status is not None
    return status


async def _unlock_after_close(db: Database, submission_id: int, actor_id: int, now: datetime,
                              unlock_for: timedelta) -> list[Write]:
    row = await db.fetchone("SELECT p.closes_at, s.period_id, s.unit_id FROM submissions s "
                            "JOIN periods p ON p.id = s.period_id WHERE s.id = ?", (submission_id,))
    if row is None or now < from_db(row["closes_at"]):
        return []
    return [Write("INSERT INTO lock_exceptions(period_id, unit_id, until, reason, granted_by, granted_at) "
                  "VALUES (?, ?, ?, ?, ?, ?)", (row["period_id"], row["unit_id"], to_db(now + unlock_for),
                                                 RETURN_UNLOCK_REASON, actor_id, to_db(now))),
            audit_write(now, actor_id, "lock_exception", row["period_id"], row["unit_id"], now + unlock_for,
                        RETURN_UNLOCK_REASON)]


def audit_write(now: datetime, actor_id: int | None, action: str, period_id: int, unit_id: int, until: datetime,
                reason: str) -> Write:
    detail = {"period_id": period_id, "unit_id": unit_id, "until": to_db(until), "reason": reason}
    return Write("INSERT INTO audit_log(at, actor, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
                 (to_db(now), f"person:{actor_id}", action, "unit", str(unit_id),
                  json.dumps(detail, ensure_ascii=False)))


async def on_new_revision(tx: Transaction, submission_id: int, revision: int, person_id: int | None,
                          now: datetime) -> None:
    """Called by storage.submissions.record inside its transaction, before the new revision is written: an
    approved report refuses it (ReportApprovedError, the transaction rolls back); a returned one goes back to the
    queue with a 'resubmitted' event."""
    row = await tx.fetchone("SELECT review_state FROM submissions WHERE id = ?", (submission_id,))
    state = None if row is None else row["review_state"]
    if state == "approved":
        last = await tx.fetchone(
            f"{_EVENT_SELECT} WHERE e.submission_id = ? AND e.action = 'approved' ORDER BY e.id DESC",
            (submission_id,))
        raise ReportApprovedError(submission_id, None if last is None else last["actor_name"],
                             None if last is None else from_db(last["at"]))
    await refuse_if_locked(tx, submission_id, now)
    if state == "returned":
        stamp = to_db(now)
        await tx.execute("UPDATE submissions SET review_state = 'submitted', review_since = ? WHERE id = ?",
                         (stamp, submission_id))
        await tx.apply(_event_write(submission_id, revision, "resubmitted", "submitted", person_id, None, (), stamp))


async def refuse_if_locked(tx: Transaction, submission_id: int, now: datetime) -> None:
    """The period's close date locks every report; an active lock exception for the unit keeps it open."""
    row = await tx.fetchone(
        "SELECT p.closes_at, s.period_id, s.unit_id FROM submissions s JOIN periods p ON p.id = s.period_id "
        "WHERE s.id = ?", (submission_id,))
    if row is None or now < from_db(row["closes_at"]):
        return
    if await tx.fetchone("SELECT 1 FROM lock_exceptions WHERE period_id = ? AND unit_id = ? AND until > ?",
                         (row["period_id"], row["unit_id"], to_db(now))) is None:
        raise ReportLockedError(from_db(row["closes_at"]))


async def is_locked(db: Database, period_id: int, unit_id: int, closes_at: datetime, now: datetime) -> bool:
    """Whether the unit's report for the period is locked at `now`: the period has closed and no lock exception
    for the unit is active."""
    return now >= closes_at and await active_lock_exception(db, period_id, unit_id, now) is None


async def status_of(db: Database, submission_id: int) -> ReviewStatus | None:
    r = await db.fetchone(
        "SELECT id, period_id, unit_id, revision, review_state, COALESCE(review_since, last_submitted_at) AS since "
        "FROM submissions WHERE id = ?", (submission_id,))
    return None if r is None else ReviewStatus(r["id"], r["period_id"], r["unit_id"], r["revision"],
                                               r["review_state"], from_db(r["since"]))


async def status_for(db: Database, period_id: int, unit_id: int) -> ReviewStatus | None:
    """The state of the unit's report for the period (None: nothing submitted yet)."""
    sub_id = await db.fetchval("SELECT id FROM submissions WHERE period_id = ? AND unit_id = ?", (period_id, unit_id))
    return None if sub_id is None else await status_of(db, int(sub_id))


async def queue(db: Database, unit_ids: Iterable[int], period_ids: Iterable[int] | None = None) -> list[Waiting]:
    """The reports waiting for review in these units (and periods), oldest wait first."""
    units = list(unit_ids)
    if not units:
        return []
    sql = ("SELECT id, period_id, unit_id, reference, revision, late, last_submitted_at, "
           "COALESCE(review_since, last_submitted_at) AS since FROM submissions "
           f"WHERE review_state = 'submitted' AND unit_id IN ({_marks(units)})")
    params: list[object] = list(units)
    if period_ids is not None:
        periods = list(period_ids)
        if not periods:
            return []
        sql += f" AND period_id IN ({_marks(periods)})"
        params += periods
    rows = await db.fetchall(sql + " ORDER BY since, id", params)
    return [Waiting(r["id"], r["period_id"], r["unit_id"], r["reference"], r["revision"], bool(r["late"]),
                    from_db(r["since"]), from_db(r["last_submitted_at"])) for r in rows]


async def history(db: Database, submission_id: int) -> list[ReviewEvent]:
    rows = await db.fetchall(f"{_EVENT_SELECT} WHERE e.submission_id = ? ORDER BY e.id", (submission_id,))
    return [_event(r) for r in rows]


async def last_event(db: Database, submission_id: int, action: str | None = None) -> ReviewEvent | None:
    sql = f"{_EVENT_SELECT} WHERE e.submission_id = ?"
    params: list[object] = [submission_id]
    if action is not None:
        sql += " AND e.action = ?"
        params.append(action)
    row = await db.fetchone(sql + " ORDER BY e.id DESC", params)
    return None if row is None else _event(row)


async def state_counts(db: Database, period_id: int, unit_ids: Iterable[int]) -> dict[str, int]:
    """How many of these units' reports for the period are in each state (every state present, 0 if none)."""
    counts: dict[str, int] = dict.fromkeys(REVIEW_STATES, 0)
    units = list(unit_ids)
    if not units:
        return counts
    rows = await db.fetchall(
        f"SELECT review_state, count(*) AS n FROM submissions WHERE period_id = ? AND unit_id IN ({_marks(units)}) "
        "GROUP BY review_state", (period_id, *units))
    counts.update({r["review_state"]: int(r["n"]) for r in rows})
    return counts


async def states_of(db: Database, period_id: int, unit_ids: Iterable[int]) -> dict[int, str]:
    """unit id -> the state of its report for the period, for those of these units that have one."""
    units = list(unit_ids)
    if not units:
        return {}
    rows = await db.fetchall(f"SELECT unit_id, review_state FROM submissions WHERE period_id = ? "
                             f"AND unit_id IN ({_marks(units)})", (period_id, *units))
    return {r["unit_id"]: r["review_state"] for r in rows}


async def previous_period_answers(db: Database, unit_id: int, period_id: int) -> PreviousAnswers | None:
    """The unit's latest answers in its campaign's period just before this one (by the time they cover), if the
    unit reported then."""
    row = await db.fetchone(
        """SELECT p.id, p.name, s.latest_answers FROM periods cur
           JOIN periods p ON p.campaign_id = cur.campaign_id AND p.covers_start < cur.covers_start
           LEFT JOIN submissions s ON s.period_id = p.id AND s.unit_id = ?
           WHERE cur.id = ? ORDER BY p.covers_start DESC""", (unit_id, period_id))
    if row is None or row["latest_answers"] is None:
        return None
    return PreviousAnswers(row["id"], row["name"], json.loads(row["latest_answers"]))


# --- lock exceptions and excuses (their flows are built on these) -------------------------------------------------

async def grant_lock_exception(db: Database, *, period_id: int, unit_id: int, until: datetime, reason: str,
                               granted_by: int | None, now: datetime) -> int:
    """Keep the unit's report for the period open until `until`, recorded in the audit log in the same
    transaction."""
    async with db.transaction() as tx:
        new_id = await tx.execute(
            "INSERT INTO lock_exceptions(period_id, unit_id, until, reason, granted_by, granted_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", (period_id, unit_id, to_db(until), reason, granted_by, to_db(now)))
        await tx.apply(audit_write(now, granted_by, "lock_exception", period_id, unit_id, until, reason))
        return new_id


def _lock_exception(r: sqlite3.Row) -> LockException:
    return LockException(r["id"], r["period_id"], r["unit_id"], from_db(r["until"]), r["reason"], r["granted_by"],
                         from_db(r["granted_at"]))


async def active_lock_exception(db: Database, period_id: int, unit_id: int, now: datetime) -> LockException | None:
    """The exception that keeps the unit's report open at `now` the longest, if any."""
    row = await db.fetchone(
        "SELECT * FROM lock_exceptions WHERE period_id = ? AND unit_id = ? AND until > ? ORDER BY until DESC",
        (period_id, unit_id, to_db(now)))
    return None if row is None else _lock_exception(row)


async def lock_exceptions(db: Database, period_id: int) -> list[LockException]:
    rows = await db.fetchall("SELECT * FROM lock_exceptions WHERE period_id = ? ORDER BY id", (period_id,))
    return [_lock_exception(r) for r in rows]


async def excuse(db: Database, *, period_id: int, unit_id: int, reason: str, excused_by: int | None,
                 now: datetime) -> None:
    """Excuse the unit's report for the period from the roll-up rule; a second excuse replaces the reason. Recorded
    in the audit log in the same batch."""
    detail = json.dumps({"period_id": period_id, "reason": reason}, ensure_ascii=False)
    await db.write([Write(
        "INSERT INTO review_excuses(period_id, unit_id, reason, excused_by, at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (period_id, unit_id) DO UPDATE SET reason = excluded.reason, excused_by = excluded.excused_by, "
        "at = excluded.at", (period_id, unit_id, reason, excused_by, to_db(now))),
        Write("INSERT INTO audit_log(at, actor, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
              (to_db(now), f"person:{excused_by}", "review_excuse", "unit", str(unit_id), detail))])


async def remove_excuse(db: Database, period_id: int, unit_id: int) -> bool:
    async with db.transaction() as tx:
        n = await tx.execute_rowcount("DELETE FROM review_excuses WHERE period_id = ? AND unit_id = ?",
                                      (period_id, unit_id))
    return n > 0


async def excuses(db: Database, period_id: int) -> dict[int, Excuse]:
    rows = await db.fetchall("SELECT * FROM review_excuses WHERE period_id = ?", (period_id,))
    return {r["unit_id"]: Excuse(r["period_id"], r["unit_id"], r["reason"], r["excused_by"], from_db(r["at"]))
            for r in rows}
