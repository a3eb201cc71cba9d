"""The dashboard's sub-application as the bot runs it: the sign-in routes and the pages, with [dashboard]'s and
[web]'s settings (session length, rate limits, https cookies). handlers/serve.py mounts it on the web server."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from aiohttp import web

from bot.config import Config
from bot.dashboard.session import SessionInfo
from bot.i18n import Translator
from handlers.web.dashboard import build_dashboard_app
from handlers.web.ratelimit import SlidingWindow
from handlers.web.render import WebContext
from handlers.web.signin import SignInSettings, signin_routes

Routes = Callable[[web.Application], None]


class Access(Protocol):
    """Sessions and sign-in: bot.dashboard.access.DashboardAccess."""

    async def session(self, token: str) -> SessionInfo | None: ...

    async def redeem_link(self, token: str) -> str | None: ...

    async def sign_in_telegram(self, init_data: str) -> str | None: ...

    async def sign_out(self, token: str) -> None: ...


def dashboard_app(config: Config, access: Access, translator_for: Callable[[str], Translator],
                  pages: Iterable[Routes] = ()) -> web.Application:
    d, server = config.dashboard, config.web_server
    context = WebContext(translator_for=translator_for, zone=config.app.zone, default_locale=config.app.language,
                         secure_cookies=server.https)
    signin = SignInSettings(access, SlidingWindow(d.signin_limit, d.signin_window_seconds),
                            session_seconds=round(d.session_hours * 3600), link_minutes=d.link_minutes,
                            forwarded_for=server.forwarded_for, public_base_url=server.public_base_url)
    return build_dashboard_app(context, access, [signin_routes(signin), *pages])
