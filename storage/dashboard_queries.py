"""The few reads the dashboard needs that no other repository offers: a kept file's owner and path, and people's
names by id. Only SQL and the mapping of rows; who may see them is decided in bot/dashboard/."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class KeptFile:
    id: int
    unit_id: int | None
    period_id: int | None
    local_path: str | None
    file_name: str | None
    mime_type: str | None


async def kept_file(db: Database, attachment_id: int) -> KeptFile | None:
    r = await db.fetchone("SELECT id, unit_id, period_id, local_path, file_name, mime_type FROM attachments "
                          "WHERE id = ?", (attachment_id,))
    return None if r is None else KeptFile(r["id"], r["unit_id"], r["period_id"], r["local_path"], r["file_name"],
                                           r["mime_type"])


async def kept_files(db: Database, attachment_ids: Iterable[int]) -> dict[int, KeptFile]:
    ids = [i for i in attachment_ids if isinstance(i, int) and not isinstance(i, bool)]
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = await db.fetchall(f"SELECT id, unit_id, period_id, local_path, file_name, mime_type FROM attachments "
                             f"WHERE id IN ({marks})", ids)
    return {r["id"]: KeptFile(r["id"], r["unit_id"], r["period_id"], r["local_path"], r["file_name"],
                              r["mime_type"]) for r in rows}


async def names_of(db: Database, person_ids: Iterable[int | None]) -> dict[int, str]:
    ids = sorted({i for i in person_ids if i is not None})
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = await db.fetchall(f"SELECT id, full_name FROM people WHERE id IN ({marks})", ids)
    return {r["id"]: r["full_name"] for r in rows}
