"""Signing in to the dashboard and out of it (paths under /dashboard):

- `GET /` the entry page. Opened as Telegram's Mini App, its script (static/signin.js) reads Telegram's initData
  from `location.hash` (`tgWebAppData=`; no telegram.org script) and POSTs it to `/auth/telegram`; opened
  otherwise, it says how to get a link (/bangtheodoi in the chat). A live session goes straight to /home.
- `POST /auth/telegram` the initData as the body (at most 8 KiB): JSON {ok, next} and, when ok, the cookie.
- `GET /login/{token}` a single-use link from /bangtheodoi: the cookie, then on to /home. The page moves on
  itself (a meta refresh, not a 303): a link opened from Zalo or a mail is a cross-site navigation, and a
  browser would not send a SameSite=Strict cookie along a redirect that began there.
- `POST /logout` (CSRF-checked) ends the session and clears the cookie.
- `GET /refused?why=...` the refusal page (#refused) the script goes to.

The cookie: HttpOnly, SameSite=Strict, Path=/dashboard, Secure when the public address is https; a Telegram
sign-in's over https is SameSite=None and Partitioned instead (Telegram Web frames the Mini App). The sign-in
endpoints are rate limited per client address and route (handlers/web/ratelimit.py). Pages before sign-in speak
the reader's language as the browser states it (vi by default)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from aiohttp import web

from bot.dashboard.access import NotForYouError
from bot.errors import TranslatableError
from bot.i18n import N_, Translator, normalise_locale
from handlers.web.dashboard import MOUNT
from handlers.web.ratelimit import SlidingWindow, client_address
from handlers.web.render import CONTEXT_KEY, render
from handlers.web.session import COOKIE, SESSIONS_KEY, checked_form, viewer_of

log = logging.getLogger(__name__)

MAX_INIT_BODY = 8 * 1024
HOME = MOUNT + "/home"
ENTRY = MOUNT + "/"

LINK_REFUSED_TITLE = N_("This sign-in link does not work")
LINK_REFUSED = N_("It has been used already, has expired (a link lasts {minutes} minutes and opens the dashboard "
                  "once), or was not copied whole. Type /bangtheodoi in the chat with the bot for a new one.")
TELEGRAM_REFUSED_TITLE = N_("Telegram's sign-in could not be checked")
TELEGRAM_REFUSED = N_("Open the dashboard again from the bot's menu button or the “Mở bảng theo dõi” button. If it "
                      "keeps happening, type /bangtheodoi in the chat for a sign-in link.")
NOT_FOR_YOU_TITLE = N_("The dashboard is for officers and the department")
TOO_MANY_TITLE = N_("Too many sign-in attempts")
TOO_MANY = N_("Please wait a few minutes, then try again.")
SIGNING_IN = N_("Signing you in…")


class SignIn(Protocol):
    """What these routes ask of the core (bot.dashboard.access.DashboardAccess)."""

    async def redeem_link(self, token: str) -> str | None: ...

    async def sign_in_telegram(self, init_data: str) -> str | None: ...

    async def sign_out(self, token: str) -> None: ...


@dataclass(frozen=True, slots=True)
class SignInSettings:
    access: SignIn
    limiter: SlidingWindow
    session_seconds: int
    link_minutes: int = 10
    forwarded_for: bool = False  # [web] forwarded_for: the client's address from X-Forwarded-For
    public_base_url: str = ""


SIGNIN_KEY = web.AppKey("dashboard_signin", SignInSettings)
REFUSALS = ("telegram", "officers", "limit")


def signin_routes(settings: SignInSettings) -> Callable[[web.Application], None]:
    """The routes callable for build_dashboard_app."""

    def add(app: web.Application) -> None:
        app[SIGNIN_KEY] = settings
        app.router.add_get("/", _entry)
        app.router.add_post("/auth/telegram", _telegram)
        app.router.add_get("/login/{token}", _login)
        app.router.add_post("/logout", _logout)
        app.router.add_get("/refused", _refused)

    return add


def reader_t(request: web.Request) -> Translator:
    """Before sign-in: ?lang=, else the browser's first language among ours, else the bot's language."""
    ctx = request.config_dict[CONTEXT_KEY]
    wanted = request.query.get("lang") or request.headers.get("Accept-Language", "").split(",")[0].split(";")[0]
    locale = normalise_locale(wanted.strip()) if wanted.strip() else ctx.default_locale
    return ctx.translator_for(locale)


def _set_cookie(request: web.Request, response: web.StreamResponse, token: str, *, framed: bool = False) -> None:
    """`framed`: a Telegram sign-in, whose page may sit in Telegram Web's frame (web.telegram.org), another site:
    there a SameSite=Strict cookie is never sent back, so over https it is SameSite=None and Partitioned (kept
    for this site inside that frame only). Forms stay guarded by the session's CSRF token, and only Telegram's
    web clients may frame the pages (the CSP's frame-ancestors)."""
    ctx, settings = request.config_dict[CONTEXT_KEY], request.config_dict[SIGNIN_KEY]
    if framed and ctx.secure_cookies:  # SameSite=None needs Secure: over plain http it stays Strict
        # Written out: Python 3.11's http.cookies knows no Partitioned attribute. The token is URL-safe base64.
        response.headers.add("Set-Cookie", f"{COOKIE}={token}; Max-Age={settings.session_seconds}; Path={MOUNT}; "
                                           "HttpOnly; Secure; SameSite=None; Partitioned")
        return
    response.set_cookie(COOKIE, token, max_age=settings.session_seconds, path=MOUNT, httponly=True,
                        secure=ctx.secure_cookies, samesite="Strict")


def _refusal(request: web.Request, title: str, message: str, status: int = 403, **params: object) -> web.Response:
    t = reader_t(request)
    return render(request, "error.html", t=t, status=status, title=t(title), message=t(message, **params))


def _limited(request: web.Request, route: str) -> web.Response | None:
    settings = request.config_dict[SIGNIN_KEY]
    client = client_address(request, forwarded_for=settings.forwarded_for)
    if settings.limiter.allow(route, client):
        return None
    log.warning("dashboard sign-in: too many attempts on %s from %s", route, client)
    page = _refusal(request, TOO_MANY_TITLE, TOO_MANY, status=429)
    page.headers["Retry-After"] = str(settings.limiter.retry_after(route, client))
    return page


async def _entry(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(COOKIE, "")
    if token and len(token) <= 256 and await request.config_dict[SESSIONS_KEY].session(token) is not None:
        raise web.HTTPSeeOther(HOME)
    return render(request, "entry.html", t=reader_t(request), signed_out="out" in request.query,
                  minutes=request.config_dict[SIGNIN_KEY].link_minutes)


async def _login(request: web.Request) -> web.StreamResponse:
    limited = _limited(request, "login")
    if limited is not None:
        return limited
    settings = request.config_dict[SIGNIN_KEY]
    try:
        session = await settings.access.redeem_link(request.match_info["token"])
    except TranslatableError as exc:
        t = reader_t(request)
        return render(request, "error.html", t=t, status=403, title=t(NOT_FOR_YOU_TITLE), message=exc.render(t))
    if session is None:
        return _refusal(request, LINK_REFUSED_TITLE, LINK_REFUSED, minutes=settings.link_minutes)
    page = render(request, "signed_in.html", t=reader_t(request), next=HOME)
    _set_cookie(request, page, session)
    return page


def _same_site(request: web.Request) -> bool:
    """A sign-in POST comes from our own page: a browser's Sec-Fetch-Site or Origin saying otherwise is refused."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    ours = {request.host, urlsplit(request.config_dict[SIGNIN_KEY].public_base_url).netloc} - {""}
    return urlsplit(origin).netloc in ours


def _answer(ok: bool, next_page: str, status: int = 200) -> web.Response:
    response = web.json_response({"ok": ok, "next": next_page}, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused_at(why: str) -> str:
    return f"{MOUNT}/refused?why={why}"


async def _read_bounded(request: web.Request) -> bytes | None:
    if request.content_length is not None and request.content_length > MAX_INIT_BODY:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(4096):
        body += chunk
        if len(body) > MAX_INIT_BODY:
            return None
    return bytes(body)


async def _telegram(request: web.Request) -> web.StreamResponse:
    if _limited(request, "telegram") is not None:
        return _answer(False, _refused_at("limit"), 429)
    if not _same_site(request):
        return _answer(False, _refused_at("telegram"), 403)
    body = await _read_bounded(request)
    if body is None:
        return _answer(False, _refused_at("telegram"), 413)
    try:
        init_data = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        return _answer(False, _refused_at("telegram"), 400)
    try:
        session = await request.config_dict[SIGNIN_KEY].access.sign_in_telegram(init_data)
    except TranslatableError:
        return _answer(False, _refused_at("officers"), 403)
    if session is None:
        log.info("dashboard sign-in: Telegram initData refused (from %s)", request.remote)
        return _answer(False, _refused_at("telegram"), 403)
    response = _answer(True, HOME)
    _set_cookie(request, response, session, framed=True)
    return response


async def _refused(request: web.Request) -> web.StreamResponse:
    why = request.query.get("why", "telegram")
    if why == "officers":
        t = reader_t(request)
        return render(request, "error.html", t=t, status=403, title=t(NOT_FOR_YOU_TITLE),
                      message=NotForYouError().render(t))
    if why == "limit":
        return _refusal(request, TOO_MANY_TITLE, TOO_MANY, status=429)
    return _refusal(request, TELEGRAM_REFUSED_TITLE, TELEGRAM_REFUSED)


async def _logout(request: web.Request) -> web.StreamResponse:
    viewer = await viewer_of(request)
    await checked_form(request, viewer)
    await request.config_dict[SIGNIN_KEY].access.sign_out(request.cookies.get(COOKIE, ""))
    response = web.Response(status=303, headers={"Location": ENTRY + "?out=1", "Cache-Control": "no-store"})
    response.del_cookie(COOKIE, path=MOUNT)
    return response
