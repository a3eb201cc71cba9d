"""Telegram in webhook mode, in process: the real Application with our handlers, our own webhook server
on a loopback port, real HTTP POSTs to it, and a fake Bot API (tests/telegram_fakes.py) that answers
setWebhook and sendMessage locally and refuses the network."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.config import Config, ConfigError, load_config
from bot.conversation import Conversation
from bot.port import Port
from handlers.serve import serve
from handlers.telegram import TelegramDeps, build_application, start_updates
from handlers.telegram_webhook import SECRET_HEADER, webhook_target
from storage.db import Database
from tests.fakes import FakeClock
from tests.telegram_fakes import FAKE_TOKEN, LoopbackBotAPI, RecordingRequest

SECRET = "tg-Webhook_secret-0123456789"
STRANGER = 7_009_009


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def webhook_config(config_path: Path, port: int, secret: str = SECRET, *, shared_port: bool = False) -> Config:
    return load_config(config_path, environ={
        "TELEGRAM_BOT_TOKEN": FAKE_TOKEN, "TELEGRAM_WEBHOOK_SECRET": secret,
        "BOT__TELEGRAM__MODE": "webhook", "BOT__TELEGRAM__WEBHOOK_URL": "https://bot.example.vn/tg/hook",
        "BOT__TELEGRAM__WEBHOOK_PORT": str(port), "BOT__TELEGRAM__WEBHOOK_SHARED_PORT": str(shared_port).lower(),
    })


def update_body(update_id: int, text: str) -> dict[str, Any]:
    chat = {"id": STRANGER, "type": "private", "first_name": "Lan"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_722_560_400, "chat": chat,
        "from": {"id": STRANGER, "is_bot": False, "first_name": "Lan", "language_code": "vi"}, "text": text}}


@dataclass
class Webhook:
    application: Application
    api: RecordingRequest
    url: str
    seen: list[int]  # update ids that reached the Application's handlers

    async def post(self, body: Any, secret: str | None = SECRET, *, raw: bytes | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        content = raw if raw is not None else json.dumps(body).encode()
        async with httpx.AsyncClient(timeout=5) as http:
            return await http.post(self.url, content=content, headers=headers)

    async def settle(self, *, seen: int = 0, replies: int = 0) -> None:
        """Until the queue is empty and the handlers saw `seen` updates and the bot sent `replies` messages."""
        for _ in range(500):
            if (self.application.update_queue.empty() and len(self.seen) >= seen
                    and len(self.api.sent("sendMessage")) >= replies):
                await asyncio.sleep(0.05)  # whatever else would come, comes now
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"not settled: seen {self.seen}, sent {self.api.sent_texts()}")


@asynccontextmanager
async def running_webhook(config: Config, clock: FakeClock, db: Database) -> AsyncIterator[Webhook]:
    """One bot process's Telegram side in webhook mode (the Application and its web server)."""
    port = config.telegram.webhook_port
    api = RecordingRequest()
    conversation = Conversation(db, clock, config.app.zone, config.locales_dir)
    application = build_application(config, TelegramDeps(Port(conversation, config), config), request=api,
                                    updates_request=RecordingRequest())
    seen: list[int] = []

    async def record(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert isinstance(update, Update)
        seen.append(update.update_id)

    application.add_handler(TypeHandler(Update, record), group=-1)  # sees every update first, changes nothing
    await application.initialize()
    await application.start()
    try:
        stop_updates = await start_updates(application, config)  # as handlers/serve.py does
        try:
            yield Webhook(application, api, f"http://127.0.0.1:{port}/tg/hook", seen)
        finally:
            await stop_updates()
    finally:
        await application.stop()
        await application.shutdown()
    assert api.refused == []


@pytest.fixture
async def webhook(config_path: Path, clock: FakeClock, db: Database) -> AsyncIterator[Webhook]:
    async with running_webhook(webhook_config(config_path, free_port()), clock, db) as hook:
        yield hook


async def test_webhook_mode_starts_and_answers_a_post_with_the_right_secret(webhook: Webhook) -> None:
    [params] = webhook.api.sent("setWebhook")
    assert params["url"] == "https://bot.example.vn/tg/hook"
    assert params["secret_token"] == SECRET
    response = await webhook.post(update_body(1, "xin chào"))
    assert response.status_code == 200
    await webhook.settle(seen=1, replies=1)
    assert webhook.seen == [1]
    [reply] = webhook.api.sent_texts()
    assert "mã mời" in reply  # the conversation answered the stranger


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET[:-1], SECRET + "x", SECRET.upper()])
async def test_a_webhook_post_without_the_right_secret_is_refused_and_never_reaches_the_application(
    webhook: Webhook, secret: str | None
) -> None:
    response = await webhook.post(update_body(2, "xin chào"), secret=secret)
    assert response.status_code == 403
    await webhook.settle()
    assert webhook.seen == []
    assert webhook.api.sent("sendMessage") == []
    # The same update with the right secret afterwards is processed: nothing was half-taken.
    assert (await webhook.post(update_body(2, "xin chào"))).status_code == 200
    await webhook.settle(seen=1, replies=1)
    assert webhook.seen == [2]


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b'{"no_update_id": 1}'])
async def test_a_webhook_body_that_is_not_an_update_is_refused(webhook: Webhook, raw: bytes) -> None:
    response = await webhook.post(None, raw=raw)
    assert response.status_code == 400
    await webhook.settle()
    assert webhook.seen == []


