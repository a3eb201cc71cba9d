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
from typing import TYPE_CHECKING, Any

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import build_core, prepare
from bot.channels import OutboundChannel
from bot.clock import Clock
from bot.config import TOKEN_ENV, ZALO_TOKEN_ENV, Config
from bot.conversation import Conversation
from bot.errors import N_, TranslatableError
from bot.pacing import SendPacer
from bot.port import Port
from scheduler import health
from scheduler.progress import ProgressListener
from scheduler.role import SenderRole, new_owner_id
from scheduler.sender import OutboxSender, SendStats
from scheduler.service import PlanResult, ReminderPlanner

if TYPE_CHECKING:
    from handlers.web.server import WebServer
    from handlers.zalo.server import ZaloService

log = logging.getLogger(__name__)
TICK_SECONDS = 60
SEND_SECONDS_PER_TICK = 50


class ChannelStartError(TranslatableError):
    """A channel could not start: its Bot API could not be reached, refused the token, or the webhook
    server could not listen. explain(t) says, in the user's language, which channel, which address and what to
    check; never a token."""

    def __init__(self, channel: str, problem: str, address: str, reason: str = "") -> None:
        if problem == TOKEN_REFUSED:
            super().__init__(N_("The {channel} Bot API at {address} refused the bot token: check {variable}. "
                                "Nothing was started."), channel=channel, address=address,
                             variable=TOKEN_ENV if channel == "Telegram" else ZALO_TOKEN_ENV)
        elif problem == CANNOT_LISTEN:
            super().__init__(N_("Cannot listen for {channel} on {address} ({reason}): is the port taken, or is the "
                                "address not this machine's? Nothing was started."), channel=channel,
                             address=address, reason=reason)
        else:
            super().__init__(N_("Cannot reach the {channel} Bot API at {address} ({reason}). Check the network "
                                "connection and the address in the configuration, then start again. Nothing was "
                                "started."), channel=channel, address=address, reason=reason)
        self.channel, self.problem, self.address, self.reason = channel, problem, address, reason


UNREACHABLE, TOKEN_REFUSED, CANNOT_LISTEN = "unreachable", "token refused", "cannot listen"
TELEGRAM_PUBLIC_API = "https://api.telegram.org"


