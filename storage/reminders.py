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
    rows = await db.fetchall("SELECT unit_id FROM submissions WHERE period_id = ?", (period_id,))
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
