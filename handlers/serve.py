"""Run the bot: every configured channel in one process, one database, one conversation, and the
clock that plans and sends reminders every minute.

python-telegram-bot's run_polling/run_webhook would own the event loop, so the Application is started
and stopped by hand next to the Zalo service. The reminder clock is APScheduler 3 in the same loop,
ticking every minute in the configured zone; nothing important lives in it (the outbox in the
database remembers what was planned and sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import build_conversation, prepare
from bot.channels import OutboundChannel
from bot.clock import Clock
from bot.config import Config
from bot.conversation import Conversation
from scheduler.sender import OutboxSender, SendStats
from scheduler.service import PlanResult, ReminderPlanner
from storage.db import Database

log = logging.getLogger(__name__)
TICK_SECONDS = 60
SEND_SECONDS_PER_TICK = 50


@dataclass
class Running:
    db: Database
    conversation: Conversation
    planner: ReminderPlanner
    channels: dict[str, OutboundChannel] = field(default_factory=dict)
    closers: list[Any] = field(default_factory=list)  # async callables, run in reverse on stop


def make_sender(config: Config, running: Running) -> OutboxSender:
    r = config.reminders
    return OutboxSender(running.db, running.channels, running.conversation.clock,
                        per_second={"telegram": r.messages_per_second, "zalo": config.zalo.messages_per_second},
                        per_chat_interval=r.per_chat_interval_s, max_attempts=r.max_attempts)


async def open_running(config: Config, clock: Clock) -> Running:
    prepared = await prepare(config, clock.now())
    conversation = build_conversation(config, prepared.db, clock)
    assert conversation.reminders is not None
    running = Running(prepared.db, conversation, conversation.reminders)
    running.closers.append(prepared.db.close)
    return running


async def start_channels(config: Config, running: Running, *, updates: bool = True) -> None:
    """Start Telegram (when a token is set) and Zalo (when enabled); `updates=False` only opens the
    outbound side, for sending once from the command line."""
    if config.telegram.token is not None:
        from handlers.telegram import TelegramDeps, TelegramOutbound, build_application, start_updates

        application = build_application(config, TelegramDeps(running.conversation, config))
        await application.initialize()
        running.closers.append(application.shutdown)
        if updates:
            await application.post_init(application)  # the command menu
            await application.start()
            running.closers.append(application.stop)
            running.closers.append(await start_updates(application, config))
        running.channels["telegram"] = TelegramOutbound(application.bot)
    if config.zalo.enabled:
        from handlers.zalo.server import ZaloService, ZaloSettings

        service = ZaloService(ZaloSettings.from_config(config.zalo), running.conversation, config)
        if updates:
            await service.start()
        running.closers.append(service.stop)
        running.channels["zalo"] = service.outbound()


async def close(running: Running) -> None:
    """Run the closers, last opened first; one that fails is logged and the others still run."""
    for closer in reversed(running.closers):
        try:
            await closer()
        except Exception:
            log.exception("shutting down: %s failed", getattr(closer, "__qualname__", closer))


async def tick(running: Running, sender: OutboxSender, *, max_seconds: float | None) -> tuple[PlanResult, SendStats]:
    result = await running.planner.plan_once(running.conversation.clock.now())
    stats = await sender.drain(max_seconds=max_seconds)
    if result.pending or stats.sent or stats.failed or stats.blocked:
        log.info("reminders: %d planned, %d sent, %d failed, %d blocked, %d to retry", result.pending, stats.sent,
                 stats.failed, stats.blocked, stats.retried)
    return result, stats


async def serve(config: Config, clock: Clock, stop: asyncio.Event | None = None) -> None:
    """Until SIGINT/SIGTERM (or `stop`): the channels answer people; every minute the clock plans and sends."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    running = await open_running(config, clock)
    try:
        await start_channels(config, running)
        sender = make_sender(config, running)
        await sender.recover()
        log.info("running: %s", ", ".join(running.channels) or "no channel")
        scheduler = AsyncIOScheduler(timezone=config.app.zone)
        if config.reminders.enabled and running.channels:

            async def reminder_job() -> None:
                try:
                    await tick(running, sender, max_seconds=SEND_SECONDS_PER_TICK)
                except Exception:
                    log.exception("reminder tick failed")  # the clock keeps ticking; the outbox keeps the state

            # One run at a time, missed runs folded into one: a long wave never stacks ticks.
            scheduler.add_job(reminder_job, IntervalTrigger(seconds=TICK_SECONDS, timezone=config.app.zone),
                              id="reminders", max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
        scheduler.start()
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)
    finally:
        await close(running)


async def send_reminders_once(config: Config, clock: Clock) -> tuple[PlanResult, SendStats]:
    """The command line's "reminders run-once": plan and send once through the configured channels."""
    running = await open_running(config, clock)
    try:
        await start_channels(config, running, updates=False)
        sender = make_sender(config, running)
        await sender.recover()
        return await tick(running, sender, max_seconds=None)
    finally:
        await close(running)
