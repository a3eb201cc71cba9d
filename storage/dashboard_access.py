"""The dashboard's sign-in links and sessions (issue 16), kept as SHA-256 hashes of their tokens only.

A link is redeemed by one compare-and-set UPDATE (unused and unexpired, in the same statement), inside the
transaction that opens the session: two clicks or two processes racing on one link give one session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import audit
from storage.db import Database, Transaction
from storage.timefmt import from_db, to_db

KEEP_ENDED = timedelta(days=1)  # rows past their end are deleted a day later; the audit log keeps who signed in when


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    person_id: int
    locale: str
    expires_at: datetime


async def add_link(db: Database, token_hash: str, person_id: int, now: datetime, expires_at: datetime) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM dashboard_links WHERE expires_at < ?", (to_db(now - KEEP_ENDED),))
        await tx.execute("INSERT INTO dashboard_links(token_hash, person_id, created_at, expires_at) "
                         "VALUES (?, ?, ?, ?)", (token_hash, person_id, to_db(now), to_db(expires_at)))


async def redeem_link(db: Database, link_hash: str, session_hash: str, now: datetime,
                      session_expires: datetime) -> int | None:
    """Use the link (once) and open a session with `session_hash` for its person; the person's id, or None when
    the link is unknown, used or expired (nothing is written then)."""
    stamp = to_db(now)
    async with db.transaction() as tx:
        used = await tx.execute_rowcount(
            "UPDATE dashboard_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
            (stamp, link_hash, stamp))
        if used != 1:
            return None
        row = await tx.fetchone("SELECT person_id FROM dashboard_links WHERE token_hash = ?", (link_hash,))
        assert row is not None
        person_id = int(row["person_id"])
        await _insert_session(tx, session_hash, person_id, "link", now, session_expires)
    return person_id


async def add_session(db: Database, session_hash: str, person_id: int, via: str, now: datetime,
                      expires_at: datetime) -> None:
    async with db.transaction() as tx:
        await _insert_session(tx, session_hash, person_id, via, now, expires_at)


async def _insert_session(tx: Transaction, session_hash: str, person_id: int, via: str, now: datetime,
                          expires_at: datetime) -> None:
    await tx.execute("DELETE FROM dashboard_sessions WHERE expires_at < ?", (to_db(now - KEEP_ENDED),))
    session_id = await tx.execute("INSERT INTO dashboard_sessions(token_hash, person_id, via, created_at, expires_at) "
                                  "VALUES (?, ?, ?, ?, ?)",
                                  (session_hash, person_id, via, to_db(now), to_db(expires_at)))
    await audit.record(tx, at=now, actor=f"person:{person_id}", action="sign-in", entity="dashboard_session",
                       entity_id=session_id, detail={"via": via})


async def live_session(db: Database, session_hash: str, now: datetime) -> SessionRow | None:
    """The session of this hash when it is neither expired nor ended and its person is active."""
    row = await db.fetchone(
        "SELECT s.id, s.person_id, s.expires_at, p.locale FROM dashboard_sessions s JOIN people p ON p.id = "
        "s.person_id WHERE s.token_hash = ? AND s.ended_at IS NULL AND s.expires_at > ? AND p.active = 1",
        (session_hash, to_db(now)))
    if row is None:
        return None
    return SessionRow(int(row["id"]), int(row["person_id"]), str(row["locale"]), from_db(row["expires_at"]))


async def end_session(db: Database, session_hash: str, now: datetime) -> bool:
    """Sign out: True when a live session ended now."""
    async with db.transaction() as tx:
        row = await tx.fetchone(
            "SELECT id, person_id FROM dashboard_sessions WHERE token_hash = ? AND ended_at IS NULL", (session_hash,))
        if row is None:
            return False
        await tx.execute("UPDATE dashboard_sessions SET ended_at = ? WHERE id = ?", (to_db(now), row["id"]))
        await audit.record(tx, at=now, actor=f"person:{row['person_id']}", action="sign-out",
                           entity="dashboard_session", entity_id=row["id"])
    return True