def _reason(exc: BaseException, *secrets: str) -> str:
    """A short, token-free account of a failure: the error's class and first line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<token>")
    name = type(exc).__name__
    return f"{name}: {text}"[:200] if text else name


@dataclass
class Running:
    db: Any  # the open storage.db.Database: the wiring hands it to the outbox sender, no adapter sees it
    conversation: Conversation
    planner: ReminderPlanner
    port: Port  # what the adapters talk to
    pacer: SendPacer  # each channel's send budget: the wave and the dialog replies share it
    channels: dict[str, OutboundChannel] = field(default_factory=dict)
    closers: list[Any] = field(default_factory=list)  # async callables, run in reverse on stop
    # The one-sender role of this deployment (scheduler/role.py); None: this process is alone on its database.
    role: SenderRole | None = None
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)  # one drain at a time: the tick's or a take-over's
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))  # shown by `python -m bot health`


def make_pacer(config: Config) -> SendPacer:
    r = config.reminders
    return SendPacer({"telegram": r.messages_per_second, "zalo": config.zalo.messages_per_second},
                     per_chat_interval=r.per_chat_interval_s)


def make_sender(config: Config, running: Running) -> OutboxSender:
    r = config.reminders
    role = running.role
    return OutboxSender(running.db, running.channels, running.conversation.clock,
                        per_second={"telegram": r.messages_per_second, "zalo": config.zalo.messages_per_second},
                        per_chat_interval=r.per_chat_interval_s, max_attempts=r.max_attempts, pacer=running.pacer,
                        owner=role.owner if role else None, may_send=role.held if role else None)


def with_sender_role(running: Running) -> SenderRole:
    """This process competes for the one sender role (before make_sender, which then asks it before each start)."""
    running.role = SenderRole(running.db, running.conversation.clock, new_owner_id())
    return running.role


async def open_running(config: Config, clock: Clock) -> Running:
    prepared = await prepare(config, clock.now())
    conversation, planner = build_core(config, prepared.db, clock)
    pacer = make_pacer(config)
    running = Running(prepared.db, conversation, planner, Port(conversation, config, pacer), pacer=pacer,
                      started_at=clock.now())
    running.closers.append(prepared.db.close)
    return running


async def start_channels(config: Config, running: Running, *, updates: bool = True) -> None:
    """Start Telegram (when a token is set), the web server ([web]: Zalo's webhook and file links, the dashboard)
    and Zalo (when enabled); `updates=False` only opens the outbound side, for sending once from the command line.
    A channel that cannot start raises ChannelStartError (the command line explains it); what was opened is closed
    by `close`."""
    if config.telegram.token is not None:
        await _start_telegram(config, running, updates=updates)
    server = None
    if updates and config.serves_web:
        from handlers.web.server import WebServer

        server = WebServer.from_settings(config.web_server)
        running.closers.append(server.stop)  # after Zalo's stop (closers run last first)
    zalo = _zalo_service(config, running, server) if config.zalo.enabled else None
    if server is not None:
        if config.dashboard.enabled:
            _mount_dashboard(server, config, running.conversation)
        try:
            await server.start()
        except OSError as exc:
            raise ChannelStartError("Web", CANNOT_LISTEN, server.address, _reason(exc)) from None
    if zalo is not None:
        await _start_zalo(zalo, running, updates=updates)


async def _start_telegram(config: Config, running: Running, *, updates: bool) -> None:
    from telegram.error import InvalidToken, TelegramError

    from handlers.telegram import TelegramDeps, build_application, start_updates
    from handlers.telegram_channel import TelegramChannel

    cfg = config.telegram
    assert cfg.token is not None
    token = cfg.token.get_secret_value()
    address = cfg.base_url or TELEGRAM_PUBLIC_API
    application = build_application(config, TelegramDeps(running.port, config))
    try:
        await application.initialize()  # getMe: the first call to the Bot API
    except TelegramError as exc:
        await application.bot.shutdown()  # the HTTP clients opened before getMe failed
        if isinstance(exc, InvalidToken):  # its text quotes the token: not repeated
            raise ChannelStartError("Telegram", TOKEN_REFUSED, address) from None
        raise ChannelStartError("Telegram", UNREACHABLE, address, _reason(exc, token)) from None
    running.closers.append(application.shutdown)
    if updates:
        await application.start()
        running.closers.append(application.stop)
        try:
            if application.post_init is not None:
                await application.post_init(application)  # the command menu
            running.closers.append(await start_updates(application, config))
        except OSError as exc:  # the webhook server's port is taken or the address is not this machine's
            listen = f"{cfg.webhook_listen}:{cfg.webhook_port}"
            raise ChannelStartError("Telegram", CANNOT_LISTEN, listen, _reason(exc, token)) from None
        except TelegramError as exc:
            raise ChannelStartError("Telegram", UNREACHABLE, address, _reason(exc, token)) from None
    running.channels["telegram"] = TelegramChannel(application.bot)


def _mount_dashboard(server: WebServer, config: Config, conversation: Conversation) -> None:
    """The dashboard at /dashboard: sign-in and sessions (the conversation's DashboardAccess), and the pages."""
    from handlers.web.dashboard import mount_dashboard
    from handlers.web.site import dashboard_app

    assert conversation.dashboard is not None  # bot/app.py build_core sets it
    mount_dashboard(server.app, dashboard_app(config, conversation.dashboard, conversation.translator,
                                              page_routes(config, conversation)))


def page_routes(config: Config, conversation: Conversation) -> list[Any]:
    """The dashboard's pages: bot.dashboard.views.DashboardViews on the running conversation, handlers.web.pages
    (imported here, when the dashboard is on: `python -m bot --help` stays light)."""
    from bot.dashboard.views import DashboardViews
    from handlers.web.pages import pages

    return [pages(DashboardViews(conversation, config))]


def _zalo_service(config: Config, running: Running, server: WebServer | None) -> ZaloService:
    """The Zalo channel, its routes on the bot's web server (when one runs) at [web]'s address."""
    from handlers.zalo.server import ZaloService, ZaloSettings

    web = config.web_server
    settings = ZaloSettings.from_config(config.zalo, listen=web.listen, port=web.port, shared_port=web.shared_port,
                                        public_base_url=web.public_base_url)
    service = ZaloService(settings, running.port, config, web=server)
    running.closers.append(service.stop)  # safe before start: it closes what was opened
    return service


async def _start_zalo(service: ZaloService, running: Running, *, updates: bool) -> None:
    from handlers.zalo.client import ZaloError, ZaloUnauthorizedError

    settings = service.settings
    if updates:
        try:
            await service.start()
        except ZaloUnauthorizedError:
            raise ChannelStartError("Zalo", TOKEN_REFUSED, settings.api_base) from None
        except ZaloError as exc:
            raise ChannelStartError("Zalo", UNREACHABLE, settings.api_base, _reason(exc, settings.token)) from None
        except OSError as exc:
            raise ChannelStartError("Zalo", CANNOT_LISTEN, f"{settings.listen}:{settings.port}",
                                    _reason(exc, settings.token)) from None
    running.channels["zalo"] = service.channel


async def close(running: Running) -> None:
    """Run the closers, last opened first; one that fails is logged and the others still run."""
    for closer in reversed(running.closers):
        try:
            await closer()
        except Exception:
            log.exception("shutting down: %s failed", getattr(closer, "__qualname__", closer))


async def tick(running: Running, sender: OutboxSender, *, max_seconds: float | None) -> tuple[PlanResult, SendStats]:
    """Plan (every process: the slot keys make it idempotent), then send if this process holds the sender role."""
    result = await running.planner.plan_once(running.conversation.clock.now())
    stats = await send_pending(running, sender, max_seconds=max_seconds)
    if result.pending or stats.sent or stats.failed or stats.blocked or stats.uncertain:
        log.info("reminders: %d planned, %d sent, %d failed, %d blocked, %d uncertain, %d to retry", result.pending,
                 stats.sent, stats.failed, stats.blocked, stats.uncertain, stats.retried)
    return result, stats


async def send_pending(running: Running, sender: OutboxSender, *, max_seconds: float | None) -> SendStats:
    """Drain the outbox if this process may send: messages of a crashed claimer (lease run out) are put back
    first. Another process holding the sender role: nothing is sent here."""
    async with running.sending:
        if not sender.may_send():
            return SendStats()
        await sender.recover()
        return await sender.drain(max_seconds=max_seconds)


async def beat(running: Running) -> None:
    """This process is alive: its row in `python -m bot health` (scheduler/health.py)."""
    if running.role is not None:
        await health.record_tick(running.db, running.role.owner, running.started_at,
                                 running.conversation.clock.now())


def schedule_heartbeat(scheduler: AsyncIOScheduler, config: Config, running: Running) -> None:
    """Without the reminder clock (reminders off, or no channel to send on), the process still says it is alive."""

    async def heartbeat_job() -> None:
        try:
            await beat(running)
        except Exception:
            log.exception("recording this process's heartbeat failed")

    scheduler.add_job(heartbeat_job, IntervalTrigger(seconds=TICK_SECONDS, timezone=config.app.zone),
                      id="heartbeat", max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))


def schedule_reminders(scheduler: AsyncIOScheduler, config: Config, running: Running,
                       sender: OutboxSender) -> Job | None:
    """The clock: a plain APScheduler job that plans and sends every TICK_SECONDS in the configured zone,
    the first at once. None when reminders are off or no channel is open."""
    if not (config.reminders.enabled and running.channels):
        return None

    async def reminder_job() -> None:
        try:
            await tick(running, sender, max_seconds=SEND_SECONDS_PER_TICK)
            await beat(running)  # only a tick that went through counts: a failing clock shows as stale
        except Exception:
            log.exception("reminder tick failed")  # the clock keeps ticking; the outbox keeps the state

    # One run at a time, missed runs folded into one: a long wave never stacks ticks.
    return scheduler.add_job(reminder_job, IntervalTrigger(seconds=TICK_SECONDS, timezone=config.app.zone),
                             id="reminders", max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))


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
        role = with_sender_role(running)
        sender = make_sender(config, running)
        await sender.recover()
        log.info("running: %s", ", ".join(running.channels) or "no channel")
        scheduler = AsyncIOScheduler(timezone=config.app.zone)
        job = schedule_reminders(scheduler, config, running, sender)
        if job is None:
            schedule_heartbeat(scheduler, config, running)
        keeper, drains = None, set[asyncio.Task[SendStats]]()
        if job is not None:  # only a process that can send competes for the role
            await role.try_take()
            keeper = asyncio.create_task(role.keep(on_gained=_take_over(running, sender, drains)))
        scheduler.start()
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)
            if keeper is not None:
                for task in (keeper, *drains):
                    task.cancel()
                await asyncio.gather(keeper, *drains, return_exceptions=True)
                await role.release()
    finally:
        await close(running)


