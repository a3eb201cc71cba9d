"""Fakes for the dashboard's web tests: sessions that record what was looked up, and a test client on loopback."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.dashboard.session import SessionInfo


@dataclass
class FakeSessions:
    """Sessions kept in a dict; `looked_up` records every token asked for (the pages must ask on every request)."""

    sessions: dict[str, SessionInfo] = field(default_factory=dict)
    looked_up: list[str] = field(default_factory=list)

    def add(self, person_id: int, locale: str = "vi") -> str:
        token = secrets.token_urlsafe(24)
        self.sessions[token] = SessionInfo(secrets.token_hex(8), person_id, locale, secrets.token_urlsafe(16),
                                           datetime.now(UTC) + timedelta(hours=8))
        return token

    def csrf_of(self, token: str) -> str:
        return self.sessions[token].csrf

    async def session(self, token: str) -> SessionInfo | None:
        self.looked_up.append(token)
        return self.sessions.get(token)


async def web_client(app: web.Application) -> TestClient:
    """A started client on a loopback port; close it with `await client.close()`."""
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client
