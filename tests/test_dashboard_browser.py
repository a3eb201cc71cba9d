"""The dashboard in a real browser: the bot's own web server on loopback, on a SQLite database filled with the demo
(the sample organisation, its people, submissions and reviews) at a fixed instant, driven by Debian's headless
Chromium. The department head signs in as Telegram's Mini App does (initData signed with the test bot token in
the page's #tgWebAppData), opens a period, drills down to a district and a unit, reminds a unit, returns a report
with a reason, downloads the workbook and signs out; forged initData and a used sign-in link are refused.

Every page is photographed at 360×740 and 1280×800 into $DASHBOARD_SCREENSHOTS or a temporary folder (its path is
printed and shown in pytest's summary), and no page scrolls sideways on a phone.

One browser and one server for the module (the whole module stays well under a minute); the tests run in order
and share the browser's session, as a person would."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from openpyxl import load_workbook

from tests.browser import Browser, LoopThread, chromium, require_browser
from tests.conftest import VN, write_test_config
from tests.dashboard_people import OTHER_BOT_TOKEN, signed_init_data
from tests.telegram_fakes import FAKE_TOKEN

NOW = datetime(2024, 11, 30, 9, 0, tzinfo=VN)  # the 2024 rounds of Đắk Lắk's plans: some closed, one open
DEPARTMENT_TG = 880_001  # the department head's Telegram user id
REASON = "Số lượt người dự tuyên truyền chưa khớp với biên bản, đề nghị kiểm tra lại."


def init_data(user_id: int, token: str = FAKE_TOKEN, auth: datetime = NOW) -> str:
    return signed_init_data(user_id, auth, token)


def mini_app_url(data: str) -> str:
    """The entry page as Telegram opens it: initData in the fragment, never sent to the server by the browser."""
    return "/dashboard/#" + urlencode({"tgWebAppData": data, "tgWebAppVersion": "8.0", "tgWebAppPlatform": "android"},
                                      quote_via=quote)


@dataclass
class Site:
    """The running bot side: its loop (the database is used there), its database and people, the browser."""

    loop: LoopThread
    db: Any
    access: Any
    department: int  # the department head's person id (Telegram user DEPARTMENT_TG)
    browser: Browser
    shots: Path
    pages: dict[str, str]  # page name -> path, as the tests reached them
    overflow: dict[str, list[str]]  # page name -> what stuck out of the document at 360×740 when it was shot
    test: Any = None  # the test running now, whose report lists the screenshots

    def sql(self, query: str, *params: Any) -> list[Any]:
        return self.loop.run(self.db.fetchall(query, params))

    def value(self, query: str, *params: Any) -> Any:
        return self.loop.run(self.db.fetchval(query, params))

    def shoot(self, name: str) -> None:
        """Photograph the page open now at both sizes, and remember where it is for the 360-px check."""
        self.pages[name] = self.browser.path()
        self.overflow[name] = self.browser.shoot(name)["360x740"]
        if self.test is not None:
            self.test.add_report_section("call", "screenshots", f"{name}: {self.shots}/{name}-*.png\n")


async def _start_bot(base: Path) -> tuple[Any, Any, Any, int, str]:
    """The demo database at NOW, the dashboard's wiring and the bot's web server on 127.0.0.1 (a free port)."""
    from bot.app import build_conversation, prepare
    from bot.clock import FixedClock
    from bot.config import load_config
    from bot.demo import fill_demo
    from bot.domain import Channel, Role
    from storage import people as people_store
    from storage import units as unit_store

    write_test_config(base, "browser.sqlite3", more="""
[web]
listen = "127.0.0.1"