@pytest.mark.parametrize("secret", ["has space", "x" * 257, "dấu", "semi;colon", "a/b", "tab\tin"])
def test_a_telegram_webhook_secret_telegram_would_refuse_stops_start_up_naming_the_variable(
    config_path: Path, secret: str
) -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET") as caught:
        webhook_config(config_path, 8443, secret)
    assert "1 to 256" in str(caught.value)
    assert secret not in str(caught.value)  # a secret is never quoted back


@pytest.mark.parametrize("secret", ["a", "x" * 256, "Az09_-", SECRET])
def test_every_secret_telegram_accepts_is_accepted(config_path: Path, secret: str) -> None:
    cfg = webhook_config(config_path, 8443, secret)
    assert cfg.telegram.webhook_secret is not None
    assert cfg.telegram.webhook_secret.get_secret_value() == secret


async def test_two_bot_processes_with_a_shared_port_listen_on_one_port_and_each_update_is_answered_once(
    config_path: Path, clock: FakeClock, db: Database
) -> None:
    config = webhook_config(config_path, free_port(), shared_port=True)
    async with running_webhook(config, clock, db) as first, running_webhook(config, clock, db) as second:
        for update_id in range(1, 41):  # a new connection each: the kernel spreads them over both listeners
            assert (await first.post(update_body(update_id, "xin chào"))).status_code == 200
        for _ in range(500):
            if len(first.seen) + len(second.seen) >= 40:
                break
            await asyncio.sleep(0.01)
        await first.settle()
        await second.settle()
    assert sorted(first.seen + second.seen) == list(range(1, 41))  # each update reached exactly one process
    # Both answered (all 40 to one listener: odds of 1 in 2^39).
    assert first.seen
    assert second.seen


async def test_without_a_shared_port_a_second_bot_process_on_the_same_port_fails_to_start(
    config_path: Path, clock: FakeClock, db: Database
) -> None:
    config = webhook_config(config_path, free_port())
    async with running_webhook(config, clock, db):
        with pytest.raises(OSError, match="address already in use"):
            async with running_webhook(config, clock, db):
                pass


# --- the whole process: serve() in webhook mode against a Bot API on loopback ------------------------


