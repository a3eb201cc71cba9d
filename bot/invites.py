"""Invite codes: random, single use, expiring, stored only as a hash, carried in a deep link."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain import Role, Unit
from storage import people
from storage.db import Database

# Telegram deep-link payloads are at most 64 characters of [A-Za-z0-9_-].
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CODE_BYTES = 24  # 32 characters of URL-safe base64, 192 bits


@dataclass(frozen=True, slots=True)
class IssuedInvite:
    id: int
    code: str
    unit: Unit
    role: Role
    expires_at: datetime
    link: str


def new_code() -> str:
    # A code starting with "-" would be taken for a command-line option or a spreadsheet formula.
    while True:
        code = secrets.token_urlsafe(CODE_BYTES)
        if code[0].isalnum():
            return code


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def looks_like_code(text: str) -> bool:
    return CODE_RE.fullmatch(text) is not None


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def parse_duration(text: str) -> timedelta:
    """'14d', '36h', '2w' -> a timedelta; ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d{1,4})\s*([dhw])\s*", text.lower())
    if not match:
        raise ValueError(f"{text!r}: expected a number of days, hours or weeks such as 14d, 36h, 2w")
    amount, unit = int(match.group(1)), match.group(2)
    if amount == 0:
        raise ValueError(f"{text!r}: an invite must last some time")
    return {"d": timedelta(days=amount), "h": timedelta(hours=amount), "w": timedelta(weeks=amount)}[unit]


async def issue_invite(
    db: Database, *, unit: Unit, role: Role, lifetime: timedelta, created_by: str, now: datetime, bot_username: str
) -> IssuedInvite:
    code = new_code()
    expires_at = now + lifetime
    invite_id = await people.create_invite(
        db,
        code_hash=hash_code(code),
        unit_id=unit.id,
        role=role,
        created_by=created_by,
        now=now,
        expires_at=expires_at,
    )
    return IssuedInvite(invite_id, code, unit, role, expires_at, deep_link(bot_username, code))


class RoleMismatchError(ValueError):
    def __init__(self, role: Role, unit: Unit) -> None:
        super().__init__(f"role {role.value} does not fit unit {unit.code} of kind {unit.kind.value}")
        self.role = role
        self.unit = unit


def check_role_fits(unit: Unit, role: Role) -> None:
    """A chair reports for a grassroots union, an officer for an upper-level union, the department
    sits at the province; an admin may be anywhere."""
    fits = {
        Role.CHAIR: unit.kind.is_grassroots,
        Role.OFFICER: unit.kind.value == "upper",
        Role.DEPARTMENT: unit.kind.value == "province",
        Role.ADMIN: True,
    }[role]
    if not fits:
        raise RoleMismatchError(role, unit)