[dashboard]
enabled = true
""")
    config = load_config(base / "config.toml", environ={"TELEGRAM_BOT_TOKEN": FAKE_TOKEN})
    prepared = await prepare(config, NOW)
    db = prepared.db
    await fill_demo(db, NOW, config.locales_dir, uploads=config.data_dir / "uploads" / "demo")
    province = next(u for u in await unit_store.all_units(db) if u.code == "DL")
    department = await people_store.ensure_local_member(
        db, channel=Channel.TELEGRAM, external_id=str(DEPARTMENT_TG), display_name="Nguyễn Thị Hoa", unit=province,
        role=Role.DEPARTMENT, locale="vi", now=NOW)
    clock = FixedClock(NOW)
    conversation = build_conversation(config, db, clock)
    server, access = await _serve_dashboard(config, conversation)
    return db, server, access, department, f"http://127.0.0.1:{server.addresses[0][1]}"


async def _serve_dashboard(config: Any, conversation: Any) -> tuple[Any, Any]:
    """The bot's web server with the dashboard mounted as handlers/serve.py mounts it (the conversation's
    DashboardAccess for sign-in and sessions, the pages on the running conversation), on a free loopback port."""
    from handlers import serve
    from handlers.web.server import WebServer

    server = WebServer("127.0.0.1", 0)
    serve._mount_dashboard(server, config, conversation)
    await server.start()
    return server, conversation.dashboard


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Site]:
    require_browser()
    shots = Path(os.environ["DASHBOARD_SCREENSHOTS"]) if os.environ.get("DASHBOARD_SCREENSHOTS") \
        else tmp_path_factory.mktemp("dashboard-screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of the dashboard: {shots}")  # the artefacts' place, for `pytest -s`
    if not request.config.pluginmanager.has_plugin(SUMMARY_PLUGIN):
        request.config.pluginmanager.register(_ShotsSummary(shots), SUMMARY_PLUGIN)
    loop = LoopThread()
    db = server = None
    try:
        db, server, access, department, base_url = loop.run(_start_bot(tmp_path_factory.mktemp("bot")))
        with chromium(base_url, shots) as browser:
            yield Site(loop, db, access, department, browser, shots, {}, {})
    finally:
        if server is not None:
            loop.run(server.stop())
        if db is not None:
            loop.run(db.close())
        loop.close()


@pytest.fixture(autouse=True)
def _screenshots_section(site: Site, request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test's report names the screenshots it writes and their folder (`pytest -rA` shows it)."""
    site.test = request.node
    yield
    site.test = None


SUMMARY_PLUGIN = "dashboard-screenshots"


class _ShotsSummary:
    """Names the screenshots' folder at the end of pytest's report."""

    def __init__(self, shots: Path) -> None:
        self.shots = shots

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        count = len(list(self.shots.glob("*.png")))
        terminalreporter.write_line(f"dashboard screenshots ({count} files): {self.shots}")


# --- the tests, in the order a person goes ----------------------------------------------------------------------

def _link(browser: Browser, css: str, href_part: str) -> Any:
    """The link matching `css` whose address contains `href_part`."""
    links = [a for a in browser.find_all(css) if href_part in str(a.get_attribute("href"))]
    assert links, f"no {css} to {href_part} on {browser.path()}: {browser.text()[:400]!r}"
    return links[0]


def test_forged_init_data_shows_the_refusal_page(site: Site) -> None:
    b = site.browser
    b.open(mini_app_url(init_data(DEPARTMENT_TG, token=OTHER_BOT_TOKEN)))  # signed by another bot
    b.wait_for("#refused")
    site.shoot("refused-forged-initdata")
    # Signed correctly, then someone else's id written in: the signature no longer matches.
    tampered = init_data(DEPARTMENT_TG).replace(quote(str(DEPARTMENT_TG)), quote(str(DEPARTMENT_TG + 1)))
    assert tampered != init_data(DEPARTMENT_TG)
    b.open(mini_app_url(tampered))
    b.wait_for("#refused")
    # A day and more old: stale.
    b.open(mini_app_url(init_data(DEPARTMENT_TG, auth=NOW - timedelta(days=2))))
    b.wait_for("#refused")
    assert "cd_session" not in b.cookies()
    b.open("/dashboard/home")
    b.wait_for("#entry")  # nobody is signed in
    assert b.path().startswith("/dashboard/")
    assert "#periods" not in b.driver.page_source


def test_the_entry_page_outside_telegram_says_how_to_get_a_link(site: Site) -> None:
    b = site.browser
    b.open("/dashboard/")
    b.wait_for("#entry")
    assert "/bangtheodoi" in b.text()
    site.shoot("entry")


