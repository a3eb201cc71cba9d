"""The audit log: who did what to which record, with the details as JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.db import Database, Transaction
from storage.timefmt import to_db


async def record(
    tx: Transaction,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    await tx.execute(
        "INSERT INTO audit_log(at, actor, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (
            to_db(at),
            actor,
            action,
            entity,
            None if entity_id is None else str(entity_id),
            json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        ),
    )


async def entries(db: Database, entity: str, entity_id: str | int) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT at, actor, action, detail FROM audit_log WHERE entity = ? AND entity_id = ? ORDER BY id",
        (entity, str(entity_id)),
    )
    return [
        {
            "at": r["at"],
            "actor": r["actor"],
            "action": r["action"],
            "detail": json.loads(r["detail"]) if r["detail"] else None,
        }
        for r in rows
    ]
