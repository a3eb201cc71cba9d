"""The dashboard over the two-province world of tests/test_authorisation_matrix.py: the pages' app on loopback,
sessions for any member, and requests made as them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.config import Config
from bot.conversation import Sender
from bot.dashboard.views import DashboardViews
from bot.i18n import translator
from handlers.web.dashboard import MOUNT, build_dashboard_app, mount_dashboard
from handlers.web.pages import pages
from handlers.web.render import WebContext
from storage import people as people_store
from tests.test_authorisation_matrix import World
from tests.web_fakes import FakeSessions, web_client

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class Dash:
    w: World
    client: TestClient
    sessions: FakeSessions
    views: DashboardViews

    async def login(self, sender: Sender, locale: str = "vi") -> str:
        person = await people_store.person_by_identity(self.w.db, sender.channel, sender.external_id)
        assert person is not None
        return self.sessions.add(person.id, locale)

    async def get(self, token: str, path: str) -> tuple[int, str, dict[str, str]]:
        response = await self.client.get(MOUNT + path, headers={"Cookie": f"cd_session={token}"},
                                         allow_redirects=False)
        body = await response.read()
        text = body.decode("utf-8", "replace") if response.content_type.startswith("text/") else ""
        return response.status, text, dict(response.headers)

    async def raw(self, token: str, path: str) -> tuple[int, bytes, dict[str, str]]:
        response = await self.client.get(MOUNT + path, headers={"Cookie": f"cd_session={token}"},
                                         allow_redirects=False)
        return response.status, await response.read(), dict(response.headers)

    async def post(self, token: str, path: str, data: dict[str, str], *, csrf: bool = True
                   ) -> tuple[int, str, str]:
        """(status, Location, body) of a form POSTed as the session's person (with its CSRF token)."""
        form = {**data, **({"csrf": self.sessions.csrf_of(token)} if csrf else {})}
        response = await self.client.post(MOUNT + path, data=form, headers={"Cookie": f"cd_session={token}"},
                                          allow_redirects=False)
        return response.status, response.headers.get("Location", ""), await response.text()


@pytest.fixture(name="dash")
async def dash_fixture(world: World, config: Config) -> AsyncIterator[Dash]:
    views = DashboardViews(world.conv, config)
    sessions = FakeSessions()
    root = web.Application()
    context = WebContext(translator_for=lambda locale: translator(locale, config.locales_dir), zone=ZONE)
    mount_dashboard(root, build_dashboard_app(context, sessions, [pages(views)]))
    client = await web_client(root)
    try:
        yield Dash(world, client, sessions, views)
    finally:
        await client.close()
