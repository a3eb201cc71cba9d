"""The bot's one web server as `python -m bot run` starts it: Zalo's webhook and the dashboard on one port, [web]
taking [zalo]'s old keys when it does not set them, and a port that is taken named at start."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from bot.config import ConfigError, load_config
from handlers.serve import CANNOT_LISTEN, ChannelStartError, close, open_running, start_channels
from tests.fakes import FakeClock
from tests.zalo_fake_server import FAKE_TOKEN as ZALO_TOKEN
from tests.zalo_fake_server import FakeZaloServer

SECRET = "webhook-secret-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_zalo_and_the_dashboard_share_the_one_web_server(config_path: Path, clock: FakeClock) -> None:
    port = free_port()
    async with FakeZaloServer() as fake:
        cfg = load_config(config_path, environ={
            "BOT__ZALO__ENABLED": "true", "ZALO_BOT_TOKEN": ZALO_TOKEN, "BOT__ZALO__API_BASE_URL": fake.base_url,
            "BOT__ZALO__MODE": "webhook", "BOT__ZALO__WEBHOOK_URL": "https://bot.example.vn/zalo/webhook",
            "ZALO_WEBHOOK_SECRET": SECRET, "BOT__WEB__PORT": str(port),
            "BOT__WEB__PUBLIC_BASE_URL": "https://bot.example.vn", "BOT__DASHBOARD__ENABLED": "true"})
        running = await open_running(cfg, clock)
        try:
            await start_channels(cfg, running)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                entry = await http.get("/dashboard/")
                assert entry.status_code == 200
                assert "/bangtheodoi" in entry.text
                assert "default-src 'self'" in entry.headers["Content-Security-Policy"]
                assert (await http.get("/dashboard/login/" + "A" * 43)).status_code == 403
                hook = await http.post("/zalo/webhook", json={}, headers={"X-Bot-Api-Secret-Token": "wrong"})
                assert hook.status_code == 403  # Zalo's route, on the same port
            assert fake.webhook is not None
            assert fake.webhook["url"] == "https://bot.example.vn/zalo/webhook"
        finally:
            await close(running)
    with pytest.raises(httpx.ConnectError):  # stopped with the bot
        httpx.get(f"http://127.0.0.1:{port}/dashboard/")


async def test_the_dashboard_alone_starts_the_web_server(config_path: Path, clock: FakeClock) -> None:
    port = free_port()
    cfg = load_config(config_path, environ={"BOT__WEB__PORT": str(port), "BOT__DASHBOARD__ENABLED": "true"})
    running = await open_running(cfg, clock)
    try:
        await start_channels(cfg, running)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/dashboard/static/app.css")).status_code == 200
            signed = await http.post("/dashboard/auth/telegram", content=b"user=1&hash=x&auth_date=1")
            assert signed.status_code == 403
            assert signed.json()["ok"] is False
    finally:
        await close(running)


async def test_a_taken_web_port_is_named_at_start(config_path: Path, clock: FakeClock) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = load_config(config_path, environ={"BOT__WEB__PORT": str(port), "BOT__DASHBOARD__ENABLED": "true"})
        running = await open_running(cfg, clock)
        try:
            with pytest.raises(ChannelStartError) as caught:
                await start_channels(cfg, running)
        finally:
            await close(running)
    assert caught.value.problem == CANNOT_LISTEN
    assert caught.value.address == f"127.0.0.1:{port}"


def test_web_takes_the_old_zalo_keys_when_it_does_not_set_them(config_path: Path) -> None:
    old = load_config(config_path, environ={"BOT__ZALO__PORT": "9001", "BOT__ZALO__LISTEN": "0.0.0.0",
                                            "BOT__ZALO__PUBLIC_BASE_URL": "https://old.example.vn"})
    server = old.web_server
    assert (server.listen, server.port, server.public_base_url, server.https) == (
        "0.0.0.0", 9001, "https://old.example.vn", True)
    new = load_config(config_path, environ={"BOT__ZALO__PORT": "9001", "BOT__WEB__PORT": "9100",
                                            "BOT__WEB__PUBLIC_BASE_URL": "http://10.0.0.5:9100/"})
    assert (new.web_server.port, new.web_server.public_base_url, new.web_server.https) == (
        9100, "http://10.0.0.5:9100", False)
    assert new.dashboard_url == ""  # the dashboard is off by default
    on = load_config(config_path, environ={"BOT__WEB__PUBLIC_BASE_URL": "https://b.vn/cd", "BOT__DASHBOARD__ENABLED":
                                           "true"})
    assert on.dashboard_url == "https://b.vn/cd/dashboard/"
    defaults = load_config(config_path, environ={})
    assert (defaults.web_server.listen, defaults.web_server.port) == ("127.0.0.1", 8444)
    assert (defaults.dashboard.session_hours, defaults.dashboard.auth_max_age_hours,
            defaults.dashboard.link_minutes) == (8, 24, 10)


def test_a_bad_public_address_or_a_shared_port_with_telegram_is_refused(config_path: Path) -> None:
    with pytest.raises(ConfigError, match="public_base_url"):
        load_config(config_path, environ={"BOT__WEB__PUBLIC_BASE_URL": "ftp://x"})
    with pytest.raises(ConfigError, match="webhook_port"):
        load_config(config_path, environ={
            "TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_SECRET": "s", "BOT__TELEGRAM__MODE": "webhook",
            "BOT__TELEGRAM__WEBHOOK_URL": "https://b.vn/telegram", "BOT__TELEGRAM__WEBHOOK_PORT": "9200",
            "BOT__WEB__PORT": "9200", "BOT__DASHBOARD__ENABLED": "true"})