def test_telegram_sign_in_opens_the_periods(site: Site) -> None:
    b = site.browser
    b.open(mini_app_url(init_data(DEPARTMENT_TG)))
    b.wait_for("#periods")
    assert b.path() == "/dashboard/home"
    cookie = next(c for c in b.driver.get_cookies() if c["name"] == "cd_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    titles = [a.text for a in b.find_all("#periods a.period")]
    assert any("95 năm" in t or "Công đoàn Việt Nam" in t for t in titles), titles
    site.shoot("home")


def test_a_period_drills_down_to_a_district_and_a_unit_with_its_answers(site: Site) -> None:
    b = site.browser
    b.open("/dashboard/home")
    period = _busiest_period_id(site)  # the demo's round past due and still open: on the home page
    _link(b, "#periods a.period", f"/p/{period}").click()
    b.wait_for("#completeness")
    uppers = b.find_all("#completeness tr.upper")
    assert len(uppers) == 3  # Buôn Ma Thuột, Krông Pắc, Công đoàn Viên chức
    assert any("%" in row.text for row in uppers)  # each row with its rate (and its bar)
    assert len(b.find_all("#completeness meter")) == 3
    site.shoot("period")

    district = site.value("SELECT id FROM units WHERE code = 'DL-BMT'")
    _link(b, "#completeness tr.upper a.drill", f"/upper/{district}").click()
    b.wait_for("#units")
    shown = {int(str(a.get_attribute("href")).rsplit("/", 1)[1]) for a in b.find_all("#units tr.unit a.unit")}
    grassroots = {r[0] for r in site.sql("SELECT id FROM units WHERE parent_id = ?", district)}
    assert grassroots <= shown  # every unit of the district (and the district's own report)
    assert shown <= grassroots | {district}
    site.shoot("district")

    # A unit of that district that reported, revised first: its answers, revisions and review history.
    unit = site.value("SELECT s.unit_id FROM submissions s JOIN units u ON u.id = s.unit_id "
                      "WHERE s.period_id = ? AND u.parent_id = ? ORDER BY s.revision DESC, s.unit_id LIMIT 1",
                      period, district)
    _link(b, "#units tr.unit a.unit", f"/unit/{unit}").click()
    answers = b.wait_for("#answers")
    assert answers.tag_name == "table"
    assert len(b.find_all("#answers tr")) >= 3
    assert b.find_all("#revisions tr")
    assert b.find("#history").is_displayed()
    assert b.find("#photos").is_displayed()
    site.shoot("unit")
    # Photos show in the page (served from the bot, under the CSP).
    with_photo = site.value("SELECT unit_id FROM attachments WHERE period_id = ? ORDER BY unit_id LIMIT 1", period)
    assert with_photo is not None, "the demo keeps photos for some reports"
    b.open(f"/dashboard/p/{period}/unit/{with_photo}")
    image = b.wait_for("#photos img")
    assert b.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 0
    site.shoot("unit-photos")


def test_remind_presses_nhac_and_a_message_is_queued(site: Site) -> None:
    b = site.browser
    period = _busiest_period_id(site)
    district = site.value("SELECT id FROM units WHERE code = 'DL-BMT'")
    b.open(f"/dashboard/p/{period}/upper/{district}")
    form = b.wait_for("#units tr.unit form.remind")
    unit = int(str(form.find_element("css selector", "input[name=unit]").get_attribute("value")))
    before = site.value("SELECT count(*) FROM outbox WHERE unit_id = ? AND period_id = ?", unit, period)
    b.submit(form.find_element("css selector", "button.remind"))
    flash = b.wait_for("#flash")
    assert flash.find_elements("css selector", "p.done"), flash.text
    site.shoot("district-reminded")
    rows = site.sql("SELECT kind, status, person_id FROM outbox WHERE unit_id = ? AND period_id = ? ORDER BY id",
                    unit, period)
    assert len(rows) > before
    assert rows[-1][0] == "manual"
    assert rows[-1][1] == "pending"


def test_the_workbook_downloads_and_opens(site: Site) -> None:
    b = site.browser
    period = _busiest_period_id(site)
    b.open(f"/dashboard/p/{period}")
    b.wait_for("#completeness")
    b.find("a.download[data-fmt=xlsx]").click()
    path = b.downloaded(".xlsx")
    workbook = load_workbook(path, read_only=True)
    try:
        assert workbook.sheetnames
        first = workbook[workbook.sheetnames[0]]
        assert first.max_row > 3
    finally:
        workbook.close()


def test_the_targets_page(site: Site) -> None:
    b = site.browser
    b.open(f"/dashboard/p/{_busiest_period_id(site)}")
    b.wait_for("#completeness")
    _link(b, "a", "/targets").click()
    b.wait_for("#targets")
    site.shoot("targets")


def test_a_report_is_returned_with_a_reason_from_the_review_queue(site: Site) -> None:
    """The district's officer (who reviews its grassroots reports) signs in with a /bangtheodoi link and returns
    the oldest report waiting, with a reason: the decision is recorded and the unit's chair is told."""
    b = site.browser
    officer = site.loop.run(_person(site.db, "demo-DL-BMT-officer"))
    b.open(f"/dashboard/login/{site.loop.run(site.access.new_link(officer))}")
    b.wait_for("#periods")
    b.open("/dashboard/review")
    b.wait_for("#queue .queued")
    site.shoot("review-queue")
    form = b.find("#queue .queued form.review")
    submission = int(str(form.get_attribute("action")).rstrip("/").rsplit("/", 1)[1])
    unit = site.value("SELECT unit_id FROM submissions WHERE id = ?", submission)
    told_before = site.value("SELECT count(*) FROM outbox WHERE kind = 'review' AND unit_id = ?", unit)
    form.find_element("css selector", "input[name=action][value=return]").click()
    form.find_element("css selector", "textarea[name=reason]").send_keys(REASON)
    b.submit(form.find_element("css selector", "button.decide"))
    flash = b.wait_for("#flash")
    assert flash.find_elements("css selector", "p.done"), flash.text
    site.shoot("review-returned")
    event = site.sql("SELECT action, reason, actor_id FROM review_events WHERE submission_id = ? ORDER BY id DESC "
                     "LIMIT 1", submission)[0]
    assert (event[0], event[1], event[2]) == ("returned", REASON, officer)
    told = site.sql("SELECT payload FROM outbox WHERE kind = 'review' AND unit_id = ? ORDER BY id", unit)
    assert len(told) > told_before  # the chair's message is queued
    assert REASON in json.dumps(json.loads(told[-1][0]), ensure_ascii=False)
    assert f"/review/{submission}" not in "".join(
        str(f.get_attribute("action")) for f in b.find_all("#queue form.review"))  # it left the queue


def test_no_page_scrolls_sideways_on_a_phone(site: Site) -> None:
    """At 360×740 no page's document scrolls sideways (wide tables scroll inside their `.scroll` box): checked on
    every page as the tests before photographed it, with what it showed then (flash messages, the department's
    whole province)."""
    wanted = {"entry", "refused-forged-initdata", "home", "period", "district", "unit", "district-reminded",
              "targets", "review-queue", "review-returned"}
    assert wanted <= set(site.overflow), "run the module whole: its tests go through the pages in order"
    problems = {f"{name} {site.pages[name]}": found for name, found in site.overflow.items() if found}
    assert problems == {}


def test_the_pages_load_nothing_from_elsewhere(site: Site) -> None:
    """Every script, style, picture and form the pages used came from the bot's own server (no CDN, no
    telegram.org script)."""
    requested = site.browser.requested()
    assert any(url.endswith("/dashboard/static/app.css") for url in requested)
    elsewhere = [url for url in requested if url.split(":", 1)[0] in ("http", "https", "ws", "wss", "ftp")
                 and not url.startswith(site.browser.base_url + "/")]
    assert elsewhere == []


def test_sign_out_ends_the_session(site: Site) -> None:
    b = site.browser
    b.open("/dashboard/home")
    b.wait_for("#periods")
    b.submit(b.find("form.logout button"))
    b.wait_for("#entry")
    assert "cd_session" not in b.cookies()
    b.open("/dashboard/home")
    b.wait_for("#entry")
    assert not b.find_all("#periods")


def test_a_sign_in_link_works_once(site: Site) -> None:
    b = site.browser
    token = site.loop.run(site.access.new_link(site.department))
    b.open(f"/dashboard/login/{token}")
    b.wait_for("#periods")
    assert b.path() == "/dashboard/home"
    b.submit(b.find("form.logout button"))
    b.wait_for("#entry")
    b.open(f"/dashboard/login/{token}")
    b.wait_for("#refused")
    site.shoot("refused-used-link")
    b.open("/dashboard/home")
    b.wait_for("#entry")


def _busiest_period_id(site: Site) -> int:
    """The period with the most reports in the demo (Đắk Lắk's round 2, due 25/11, open until 25/12)."""
    return int(site.value("SELECT period_id FROM submissions GROUP BY period_id ORDER BY count(*) DESC, period_id "
                          "LIMIT 1"))


async def _person(db: Any, external_id: str) -> int:
    from bot.domain import Channel
    from storage import people as people_store
    person = await people_store.person_by_identity(db, Channel.TELEGRAM, external_id)
    assert person is not None, external_id
    return int(person.id)
