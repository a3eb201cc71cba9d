"""The edges between the adapters and the core that nothing else drives: Telegram's send errors as the named
errors the outbox sender handles, the reminder's "Nộp ngay" button pressed in Telegram, the real channels
started by serve() against fake Bot APIs, and the reminder clock's job."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from telegram import Bot
from telegram.error import TimedOut

from bot.app import prepare
from bot.channels import BlockedError, RetryAfterError, SendError, UncertainDeliveryError
from bot.config import Config, load_config
from bot.dialog.model import Button, Reply
from bot.domain import Channel, Role
from bot.reminder_text import OPEN_ACTION
from handlers.serve import TICK_SECONDS, Running, close, make_sender, open_running, schedule_reminders, serve
from handlers.telegram_channel import TelegramChannel
from scheduler.service import ReminderPlanner
from storage import people as people_store
from storage import units as unit_store
from tests.conftest import VN
from tests.fakes import FakeClock
from tests.reminder_fakes import RecordingChannel
from tests.telegram_fakes import FAKE_TOKEN, LoopbackBotAPI, RecordingRequest
from tests.test_telegram import CHAIR, TelegramHarness, register
from tests.zalo_fake_server import FAKE_TOKEN as ZALO_TOKEN
from tests.zalo_fake_server import FakeZaloServer, text_update

DUE = datetime(2024, 8, 2, 8, 1, tzinfo=VN)  # the Đắk Lắk 95-year campaign's first reminder is due
UNIT_CODE = "DL-BMT-001"


# --- Telegram's send errors -----------------------------------------------------------------------


class ScriptedRequest(RecordingRequest):
    """Telegram answering sendMessage and editMessageReplyMarkup with one scripted failure."""

    def __init__(self, status: int | None, body: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.status, self.body = status, body

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any
                         ) -> tuple[int, bytes]:
        if url.endswith(("/sendMessage", "/editMessageReplyMarkup")):
            if self.status is None:
                raise TimedOut("Timed out")
            return self.status, json.dumps({"ok": False, "error_code": self.status, **(self.body or {})}).encode()
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def _bot(request: ScriptedRequest) -> Bot:
    bot = Bot(FAKE_TOKEN, request=request, get_updates_request=RecordingRequest())
    await bot.initialize()
    return bot


@pytest.mark.parametrize(("status", "body", "named"), [
    (429, {"description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}}, RetryAfterError),
    (403, {"description": "Forbidden: bot was blocked by the user"}, BlockedError),
    (403, {"description": "Forbidden: user is deactivated"}, BlockedError),
    (400, {"description": "Bad Request: chat not found"}, BlockedError),
    (502, {"description": "Bad Gateway"}, UncertainDeliveryError),  # it may have been delivered
    (None, None, UncertainDeliveryError),  # the request timed out after it left
    (400, {"description": "Bad Request: can't parse entities"}, SendError),
])
async def test_telegram_send_errors_become_the_named_errors_the_sender_handles(
    status: int | None, body: dict[str, Any] | None, named: type[SendError]
) -> None:
    bot = await _bot(ScriptedRequest(status, body))
    channel = TelegramChannel(bot)
    try:
        with pytest.raises(SendError) as caught:
            await channel.send("111", [Reply("Nhắc nộp báo cáo", choices=(Button("📝 Nộp ngay", "open:1:2"),))])
    finally:
        await bot.shutdown()
    assert type(caught.value) is named
    if named is RetryAfterError:
        assert isinstance(caught.value, RetryAfterError)
        assert caught.value.seconds == 7.0


async def test_taking_buttons_off_a_message_telegram_no_longer_edits_is_not_an_error() -> None:
    bot = await _bot(ScriptedRequest(400, {"description": "Bad Request: message is not modified"}))
    try:
        await TelegramChannel(bot).remove_choices("111", "5")  # nothing raised: there is nothing to take off
        blocked = ScriptedRequest(403, {"description": "Forbidden: bot was blocked by the user"})
        other = await _bot(blocked)
        try:
            with pytest.raises(BlockedError):
                await TelegramChannel(other).remove_choices("111", "5")
        finally:
            await other.shutdown()
    finally:
        await bot.shutdown()


# --- the "Nộp ngay" button of a reminder, pressed in Telegram ----------------------------------------


@pytest.fixture
def tg_config(config_path: Path) -> Config:
    return load_config(config_path, environ={"TELEGRAM_BOT_TOKEN": FAKE_TOKEN})


@pytest.fixture
async def prepared_db(tg_config: Config, clock: FakeClock) -> AsyncIterator[Any]:
    prepared = await prepare(tg_config, clock.now())
    try:
        yield prepared.db
    finally:
        await prepared.db.close()


async def test_the_report_now_button_of_a_telegram_reminder_opens_that_report(
    tg_config: Config, clock: FakeClock, prepared_db: Any
) -> None:
    from bot.invites import issue_invite
    from scheduler.sender import OutboxSender

    db = prepared_db
    unit = await unit_store.by_code(db, UNIT_CODE)
    assert unit is not None
    invite = await issue_invite(db, unit=unit, role=Role.CHAIR, lifetime=timedelta(days=14), created_by="test",
                                now=clock.now(), bot_username="CongDoanBaoCaoBot")
    tg = TelegramHarness(tg_config, clock, db)
    await tg.start()
    try:
        await register(tg, invite)
        clock.set(DUE)
        planner = ReminderPlanner(db, tg_config.reminders, VN, tg_config.locales_dir)
        assert (await planner.plan_once(clock.now())).pending >= 1
        sender = OutboxSender(db, {"telegram": TelegramChannel(tg.app.bot)}, clock, per_chat_interval=0)
        assert (await sender.drain()).sent >= 1
        reminder = tg.api.messages[-1]
        [button] = [b for b in reminder.buttons if b["callback_data"].split("|", 1)[1].startswith(f"{OPEN_ACTION}:")]
        assert "Nộp ngay" in button["text"]
        answer = await tg.press_data(button["callback_data"], reminder.message_id)
        form = await tg.form()
    finally:
        await tg.stop()
    tg.assert_healthy()
    assert form["unit_id"] == unit.id  # the report the reminder was about is open, at its first question
    assert "1/" in answer
    assert "Nút này đã cũ" not in answer


# --- the real channels, started by serve() --------------------------------------------------------


async def _wait_for(condition: Any, task: asyncio.Task[None]) -> None:
    for _ in range(1000):
        if condition() or task.done():
            return
        await asyncio.sleep(0.01)


async def test_serve_starts_telegram_and_zalo_answers_on_both_and_its_clock_sends_a_reminder(
    config_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(DUE)
    async with LoopbackBotAPI() as api, FakeZaloServer() as zalo:
        config = load_config(config_path, environ={
            "TELEGRAM_BOT_TOKEN": FAKE_TOKEN, "BOT__TELEGRAM__BASE_URL": api.base_url,
            "BOT__ZALO__ENABLED": "true", "ZALO_BOT_TOKEN": ZALO_TOKEN, "BOT__ZALO__API_BASE_URL": zalo.base_url})
        running = await open_running(config, clock)  # a chair on Telegram, for the clock's first tick
        try:
            unit = await unit_store.by_code(running.db, UNIT_CODE)
            assert unit is not None
            await people_store.ensure_local_member(running.db, channel=Channel.TELEGRAM, external_id=str(CHAIR),
                                                   display_name="Chủ tịch", unit=unit, role=Role.CHAIR,
                                                   locale="vi", now=clock.now(), chat_id=str(CHAIR))
        finally:
            await close(running)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(config, clock, stop))
        try:
            zalo.queue(text_update("6ede9afa66b88fe6d6a9", "xin chào"))
            with caplog.at_level(logging.INFO, logger="handlers.serve"):  # the tick's summary: it has finished
                await _wait_for(lambda: zalo.texts("6ede9afa66b88fe6d6a9") and "getUpdates" in api.methods()
                                and any("reminders:" in r.getMessage() for r in caplog.records), task)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
    assert "mã mời" in zalo.texts("6ede9afa66b88fe6d6a9")[0]  # Zalo polled, and its answer went out
    assert {"getMe", "setMyCommands", "getUpdates"} <= set(api.methods())  # Telegram started and polls
    [reminder] = [p for m, p in api.calls if m == "sendMessage"]  # the clock's first tick, through Telegram
    assert reminder["chat_id"] == str(CHAIR)
    [[button]] = json.loads(reminder["reply_markup"])["inline_keyboard"]
    assert "Nộp ngay" in button["text"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


# --- the reminder clock ---------------------------------------------------------------------------


async def test_the_clock_job_is_registered_once_a_minute_one_run_at_a_time_and_sends_when_run(
    config: Config
) -> None:
    clock = FakeClock(DUE)
    running: Running = await open_running(config, clock)
    try:
        unit = await unit_store.by_code(running.db, UNIT_CODE)
        assert unit is not None
        await people_store.ensure_local_member(running.db, channel=Channel.TELEGRAM, external_id="c1",
                                               display_name="Chủ tịch", unit=unit, role=Role.CHAIR, locale="vi",
                                               now=clock.now(), chat_id="111")
        scheduler = AsyncIOScheduler(timezone=config.app.zone)
        sender = make_sender(config, running)
        assert schedule_reminders(scheduler, config, running, sender) is None  # no channel open: no clock
        channel = RecordingChannel(clock)
        running.channels["telegram"] = channel
        off = config.model_copy(update={"reminders": config.reminders.model_copy(update={"enabled": False})})
        assert schedule_reminders(scheduler, off, running, sender) is None  # reminders off: no clock
        job = schedule_reminders(scheduler, config, running, make_sender(config, running))
        assert job is not None
        assert [j.id for j in scheduler.get_jobs()] == ["reminders"]
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval == timedelta(seconds=TICK_SECONDS) == timedelta(minutes=1)
        assert (job.max_instances, job.coalesce) == (1, True)
        await job.func()  # what the scheduler runs each minute
        assert [d.chat_id for d in channel.sent] == ["111"]
        await job.func()  # the next minute: nothing twice
        assert len(channel.sent) == 1
    finally:
        await close(running)
