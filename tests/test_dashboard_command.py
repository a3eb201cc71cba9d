"""/bangtheodoi: an officer or the department gets a single-use link and, on Telegram, the "Mở bảng theo dõi"
button that opens the Mini App; a chair gets the /tonghop refusal; a bot without the dashboard says so. On start,
Telegram's menu button opens the dashboard when it is set up."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_conversation
from bot.config import Config, load_config
from bot.dashboard.access import DashboardAccess
from bot.dialog.model import Button, Reply
from bot.domain import Channel, Role
from bot.i18n import translator
from bot.port import Command, Port, Sender
from bot.render_text import render_plain
from handlers.telegram import TelegramDeps, build_application
from handlers.telegram_channel import render
from handlers.terminal import TerminalChannel
from storage import people
from storage import units as unit_store
from storage.db import Database
from tests.dashboard_people import CHAIR_TG, DEPARTMENT_TG, OFFICER_TG, DashboardPeople, seed_people
from tests.fakes import FakeClock
from tests.telegram_fakes import FAKE_TOKEN, RecordingRequest, text_update

PUBLIC = "https://congdoan.example.vn"
LINK = re.compile(r"https://congdoan\.example\.vn/dashboard/login/([A-Za-z0-9_-]{43})")


def dashboard_config(config_path: Path, *, enabled: bool = True, public: str = PUBLIC) -> Config:
    environ = {"TELEGRAM_BOT_TOKEN": FAKE_TOKEN, "BOT__DASHBOARD__ENABLED": "true" if enabled else "false"}
    if public:
        environ["BOT__WEB__PUBLIC_BASE_URL"] = public
    return load_config(config_path, environ=environ)


@dataclass
class Bot:
    api: RecordingRequest
    app: Any
    access: DashboardAccess
    who: DashboardPeople
    updates: list[int]

    async def send(self, user_id: int, text: str) -> list[dict[str, Any]]:
        before = len(self.api.messages)
        self.updates[0] += 1
        await self.app.process_update(text_update(self.updates[0], user_id, text, bot=self.app.bot))
        return [m.params for m in self.api.messages[before:]]


async def telegram_bot(config: Config, db: Database, repo: Path, clock: FakeClock) -> Bot:
    who = await seed_people(db, repo, clock)
    conversation = build_conversation(config, db, clock)
    assert conversation.dashboard is not None
    api = RecordingRequest()
    app = build_application(config, TelegramDeps(Port(conversation, config), config), request=api,
                            updates_request=RecordingRequest())
    await app.initialize()
    return Bot(api, app, conversation.dashboard, who, [0])


@pytest.fixture
async def bot(config_path: Path, db: Database, repo: Path, clock: FakeClock) -> AsyncIterator[Bot]:
    bot = await telegram_bot(dashboard_config(config_path), db, repo, clock)
    yield bot
    await bot.app.shutdown()
    assert bot.api.refused == []
    assert bot.api.rejected == []


def keyboard(params: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in (params.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


async def test_an_officer_on_telegram_gets_a_link_and_the_mini_app_button(bot: Bot) -> None:
    [message] = await bot.send(OFFICER_TG, "/bangtheodoi")
    token = LINK.search(str(message["text"]))
    assert token is not None
    assert "10" in message["text"]
    assert keyboard(message) == [{"text": "Mở bảng theo dõi", "web_app": {"url": PUBLIC + "/dashboard/"}}]
    session = await bot.access.redeem_link(token.group(1))  # the link signs this officer in, once
    info = await bot.access.session(session or "")
    assert info is not None
    assert info.person_id == bot.who.officer
    assert await bot.access.redeem_link(token.group(1)) is None


async def test_the_department_gets_it_in_their_language_and_plain_words_work(bot: Bot) -> None:
    [message] = await bot.send(DEPARTMENT_TG, "bảng theo dõi")
    assert LINK.search(str(message["text"])) is not None
    assert keyboard(message)[0]["text"] == "Open the dashboard"  # the department's setting is English


async def test_a_chair_gets_the_same_refusal_as_the_summary(bot: Bot) -> None:
    [refused] = await bot.send(CHAIR_TG, "/bangtheodoi")
    [summary] = await bot.send(CHAIR_TG, "/tonghop")
    assert refused["text"] == summary["text"]
    assert "/danop" in refused["text"]
    assert keyboard(refused) == []
    assert "login" not in refused["text"]


@pytest.mark.parametrize(("enabled", "public"), [(False, PUBLIC), (True, "")])
async def test_without_the_dashboard_set_up_the_command_says_so(config_path: Path, db: Database, repo: Path,
                                                                clock: FakeClock, enabled: bool, public: str) -> None:
    bot = await telegram_bot(dashboard_config(config_path, enabled=enabled, public=public), db, repo, clock)
    try:
        [message] = await bot.send(OFFICER_TG, "/bangtheodoi")
        assert "chưa được bật" in message["text"]
        assert "public_base_url" in message["text"]
        assert keyboard(message) == []
        assert "login" not in message["text"]
        assert await db.fetchval("SELECT count(*) FROM dashboard_links") == 0
    finally:
        await bot.app.shutdown()


async def test_on_the_terminal_the_link_is_written_in_the_text(config_path: Path, db: Database, repo: Path,
                                                               clock: FakeClock) -> None:
    config = dashboard_config(config_path)
    await seed_people(db, repo, clock)
    unit = await unit_store.by_code(db, "DL-BMT")
    assert unit is not None
    await people.ensure_local_member(db, channel=Channel.TERMINAL, external_id="officer", display_name="Cán bộ",
                                     unit=unit, role=Role.OFFICER, locale="vi", now=clock.now())
    port = Port(build_conversation(config, db, clock), config)
    out: list[str] = []
    response = await port.handle(Sender(Channel.TERMINAL, "officer", "officer", "Cán bộ"), Command("bangtheodoi"))
    await TerminalChannel(out.append, port.translator, "vi").send("officer", response.replies,
                                                                  version=response.version)
    text = "\n".join(out)
    assert LINK.search(text) is not None
    assert "Mở bảng theo dõi" not in text  # no button on a text channel: the link itself is the way in


def test_link_buttons_render_per_channel_and_are_never_numbered(config: Config) -> None:
    t = translator("vi", config.locales_dir)
    reply = Reply("Chọn", choices=(Button("Một", "a"), Button("Mở", "x", url=PUBLIC + "/dashboard/", web_app=True),
                                   Button("Hai", "b")))
    assert reply.actions == ("a", "b")
    assert [b.label for b in reply.numbered] == ["Một", "Hai"]
    plain = render_plain(reply, t)
    assert "  1. Một" in plain
    assert "  2. Hai" in plain
    assert f"Mở: {PUBLIC}/dashboard/" in plain
    assert "3." not in plain
    [(_, markup)] = render(reply, 7)
    assert markup is not None
    buttons = [b for row in markup["inline_keyboard"] for b in row]
    assert buttons[1] == {"text": "Mở", "web_app": {"url": PUBLIC + "/dashboard/"}}
    assert buttons[0]["callback_data"] == "7|a"
    plain_http = Reply("x", choices=(Button("Mở", "x", url="http://127.0.0.1:8444/dashboard/", web_app=True),))
    [(_, markup)] = render(plain_http, 1)
    assert markup == {"inline_keyboard": [[{"text": "Mở", "url": "http://127.0.0.1:8444/dashboard/"}]]}


def test_a_reply_with_a_link_keeps_its_json_form_and_plain_replies_keep_theirs() -> None:
    plain = Reply("x", choices=(Button("A", "a"),))
    assert plain.to_json()["choices"] == [["A", "a"]]  # as outbox rows and saved menus already hold them
    linked = Reply("x", choices=(Button("A", "a"), Button("B", "b", url=PUBLIC, web_app=True)))
    assert Reply.from_json(linked.to_json()) == linked
    assert Reply.from_json(plain.to_json()) == plain


async def test_on_start_the_menu_button_opens_the_dashboard(bot: Bot) -> None:
    await bot.app.post_init(bot.app)
    [call] = bot.api.sent("setChatMenuButton")
    assert call["menu_button"] == {"type": "web_app", "text": "Bảng theo dõi",
                                   "web_app": {"url": PUBLIC + "/dashboard/"}}


@pytest.mark.parametrize(("enabled", "public"), [(False, PUBLIC), (True, "http://127.0.0.1:8444")])
async def test_without_an_https_dashboard_the_menu_button_is_the_default(
        config_path: Path, db: Database, repo: Path, clock: FakeClock, enabled: bool, public: str) -> None:
    bot = await telegram_bot(dashboard_config(config_path, enabled=enabled, public=public), db, repo, clock)
    try:
        await bot.app.post_init(bot.app)
        [call] = bot.api.sent("setChatMenuButton")
        assert call["menu_button"] == {"type": "default"}  # a button left from before would lead nowhere
    finally:
        await bot.app.shutdown()
