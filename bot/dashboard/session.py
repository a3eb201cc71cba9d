"""What the web adapter asks of the core about a session cookie: who it is, in which language, and the token that
every form of theirs must carry (CSRF)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SessionInfo:
    session_id: str  # an opaque id of the session (not the cookie's token)
    person_id: int
    locale: str
    csrf: str  # the token every form of this session carries
    expires_at: datetime


class Sessions(Protocol):
    async def session(self, token: str) -> SessionInfo | None:
        """The live session of this cookie token; None when unknown, expired or signed out."""
        ...
