"""Telegram: python-telegram-bot turned into plain events for the conversation, and its replies back.

Thin on purpose. Everything that decides anything lives in bot/; here: who sent the update, what
kind of input it is, files checked and downloaded, replies rendered as HTML with every piece of text
escaped, buttons whose callback data is "<version>|<action>" (re-authorised by the conversation),
and messages split below Telegram's 4096-character limit.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

from telegram import Bot, BotCommand, Document, Message, PhotoSize, Update
from telegram.constants import ParseMode
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
from telegram.warnings import PTBUserWarning

from bot import uploads
from bot.channels import BlockedError, RetryAfterError, SendError, TransientError
from bot.commands import menu
from bot.config import Config
from bot.conversation import Conversation, PlanFile, Press, Response, Sender
from bot.dialog.model import Reply, TextInput
from bot.domain import Channel
from bot.i18n import Translator, translator
from bot.ids import parse_id
from bot.plans.text import MAX_PLAN_BYTES
from bot.text_split import split_text
from handlers.telegram_download import DownloadTooLargeError, download_capped
from storage import people as people_store

log = logging.getLogger(__name__)

# PTB 22 warns at every RetryAfter it builds (durations become timedelta in PTB 23) unless the program opts
# in; this code reads both forms. Read by PTB at each use, so setting it here, before any request, is enough.
os.environ.setdefault("PTB_TIMEDELTA", "true")

MAX_MESSAGE = 4096
MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True, slots=True)
class TelegramDeps:
    conversation: Conversation
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


async def _reply(update: Update, response: Response) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    bot = update.get_bot()
    for reply in response.replies:
        if reply.file_path:
            await send_file(bot, chat.id, reply)
            continue
        for text, keyboard in render(reply, response.version):
            await send_html(bot, chat.id, text, keyboard)


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


async def _translator(conversation: Conversation, sender: Sender) -> Translator:
    return conversation.translator(await conversation.locale_of(sender))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    incoming = _incoming(update, context)
    if incoming is None or incoming.message.text is None:
        return
    deps, sender, message = incoming
    # "/baocao@Bot arg" and plain words alike: the conversation reads commands out of the text.
    response = await deps.conversation.handle(sender, TextInput(message.text or ""), update_key=str(update.update_id))
    await _reply(update, response)


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
    response = await deps.conversation.handle(sender, press, update_key=str(update.update_id))
    if response.duplicate:
        return
    if isinstance(query.message, Message):
        # The buttons of an answered question go away, so they cannot be tapped twice.
        with contextlib.suppress(BadRequest):
            await remove_keyboard(update.get_bot(), query.message.chat_id, query.message.message_id)
    await _reply(update, response)


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    incoming = _incoming(update, context)
    if incoming is None:
        return
    deps, sender, message = incoming
    conversation, key = deps.conversation, str(update.update_id)
    if await conversation.already_handled(sender, key):
        return  # a re-delivered file: downloaded and stored the first time
    expected = await conversation.expected_attachment(sender)
    t = await _translator(conversation, sender)
    if expected is None:
        if message.document and await conversation.accepts_plan(sender):
            await _on_plan_document(update, context, incoming, t)
            return
        await message.reply_text(conversation.unexpected_file_text(t))
        return
    # What can be checked before downloading: the size Telegram states, and a document's name.
    rules = deps.config.uploads
    sent: PhotoSize | Document
    name: str | None = None  # a photo has none: it is named after where it is kept
    mime: str | None = None
    if message.photo:
        sent, limit = message.photo[-1], uploads.limit_mb(rules, "photo")  # the largest size
    elif message.document:
        doc = sent = message.document
        limit, mime = uploads.limit_mb(rules, "document"), doc.mime_type
        name = uploads.client_name(doc.file_name) or uploads.client_name(doc.file_unique_id) or "file"
        if uploads.safe_suffix(name) not in rules.document_types:
            await message.reply_text(uploads.wrong_type(t, rules.document_types))
            return
    else:
        return
    if uploads.over_limit(sent.file_size, limit):
        await message.reply_text(uploads.too_large(t, sent.file_size or 0, limit))
        return
    try:  # the size above may be missing: the download itself stops at the limit
        content = await download_capped(context.bot, sent.file_id, int(limit * uploads.MB))
    except DownloadTooLargeError as exc:
        await message.reply_text(uploads.too_large(t, exc.size, limit))
        return
    try:
        # A photo sent as a file (uncompressed) is a photo too: the bytes say so, not the stated MIME type.
        file = await uploads.keep(conversation.db, expected, content, channel=Channel.TELEGRAM, name=name,
                                  data_dir=deps.config.data_dir, now=conversation.clock.now(),
                                  file_id=sent.file_id, unique=sent.file_unique_id, declared_mime=mime)
    except uploads.NotAnImageError:
        await message.reply_text(uploads.wrong_type(t, uploads.PHOTO_TYPES))
        return
    await _reply(update, await conversation.handle(sender, file, key))


PLAN_SUFFIXES = (".docx", ".pdf", ".txt")


async def _on_plan_document(update: Update, context: ContextTypes.DEFAULT_TYPE, incoming: _Incoming,
                            t: Translator) -> None:
    """A plan (kế hoạch) from the department: read it into a draft campaign to check and publish."""
    deps, sender, message = incoming
    doc = message.document
    assert doc is not None
    name = uploads.client_name(doc.file_name) or "plan"
    limit = min(uploads.limit_mb(deps.config.uploads, "document"), MAX_PLAN_BYTES / uploads.MB)
    if uploads.safe_suffix(name) not in PLAN_SUFFIXES:
        await message.reply_text(uploads.wrong_type(t, PLAN_SUFFIXES))
        return
    if uploads.over_limit(doc.file_size, limit):
        await message.reply_text(uploads.too_large(t, doc.file_size or 0, limit))
        return
    try:
        data = await download_capped(context.bot, doc.file_id, int(limit * uploads.MB))
    except DownloadTooLargeError as exc:
        await message.reply_text(uploads.too_large(t, exc.size, limit))
        return
    response = await deps.conversation.handle(sender, PlanFile(name, data), str(update.update_id))
    await _reply(update, response)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    incoming = _incoming(update, context)
    if incoming is None:
        return
    t = await _translator(incoming.deps.conversation, incoming.sender)
    await incoming.message.reply_text(t("I can read text, photos and files. Type /trogiup for help."))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    deps: TelegramDeps = context.bot_data["deps"]
    if isinstance(context.error, Forbidden) and isinstance(update, Update):
        sender = sender_of(update)
        if sender is not None:  # the person blocked the bot: stop writing to them, show it to superiors
            await people_store.mark_blocked(deps.conversation.db, sender.channel, sender.external_id,
                                            deps.conversation.clock.now())
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


class TelegramOutbound:
    """The outbound port for reminders: PTB's errors become the named errors the sender handles."""

    name = Channel.TELEGRAM.value

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, reply: Reply) -> None:
        try:
            for text, keyboard in render(reply, 0):  # version 0: reminder buttons are checked like commands
                await send_html(self.bot, int(chat_id), text, keyboard)
        except RetryAfter as exc:
            wait = exc.retry_after
            raise RetryAfterError(wait.total_seconds() if isinstance(wait, timedelta) else float(wait)) from exc
        except Forbidden as exc:
            raise BlockedError(str(exc)) from exc
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                raise BlockedError(str(exc)) from exc
            raise SendError(str(exc)) from exc
        except (NetworkError, TimedOut) as exc:
            raise TransientError(str(exc)) from exc


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
