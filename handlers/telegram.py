"""Telegram: python-telegram-bot's updates turned into the core's events (bot/port.py), and its replies
sent back through TelegramChannel (handlers/telegram_channel.py).

Thin on purpose. Everything that decides anything lives in bot/; here: who sent the update, what kind
of input it is (a file is announced with a way to download it under a cap, which the core calls after
its own checks), and which handled conditions are one line in the log.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from telegram import (
    Bot,
    BotCommand,
    Document,
    MenuButton,
    MenuButtonDefault,
    MenuButtonWebApp,
    Message,
    PhotoSize,
    Update,
    WebAppInfo,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.channels import DOCUMENT, PHOTO, BlockedError, IncomingFile, RetryAfterError, TransientError
from bot.commands import menu
from bot.config import Config
from bot.dialog.model import Reply, TextInput
from bot.domain import Channel
from bot.i18n import N_, translator
from bot.port import EarlyReply, Port, Press, Response, Sender
from handlers.telegram_channel import TelegramChannel, parse_callback
from handlers.telegram_download import download_capped
from handlers.telegram_updates import PerChatUpdates

log = logging.getLogger(__name__)
DASHBOARD_MENU = N_("Dashboard")  # the chat's menu button, in the bot's language

# PTB 22 warns at every RetryAfter it builds (durations become timedelta in PTB 23) unless the program opts
# in; this code reads both forms. Read by PTB at each use, so setting it here, before any request, is enough.
os.environ.setdefault("PTB_TIMEDELTA", "true")


@dataclass(frozen=True, slots=True)
class TelegramDeps:
    port: Port
    config: Config


# --- updates -> events ----------------------------------------------------------------------------


def sender_of(update: Update) -> Sender | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    return Sender(Channel.TELEGRAM, str(user.id), str(chat.id), user.full_name, user.username, user.language_code)


async def _reply(update: Update, deps: TelegramDeps, sender: Sender, response: Response,
                 channel: TelegramChannel | None = None) -> None:
    """The response through the channel (`channel`: the turn's, when it already sent something); a person
    who blocked the bot is told to the core, and what the bot expects and handles (flood control, a network
    fault) is one warning line."""
    if response.duplicate or not response.replies:
        return
    await _answer(deps, sender, (channel or _replying(update, deps, sender)).send(
        sender.chat_id, response.replies, version=response.version, locale=response.locale))


def _early(update: Update, deps: TelegramDeps, sender: Sender) -> EarlyReply:
    """How the core sends a reply at once during a long turn (the summary's "working on it"): a reply like
    any other, so it takes the next send slot ahead of the wave."""
    async def send(replies: Sequence[Reply]) -> None:
        # No buttons: no dialog version to carry.
        await _replying(update, deps, sender).send(sender.chat_id, replies)
    return send


def _replying(update: Update, deps: TelegramDeps, sender: Sender) -> TelegramChannel:
    """The channel for one turn's answer: each call takes the next send slot, ahead of the clock's wave."""
    return TelegramChannel(update.get_bot(), deps.port.reply_pace(sender))


async def _answer(deps: TelegramDeps, sender: Sender, sending: Awaitable[None]) -> bool:
    """Await one call to the channel; False when the person blocked the bot (the core is told)."""
    try:
        await sending
    except BlockedError:
        await deps.port.blocked(sender)
        return False
    except (RetryAfterError, TransientError) as exc:
        if isinstance(exc, RetryAfterError):  # flood control is for the whole bot: the wave waits too
            deps.port.slow_down(sender, exc.seconds)
        log.warning("answering an update failed: %s", handled_condition(exc.__cause__) or exc)
    return True


class _Incoming(NamedTuple):
    deps: TelegramDeps
    sender: Sender
    message: Message


def _incoming(update: Update, context: ContextTypes.DEFAULT_TYPE) -> _Incoming | None:
    """Who wrote what, or None for what is not a message from a person."""
    sender, message = sender_of(update), update.effective_message
    if sender is None or message is None:
        return None
    return _Incoming(context.bot_data["deps"], sender, message)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    incoming = _incoming(update, context)
    if incoming is None or incoming.message.text is None:
        return
    deps, sender, message = incoming
    # "/baocao@Bot arg" and plain words alike: the conversation reads commands out of the text.
    response = await deps.port.handle(sender, TextInput(message.text or ""), update_key=str(update.update_id),
                                      early=_early(update, deps, sender))
    await _reply(update, deps, sender, response)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    deps: TelegramDeps = context.bot_data["deps"]
    query, sender = update.callback_query, sender_of(update)
    if query is None or sender is None:
        return
    await query.answer()
    press = parse_callback(query.data)
    if press is None:
        # Not one of ours: send a version no dialog has, so the conversation explains and re-asks.
        press = Press(-1, "forged")
    response = await deps.port.handle(sender, press, update_key=str(update.update_id),
                                      early=_early(update, deps, sender))
    if response.duplicate:
        return
    channel = _replying(update, deps, sender)  # one turn: the edit and the answer pace as one reply
    if isinstance(query.message, Message):
        # The buttons of an answered question go away, so they cannot be tapped twice.
        removing = channel.remove_choices(str(query.message.chat_id), str(query.message.message_id))
        if not await _answer(deps, sender, removing):
            return
    await _reply(update, deps, sender, response, channel)


def incoming_file(bot: Bot, message: Message) -> IncomingFile | None:
    """A photo (its largest size) or a document as the core's IncomingFile, fetched with a hard cap only
    when the core asks; None for anything else."""
    sent: PhotoSize | Document
    name: str | None = None  # a photo has none: it is named after where it is kept
    mime: str | None = None
    if message.photo:
        sent, kind = message.photo[-1], PHOTO  # the largest size
    elif message.document:
        sent, kind = message.document, DOCUMENT
        name, mime = message.document.file_name, message.document.mime_type
    else:
        return None
    file_id = sent.file_id

    async def fetch(cap: int) -> bytes:  # the size Telegram states may be missing: the download stops at cap
        return await download_capped(bot, file_id, cap)

    return IncomingFile(kind, fetch, name=name, size=sent.file_size, file_id=file_id, unique=sent.file_unique_id,
                        mime=mime)


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    incoming = _incoming(update, context)
    if incoming is None:
        return
    deps, sender, message = incoming
    file = incoming_file(context.bot, message)
    if file is None:
        return
    # The core checks, fetches, keeps and links the file, or says why not (a plan from staff, too).
    await _reply(update, deps, sender, await deps.port.handle(sender, file, str(update.update_id)))


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    incoming = _incoming(update, context)
    if incoming is None:
        return
    t = await incoming.deps.port.translator_for(incoming.sender)
    await incoming.message.reply_text(t("I can read text, photos and files. Type /trogiup for help."))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    deps: TelegramDeps = context.bot_data["deps"]
    if isinstance(context.error, Forbidden) and isinstance(update, Update):
        sender = sender_of(update)
        if sender is not None:  # the person blocked the bot: stop writing to them, show it to superiors
            await deps.port.blocked(sender)
        return
    handled = handled_condition(context.error)
    if handled is not None:  # Telegram or the network said no; nothing in our code is wrong: one line
        log.warning("answering an update failed: %s", handled)
        return
    log.error("error while handling an update", exc_info=context.error)


def handled_condition(error: BaseException | None) -> str | None:
    """One line for a condition the bot expects and handles (flood control, a network fault), or None
    for the unexpected, which is logged with its traceback."""
    if isinstance(error, RetryAfter):
        wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return f"Telegram flood control (429), retry after {seconds:g} s"
    if isinstance(error, (TimedOut, NetworkError)) and not isinstance(error, BadRequest):
        return f"{type(error).__name__}: {error}"
    return None


class _HandledRateLimit(logging.Filter):
    """AIORateLimiter logs every 429 it passes on as an ERROR with a traceback, though its caller handles
    it (the outbox sender waits, on_error logs one line): drop that record, keep everything else."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], RetryAfter))


logging.getLogger("telegram.ext.AIORateLimiter").addFilter(_HandledRateLimit())


def _polling_error(error: Exception) -> None:
    """PTB retries a failed getUpdates by itself; its default callback logs a traceback each time."""
    handled = handled_condition(error)
    if handled is not None:
        log.warning("getUpdates failed (%s); python-telegram-bot tries again", handled)
    else:
        log.error("getUpdates failed", exc_info=error)


# --- wiring ---------------------------------------------------------------------------------------


async def set_menu(application: Application) -> None:
    """The command menu from bot.commands, in Vietnamese (also the default) and English."""
    bot, locales_dir = application.bot, application.bot_data["deps"].config.locales_dir
    menus = {locale: [BotCommand(c, d) for c, d in menu(translator(locale, locales_dir))] for locale in ("vi", "en")}
    await bot.set_my_commands(menus["vi"])
    await bot.set_my_commands(menus["vi"], language_code="vi")
    await bot.set_my_commands(menus["en"], language_code="en")
    await set_menu_button(application)


async def set_menu_button(application: Application) -> None:
    """The chat's menu button opens the dashboard as a Mini App (initData signs the person in) when it is set up
    over https, which Telegram requires; otherwise Telegram's default, so a button left from before leads nowhere
    dead."""
    config: Config = application.bot_data["deps"].config
    url = config.dashboard_url
    button: MenuButton = MenuButtonDefault()
    if url.startswith("https://"):
        text = translator(config.app.language, config.locales_dir)(DASHBOARD_MENU)
        button = MenuButtonWebApp(text, WebAppInfo(url))
    await application.bot.set_chat_menu_button(menu_button=button)


def build_application(
    config: Config,
    deps: TelegramDeps,
    *,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
) -> Application:
    """The Application with our handlers and the command menu; handlers/serve.py starts and stops it next
    to the other channels. Tests pass a request class that refuses the network."""
    cfg = config.telegram
    if cfg.token is None:
        raise ValueError("no Telegram token")
    builder = ApplicationBuilder().token(cfg.token.get_secret_value()).rate_limiter(AIORateLimiter())
    if cfg.base_url:
        base = cfg.base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.replace("/bot", "/file/bot", 1))
    if request is not None:
        builder = builder.request(request)
    if updates_request is not None:
        builder = builder.get_updates_request(updates_request)
    # One chat's updates in order, chats side by side: a long summary does not hold up everyone else.
    application = builder.concurrent_updates(PerChatUpdates()).post_init(set_menu).build()
    application.bot_data["deps"] = deps
    # New messages only: editing an old "2" into "5" must not answer whatever question is open now.
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(private & filters.TEXT, on_text))
    application.add_handler(MessageHandler(private & (filters.PHOTO | filters.Document.ALL), on_file))
    application.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, on_other))
    application.add_error_handler(on_error)
    return application


async def start_updates(application: Application, config: Config) -> Callable[[], Awaitable[None]]:
    """Long polling by default; a webhook on our own server (handlers/telegram_webhook.py, its secret
    compared in constant time) when configured. Returns what stops the updates."""
    cfg = config.telegram
    if cfg.mode == "webhook":
        from handlers.telegram_webhook import TelegramWebhook

        webhook = TelegramWebhook(application, cfg)
        await webhook.start()
        return webhook.stop
    assert application.updater is not None
    await application.updater.start_polling(allowed_updates=Update.ALL_TYPES, error_callback=_polling_error)
    return application.updater.stop