def _take_over(running: Running, sender: OutboxSender, tasks: set[asyncio.Task[SendStats]]) -> Any:
    """What a process does when it becomes the sender: drain at once, not at the next minute's tick (the wave of
    a holder that died goes on within seconds). The drains run in `tasks` until done (cancelled on stop)."""

    def gained() -> None:
        task = asyncio.create_task(send_pending(running, sender, max_seconds=SEND_SECONDS_PER_TICK))
        tasks.add(task)  # kept until done: a task nobody references may be collected mid-run
        task.add_done_callback(_drained(tasks))

    return gained


def _drained(tasks: set[asyncio.Task[SendStats]]) -> Any:
    def done(task: asyncio.Task[SendStats]) -> None:
        tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sending after taking the sender role over failed", exc_info=task.exception())
    return done


async def send_reminders_once(config: Config, clock: Clock, on_progress: ProgressListener | None = None,
                              ) -> tuple[PlanResult, SendStats]:
    """The command line's "reminders run-once": plan and send once through the configured channels;
    `on_progress` is told after each message (the command line's bar). It sends only if it can take the sender
    role; while a running bot holds it, this plans only and the stats name the holder (`sender_elsewhere`)."""
    running = await open_running(config, clock)
    try:
        await start_channels(config, running, updates=False)
        role = with_sender_role(running)
        sender = make_sender(config, running)
        sender.on_progress = on_progress
        if not await role.try_take():
            result = await running.planner.plan_once(clock.now())
            holder = await role.holder()
            return result, SendStats(sender_elsewhere=holder.owner if holder else "?")
        keeper = asyncio.create_task(role.keep())  # renewed while a long wave is sent
        try:
            return await tick(running, sender, max_seconds=None)
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            await role.release()
    finally:
        await close(running)
