"""Telegram: python-telegram-bot turned into plain events for the conversation, and its replies back.

Thin on purpose. Everything that decides anything lives in bot/; here: who sent the update, what
kind of input it is, files checked and downloaded, replies rendered as HTML with every piece of text
escaped, buttons whose callback data is "<version>|<action>" (re-authorised by the conversation),
and messages split below Telegram's 4096-character limit.
"""

from __future__ import annotations

import html
import logging
import os
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

from telegram import Bot, BotCommand, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
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
from telegram.warnings import PTBUserWarning

from bot.channels import DOCUMENT, PHOTO, BlockedError, IncomingFile, RetryAfterError, SendError, TransientError
from bot.commands import menu
from bot.config import Config
from bot.conversation import Press, Response, Sender
from bot.dialog.model import Reply, TextInput
from bot.domain import Channel
from bot.i18n import translator
from bot.ids import parse_id
from bot.port import Port
from bot.text_split import split_text
from handlers.telegram_download import download_capped

log = logging.getLogger(__name__)

# PTB 22 warns at every RetryAfter it builds (durations become timedelta in PTB 23) unless the program opts
# in; this code reads both forms. Read by PTB at each use, so setting it here, before any request, is enough.
os.environ.setdefault("PTB_TIMEDELTA", "true")

MAX_MESSAGE = 4096
MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True, slots=True)
class TelegramDeps:
    port: Port
    config: Config


# --- rendering ----------------------------------------------------------------------------------


def callback_data(version: int, action: str) -> str:
    data = f"{version}|{action}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def parse_callback(data: str | None) -> Press | None:
    """A forged or malformed button gives None; a well-formed one is still checked by the conversation."""
    if not data or "|" not in data:
        return None
    head, _, action = data.partition("|")
    version = parse_id(head)  # ASCII digits only: "²|submit" passes str.isdigit but not int()
    if version is None or not action or len(data.encode()) > MAX_CALLBACK_BYTES:
        return None
    return Press(version, action)


# The Bot API's InlineKeyboardMarkup as its JSON: built as plain data, since PTB's objects would only be
# turned back into this (building and serialising them was a tenth of a dialog step).
Keyboard = dict[str, list[list[dict[str, str]]]]


def _button(label: str, version: int, action: str) -> dict[str, str]:
    return {"text": label, "callback_data": callback_data(version, action)}


def render(reply: Reply, version: int) -> list[tuple[str, Keyboard | None]]:
    """HTML messages for one reply; only the last part carries the buttons."""
    title = f"<b>{html.escape(reply.title, quote=False)}</b>\n" if reply.title else ""
    chunks = _escaped_chunks(reply.text, MAX_MESSAGE - len(title))
    chunks[0] = title + chunks[0]
    keyboard = None
    if reply.choices or reply.nav:
        rows: list[list[dict[str, str]]] = []
        columns = max(reply.columns, 1)
        for i in range(0, len(reply.choices), columns):
            rows.append([_button(b.label, version, b.action) for b in reply.choices[i:i + columns]])
        if reply.nav:
            rows.append([_button(b.label, version, b.action) for b in reply.nav])
        keyboard = {"inline_keyboard": rows}
    return [(chunk, keyboard if i == len(chunks) - 1 else None) for i, chunk in enumerate(chunks)]


def _escaped_chunks(text: str, limit: int) -> list[str]:
    """Split the plain text, then escape each part: a cut never falls inside an HTML entity."""
    out: list[str] = []
    for part in split_text(text, limit):
        out.extend(_fit_escaped(part, limit))
    return out


def _fit_escaped(part: str, limit: int) -> list[str]:
    escaped = html.escape(part, quote=False)
    if len(escaped) <= limit or len(part) <= 1:
        return [escaped]
    # Many "&" or "<" made it longer than the limit: halve the plain text until each half fits.
    middle = len(part) // 2
    return _fit_escaped(part[:middle], limit) + _fit_escaped(part[middle:], limit)


# --- calls whose answer nobody reads --------------------------------------------------------------

# Bot.send_message turns Telegram's answer into a Message object, an eighth of a dialog step's time
# (bench/dialog.py), and nothing here reads it. do_api_request sends the same call through the same
# rate limiter and error handling without that; PTB only nudges that a named method exists.
_LEAN_METHODS = ("sendMessage", "editMessageReplyMarkup")
warnings.filterwarnings("ignore", category=PTBUserWarning,
                        message=rf"Please use 'Bot\.({'|'.join(_LEAN_METHODS)})' instead of 'Bot\.do_api_request")


async def send_html(bot: Bot, chat_id: int, text: str, keyboard: Keyboard | None) -> None:
    params: dict[str, object] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML.value,
                                 "link_preview_options": {"is_disabled": True}}
    if keyboard is not None:
        params["reply_markup"] = keyboard
    await bot.do_api_request("sendMessage", api_kwargs=params)


async def remove_keyboard(bot: Bot, chat_id: int, message_id: int) -> None:
    await bot.do_api_request("editMessageReplyMarkup", api_kwargs={"chat_id": chat_id, "message_id": message_id})


# --- updates -> events ----------------------------------------------------------------------------


def sender_of(update: Update) -> Sender | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    return Sender(Channel.TELEGRAM, str(user.id), str(chat.id), user.full_name, user.username, user.language_code)


