"""The Zalo Bot API as production meets it: a configurable address, a token refused while polling, and
flood control that states its wait in the body. Against the fake Zalo server on loopback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import ZALO_API_BASE, ConfigError, load_config
from bot.conversation import Conversation
from bot.port import Port
from handlers.zalo.client import ZaloClient, ZaloQuotaExceededError
from handlers.zalo.server import Dispatcher, Poller, ZaloService, ZaloSettings
from storage.db import Database
from tests.conftest import VN
from tests.fakes import FakeClock
from tests.zalo_fake_server import FAKE_TOKEN, FakeZaloServer, text_update

STRANGER = "6ede9afa66b88fe6d6a9"


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer() as server:
        yield server


# --- [zalo] api_base_url ----------------------------------------------------------------------------


def test_the_zalo_api_address_defaults_to_the_public_server(config_path: Path, repo: Path) -> None:
    assert load_config(config_path, environ={}).zalo.api_base_url == ZALO_API_BASE == \
        "https://bot-api.zaloplatforms.com"
    assert load_config(repo / "config.toml", environ={}).zalo.api_base_url == ZALO_API_BASE


@pytest.mark.parametrize("key", ["BOT__ZALO__API_BASE_URL", "BOT__TELEGRAM__BASE_URL"])
@pytest.mark.parametrize("bad", ["bot-api.zaloplatforms.com", "ftp://mirror.example.vn", "http://", "https://a b.vn",
                                 "http://mirror.example.vn:99999", "https://user:pw@mirror.example.vn",
                                 "https://mirror.example.vn/?token=1", "https://mirror.example.vn/#x"])
def test_a_bot_api_address_that_is_not_one_is_refused_at_start_up_naming_the_key(
    config_path: Path, key: str, bad: str
) -> None:
    with pytest.raises(ConfigError, match=rf"{key}: .*http\(s\)://host\[:port\]\[/path\]"):
        load_config(config_path, environ={key: bad})


@pytest.mark.parametrize(("given", "kept"), [("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
                                             ("https://zalo-proxy.example.vn/api/", "https://zalo-proxy.example.vn/api"),
                                             ("http://[::1]:9000", "http://[::1]:9000")])
def test_a_bot_api_address_is_kept_without_its_trailing_slash(config_path: Path, given: str, kept: str) -> None:
    cfg = load_config(config_path, environ={"BOT__ZALO__API_BASE_URL": given, "BOT__TELEGRAM__BASE_URL": given})
    assert cfg.zalo.api_base_url == kept
    assert cfg.telegram.base_url == kept


async def test_the_zalo_channel_talks_to_the_configured_api_address(
    config_path: Path, clock: FakeClock, db: Database, fake: FakeZaloServer
) -> None:
    cfg = load_config(config_path, environ={"BOT__ZALO__ENABLED": "true", "ZALO_BOT_TOKEN": FAKE_TOKEN,
                                            "BOT__ZALO__API_BASE_URL": fake.base_url + "/"})
    settings = ZaloSettings.from_config(cfg.zalo, poll_timeout=1)
    assert settings.api_base == fake.base_url
    service = ZaloService(settings, Port(Conversation(db, clock, VN, cfg.locales_dir), cfg), cfg)
    await service.start()
    try:
        fake.queue(text_update(STRANGER, "xin chào"))
        for _ in range(300):
            if fake.texts(STRANGER):
                break
            await asyncio.sleep(0.01)
    finally:
        await service.stop()
    assert "mã mời" in fake.texts(STRANGER)[0]
    assert fake.methods()[0] == "deleteWebhook"


# --- a token refused while polling --------------------------------------------------------------------


async def test_a_token_refused_while_polling_is_an_alert_and_polling_goes_on_until_it_works_again(
    fake: FakeZaloServer, caplog: pytest.LogCaptureFixture
) -> None:
    handled: list[Any] = []
    stop = asyncio.Event()
    sleeps: list[float] = []

    async def handle(body: Any) -> None:
        handled.append(body)
        stop.set()

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:  # the token is restored on Zalo's side; a message is waiting
            fake.token = FAKE_TOKEN
            fake.queue(text_update(STRANGER, "xin chào"))
        await asyncio.sleep(0)

    fake.token = "revoked"  # every call with our token now gets 401
    async with ZaloClient(FAKE_TOKEN, base_url=fake.base_url, sleep=sleep) as client:
        poller = Poller(client, Dispatcher(handle), timeout=1, sleep=sleep, refused_pause=30, max_refused_pause=100)
        with caplog.at_level(logging.INFO, logger="handlers.zalo"):
            await asyncio.wait_for(poller.run(stop), timeout=10)
            await poller.dispatcher.join()
    assert len(handled) == 1  # the process was not left deaf: the message after the fix was read
    assert sleeps == [30, 60, 100]  # the pause grows to its ceiling
    alerts = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(alerts) == 3
    assert all("401" in r.getMessage() and "ZALO_BOT_TOKEN" in r.getMessage() for r in alerts)
    assert all(r.exc_info is None for r in caplog.records)  # one line each, no traceback
    assert any("accepts the bot token again" in r.getMessage() for r in caplog.records)
    assert poller.token_refused is False


# --- flood control: retry_after in the body -------------------------------------------------------------


@pytest.mark.parametrize("body", [{"parameters": {"retry_after": 2}}, {"retry_after": 2}, {"retry_after": "2"}])
async def test_a_429_waits_as_long_as_its_body_says(fake: FakeZaloServer, body: dict[str, Any]) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with ZaloClient(FAKE_TOKEN, base_url=fake.base_url, backoff=0.5, sleep=sleep) as client:
        fake.fail_next("sendMessage", 429, body=body)
        await client.send_message(STRANGER, "Xin chào")
    assert sleeps == [2.0]  # Zalo's wait, not the 0.5 s backoff
    assert [c.status for c in fake.calls] == [429, 200]


async def test_a_429_asking_for_a_long_wait_is_handed_to_the_caller_at_once(fake: FakeZaloServer) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with ZaloClient(FAKE_TOKEN, base_url=fake.base_url, max_backoff=30, sleep=sleep) as client:
        fake.fail_next("sendMessage", 429, body={"parameters": {"retry_after": 120}})
        with pytest.raises(ZaloQuotaExceededError) as quota:
            await client.send_message(STRANGER, "Xin chào")
    assert quota.value.seconds == 120  # the outbox sender waits this long; the call itself did not
    assert sleeps == []
    assert len(fake.sent("sendMessage")) == 1


@pytest.mark.parametrize("body", [{"retry_after": "soon"}, {"retry_after": -5}, {"parameters": "x"},
                                  {"retry_after": float("nan")}])
async def test_a_429_with_a_meaningless_wait_falls_back_to_backoff(fake: FakeZaloServer, body: dict[str, Any]) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with ZaloClient(FAKE_TOKEN, base_url=fake.base_url, backoff=0.5, sleep=sleep) as client:
        fake.fail_next("sendMessage", 429, body=body)
        await client.send_message(STRANGER, "Xin chào")
    assert sleeps == [0.5]
