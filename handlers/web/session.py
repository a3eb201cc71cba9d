"""Who is asking: the session cookie read through the core's `Sessions`, and the CSRF check every form passes.

The session is looked up again on every request (a signed-out or expired one is refused at once); what the person
may see is re-read from the database by each page, never kept in the session."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from aiohttp import web
from multidict import MultiDictProxy

from bot.dashboard.session import Sessions
from bot.i18n import N_, Translator
from handlers.web.render import CONTEXT_KEY, render

COOKIE = "cd_session"
ENTRY = "/dashboard/"
MAX_FORM = 64 * 1024  # a form is a few fields and a reason: larger bodies are refused before they are read

SESSIONS_KEY = web.AppKey("dashboard_sessions", Sessions)

FORM_REFUSED_TITLE = N_("This form has expired")
FORM_REFUSED = N_("The page was open too long or came from elsewhere. Go back, reload the page and try again.")


@dataclass(frozen=True, slots=True)
class Viewer:
    person_id: int
    locale: str
    csrf: str
    session_id: str
    t: Translator


async def viewer_of(request: web.Request) -> Viewer:
    """The signed-in person of this request; without a live session, a redirect to the entry page."""
    token = request.cookies.get(COOKIE, "")
    info = await request.config_dict[SESSIONS_KEY].session(token) if token and len(token) <= 256 else None
    if info is None:
        raise web.HTTPSeeOther(ENTRY, headers={"Cache-Control": "no-store"})
    t = request.config_dict[CONTEXT_KEY].translator_for(info.locale)
    return Viewer(info.person_id, info.locale, info.csrf, info.session_id, t)


async def checked_form(request: web.Request, viewer: Viewer) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The POSTed form, once its `csrf` field is this session's token (compared in constant time); otherwise a
    403 page in the viewer's language and nothing done."""
    if request.content_length is not None and request.content_length > MAX_FORM:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_FORM, actual_size=request.content_length)
    form = await request.post()
    given = form.get("csrf")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), viewer.csrf.encode()):
        page = render(request, "error.html", viewer=viewer, status=403, title=viewer.t(FORM_REFUSED_TITLE),
                      message=viewer.t(FORM_REFUSED))
        assert isinstance(page.body, bytes)
        raise web.HTTPForbidden(text=page.body.decode(), content_type="text/html",
                                headers={"Cache-Control": "no-store"})
    return form
