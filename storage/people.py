"""People, their channel identities, their memberships in units, and invites that create them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain import GRASSROOTS_KINDS, Channel, Invite, Membership, Person, Role, Unit
from bot.errors import N_, TranslatableError
from storage import audit
from storage.db import Database, Write
from storage.timefmt import from_db, from_db_opt, to_db
from storage.units import unit_from_row


def _person(row: sqlite3.Row) -> Person:
    return Person(row["id"], row["full_name"], row["locale"], from_db(row["created_at"]))


def _invite(row: sqlite3.Row) -> Invite:
    return Invite(
        row["id"],
        row["unit_id"],
        Role(row["role"]),
        from_db(row["created_at"]),
        from_db(row["expires_at"]),
        from_db_opt(row["used_at"]),
        row["used_by"],
        from_db_opt(row["revoked_at"]),
    )


@dataclass(frozen=True, slots=True)
class MemberView:
    """A membership with the person's and unit's names, for listings."""

    membership: Membership
    person: Person
    unit: Unit


async def person_by_identity(db: Database, channel: Channel, external_id: str) -> Person | None:
    row = await db.fetchone(
        "SELECT p.* FROM people p JOIN identities i ON i.person_id = p.id WHERE i.channel = ? AND i.external_id = ?",
        (channel.value, external_id),
    )
    return None if row is None else _person(row)


async def person_by_id(db: Database, person_id: int) -> Person | None:
    row = await db.fetchone("SELECT * FROM people WHERE id = ?", (person_id,))
    return None if row is None else _person(row)


async def memberships_of(db: Database, person_id: int) -> list[MemberView]:
    rows = await db.fetchall(
        """SELECT m.id, m.person_id, m.unit_id, m.role, m.granted_at,
                  p.full_name, p.locale, p.created_at,
                  u.code, u.name, u.kind, u.parent_id, pu.code AS parent_code
           FROM memberships m JOIN people p ON p.id = m.person_id JOIN units u ON u.id = m.unit_id
           LEFT JOIN units pu ON pu.id = u.parent_id
           WHERE m.person_id = ? AND m.revoked_at IS NULL AND p.active = 1 ORDER BY u.code, m.role""",
        (person_id,),
    )
    return [_member_view(r) for r in rows]


def _member_view(r: sqlite3.Row) -> MemberView:
    return MemberView(
        Membership(r["id"], r["person_id"], r["unit_id"], Role(r["role"]), from_db(r["granted_at"])),
        Person(r["person_id"], r["full_name"], r["locale"], from_db(r["created_at"])),
        unit_from_row(r, "unit_id"),
    )


_GRASSROOTS = tuple(sorted(k.value for k in GRASSROOTS_KINDS))


async def grassroots_without_chair(db: Database) -> list[Unit]:
    """Grassroots units with no active chair, ordered by code."""
    rows = await db.fetchall(
        f"""SELECT u.id, u.code, u.name, u.kind, u.parent_id, p.code AS parent_code
           FROM units u LEFT JOIN units p ON p.id = u.parent_id
           WHERE u.active = 1 AND u.kind IN ({",".join("?" * len(_GRASSROOTS))})
             AND NOT EXISTS (SELECT 1 FROM memberships m JOIN people pe ON pe.id = m.person_id
                             WHERE m.unit_id = u.id AND m.role = 'chair' AND m.revoked_at IS NULL
                               AND pe.active = 1
                               -- someone trying forms in the terminal is not the unit's chair
                               AND EXISTS (SELECT 1 FROM identities i
                                           WHERE i.person_id = pe.id AND i.channel != 'terminal'))
           ORDER BY u.code""",
        _GRASSROOTS,
    )
    return [unit_from_row(r) for r in rows]


async def create_invite(
    db: Database, *, code_hash: str, unit_id: int, role: Role, created_by: str, now: datetime, expires_at: datetime
) -> int:
    async with db.transaction() as tx:
        invite_id = await tx.execute(
            "INSERT INTO invites(code_hash, unit_id, role, created_by, created_at, expires_at) VALUES (?,?,?,?,?,?)",
            (code_hash, unit_id, role.value, created_by, to_db(now), to_db(expires_at)),
        )
        await audit.record(
            tx,
            at=now,
            actor=created_by,
            action="create",
            entity="invite",
            entity_id=invite_id,
            detail={"unit_id": unit_id, "role": role.value, "expires_at": to_db(expires_at)},
        )
    return invite_id


async def invite_by_hash(db: Database, code_hash: str) -> Invite | None:
    row = await db.fetchone("SELECT * FROM invites WHERE code_hash = ?", (code_hash,))
    return None if row is None else _invite(row)


@dataclass(frozen=True, slots=True)
class Identity:
    channel: Channel
    external_id: str
    chat_id: str
    display_name: str
    username: str | None = None


_NOT_VALID = N_("This invite code is not valid. Ask your upper-level union for a new invite link.")
_INVITE_REFUSALS = {
    "used": N_("This invite link has already been used. Each link works once: ask your upper-level union for a "
               "new one."),
    "expired": N_("This invite link has expired. Ask your upper-level union for a new one."),
}
_LINK_REFUSALS = {
    "taken": N_("This account is already registered for someone else; nothing was linked."),
    "expired": N_("This link code has expired. Type /lienket again on your other channel."),
    "used": N_("This link code has already been used. Type /lienket again on your other channel."),
}


class InviteRefusedError(TranslatableError):
    """The invite (or, with link_code=True, the link code) cannot be used: reason is 'unknown', 'used',
    'expired', 'revoked' or 'taken'; render(t) says so in the person's language."""

    def __init__(self, reason: str, *, link_code: bool = False) -> None:
        super().__init__((_LINK_REFUSALS if link_code else _INVITE_REFUSALS).get(reason, _NOT_VALID))
        self.reason = reason
        self.link_code = link_code


