"""The rows a summary is computed from, read in a handful of queries whatever the number of units.

Only SQL and the mapping of rows: which units are in scope, and who is whose upper level, is worked out in the
core (bot/scope.py, bot/summary/service.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from sys import intern
from typing import Any, NamedTuple

from bot.domain import UnitKind
from storage.db import Database
from storage.timefmt import from_db

UnitTree = dict[int, tuple[str, str, UnitKind, int | None]]  # id -> (code, name, kind, parent id)


class LatestSubmission(NamedTuple):
    """A unit's submission in a period as a summary reads it. A tuple made straight from the row (ten thousand of
    them per summary); the answers and the time are decoded on demand: a summary within a scope reads every
    submission of the period but uses only those of its units."""

    reference: str
    revision: int
    late: int  # 0 or 1, as stored
    first_submitted_at_text: str
    latest_answers_json: str
    review_state: str = "submitted"  # storage/reviews.py: submitted (waiting for review), returned, approved
    review_since_text: str | None = None  # when that state began

    def review_since(self) -> datetime | None:
        return None if self.review_since_text is None else from_db(self.review_since_text)

    def first_submitted_at(self) -> datetime:
        return from_db(self.first_submitted_at_text)

    def answers(self) -> dict[str, Any]:
        # The question names shared by every unit's dict instead of a copy of each per unit (JSON makes new
        # strings on every call): a third less memory for 50,000 units' answers, at the same speed.
        return {intern(k): v for k, v in json.loads(self.latest_answers_json).items()}


async def unit_tree(db: Database) -> UnitTree:
    """Every active unit, in one query; the walk over it (scope, upper levels) is the core's (bot/scope.py)."""
    rows = await db.fetchall("SELECT id, code, name, kind, parent_id FROM units WHERE active = 1")
    kinds = {k.value: k for k in UnitKind}  # a dict lookup, not an Enum call per unit
    return {r["id"]: (r["code"], r["name"], kinds[r["kind"]], r["parent_id"]) for r in rows}


async def latest_submissions(db: Database, period_id: int, *, answers: bool = True) -> dict[int, LatestSubmission]:
    """unit id -> its submission in the period. The latest answers are kept as one JSON object on each
    submission: one row per unit, no join over every answer (the per-revision answers table stays the record of
    history). `answers=False`: who has reported, without the answers (read as an empty object)."""
    make = LatestSubmission._make
    column = "latest_answers" if answers else "'{}'"
    return {
        r[0]: make(r[1:])  # the columns in the order of LatestSubmission's fields
        for r in await db.fetchall(
            f"SELECT unit_id, reference, revision, late, first_submitted_at, {column}, review_state, "
            "COALESCE(review_since, last_submitted_at) FROM submissions WHERE period_id = ?",
            (period_id,),
        )
    }


async def last_review_reasons(db: Database, period_id: int) -> dict[int, str]:
    """unit id -> the reason of the latest review event that gave one (a return, a reopening), for the period."""
    rows = await db.fetchall(
        "SELECT s.unit_id, e.reason FROM review_events e JOIN submissions s ON s.id = e.submission_id "
        "WHERE s.period_id = ? AND e.reason IS NOT NULL ORDER BY e.id", (period_id,))
    return {r["unit_id"]: r["reason"] for r in rows}  # in event order: the latest wins


_CONTACTS = """SELECT m.unit_id, p.full_name,
                      EXISTS (SELECT 1 FROM identities i WHERE i.person_id = p.id AND i.blocked_at IS NULL
                              AND i.channel != 'terminal') AS reachable
               FROM memberships m JOIN people p ON p.id = m.person_id
               WHERE m.role IN ('chair', 'officer') AND m.revoked_at IS NULL AND p.active = 1"""


async def contacts(db: Database, unit_ids: list[int], *, everything: bool = False
                    ) -> tuple[dict[int, list[str]], set[int]]:
    """The chairs' and officers' names of each unit, and the units one of them can be reached at (a channel
    other than the terminal, not blocked). `everything`: the whole organisation, in one query."""
    names: dict[int, list[str]] = defaultdict(list)
    reachable: set[int] = set()
    if everything:  # the whole organisation: one query, no list of ids
        batches = [await db.fetchall(_CONTACTS)]
    else:
        batches = []
        for i in range(0, len(unit_ids), 500):
            chunk = unit_ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            batches.append(await db.fetchall(f"{_CONTACTS} AND m.unit_id IN ({marks})", chunk))
    wanted = set(unit_ids)
    for rows in batches:
        for r in rows:
            if r["unit_id"] not in wanted:
                continue
            names[r["unit_id"]].append(r["full_name"])
            if r["reachable"]:
                reachable.add(r["unit_id"])
    return names, reachable


# The active units below a unit (not itself), walked through active units only, as unit_rows sees the tree.
_BELOW = """WITH RECURSIVE below(id) AS (
                SELECT id FROM units WHERE parent_id = ? AND active = 1
                UNION SELECT u.id FROM units u JOIN below b ON u.parent_id = b.id WHERE u.active = 1
            )"""


async def subtree_latest_answers(db: Database, period_id: int, root_id: int) -> list[dict[str, Any]]:
    """The latest answers of every submission in the period from the units below `root_id` (not itself): what
    an upper level's report starts from (bot/summary/rollup.py adds them up)."""
    rows = await db.fetchall(
        f"""{_BELOW}
            SELECT s.latest_answers FROM submissions s JOIN below b ON b.id = s.unit_id
            WHERE s.period_id = ? AND s.unit_id != ?""",
        (root_id, period_id, root_id),
    )
    return [json.loads(r["latest_answers"]) for r in rows]
