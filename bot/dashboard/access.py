"""Who may open the dashboard, and for how long: single-use sign-in links (/bangtheodoi), Telegram's signed
initData (the Mini App), the sessions both open, and sign-out. `DashboardAccess` is the `Sessions` the web
adapter asks on every request.

Tokens are 256 random bits, handed out once; the database keeps only their SHA-256, so a copy of it signs nobody
in. Only people with a scope (bot.summary.service.scope_of: officers, the department, admins) get a session;
anyone else gets `NotForYouError`, whose message says whom the dashboard is for. A session's locale is the
person's language setting, read on every request (a change in /ngonngu applies at once); its CSRF token is derived
from the session's token, so it is never stored either.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from bot.clock import Clock
from bot.config import Config
from bot.dashboard.init_data import check_init_data
from bot.dashboard.session import SessionInfo
from bot.domain import Channel
from bot.errors import N_, TranslatableError
from bot.summary.service import scope_of
from storage import dashboard_access as store
from storage import people as people_store
from storage.db import Database

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


class NotForYouError(TranslatableError):
    """A real person, signed in correctly, who has no scope: the dashboard is not for them."""

    msgid = N_("The dashboard is for upper-level officers and the department. Type /danop in the chat to see your "
               "own reports.")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    return bool(TOKEN_PATTERN.fullmatch(token))


def csrf_of(token: str) -> str:
    """The session's CSRF token: bound to it, unguessable without it, and nothing more to store."""
    return hmac.new(token.encode(), b"dashboard csrf", hashlib.sha256).hexdigest()[:32]


class DashboardAccess:
    """Implements bot.dashboard.session.Sessions."""

    def __init__(self, db: Database, clock: Clock, config: Config) -> None:
        self.db, self.clock, self.config = db, clock, config
        d = config.dashboard
        self.session_lifetime = timedelta(hours=d.session_hours)
        self.link_lifetime = timedelta(minutes=d.link_minutes)
        self.auth_max_age = timedelta(hours=d.auth_max_age_hours)

    @property
    def entry_url(self) -> str:
        """The dashboard's public address (the Mini App's), or "" when it is not set up (Config.dashboard_url)."""
        return self.config.dashboard_url

    def login_url(self, token: str) -> str:
        return f"{self.entry_url}login/{token}"

    @property
    def link_minutes(self) -> int:
        return self.config.dashboard.link_minutes

    async def _require_scope(self, person_id: int) -> None:
        if await scope_of(self.db, person_id) is None:
            raise NotForYouError()

    async def new_link(self, person_id: int) -> str:
        """A single-use sign-in token, valid for [dashboard] link_minutes. Refused (NotForYouError) without a
        scope."""
        await self._require_scope(person_id)
        token, now = new_token(), self.clock.now()
        await store.add_link(self.db, token_hash(token), person_id, now, now + self.link_lifetime)
        return token

    async def redeem_link(self, token: str) -> str | None:
        """A new session token for the link's person, or None (unknown, used, expired or malformed). Raises
        NotForYouError when the person lost their scope since the link was made (the link is used up)."""
        if not looks_like_token(token):
            return None
        session, now = new_token(), self.clock.now()
        person_id = await store.redeem_link(self.db, token_hash(token), token_hash(session), now,
                                            now + self.session_lifetime)
        if person_id is None:
            return None
        if await scope_of(self.db, person_id) is None:
            await store.end_session(self.db, token_hash(session), now)
            raise NotForYouError()
        return session

    async def sign_in_telegram(self, init_data: str) -> str | None:
        """A new session token for the person Telegram vouches for in the Mini App's initData, or None (forged,
        stale, malformed, no bot token configured, or a Telegram user the bot does not know). NotForYouError for
        a known person without a scope."""
        bot_token = self.config.telegram.token
        now = self.clock.now()
        user = check_init_data(init_data, bot_token.get_secret_value() if bot_token else "", now,
                               self.auth_max_age)
        if user is None:
            return None
        person = await people_store.person_by_identity(self.db, Channel.TELEGRAM, str(user.id))
        if person is None:
            raise NotForYouError()
        await self._require_scope(person.id)
        session = new_token()
        await store.add_session(self.db, token_hash(session), person.id, "telegram", now,
                                now + self.session_lifetime)
        return session

    async def session(self, token: str) -> SessionInfo | None:
        if not looks_like_token(token):
            return None
        row = await store.live_session(self.db, token_hash(token), self.clock.now())
        if row is None:
            return None
        return SessionInfo(session_id=str(row.id), person_id=row.person_id, locale=row.locale, csrf=csrf_of(token),
                           expires_at=row.expires_at)

    async def sign_out(self, token: str) -> None:
        if looks_like_token(token):
            await store.end_session(self.db, token_hash(token), self.clock.now())