async def redeem_invite(
    db: Database, *, code_hash: str, identity: Identity, locale: str, now: datetime
) -> tuple[Person, MemberView]:
    """Bind the identity (creating the person on first use) to the invite's unit and role.

    Checked and marked used in one transaction, so two taps on the same link make one membership.
    """
    async with db.transaction() as tx:
        row = await tx.fetchone("SELECT * FROM invites WHERE code_hash = ?", (code_hash,))
        if row is None:
            raise InviteRefusedError("unknown")
        invite = _invite(row)
        if invite.revoked_at is not None:
            raise InviteRefusedError("revoked")
        if invite.used_at is not None:
            raise InviteRefusedError("used")
        if now >= invite.expires_at:
            raise InviteRefusedError("expired")
        stamp = to_db(now)
        ident = await tx.fetchone(
            "SELECT person_id FROM identities WHERE channel = ? AND external_id = ?",
            (identity.channel.value, identity.external_id),
        )
        if ident is None:
            person_id = await tx.execute(
                "INSERT INTO people(full_name, locale, created_at) VALUES (?, ?, ?)",
                (identity.display_name, locale, stamp),
            )
            await tx.execute(
                "INSERT INTO identities(person_id, channel, external_id, chat_id, username, display_name, "
                "last_seen_at, created_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    person_id,
                    identity.channel.value,
                    identity.external_id,
                    identity.chat_id,
                    identity.username,
                    identity.display_name,
                    stamp,
                    stamp,
                ),
            )
        else:
            person_id = ident["person_id"]
            await tx.execute("UPDATE people SET active = 1 WHERE id = ?", (person_id,))
        existing = await tx.fetchone(
            "SELECT id FROM memberships WHERE person_id = ? AND unit_id = ? AND role = ? AND revoked_at IS NULL",
            (person_id, invite.unit_id, invite.role.value),
        )
        if existing is None:
            await tx.execute(
                "INSERT INTO memberships(person_id, unit_id, role, invite_id, granted_at) VALUES (?,?,?,?,?)",
                (person_id, invite.unit_id, invite.role.value, invite.id, stamp),
            )
        await tx.execute("UPDATE invites SET used_at = ?, used_by = ? WHERE id = ?", (stamp, person_id, invite.id))
        await audit.record(
            tx,
            at=now,
            actor=f"person:{person_id}",
            action="redeem",
            entity="invite",
            entity_id=invite.id,
            detail={"unit_id": invite.unit_id, "role": invite.role.value, "channel": identity.channel.value},
        )
    person = await person_by_id(db, person_id)
    assert person is not None
    views = [
        v
        for v in await memberships_of(db, person_id)
        if v.unit.id == invite.unit_id and v.membership.role is invite.role
    ]
    return person, views[0]


