"""A condition the bot handles (flood control, a network fault) is one warning line in the log; a
traceback is kept for what nobody expected. Telegram driven in process with a fake Bot API that answers
429; Zalo against the fake Zalo server."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from telegram.error import BadRequest, RetryAfter, TimedOut

from bot.config import Config, load_config
from bot.dialog.model import Reply
from handlers.serve import Running, close, open_running
from handlers.telegram import TelegramDeps, build_application, on_error
from handlers.telegram_channel import TelegramChannel
from handlers.zalo.adapter import ZaloAdapter
from handlers.zalo.client import ZaloClient
from handlers.zalo.server import Dispatcher, Poller
from scheduler.sender import OutboxSender
from storage import outbox
from storage.outbox import OutboxItem
from tests.fakes import FakeClock
from tests.telegram_fakes import RecordingRequest, text_update
from tests.zalo_fake_server import FAKE_TOKEN, FakeZaloServer
from tests.zalo_fake_server import text_update as zalo_text

FLOOD = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
         "parameters": {"retry_after": 3}}


class FloodedRequest(RecordingRequest):
    """Telegram answering every sendMessage with flood control (429, retry after 3 s)."""

    def _send_message(self, params: dict[str, Any]) -> tuple[int, bytes]:
        return 429, json.dumps(FLOOD).encode()


async def no_sleep(_seconds: float) -> None:
    return None


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info is not None or r.levelno >= logging.ERROR]


@pytest.fixture
async def running(config: Config, clock: FakeClock) -> AsyncIterator[Running]:
    opened = await open_running(config, clock)
    try:
        yield opened
    finally:
        await close(opened)


@pytest.fixture
def tg_config(config_path: Any) -> Config:
    return load_config(config_path, environ={"TELEGRAM_BOT_TOKEN": "123456:TEST-TOKEN-not-real"})


async def test_a_telegram_429_in_a_reminder_wave_is_one_warning_line_without_traceback(
    tg_config: Config, running: Running, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    application = build_application(tg_config, TelegramDeps(running.port, tg_config),
                                    request=FloodedRequest(), updates_request=RecordingRequest())
    await application.initialize()
    try:
        now = clock.now()
        await outbox.add(running.db, [OutboxItem("k:1", "manual", None, None, None, "telegram", "111", now,
                                                 Reply("Nhắc nộp báo cáo").to_json())], now)
        sender = OutboxSender(running.db, {"telegram": TelegramChannel(application.bot)}, clock,
                              per_chat_interval=0, sleep=no_sleep)
        with caplog.at_level(logging.DEBUG):
            stats = await sender.drain()
    finally:
        await application.shutdown()
    assert stats.retried == 1  # handled: the row waits and is sent later
    assert tracebacks(caplog) == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "429" in warnings[0].getMessage()
    assert "\n" not in warnings[0].getMessage()


async def test_a_telegram_429_while_answering_a_person_is_one_warning_line(
    tg_config: Config, running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    application = build_application(tg_config, TelegramDeps(running.port, tg_config),
                                    request=FloodedRequest(), updates_request=RecordingRequest())
    await application.initialize()
    try:
        with caplog.at_level(logging.DEBUG):
            await application.process_update(text_update(1, 7_009_009, "xin chào", bot=application.bot))
    finally:
        await application.shutdown()
    assert tracebacks(caplog) == []
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.name == "handlers.telegram"
    assert "flood control (429), retry after 3 s" in warning.getMessage()


@pytest.mark.parametrize(("make", "expected"), [
    (lambda: RetryAfter(timedelta(seconds=7)), "retry after 7 s"),
    (lambda: TimedOut("Timed out"), "TimedOut"),
])
async def test_on_error_logs_handled_conditions_as_one_line(
    tg_config: Config, running: Running, caplog: pytest.LogCaptureFixture, make: Any, expected: str
) -> None:
    error = make()
    context = SimpleNamespace(error=error, bot_data={"deps": TelegramDeps(running.port, tg_config)})
    with caplog.at_level(logging.DEBUG, logger="handlers.telegram"):
        await on_error(None, context)  # type: ignore[arg-type]
    [record] = caplog.records
    assert (record.levelno, record.exc_info) == (logging.WARNING, None)
    assert expected in record.getMessage()


@pytest.mark.parametrize("error", [RuntimeError("a bug"), BadRequest("Can't parse entities")])
async def test_on_error_keeps_the_traceback_for_the_unexpected(
    tg_config: Config, running: Running, caplog: pytest.LogCaptureFixture, error: Exception
) -> None:
    context = SimpleNamespace(error=error, bot_data={"deps": TelegramDeps(running.port, tg_config)})
    with caplog.at_level(logging.DEBUG, logger="handlers.telegram"):
        await on_error(None, context)  # type: ignore[arg-type]
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.exc_info[1] is error


async def test_zalo_flood_control_while_answering_or_polling_is_one_warning_line(
    config: Config, running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    stop = asyncio.Event()
    stop_after: list[float] = []

    async def sleep(seconds: float) -> None:
        stop_after.append(seconds)
        stop.set()

    async with FakeZaloServer() as fake, \
            ZaloClient(FAKE_TOKEN, base_url=fake.base_url, max_retries=0, sleep=no_sleep) as client:
        adapter = ZaloAdapter(running.port, client)
        fake.fail_next("sendMessage", 429, body={"parameters": {"retry_after": 2}})
        fake.fail_next("getUpdates", 429, body={"parameters": {"retry_after": 2}})
        with caplog.at_level(logging.DEBUG, logger="handlers"):
            await adapter.handle(zalo_text("6ede9afa66b88fe6d6a9", "xin chào"))  # its reply meets a 429
            await Poller(client, Dispatcher(adapter.handle), timeout=1, sleep=sleep).run(stop)
    assert stop_after == [2.0]
    assert tracebacks(caplog) == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert all("429" in w for w in warnings)

