"""Units of the organisation tree."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain import Unit, UnitKind
from storage import audit
from storage.db import Database
from storage.timefmt import to_db

_SELECT = """SELECT u.id, u.code, u.name, u.kind, u.parent_id, p.code AS parent_code
             FROM units u LEFT JOIN units p ON p.id = u.parent_id"""


def unit_from_row(row: sqlite3.Row, id_column: str = "id") -> Unit:
    """The one mapping of a row to a Unit: columns code, name, kind, parent_id, parent_code and the unit's id
    under `id_column` (a membership row names it unit_id)."""
    return Unit(row[id_column], row["code"], row["name"], UnitKind(row["kind"]), row["parent_id"],
                row["parent_code"])



@dataclass(frozen=True, slots=True)
class UnitRow:
    """One unit as an import file gives it."""

    code: str
    name: str
    kind: UnitKind
    parent_code: str | None


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


async def all_units(db: Database) -> list[Unit]:
    return [unit_from_row(r) for r in await db.fetchall(f"{_SELECT} WHERE u.active = 1 ORDER BY u.code")]


async def by_code(db: Database, code: str) -> Unit | None:
    row = await db.fetchone(f"{_SELECT} WHERE u.code = ?", (code,))
    return None if row is None else unit_from_row(row)


async def by_id(db: Database, unit_id: int) -> Unit | None:
    row = await db.fetchone(f"{_SELECT} WHERE u.id = ?", (unit_id,))
    return None if row is None else unit_from_row(row)


async def count(db: Database) -> int:
    return int(await db.fetchval("SELECT count(*) FROM units WHERE active = 1"))


async def subtree(db: Database, root_id: int) -> list[Unit]:
    """The unit and everything below it."""
    rows = await db.fetchall(
        f"""WITH RECURSIVE tree(id) AS (
                SELECT id FROM units WHERE id = ?
                UNION ALL SELECT u.id FROM units u JOIN tree t ON u.parent_id = t.id
            )
            {_SELECT} WHERE u.id IN (SELECT id FROM tree) AND u.active = 1 ORDER BY u.code""",
        (root_id,),
    )
    return [unit_from_row(r) for r in rows]


async def ancestors(db: Database, unit_id: int) -> list[Unit]:
    """The units above, nearest first."""
    rows = await db.fetchall(
        f"""WITH RECURSIVE up(id, depth) AS (
                SELECT parent_id, 1 FROM units WHERE id = ? AND parent_id IS NOT NULL
                UNION ALL SELECT u.parent_id, up.depth + 1 FROM units u JOIN up ON u.id = up.id
                WHERE u.parent_id IS NOT NULL
            )
            {_SELECT} JOIN up ON up.id = u.id ORDER BY up.depth""",
        (unit_id,),
    )
    return [unit_from_row(r) for r in rows]


async def of_kinds(db: Database, kinds: Iterable[UnitKind], within: int | None = None) -> list[Unit]:
    kinds = list(kinds)
    marks = ",".join("?" * len(kinds))
    if within is None:
        rows = await db.fetchall(
            f"{_SELECT} WHERE u.active = 1 AND u.kind IN ({marks}) ORDER BY u.code", [k.value for k in kinds]
        )
        return [unit_from_row(r) for r in rows]
    return [u for u in await subtree(db, within) if u.kind in kinds]


async def apply_import(db: Database, rows: Sequence[UnitRow], *, actor: str, now: datetime) -> ImportResult:
    """Create or update units in one transaction; parents may appear after children in `rows`.

    The caller has validated the rows against the existing tree. Changes of name, kind or parent
    are written to the audit log with the old and new values, so history is never lost.
    """
    created = updated = unchanged = 0
    stamp = to_db(now)
    async with db.transaction() as tx:
        existing = {
            r["code"]: r
            for r in await tx.fetchall(
                "SELECT u.id, u.code, u.name, u.kind, p.code AS parent_code "
                "FROM units u LEFT JOIN units p ON p.id = u.parent_id"
            )
        }
        ids = {code: r["id"] for code, r in existing.items()}
        # First pass: every unit exists (new ones without parent), so parents can be linked after.
        for row in rows:
            if row.code not in ids:
                ids[row.code] = await tx.execute(
                    "INSERT INTO units(code, name, kind, parent_id, created_at, updated_at) "
                    "VALUES (?, ?, ?, NULL, ?, ?)",
                    (row.code, row.name, row.kind.value, stamp, stamp),
                )
        for row in rows:
            parent_id = ids[row.parent_code] if row.parent_code else None
            old = existing.get(row.code)
            if old is None:
                await tx.execute("UPDATE units SET parent_id = ? WHERE id = ?", (parent_id, ids[row.code]))
                await audit.record(
                    tx,
                    at=now,
                    actor=actor,
                    action="create",
                    entity="unit",
                    entity_id=row.code,
                    detail={"name": row.name, "kind": row.kind.value, "parent": row.parent_code},
                )
                created += 1
                continue
            before = {"name": old["name"], "kind": old["kind"], "parent": old["parent_code"]}
            after = {"name": row.name, "kind": row.kind.value, "parent": row.parent_code}
            if before == after:
                unchanged += 1
                continue
            await tx.execute(
                "UPDATE units SET name = ?, kind = ?, parent_id = ?, active = 1, updated_at = ? WHERE id = ?",
                (row.name, row.kind.value, parent_id, stamp, ids[row.code]),
            )
            changed = {k: {"from": before[k], "to": after[k]} for k in before if before[k] != after[k]}
            await audit.record(
                tx, at=now, actor=actor, action="update", entity="unit", entity_id=row.code, detail=changed
            )
            updated += 1
    return ImportResult(created, updated, unchanged)
