"""The dashboard's shell: a page without a session goes to the entry page, forms without the session's CSRF token
are refused, every response carries the CSP and no-store, numbers and dates are in the reader's locale, and
whatever a page shows is escaped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.i18n import translator
from handlers.web.dashboard import MOUNT, build_dashboard_app, mount_dashboard
from handlers.web.render import WebContext, render
from handlers.web.session import checked_form, viewer_of
from tests.web_fakes import FakeSessions, web_client

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def _routes(app: web.Application) -> None:
    async def page(request: web.Request) -> web.Response:
        viewer = await viewer_of(request)
        return render(request, "error.html", viewer=viewer, title=request.query.get("q", "x"),
                      message="{n}")

    async def figures(request: web.Request) -> web.Response:
        viewer = await viewer_of(request)
        return web.Response(text=" ".join([
            viewer.t.number(1234567), viewer.t.percent(Decimal("12.5")),
            viewer.t.date(datetime(2026, 4, 9, 18, 0, tzinfo=UTC), ZONE)]))

    async def act(request: web.Request) -> web.Response:
        viewer = await viewer_of(request)
        form = await checked_form(request, viewer)
        return web.Response(text=f"done {form.get('x')}")

    app.router.add_get("/page", page)
    app.router.add_get("/figures", figures)
    app.router.add_post("/act", act)


@pytest.fixture
async def shell() -> AsyncIterator[tuple[TestClient, FakeSessions]]:
    sessions = FakeSessions()
    context = WebContext(translator_for=translator, zone=ZONE)
    root = web.Application()
    mount_dashboard(root, build_dashboard_app(context, sessions, [_routes]))
    client = await web_client(root)
    yield client, sessions
    await client.close()


async def test_a_page_without_a_session_goes_to_the_entry_page(shell: tuple[TestClient, FakeSessions]) -> None:
    client, sessions = shell
    response = await client.get(MOUNT + "/page", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == MOUNT + "/"
    client.session.cookie_jar.update_cookies({"cd_session": "forged"})
    response = await client.get(MOUNT + "/page", allow_redirects=False)
    assert response.status == 303
    assert sessions.looked_up == ["forged"]


async def test_a_page_is_escaped_private_and_under_the_csp(shell: tuple[TestClient, FakeSessions]) -> None:
    client, sessions = shell
    client.session.cookie_jar.update_cookies({"cd_session": sessions.add(7)})
    response = await client.get(MOUNT + "/page", params={"q": "<script>alert(1)</script>"})
    body = await response.text()
    assert response.status == 200
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert '<html lang="vi">' in body


async def test_figures_follow_the_readers_locale(shell: tuple[TestClient, FakeSessions]) -> None:
    client, sessions = shell
    client.session.cookie_jar.update_cookies({"cd_session": sessions.add(7, "vi")})
    assert await (await client.get(MOUNT + "/figures")).text() == "1.234.567 12,5% 10/04/2026"
    client.session.cookie_jar.update_cookies({"cd_session": sessions.add(8, "en")})
    assert await (await client.get(MOUNT + "/figures")).text() == "1,234,567 12.5% 10/04/2026"


async def test_a_form_without_the_sessions_token_is_refused(shell: tuple[TestClient, FakeSessions]) -> None:
    client, sessions = shell
    token = sessions.add(7)
    client.session.cookie_jar.update_cookies({"cd_session": token})
    refused = await client.post(MOUNT + "/act", data={"x": "1", "csrf": "wrong"})
    assert refused.status == 403
    assert 'id="refused"' in await refused.text()
    missing = await client.post(MOUNT + "/act", data={"x": "1"})
    assert missing.status == 403
    done = await client.post(MOUNT + "/act", data={"x": "1", "csrf": sessions.csrf_of(token)})
    assert (done.status, await done.text()) == (200, "done 1")


async def test_an_unknown_page_is_a_readable_not_found(shell: tuple[TestClient, FakeSessions]) -> None:
    client, _sessions = shell
    response = await client.get(MOUNT + "/nowhere")
    assert response.status == 404
    assert 'id="refused"' in await response.text()
    assert response.headers["Cache-Control"] == "no-store"


async def test_static_files_are_served_locally(shell: tuple[TestClient, FakeSessions]) -> None:
    client, _sessions = shell
    css = await client.get(MOUNT + "/static/app.css")
    js = await client.get(MOUNT + "/static/app.js")
    assert css.status == 200
    assert js.status == 200
    assert "Content-Security-Policy" in js.headers


def test_a_due_instant_reads_as_the_chat_writes_it() -> None:
    """Midnight: the day alone ("trước 25/11/2024"); a time of day: the time too (issue 17's "trước 17h00")."""
    from handlers.web.render import _env

    template = _env.from_string("{{ a|due }} | {{ b|due }}")
    t = translator("vi")
    midnight = datetime(2024, 11, 24, 17, 0, tzinfo=UTC)  # 25/11/2024 00:00 in Asia/Ho_Chi_Minh
    five_pm = datetime(2026, 4, 10, 10, 0, tzinfo=UTC)  # 17:00
    assert template.render(a=midnight, b=five_pm, _t=t, _zone=ZONE) == "25/11/2024 | 17:00 ngày 10/04/2026"