def locale_set(person_id: int, locale: str) -> Write:
    return Write("UPDATE people SET locale = ? WHERE id = ?", (locale, person_id))


def identity_touch(channel: Channel, external_id: str, now: datetime) -> Write:
    """The channel a person used last is where reminders go by default; writing to us again also means
    they no longer block the bot there."""
    return Write("UPDATE identities SET last_seen_at = ?, blocked_at = NULL WHERE channel = ? AND external_id = ?",
                 (to_db(now), channel.value, external_id))


async def ensure_local_member(
    db: Database, *, channel: Channel, external_id: str, display_name: str, unit: Unit, role: Role, locale: str,
    now: datetime, chat_id: str | None = None,
) -> int:
    """A person bound to `unit` without an invite: for the terminal (trusted, local) and the demo data."""
    stamp = to_db(now)
    async with db.transaction() as tx:
        row = await tx.fetchone(
            "SELECT person_id FROM identities WHERE channel = ? AND external_id = ?", (channel.value, external_id)
        )
        if row is None:
            person_id = await tx.execute(
                "INSERT INTO people(full_name, locale, created_at) VALUES (?, ?, ?)",
                (display_name, locale, stamp),
            )
            await tx.execute(
                "INSERT INTO identities(person_id, channel, external_id, chat_id, display_name, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (person_id, channel.value, external_id, chat_id or external_id, display_name, stamp),
            )
        else:
            person_id = row["person_id"]
        exists = await tx.fetchone(
            "SELECT 1 FROM memberships WHERE person_id = ? AND unit_id = ? AND role = ? AND revoked_at IS NULL",
            (person_id, unit.id, role.value),
        )
        if exists is None:
            await tx.execute(
                "INSERT INTO memberships(person_id, unit_id, role, granted_at) VALUES (?, ?, ?, ?)",
                (person_id, unit.id, role.value, stamp),
            )
            await audit.record(tx, at=now, actor=f"{channel.value}:{external_id}", action="bind", entity="membership",
                               entity_id=person_id, detail={"unit": unit.code, "role": role.value})
    return person_id


async def mark_blocked(db: Database, channel: Channel, external_id: str, now: datetime) -> None:
    """The person blocked the bot on this channel: no more messages there; superiors see it."""
    await db.write([Write(
        "UPDATE identities SET blocked_at = ? WHERE channel = ? AND external_id = ? AND blocked_at IS NULL",
        (to_db(now), channel.value, external_id),
    )])


async def locale_of(db: Database, channel: Channel, external_id: str) -> str | None:
    person = await person_by_identity(db, channel, external_id)
    return None if person is None else person.locale


async def mark_blocked_chat(db: Database, channel: Channel, chat_id: str, now: datetime) -> None:
    await db.write([Write(
        "UPDATE identities SET blocked_at = ? WHERE channel = ? AND chat_id = ? AND blocked_at IS NULL",
        (to_db(now), channel.value, chat_id),
    )])


