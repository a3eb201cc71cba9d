"""The dashboard as an aiohttp sub-application mounted at /dashboard: the static files, the headers that keep
pages private and scripts local, a readable page for every refusal, and the routes of the modules given.

Content-Security-Policy: everything from this server only, no inline script or style, forms post only here, and
the page may be framed only by Telegram's web clients (the Mini App opens in an iframe there)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from aiohttp import web

from bot.dashboard.session import Sessions
from bot.i18n import N_
from handlers.web.render import CONTEXT_KEY, WebContext, render
from handlers.web.session import SESSIONS_KEY

MOUNT = "/dashboard"
STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'; "
       "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a sign-in link's token must not leave in a Referer header
    "Cross-Origin-Opener-Policy": "same-origin",
}

NOT_FOUND_TITLE = N_("Not found")
NOT_FOUND = N_("This page does not exist, or it is not within what you may see.")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _safety(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPNotFound as exc:
        if exc.text and exc.text != "404: Not Found":
            raise _with_headers(exc) from None
        ctx = request.config_dict[CONTEXT_KEY]
        t = ctx.translator_for(ctx.default_locale)
        response = render(request, "error.html", t=t, status=404, title=t(NOT_FOUND_TITLE), message=t(NOT_FOUND))
    except web.HTTPException as exc:
        raise _with_headers(exc) from None
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith(MOUNT + "/static/") and "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"  # nothing that belongs to a person is cached
    return response


def _with_headers(exc: web.HTTPException) -> web.HTTPException:
    for name, value in SECURITY_HEADERS.items():
        exc.headers.setdefault(name, value)
    exc.headers["Cache-Control"] = "no-store"
    return exc


def build_dashboard_app(context: WebContext, sessions: Sessions,
                        routes: Iterable[Callable[[web.Application], None]]) -> web.Application:
    """The sub-application to mount at /dashboard (`parent.add_subapp(MOUNT, app)`)."""
    app = web.Application(middlewares=[_safety], client_max_size=64 * 1024)
    app[CONTEXT_KEY] = context
    app[SESSIONS_KEY] = sessions
    app.router.add_static("/static", STATIC, follow_symlinks=False)
    for add in routes:
        add(app)
    return app


def mount_dashboard(parent: web.Application, dashboard: web.Application) -> None:
    parent.add_subapp(MOUNT, dashboard)
