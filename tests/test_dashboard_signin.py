"""Signing in to the dashboard over HTTP: the entry page, Telegram's initData, the single-use link, sign-out with
its CSRF token, the cookie's flags, the headers of every answer, and the rate limits on the sign-in endpoints."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from bot.config import Config
from bot.dashboard.access import DashboardAccess
from bot.i18n import translator
from handlers.web.dashboard import build_dashboard_app, mount_dashboard
from handlers.web.ratelimit import SlidingWindow
from handlers.web.render import WebContext, render
from handlers.web.session import COOKIE, viewer_of
from handlers.web.signin import MAX_INIT_BODY, SignInSettings, signin_routes
from storage.db import Database
from tests.dashboard_people import CHAIR_TG, OFFICER_TG, DashboardPeople, seed_people, signed_init_data
from tests.fakes import FakeClock
from tests.telegram_fakes import FAKE_TOKEN
from tests.web_fakes import web_client

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
BOT_TOKEN = FAKE_TOKEN


def _home(app: web.Application) -> None:
    async def home(request: web.Request) -> web.Response:
        viewer = await viewer_of(request)
        return render(request, "error.html", viewer=viewer, title="home", message=f"person {viewer.person_id}")

    app.router.add_get("/home", home)


@dataclass
class Site:
    client: TestClient
    access: DashboardAccess
    who: DashboardPeople
    clock: FakeClock
    time: list[float]


async def _site(db: Database, repo: Path, clock: FakeClock, config: Config, *, secure: bool = False,
                limit: int = 50, forwarded_for: bool = False) -> Site:
    config = config.model_copy(update={"telegram": config.telegram.model_copy(update={"token": SecretStr(BOT_TOKEN)})})
    access = DashboardAccess(db, clock, config)
    who = await seed_people(db, repo, clock)
    time = [1000.0]
    settings = SignInSettings(access, SlidingWindow(limit, 60, now=lambda: time[0]), session_seconds=8 * 3600,
                              forwarded_for=forwarded_for)
    context = WebContext(translator_for=lambda locale: translator(locale, config.locales_dir), zone=ZONE,
                         secure_cookies=secure)
    root = web.Application()
    mount_dashboard(root, build_dashboard_app(context, access, [signin_routes(settings), _home]))
    return Site(await web_client(root), access, who, clock, time)


@pytest.fixture
async def site(db: Database, repo: Path, clock: FakeClock, config: Config) -> AsyncIterator[Site]:
    site = await _site(db, repo, clock, config)
    yield site
    await site.client.close()


def init_data(user_id: int, clock: FakeClock, token: str = BOT_TOKEN) -> str:
    return signed_init_data(user_id, clock.now(), token)


def set_cookie(response: object) -> str:
    headers = response.headers  # type: ignore[attr-defined]
    return next((v for v in headers.getall("Set-Cookie", []) if v.startswith(COOKIE + "=")), "")


async def test_the_entry_page_says_how_to_sign_in_in_the_readers_language(site: Site) -> None:
    response = await site.client.get("/dashboard/")
    page = await response.text()
    assert response.status == 200
    assert "/bangtheodoi" in page
    assert "Mở bảng theo dõi" in page
    assert 'lang="vi"' in page
    assert '<script src="/dashboard/static/signin.js"' in page
    assert re.search(r"<script>(?!</script>)", page) is None  # no inline script
    english = await (await site.client.get("/dashboard/", headers={"Accept-Language": "en-US,en;q=0.8"})).text()
    assert 'lang="en"' in english
    assert "In Zalo or a browser" in english
    script = await site.client.get("/dashboard/static/signin.js")
    assert script.status == 200
    assert "tgWebAppData" in await script.text()


async def test_telegram_sign_in_sets_the_cookie_and_opens_the_pages(site: Site) -> None:
    response = await site.client.post("/dashboard/auth/telegram", data=init_data(OFFICER_TG, site.clock))
    assert response.status == 200
    assert await response.json() == {"ok": True, "next": "/dashboard/home"}
    cookie = set_cookie(response)
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # served over http here: a Secure cookie would never come back
    assert response.headers["Cache-Control"] == "no-store"
    home = await site.client.get("/dashboard/home", allow_redirects=False)
    assert home.status == 200
    assert f"person {site.who.officer}" in await home.text()
    again = await site.client.get("/dashboard/", allow_redirects=False)  # signed in: the entry page moves on
    assert again.status == 303
    assert again.headers["Location"] == "/dashboard/home"


async def test_the_cookie_is_secure_over_https_and_a_telegram_one_survives_telegram_webs_frame(db: Database, repo: Path, clock: FakeClock,
                                                           config: Config) -> None:
    site = await _site(db, repo, clock, config, secure=True)
    try:
        response = await site.client.post("/dashboard/auth/telegram", data=init_data(OFFICER_TG, clock))
        telegram = set_cookie(response)
        assert "Secure" in telegram
        # Telegram Web frames the Mini App in another site's page: there only a partitioned SameSite=None cookie
        # comes back; the forms are still guarded by the session's CSRF token.
        assert "SameSite=None" in telegram
        assert "Partitioned" in telegram
        link = await site.access.new_link(site.who.officer)
        from_link = set_cookie(await site.client.get(f"/dashboard/login/{link}"))
        assert "Secure" in from_link
        assert "SameSite=Strict" in from_link  # a link opened in a browser is never framed
        assert "Partitioned" not in from_link
    finally:
        await site.client.close()


async def test_a_forged_init_data_leads_to_the_refusal_page(site: Site) -> None:
    response = await site.client.post("/dashboard/auth/telegram", data=init_data(OFFICER_TG, site.clock, "1:x"))
    answer = await response.json()
    assert response.status == 403
    assert answer["ok"] is False
    assert set_cookie(response) == ""
    refused = await site.client.get(answer["next"])
    page = await refused.text()
    assert refused.status == 403
    assert 'id="refused"' in page
    assert "Mở bảng theo dõi" in page
    assert (await site.client.get("/dashboard/home", allow_redirects=False)).status == 303


async def test_a_chair_is_told_whom_the_dashboard_is_for(site: Site) -> None:
    response = await site.client.post("/dashboard/auth/telegram", data=init_data(CHAIR_TG, site.clock))
    answer = await response.json()
    assert answer["ok"] is False
    page = await (await site.client.get(answer["next"], headers={"Accept-Language": "en"})).text()
    assert 'id="refused"' in page
    assert "upper-level officers and the department" in page


async def test_a_too_large_or_cross_site_sign_in_is_refused(site: Site) -> None:
    big = init_data(OFFICER_TG, site.clock) + "&pad=" + "x" * MAX_INIT_BODY
    assert (await site.client.post("/dashboard/auth/telegram", data=big)).status == 413
    cross = await site.client.post("/dashboard/auth/telegram", data=init_data(OFFICER_TG, site.clock),
                                   headers={"Origin": "https://evil.example"})
    assert cross.status == 403
    assert set_cookie(cross) == ""
    fetch_cross = await site.client.post("/dashboard/auth/telegram", data=init_data(OFFICER_TG, site.clock),
                                         headers={"Sec-Fetch-Site": "cross-site"})
    assert fetch_cross.status == 403


async def test_a_link_signs_in_once_then_shows_the_refusal(site: Site) -> None:
    link = await site.access.new_link(site.who.officer)
    first = await site.client.get(f"/dashboard/login/{link}", allow_redirects=False)
    page = await first.text()
    assert first.status == 200
    assert 'http-equiv="refresh" content="0;url=/dashboard/home"' in page
    assert "HttpOnly" in set_cookie(first)
    assert (await site.client.get("/dashboard/home", allow_redirects=False)).status == 200
    site.client.session.cookie_jar.clear()
    second = await site.client.get(f"/dashboard/login/{link}", allow_redirects=False)
    text = await second.text()
    assert second.status == 403
    assert 'id="refused"' in text
    assert "/bangtheodoi" in text
    assert set_cookie(second) == ""


async def test_an_expired_or_tampered_link_signs_nobody_in(site: Site) -> None:
    link = await site.access.new_link(site.who.officer)
    tampered = await site.client.get(f"/dashboard/login/{link[:-2]}zz")
    assert tampered.status == 403
    assert set_cookie(tampered) == ""
    site.clock.advance(minutes=11)
    expired = await site.client.get(f"/dashboard/login/{link}")
    assert expired.status == 403
    assert "10" in await expired.text()
    assert set_cookie(expired) == ""


async def test_sign_out_needs_the_csrf_token_and_ends_the_session(site: Site) -> None:
    await site.client.get(f"/dashboard/login/{await site.access.new_link(site.who.officer)}")
    token = site.client.session.cookie_jar.filter_cookies(site.client.make_url("/dashboard/home"))[COOKIE].value
    info = await site.access.session(token)
    assert info is not None
    refused = await site.client.post("/dashboard/logout", data={"csrf": "wrong"}, allow_redirects=False)
    assert refused.status == 403
    assert await site.access.session(token) is not None  # nothing done
    out = await site.client.post("/dashboard/logout", data={"csrf": info.csrf}, allow_redirects=False)
    assert out.status == 303
    assert out.headers["Location"] == "/dashboard/?out=1"
    assert set_cookie(out).startswith(f"{COOKIE}=;") or 'cd_session=""' in set_cookie(out)
    assert await site.access.session(token) is None
    site.client.session.cookie_jar.update_cookies({COOKIE: token})  # the old cookie, kept by someone
    assert (await site.client.get("/dashboard/home", allow_redirects=False)).status == 303


async def test_every_sign_in_answer_carries_the_csp_and_no_store(site: Site) -> None:
    link = await site.access.new_link(site.who.officer)
    answers = [await site.client.get("/dashboard/"), await site.client.get(f"/dashboard/login/{link}"),
               await site.client.get("/dashboard/login/nonsense"), await site.client.get("/dashboard/refused"),
               await site.client.post("/dashboard/auth/telegram", data="x=1")]
    for response in answers:
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"


async def test_the_sign_in_endpoints_are_rate_limited_and_the_limit_resets(db: Database, repo: Path,
                                                                          clock: FakeClock, config: Config) -> None:
    site = await _site(db, repo, clock, config, limit=3)
    try:
        for _ in range(3):
            assert (await site.client.get("/dashboard/login/" + "A" * 43)).status == 403
        limited = await site.client.get("/dashboard/login/" + "A" * 43)
        assert limited.status == 429
        assert int(limited.headers["Retry-After"]) == 60
        assert 'id="refused"' in await limited.text()
        # Even a good link waits: the window is full.
        link = await site.access.new_link(site.who.officer)
        assert (await site.client.get(f"/dashboard/login/{link}")).status == 429
        # The other route has a window of its own.
        assert (await site.client.post("/dashboard/auth/telegram", data=init_data(OFFICER_TG, clock))).status == 200
        site.time[0] += 61  # the window slides past the attempts
        assert (await site.client.get(f"/dashboard/login/{link}")).status == 200
    finally:
        await site.client.close()


async def test_behind_a_proxy_the_limit_is_per_forwarded_client(db: Database, repo: Path, clock: FakeClock,
                                                                config: Config) -> None:
    site = await _site(db, repo, clock, config, limit=2, forwarded_for=True)
    try:
        def tried(client: str) -> object:
            return site.client.get("/dashboard/login/" + "A" * 43, headers={"X-Forwarded-For": f"1.2.3.4, {client}"})
        assert [(await tried("10.0.0.1")).status for _ in range(3)] == [403, 403, 429]
        assert (await tried("10.0.0.2")).status == 403  # another client behind the same proxy is not held up
    finally:
        await site.client.close()


def test_the_sliding_window_counts_only_recent_attempts() -> None:
    now = [0.0]
    window = SlidingWindow(2, 10, now=lambda: now[0])
    assert [window.allow("r", "a") for _ in range(3)] == [True, True, False]
    now[0] = 5
    assert window.allow("r", "a") is False
    assert window.allow("r", "b") is True
    assert window.allow("s", "a") is True
    now[0] = 10.5
    assert [window.allow("r", "a") for _ in range(3)] == [True, True, False]  # both of 0 s have left the window
    assert window.retry_after("r", "a") == 10


def test_the_sliding_window_remembers_a_bounded_number_of_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    from handlers.web import ratelimit

    monkeypatch.setattr(ratelimit, "MAX_KEYS", 3)
    window = SlidingWindow(1, 60, now=lambda: 0.0)
    for client in ("a", "b", "c", "d"):
        assert window.allow("login", client) is True
    assert len(window._events) == 3  # "a", the idlest, was forgotten
    assert window.allow("login", "d") is False
    assert window.allow("login", "a") is True