async def create_link_code(
    db: Database, *, person_id: int, code_hash: str, now: datetime, expires_at: datetime
) -> None:
    await db.write([Write("INSERT INTO link_codes(code_hash, person_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                          (code_hash, person_id, to_db(now), to_db(expires_at)))])


async def redeem_link_code(db: Database, *, code_hash: str, identity: Identity, now: datetime) -> Person:
    """Attach a channel identity to the person who made the code; InviteRefusedError("unknown"/"used"/
    "expired"/"taken") otherwise. "taken": this account already belongs to someone else."""
    async with db.transaction() as tx:
        row = await tx.fetchone("SELECT * FROM link_codes WHERE code_hash = ?", (code_hash,))
        if row is None:
            raise InviteRefusedError("unknown", link_code=True)
        if row["used_at"] is not None:
            raise InviteRefusedError("used", link_code=True)
        if now >= from_db(row["expires_at"]):
            raise InviteRefusedError("expired", link_code=True)
        owner = await tx.fetchone("SELECT person_id FROM identities WHERE channel = ? AND external_id = ?",
                                  (identity.channel.value, identity.external_id))
        if owner is not None and owner["person_id"] != row["person_id"]:
            raise InviteRefusedError("taken", link_code=True)
        stamp = to_db(now)
        if owner is None:
            await tx.execute(
                "INSERT INTO identities(person_id, channel, external_id, chat_id, username, display_name, "
                "last_seen_at, created_at) VALUES (?,?,?,?,?,?,?,?)",
                (row["person_id"], identity.channel.value, identity.external_id, identity.chat_id, identity.username,
                 identity.display_name, stamp, stamp),
            )
        await tx.execute("UPDATE link_codes SET used_at = ? WHERE code_hash = ?", (stamp, code_hash))
        await audit.record(tx, at=now, actor=f"person:{row['person_id']}", action="link", entity="identity",
                           entity_id=identity.external_id, detail={"channel": identity.channel.value})
    person = await person_by_id(db, row["person_id"])
    assert person is not None
    return person


async def channels_of(db: Database, person_id: int) -> tuple[list[str], str | None]:
    """The channels a person can be reached on (not blocked, not the terminal), and the one they chose."""
    rows = await db.fetchall(
        "SELECT DISTINCT channel FROM identities WHERE person_id = ? AND blocked_at IS NULL AND channel != 'terminal' "
        "ORDER BY channel", (person_id,))
    chosen = await db.fetchval("SELECT preferred_channel FROM people WHERE id = ?", (person_id,))
    return [r["channel"] for r in rows], chosen


async def set_preferred_channel(db: Database, person_id: int, channel: str | None) -> None:
    await db.write([Write("UPDATE people SET preferred_channel = ? WHERE id = ?", (channel, person_id))])


@dataclass(frozen=True, slots=True)
class TurnContext:
    person: Person | None
    draft_row: dict[str, Any] | None  # the drafts row, or None
    seen: bool  # this update was handled before
    touch: bool  # the identity needs its last_seen_at (or a lifted block) written
    campaign_sha: str | None = None  # of the campaign the open form belongs to


TOUCH_EVERY_SECONDS = 600


async def turn_context(db: Database, channel: Channel, external_id: str, update_key: str | None,
                       now: datetime) -> TurnContext:
    """Everything a dialog step reads first, in one query: who, their draft, and whether this update
    was handled before (a step is a few trips to the database thread; each trip counts)."""
    row = await db.fetchone(
        """SELECT p.id AS person_id, p.full_name, p.locale, p.created_at, i.blocked_at, i.last_seen_at,
                  d.state, d.version, d.unit_id, d.period_id, d.step, d.steps_total, d.updated_at,
                  c.sha256 AS campaign_sha,
                  EXISTS (SELECT 1 FROM processed_updates WHERE channel = ? AND update_key = ?) AS seen
           FROM (SELECT 1) AS one
           LEFT JOIN identities i ON i.channel = ? AND i.external_id = ?
           LEFT JOIN people p ON p.id = i.person_id
           LEFT JOIN drafts d ON d.person_id = p.id
           LEFT JOIN campaigns c ON c.id = json_extract(d.state, '$.form.campaign_id')""",
        (channel.value, update_key or "", channel.value, external_id),
    )
    assert row is not None
    seen = bool(row["seen"]) and update_key is not None
    if row["person_id"] is None:
        return TurnContext(None, None, seen, False)
    person = Person(row["person_id"], row["full_name"], row["locale"], from_db(row["created_at"]))
    draft = None
    if row["state"] is not None:
        draft = {k: row[k] for k in ("state", "version", "unit_id", "period_id", "step", "steps_total", "updated_at")}
    last = from_db_opt(row["last_seen_at"])
    touch = row["blocked_at"] is not None or last is None or (now - last).total_seconds() > TOUCH_EVERY_SECONDS
    return TurnContext(person, draft, seen, touch, row["campaign_sha"])


async def revoke_memberships(db: Database, person_id: int, *, actor: str, now: datetime,
                             unit_id: int | None = None) -> int:
    """Take away a person's memberships (of one unit, or all): from then on every button they press is
    refused, since each press re-reads them. Recorded in the audit log; returns how many were revoked."""
    unit_clause, params = ("AND unit_id = ?", (unit_id,)) if unit_id is not None else ("", ())
    async with db.transaction() as tx:
        count = await tx.execute_rowcount(
            f"UPDATE memberships SET revoked_at = ? WHERE person_id = ? AND revoked_at IS NULL {unit_clause}",
            (to_db(now), person_id, *params),
        )
        await audit.record(tx, at=now, actor=actor, action="revoke", entity="person", entity_id=person_id,
                           detail={"unit_id": unit_id, "memberships": count})
    return count
