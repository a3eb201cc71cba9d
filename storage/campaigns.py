"""Campaigns and their periods as rows, so that reminders and submissions can refer to them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from bot.campaign_model import Campaign
from storage import audit
from storage.db import Database, Transaction
from storage.timefmt import from_db, to_db


@dataclass(frozen=True, slots=True)
class PeriodRow:
    """What the rest of the program reads of a period row (its name, coverage and due source live in the
    campaign definition, read from there)."""

    id: int
    campaign_id: str
    key: str
    due_at: datetime
    closes_at: datetime


def _period(row: sqlite3.Row) -> PeriodRow:
    return PeriodRow(row["id"], row["campaign_id"], row["key"], from_db(row["due_at"]), from_db(row["closes_at"]))


@dataclass(frozen=True, slots=True)
class SyncResult:
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    retired: list[str] = field(default_factory=list)  # "campaign-id/period-key" no longer in their file


async def sync_campaigns(
    db: Database, loaded: list[tuple[Campaign, str, str]], *, actor: str, now: datetime
) -> SyncResult:
    """Store each (campaign, sha256, source path); periods are upserted by key, never deleted, so drafts,
    submissions and the outbox keep pointing at them. A period whose key is no longer in the file is retired
    (left out of every live-period query); a retired key that comes back is live again, with the same row."""
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    retired: list[str] = []
    async with db.transaction() as tx:
        for campaign, sha, source in loaded:
            old = await tx.fetchone("SELECT sha256 FROM campaigns WHERE id = ?", (campaign.id,))
            if old is not None and old["sha256"] == sha:
                unchanged.append(campaign.id)
                # A database stored before periods could be retired may still hold a period the file lost.
                gone = await _retire_missing(tx, campaign, now)
                if gone:
                    retired.extend(f"{campaign.id}/{key}" for key in gone)
                    await audit.record(tx, at=now, actor=actor, action="retire_periods", entity="campaign",
                                       entity_id=campaign.id, detail={"retired_periods": gone})
                continue
            definition = campaign.model_dump_json()
            if old is None:
                await tx.execute(
                    "INSERT INTO campaigns(id, title, definition, sha256, source_path, loaded_at) VALUES (?,?,?,?,?,?)",
                    (campaign.id, campaign.title.vi, definition, sha, source, to_db(now)),
                )
                created.append(campaign.id)
            else:
                await tx.execute(
                    "UPDATE campaigns SET title = ?, definition = ?, sha256 = ?, source_path = ?, loaded_at = ? "
                    "WHERE id = ?",
                    (campaign.title.vi, definition, sha, source, to_db(now), campaign.id),
                )
                updated.append(campaign.id)
            zone = campaign.zone
            for p in campaign.periods:
                await tx.execute(
                    """INSERT INTO periods(campaign_id, key, name, covers_start, covers_end, due_at, closes_at,
                                           due_source)
                       VALUES (?,?,?,?,?,?,?,?)
                       ON CONFLICT (campaign_id, key) DO UPDATE SET name = excluded.name,
                         covers_start = excluded.covers_start, covers_end = excluded.covers_end,
                         due_at = excluded.due_at, closes_at = excluded.closes_at, due_source = excluded.due_source,
                         retired_at = NULL""",
                    (
                        campaign.id,
                        p.key,
                        p.name.vi,
                        p.covers.start.isoformat(),
                        p.covers.end.isoformat(),
                        to_db(p.due_at(zone)),
                        to_db(p.closes_at(zone)),
                        p.due.source,
                    ),
                )
            gone = await _retire_missing(tx, campaign, now)
            retired.extend(f"{campaign.id}/{key}" for key in gone)
            detail: dict[str, object] = {"sha256": sha, "source": source}
            if gone:
                detail["retired_periods"] = gone
            await audit.record(
                tx,
                at=now,
                actor=actor,
                action="load" if old is None else "reload",
                entity="campaign",
                entity_id=campaign.id,
                detail=detail,
            )
    return SyncResult(created, updated, unchanged, retired)


async def _retire_missing(tx: Transaction, campaign: Campaign, now: datetime) -> list[str]:
    """Retire the campaign's live periods whose key is not in its definition, and skip the messages still
    waiting in the outbox about them; return the retired keys."""
    keys = [p.key for p in campaign.periods]
    rows = await tx.fetchall(
        "SELECT id, key FROM periods WHERE campaign_id = ? AND retired_at IS NULL "
        f"AND key NOT IN ({','.join('?' * len(keys))}) ORDER BY key",
        (campaign.id, *keys),
    )
    if rows:
        await tx.executemany("UPDATE periods SET retired_at = ? WHERE id = ?", [(to_db(now), r["id"]) for r in rows])
        await tx.executemany(
            "UPDATE outbox SET status = 'skipped', last_error = 'period removed from its campaign' "
            "WHERE period_id = ? AND status = 'pending'",
            [(r["id"],) for r in rows],
        )
    return [r["key"] for r in rows]


async def live_campaigns(db: Database) -> list[Campaign]:
    # Ids and sha256 in one query: a campaign already parsed costs nothing more.
    rows = await db.fetchall("SELECT id, sha256 FROM campaigns WHERE status = 'live' ORDER BY id")
    out = []
    for r in rows:
        found = await _parsed(db, r["id"], r["sha256"])
        if found is not None:
            out.append(found)
    return out


# Parsed campaigns by (id, sha256): validating a definition compiles every expression, which a dialog step
# must not pay for; a changed file has a new sha256 and is parsed again.
_PARSED: dict[tuple[str, str], Campaign] = {}


async def campaign(db: Database, campaign_id: str, sha256: str | None = None) -> Campaign | None:
    """The parsed campaign; pass its sha256 when already known (it saves a query)."""
    if sha256 is not None and (campaign_id, sha256) in _PARSED:
        return _PARSED[(campaign_id, sha256)]
    row = await db.fetchone("SELECT sha256 FROM campaigns WHERE id = ?", (campaign_id,))
    return None if row is None else await _parsed(db, campaign_id, row["sha256"])


async def _parsed(db: Database, campaign_id: str, sha256: str) -> Campaign | None:
    """The campaign stored with this sha256, parsed once; None when it is no longer stored."""
    key = (campaign_id, sha256)
    if key not in _PARSED:
        # The definition is read with its sha256, so it is cached under the version it is.
        row = await db.fetchone("SELECT sha256, definition FROM campaigns WHERE id = ?", (campaign_id,))
        if row is None:
            return None
        parsed = Campaign.model_validate_json(row["definition"])
        _PARSED[(campaign_id, row["sha256"])] = parsed
        return parsed
    return _PARSED[key]


async def periods_of(db: Database, campaign_id: str) -> list[PeriodRow]:
    """The campaign's live periods (retired ones left out), soonest due first."""
    rows = await db.fetchall(
        "SELECT * FROM periods WHERE campaign_id = ? AND retired_at IS NULL ORDER BY due_at", (campaign_id,)
    )
    return [_period(r) for r in rows]


async def period_by_id(db: Database, period_id: int) -> PeriodRow | None:
    """A live period; None for an unknown or retired one (its key is no longer in the campaign, so nothing
    could be asked or shown for it), like a draft or a submission that points at it is treated as gone."""
    row = await db.fetchone("SELECT * FROM periods WHERE id = ? AND retired_at IS NULL", (period_id,))
    return None if row is None else _period(row)
