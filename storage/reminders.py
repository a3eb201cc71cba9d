"""What the reminder planner needs to know, read in a few queries per period."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.timefmt import from_db_opt


@dataclass(frozen=True, slots=True)
class Recipient:
    person_id: int
    name: str
    locale: str
    role: str
    channel: str | None  # None: every identity blocked (or only the terminal): unreachable
    chat_id: str | None


async def submitted_units(db: Database, period_id: int) -> set[int]:
    """The units whose report for the period counts as submitted: a report returned for correction does not
    (its chair is reminded like one who has not submitted), an approved one does."""
    rows = await db.fetchall(
        "SELECT unit_id FROM submissions WHERE period_id = ? AND review_state != 'returned'", (period_id,))
    return {r["unit_id"] for r in rows}


async def recipients(db: Database, unit_ids: Iterable[int], roles: tuple[str, ...]) -> dict[int, list[Recipient]]:
    """Active people bound to the units with one of `roles`, each on the channel they chose or used last."""
    ids = list(unit_ids)
    out: dict[int, list[Recipient]] = defaultdict(list)
    role_marks = ",".join("?" * len(roles))
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        rows = await db.fetchall(
            f"""SELECT m.unit_id, m.role, p.id AS person_id, p.full_name, p.locale, p.preferred_channel
                FROM memberships m JOIN people p ON p.id = m.person_id
                WHERE m.unit_id IN ({marks}) AND m.role IN ({role_marks}) AND m.revoked_at IS NULL
                  AND p.active = 1
                ORDER BY m.unit_id, p.id""",
            [*chunk, *roles],
        )
        person_ids = sorted({r["person_id"] for r in rows})
        identities = await _identities(db, person_ids)
        for r in rows:
            channel, chat_id = _choose(identities.get(r["person_id"], []), r["preferred_channel"])
            out[r["unit_id"]].append(Recipient(r["person_id"], r["full_name"], r["locale"], r["role"], channel,
                                               chat_id))
    return out


async def _identities(db: Database, person_ids: list[int]) -> dict[int, list[tuple[str, str, datetime | None]]]:
    out: dict[int, list[tuple[str, str, datetime | None]]] = defaultdict(list)
    for i in range(0, len(person_ids), 500):
        chunk = person_ids[i:i + 500]
        if not chunk:
            continue
        marks = ",".join("?" * len(chunk))
        rows = await db.fetchall(
            f"""SELECT person_id, channel, chat_id, last_seen_at FROM identities
                WHERE person_id IN ({marks}) AND blocked_at IS NULL AND channel != 'terminal'""",
            chunk,
        )
        for r in rows:
            out[r["person_id"]].append((r["channel"], r["chat_id"], from_db_opt(r["last_seen_at"])))
    return out


def _choose(identities: list[tuple[str, str, datetime | None]], preferred: str | None) -> tuple[str | None, str | None]:
    """The preferred channel if reachable, else the one used last."""
    if not identities:
        return None, None
    for channel, chat_id, _seen in identities:
        if channel == preferred:
            return channel, chat_id
    channel, chat_id, _ = max(identities, key=lambda x: x[2].timestamp() if x[2] else 0.0)
    return channel, chat_id


async def summary_readers(db: Database) -> list[tuple[Recipient, list[int] | None, str]]:
    """Who receives pushed summaries, with their scope: department staff and upper-level officers each see
    the subtrees of the units they are bound to (several memberships: the union), never another province."""
    rows = await db.fetchall(
        """SELECT m.unit_id, m.role, u.name AS unit_name, p.id AS person_id, p.full_name, p.locale,
                  p.preferred_channel
           FROM memberships m JOIN people p ON p.id = m.person_id JOIN units u ON u.id = m.unit_id
           WHERE m.role IN ('department', 'officer') AND m.revoked_at IS NULL AND p.active = 1
           ORDER BY p.id, m.role, m.unit_id"""
    )
    identities = await _identities(db, sorted({r["person_id"] for r in rows}))
    scopes: dict[int, tuple[Recipient, dict[int, str]]] = {}
    for r in rows:
        if r["person_id"] not in scopes:
            channel, chat_id = _choose(identities.get(r["person_id"], []), r["preferred_channel"])
            person = Recipient(r["person_id"], r["full_name"], r["locale"], r["role"], channel, chat_id)
            scopes[r["person_id"]] = (person, {})
        scopes[r["person_id"]][1][r["unit_id"]] = r["unit_name"]
    return [(person, list(units), "; ".join(units.values())) for person, units in scopes.values()]


# Cheap marks of everything that decides who is reminded (units, people, memberships, identities), read in one
# statement so the per-minute tick can tell "nothing changed" without reading a recipient list. A new row moves a
# table's size and newest id; a unit changed by an import moves its newest updated_at; what can make someone
# reachable again (a person made active again, an identity unblocked) moves the count and the id checksum of the
# few rows still inactive or blocked, even under a frozen clock. A revocation or a block only ever removes someone.
# One change is missed: a unit re-imported with another kind or parent at the very instant of the newest update
# before it (a frozen clock); the planner's hourly full plan catches it. Every part is O(1) or O(inactive, blocked,
# revoked rows) through the indexes of migration 0005_planning_marks; plain SQL (scalar subqueries, partial
# indexes), the same on SQLite and PostgreSQL.
_MARKS = """SELECT
    (SELECT count(*) FROM units) AS units_n,
    (SELECT max(id) FROM units) AS units_max,
    (SELECT max(updated_at) FROM units) AS units_updated,
    (SELECT count(*) FROM people) AS people_n,
    (SELECT max(id) FROM people) AS people_max,
    (SELECT count(*) FROM people WHERE active = 0) AS people_inactive_n,
    (SELECT sum(id) FROM people WHERE active = 0) AS people_inactive_ids,
    (SELECT count(*) FROM memberships) AS memberships_n,
    (SELECT max(id) FROM memberships) AS memberships_max,
    (SELECT count(*) FROM memberships WHERE revoked_at IS NOT NULL) AS memberships_revoked_n,
    (SELECT max(revoked_at) FROM memberships WHERE revoked_at IS NOT NULL) AS memberships_revoked,
    (SELECT count(*) FROM identities) AS identities_n,
    (SELECT max(id) FROM identities) AS identities_max,
    (SELECT count(*) FROM identities WHERE blocked_at IS NOT NULL) AS identities_blocked_n,
    (SELECT sum(id) FROM identities WHERE blocked_at IS NOT NULL) AS identities_blocked_ids,
    (SELECT max(blocked_at) FROM identities WHERE blocked_at IS NOT NULL) AS identities_blocked"""


async def audience_marks(db: Database) -> tuple[object, ...]:
    """A fingerprint of the units, people, memberships and identities: equal marks, nobody new to remind."""
    row = await db.fetchone(_MARKS)
    return tuple(row) if row is not None else ()


async def submission_marks(db: Database) -> tuple[int, int]:
    """(how many submissions, the newest id), over every period: both cheap (a count of the whole table and the
    newest rowid), where a count per period would walk the period's rows every minute."""
    row = await db.fetchone("SELECT (SELECT count(*) FROM submissions) AS n, "
                            "(SELECT coalesce(max(id), 0) FROM submissions) AS newest")
    return (0, 0) if row is None else (int(row["n"]), int(row["newest"]))


async def return_marks(db: Database) -> tuple[int, int]:
    """(how many reports were ever returned, the newest such event): a return puts a unit back on the late list,
    which the submission marks cannot see, so it is part of the planning fingerprint (scheduler/memory.py)."""
    row = await db.fetchone("SELECT count(*) AS n, coalesce(max(id), 0) AS newest FROM review_events "
                            "WHERE action = 'returned'")
    return (0, 0) if row is None else (int(row["n"]), int(row["newest"]))


async def submissions_after(db: Database, after_id: int) -> int:
    """How many submissions have an id above `after_id` (a range of the primary key): with the count, it tells
    submissions only added from one removed."""
    return int(await db.fetchval("SELECT count(*) FROM submissions WHERE id > ?", (after_id,)))


async def campaign_versions(db: Database) -> dict[str, str]:
    """The sha256 of each live campaign's stored definition: a changed file is a new version."""
    rows = await db.fetchall("SELECT id, sha256 FROM campaigns WHERE status = 'live'")
    return {r["id"]: r["sha256"] for r in rows}