async def test_the_bot_process_in_webhook_mode_starts_answers_posts_and_stops(
    config_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tornado", None)  # PTB's webhooks extra is not needed: importing it fails
    port = free_port()
    async with LoopbackBotAPI() as api:
        config = load_config(config_path, environ={
            "TELEGRAM_BOT_TOKEN": FAKE_TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, "BOT__TELEGRAM__MODE": "webhook",
            "BOT__TELEGRAM__WEBHOOK_URL": "https://bot.example.vn/telegram", "BOT__TELEGRAM__WEBHOOK_PORT": str(port),
            "BOT__TELEGRAM__BASE_URL": api.base_url, "BOT__REMINDERS__ENABLED": "false"})
        stop = asyncio.Event()
        task = asyncio.create_task(serve(config, clock, stop))
        try:
            for _ in range(1000):
                if "setWebhook" in api.methods() or task.done():
                    break
                await asyncio.sleep(0.01)
            [hook] = [params for method, params in api.calls if method == "setWebhook"]
            assert (hook["url"], hook["secret_token"]) == ("https://bot.example.vn/telegram", SECRET)
            url = f"http://127.0.0.1:{port}/telegram"
            async with httpx.AsyncClient(timeout=5) as http:
                body = json.dumps(update_body(9, "xin chào")).encode()
                refused = await http.post(url, content=body, headers={SECRET_HEADER: "nope"})
                accepted = await http.post(url, content=body, headers={SECRET_HEADER: SECRET})
            assert (refused.status_code, accepted.status_code) == (403, 200)
            for _ in range(500):
                if "sendMessage" in api.methods():
                    break
                await asyncio.sleep(0.01)
            [reply] = [params for method, params in api.calls if method == "sendMessage"]
            assert reply["chat_id"] == str(STRANGER)
            assert "mã mời" in reply["text"]
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=20)  # stops cleanly: the web server and the Application closed
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # the webhook port is free again


def test_webhook_mode_needs_only_what_pip_install_brings() -> None:
    """The webhook server is aiohttp, a declared dependency (python-telegram-bot's tornado extra is not
    needed: the test above runs the process with tornado unimportable)."""
    from tests.conftest import REPO

    declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    names = {re.split(r"[\[<>=!~ ]", d, maxsplit=1)[0].lower() for d in declared}
    assert {"aiohttp", "python-telegram-bot"} <= names


@pytest.mark.parametrize(("url", "target"), [
    ("https://bot.example.vn/tg/hook", ("https://bot.example.vn/tg/hook", "/tg/hook")),
    ("https://bot.example.vn/telegram/", ("https://bot.example.vn/telegram/", "/telegram")),
    ("https://bot.example.vn", ("https://bot.example.vn/telegram", "/telegram")),
    ("https://bot.example.vn:8443/", ("https://bot.example.vn:8443/telegram", "/telegram")),
])
def test_the_url_given_to_telegram_and_the_path_served_always_agree(url: str, target: tuple[str, str]) -> None:
    assert webhook_target(url) == target


def test_the_telegram_and_zalo_web_servers_cannot_share_a_port(config_path: Path) -> None:
    env = {"TELEGRAM_BOT_TOKEN": FAKE_TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, "BOT__TELEGRAM__MODE": "webhook",
           "BOT__TELEGRAM__WEBHOOK_URL": "https://bot.example.vn/telegram", "BOT__TELEGRAM__WEBHOOK_PORT": "8444",
           "BOT__ZALO__ENABLED": "true", "ZALO_BOT_TOKEN": "z-token", "BOT__ZALO__PUBLIC_BASE_URL": "https://b.vn"}
    with pytest.raises(ConfigError, match=r"webhook_port and \[web\] port are both 8444"):  # Zalo's is [web]'s
        load_config(config_path, environ=env)
    load_config(config_path, environ=env | {"BOT__ZALO__PORT": "8445"})  # apart, both run ([zalo]'s old key)
    load_config(config_path, environ=env | {"BOT__WEB__PORT": "8445"})
    with pytest.raises(ConfigError, match=r"webhook_port and \[web\] port are both 8445"):
        load_config(config_path, environ=env | {"BOT__ZALO__PORT": "8444", "BOT__WEB__PORT": "8445",
                                                "BOT__TELEGRAM__WEBHOOK_PORT": "8445"})