async def _reply(update: Update, deps: TelegramDeps, sender: Sender, response: Response) -> None:
    """The response through the channel; a person who blocked the bot is told to the core, and what the
    bot expects and handles (flood control, a network fault) is one warning line."""
    if response.duplicate or not response.replies:
        return
    await _answer(deps, sender, TelegramChannel(update.get_bot()).send(
        sender.chat_id, response.replies, version=response.version, locale=response.locale))


async def _answer(deps: TelegramDeps, sender: Sender, sending: Awaitable[None]) -> bool:
    """Await one call to the channel; False when the person blocked the bot (the core is told)."""
    try:
        await sending
    except BlockedError:
        await deps.port.blocked(sender)
        return False
    except (RetryAfterError, TransientError) as exc:
        log.warning("answering an update failed: %s", handled_condition(exc.__cause__) or exc)
    return True


MAX_CAPTION = 1024


def caption_html(text: str, limit: int = MAX_CAPTION) -> str:
    """The longest start of the plain text whose escaped form fits `limit`: cut before escaping, so the cut
    never falls inside an entity such as "&amp;" (Telegram would refuse the caption)."""
    low, high = 0, min(len(text), limit)
    while low < high:  # escaping only lengthens, and a longer start never escapes shorter: bisect
        middle = (low + high + 1) // 2
        if len(html.escape(text[:middle], quote=False)) <= limit:
            low = middle
        else:
            high = middle - 1
    return html.escape(text[:low], quote=False)


async def send_file(bot: Bot, chat_id: int | str, reply: Reply) -> None:
    """A summary file: the chart as a photo (seen at once on a phone), workbooks and reports as documents."""
    assert reply.file_path is not None
    path = Path(reply.file_path)
    caption = caption_html(reply.text)
    with path.open("rb") as fh:
        if path.suffix.lower() == ".png":
            await bot.send_photo(chat_id, fh, caption=caption, parse_mode=ParseMode.HTML)
        else:
            await bot.send_document(chat_id, fh, filename=path.name, caption=caption, parse_mode=ParseMode.HTML)


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
    response = await deps.port.handle(sender, TextInput(message.text), update_key=str(update.update_id))
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
    response = await deps.port.handle(sender, press, update_key=str(update.update_id))
    if response.duplicate:
        return
    if isinstance(query.message, Message):
        # The buttons of an answered question go away, so they cannot be tapped twice.
        removing = TelegramChannel(update.get_bot()).remove_choices(str(query.message.chat_id),
                                                                    str(query.message.message_id))
        if not await _answer(deps, sender, removing):
            return
    await _reply(update, deps, sender, response)


def incoming_file(bot: Bot, message: Message) -> IncomingFile | None:
    """A photo (its largest size) or a document as the core's IncomingFile, fetched with a hard cap only
    when the core asks; None for anything else."""
    if message.photo:
        photo = message.photo[-1]
        sent, kind, name, mime = photo, PHOTO, None, None  # a photo has no name: named after where it is kept
    elif message.document:
        doc = message.document
        sent, kind, name, mime = doc, DOCUMENT, doc.file_name, doc.mime_type
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


# --- the clock's messages ------------------------------------------------------------------------


def _named(exc: Exception) -> SendError:
    """PTB's error as one of the named errors every caller of a channel handles (bot/channels.py)."""
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        return RetryAfterError(wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
    if isinstance(exc, Forbidden) or (isinstance(exc, BadRequest) and "chat not found" in str(exc).lower()):
        return BlockedError(str(exc))
    if isinstance(exc, (NetworkError, TimedOut)) and not isinstance(exc, BadRequest):
        return TransientError(str(exc))
    return SendError(str(exc))


class TelegramChannel:
    """The outbound channel on Telegram, for dialog replies and the clock's messages alike: HTML with every
    piece of text escaped, buttons as inline keyboards, summary files as a photo or a document. PTB's
    errors become the named errors its callers handle."""

    name = Channel.TELEGRAM.value

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, replies: Sequence[Reply], *, version: int | None = None,
                   locale: str | None = None) -> None:
        try:
            for reply in replies:
                if reply.file_path:
                    await send_file(self.bot, int(chat_id), reply)
                    continue
                # Version 0 for the clock's messages: their buttons are checked like commands.
                for text, keyboard in render(reply, version or 0):
                    await send_html(self.bot, int(chat_id), text, keyboard)
        except TelegramError as exc:
            raise _named(exc) from exc

    async def send_file(self, chat_id: str, reply: Reply, *, locale: str | None = None) -> None:
        try:
            await send_file(self.bot, int(chat_id), reply)
        except TelegramError as exc:
            raise _named(exc) from exc

    async def remove_choices(self, chat_id: str, message_id: str) -> None:
        try:
            await remove_keyboard(self.bot, int(chat_id), int(message_id))
        except TelegramError as exc:
            named = _named(exc)
            if type(named) is SendError:  # Telegram refused the edit (already gone, too old): nothing to take off
                return
            raise named from exc


# --- wiring ---------------------------------------------------------------------------------------


async def set_menu(application: Application) -> None:
    """The command menu from bot.commands, in Vietnamese (also the default) and English."""
    bot, locales_dir = application.bot, application.bot_data["deps"].config.locales_dir
    menus = {locale: [BotCommand(c, d) for c, d in menu(translator(locale, locales_dir))] for locale in ("vi", "en")}
    await bot.set_my_commands(menus["vi"])
    await bot.set_my_commands(menus["vi"], language_code="vi")
    await bot.set_my_commands(menus["en"], language_code="en")


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
    application = builder.post_init(set_menu).build()
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
