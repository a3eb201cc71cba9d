"""Telegram, outbound: replies rendered as HTML with every piece of text escaped, buttons whose callback data
is "<version>|<action>" (re-authorised by the conversation), messages split below Telegram's 4096-character
limit, summary files as a photo or a document; and `TelegramChannel`, the OutboundChannel (bot/channels.py)
that sends them for dialog replies and the clock's messages alike, turning PTB's errors into the named ones.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBUserWarning

from bot.channels import BlockedError, RetryAfterError, SendError, TransientError, UncertainDeliveryError
from bot.dialog.model import Button, Reply
from bot.domain import Channel
from bot.ids import parse_id
from bot.port import Press
from bot.text_split import split_text

MAX_MESSAGE = 4096
MAX_CALLBACK_BYTES = 64


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
Keyboard = dict[str, list[list[dict[str, Any]]]]


def _button(label: str, version: int, action: str) -> dict[str, Any]:
    return {"text": label, "callback_data": callback_data(version, action)}


def _choice(button: Button, version: int) -> dict[str, Any]:
    """A choice's callback button; a link's URL button, or its Mini App button (Telegram opens web apps over https
    only: an http address stays a plain link)."""
    if button.url is None:
        return _button(button.label, version, button.action)
    if button.web_app and button.url.startswith("https://"):
        return {"text": button.label, "web_app": {"url": button.url}}
    return {"text": button.label, "url": button.url}


def render(reply: Reply, version: int) -> list[tuple[str, Keyboard | None]]:
    """HTML messages for one reply; only the last part carries the buttons."""
    title = f"<b>{html.escape(reply.title, quote=False)}</b>\n" if reply.title else ""
    chunks = _escaped_chunks(reply.text, MAX_MESSAGE - len(title))
    chunks[0] = title + chunks[0]
    keyboard = None
    if reply.choices or reply.nav:
        rows: list[list[dict[str, Any]]] = []
        columns = max(reply.columns, 1)
        for i in range(0, len(reply.choices), columns):
            rows.append([_choice(b, version) for b in reply.choices[i:i + columns]])
        if reply.nav:
            rows.append([_choice(b, version) for b in reply.nav])
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


# --- the channel ---------------------------------------------------------------------------------


def _named(exc: Exception) -> SendError:
    """PTB's error as one of the named errors every caller of a channel handles (bot/channels.py)."""
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        return RetryAfterError(wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
    if isinstance(exc, Forbidden) or (isinstance(exc, BadRequest) and "chat not found" in str(exc).lower()):
        return BlockedError(str(exc))
    if isinstance(exc, (NetworkError, TimedOut)) and not isinstance(exc, BadRequest):
        if _never_left(exc):
            return TransientError(str(exc))
        return UncertainDeliveryError(str(exc))
    return SendError(str(exc))


# httpx's faults raised before any byte of the request went out: the message was certainly not delivered.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _never_left(exc: TelegramError) -> bool:
    """True when the request certainly did not reach Telegram (no connection, no free connection). A time-out
    while waiting for the answer, a broken read, or a 5xx answer (a NetworkError PTB raises from the status,
    without an httpx cause) leave the delivery uncertain."""
    if "was *not* sent" in str(exc):  # PTB's pool time-out
        return True
    return isinstance(exc.__cause__, _NOT_SENT)


class TelegramChannel:
    """The outbound channel on Telegram, for dialog replies and the clock's messages alike: HTML with every
    piece of text escaped, buttons as inline keyboards, summary files as a photo or a document. PTB's
    errors become the named errors its callers handle."""

    name = Channel.TELEGRAM.value

    def __init__(self, bot: Bot, pace: Callable[[], Awaitable[None]] | None = None) -> None:
        self.bot = bot
        # A dialog reply's channel awaits `pace` before each call (the shared send budget, bot/pacing.py);
        # the clock's wave is paced by the outbox sender and passes none.
        self.pace = pace

    async def _paced(self) -> None:
        if self.pace is not None:
            await self.pace()

    async def send(self, chat_id: str, replies: Sequence[Reply], *, version: int | None = None,
                   locale: str | None = None) -> None:
        try:
            for reply in replies:
                if reply.file_path:
                    await self._paced()
                    await send_file(self.bot, int(chat_id), reply)
                    continue
                # Version 0 for the clock's messages: their buttons are checked like commands.
                for text, keyboard in render(reply, version or 0):
                    await self._paced()
                    await send_html(self.bot, int(chat_id), text, keyboard)
        except TelegramError as exc:
            raise _named(exc) from exc

    async def send_file(self, chat_id: str, reply: Reply, *, locale: str | None = None) -> None:
        try:
            await self._paced()
            await send_file(self.bot, int(chat_id), reply)
        except TelegramError as exc:
            raise _named(exc) from exc

    async def remove_choices(self, chat_id: str, message_id: str) -> None:
        try:
            await self._paced()
            await remove_keyboard(self.bot, int(chat_id), int(message_id))
        except TelegramError as exc:
            named = _named(exc)
            if type(named) is SendError:  # Telegram refused the edit (already gone, too old): nothing to take off
                return
            raise named from exc
