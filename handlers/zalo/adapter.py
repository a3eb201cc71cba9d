"""Zalo: the Bot Platform's events turned into the core's events (bot/port.py), and replies back.

Thin on purpose, like handlers/telegram.py: everything that decides anything lives in bot/. Here:
who wrote (string ids, private chats only), what kind of input it is, photos announced with a way to
fetch them by URL (the core checks, fetches and keeps them), replies rendered as plain text (Zalo
has no buttons: choices are numbered by bot/render_text.py and the conversation maps the numbers back),
packed and split below
Zalo's 2000-character limit, and summary files offered as expiring, HMAC-signed links to the bot's
own web endpoint (the chart as a photo by such a link).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bot.channels import (
    PHOTO,
    BlockedError,
    FetchFailedError,
    IncomingFile,
    RetryAfterError,
    SendError,
    TransientError,
    UncertainDeliveryError,
)
from bot.clock import Clock
from bot.dialog.model import Reply, TextInput
from bot.domain import Channel
from bot.i18n import Translator
from bot.port import EarlyReply, Port, Response, Sender
from bot.render_text import render_plain
from bot.text_split import split_text, utf16_length
from handlers.zalo.client import MAX_TEXT, DownloadFailedError, ZaloClient

log = logging.getLogger(__name__)

FILES_PATH = "/zalo/files"  # the signed-file endpoint, under the bot's public base URL
TEXT_EVENT = "message.text.received"
IMAGE_EVENT = "message.image.received"
PHOTO_DOWNLOAD_SECONDS = 60.0  # a whole photo download, however slowly it arrives
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- text ---------------------------------------------------------------------------------------


def sanitise(text: str) -> str:
    """Plain text as Zalo shows it: no control characters (they can make sendMessage fail), \\n lines."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def pack(texts: Sequence[str], limit: int = MAX_TEXT) -> list[str]:
    """Several replies of one turn in as few messages as fit (Zalo counts every call against a quota)."""
    messages: list[str] = []
    for text in texts:
        for part in split_text(text, limit):
            if not part.strip():
                continue
            if messages and utf16_length(messages[-1]) + 2 + utf16_length(part) <= limit:
                messages[-1] = f"{messages[-1]}\n\n{part}"
            else:
                messages.append(part)
    return messages


# --- incoming updates -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ZaloMessage:
    event_name: str
    message_id: str | None
    user_id: str
    chat_id: str
    display_name: str
    private: bool
    from_bot: bool
    text: str | None = None
    photo_url: str | None = None
    date_ms: int | None = None


def parse_update(body: Any) -> ZaloMessage | None:
    """Either `{ok, result: {event_name, message}}` or bare `{event_name, message}`; None if unusable."""
    if not isinstance(body, dict):
        return None
    result = body.get("result")
    event = result if isinstance(result, dict) else body
    message = event.get("message")
    if not isinstance(message, dict):
        return None
    sender, chat = message.get("from"), message.get("chat")
    sender = sender if isinstance(sender, dict) else {}
    chat = chat if isinstance(chat, dict) else {}
    user_id = _str(sender.get("id")) or _str(chat.get("id"))
    chat_id = _str(chat.get("id")) or user_id
    if not user_id or not chat_id:
        return None
    name = next((str(sender[k]) for k in ("display_name", "first_name", "name") if sender.get(k)), "") or "Zalo"
    chat_type = str(chat.get("chat_type") or chat.get("type") or "PRIVATE").upper()
    event_name = str(event.get("event_name") or (TEXT_EVENT if "text" in message else ""))
    return ZaloMessage(
        event_name=event_name,
        message_id=_str(message.get("message_id") or message.get("msg_id")),
        user_id=user_id,
        chat_id=chat_id,
        display_name=sanitise(name).strip()[:200] or "Zalo",
        private=chat_type == "PRIVATE",
        from_bot=bool(sender.get("is_bot")),
        text=message.get("text") if isinstance(message.get("text"), str) else None,
        photo_url=_photo_url(message),
        date_ms=message.get("date") if isinstance(message.get("date"), int) else None,
    )


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _photo_url(message: dict[str, Any]) -> str | None:
    """Seen as `photo` (a URL), `photo_url`, or an attachments list of {type, payload: {url}}."""
    for key in ("photo", "photo_url", "url"):
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, dict) and isinstance(value.get("url"), str):
            return value["url"].strip()
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict) and isinstance(attachment.get("payload"), dict):
            url = attachment["payload"].get("url")
            if isinstance(url, str) and url.strip():
                return url.strip()
    return None


def sender_of(message: ZaloMessage) -> Sender:
    return Sender(Channel.ZALO, message.user_id, message.chat_id, message.display_name)


# --- signed links to summary files ---------------------------------------------------------------


class FileLinks:
    """Expiring links to files under `root`: {base}/zalo/files/<expiry>/<signature>/<path under root>.

    The signature is an HMAC-SHA256 of expiry and path; the endpoint (handlers/zalo/server.py) checks it,
    the expiry, and that the path stays under `root`, before it serves anything. `clock` is whatever says
    what time it is for the core (bot.port.Port.now in the bot)."""

    def __init__(self, key: bytes, base_url: str, root: Path, clock: Clock,
                 lifetime: timedelta = timedelta(hours=24)) -> None:
        if not key:
            raise ValueError("no key for signing file links")
        self.key, self.base_url, self.root = key, base_url.rstrip("/"), root.resolve()
        self.clock, self.lifetime = clock, lifetime

    @staticmethod
    def key_from_token(token: str) -> bytes:
        return hashlib.sha256(b"zalo-file-links\0" + token.encode()).digest()

    def _signature(self, expires: int, relative: str) -> str:
        mac = hmac.new(self.key, f"{expires}\n{relative}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def url_for(self, path: Path) -> tuple[str, datetime]:
        relative = path.resolve().relative_to(self.root).as_posix()  # ValueError outside root
        expires_at = self.clock.now() + self.lifetime
        expires = int(expires_at.timestamp())
        sig = self._signature(expires, relative)
        return f"{self.base_url}{FILES_PATH}/{expires}/{sig}/{quote(relative, safe='/')}", expires_at

    def resolve(self, expires: str, signature: str, relative: str) -> Path | None:
        """The file a link points to, or None: a bad signature, an expired link, a path outside root."""
        if not (expires.isascii() and expires.isdigit()) or not relative or len(expires) > 12:
            return None
        good = self._signature(int(expires), relative)
        if not hmac.compare_digest(good.encode(), signature.encode()):
            return None
        if datetime.fromtimestamp(int(expires), UTC) <= self.clock.now():
            return None
        try:
            target = (self.root / relative).resolve()
            if not target.is_relative_to(self.root) or not target.is_file():
                return None
        except (OSError, ValueError):  # a NUL byte, a name too long...
            return None
        return target


# --- replies --------------------------------------------------------------------------------------


@dataclass(slots=True)
class ZaloReplier:
    """Sends replies to one chat: texts packed and split, the chart as a photo, other files as links."""

    client: ZaloClient
    links: FileLinks | None
    zone: Any
    pace: Callable[[], Awaitable[None]] | None = None  # a dialog reply's: the next send slot before each call

    async def _paced(self) -> None:
        if self.pace is not None:
            await self.pace()

    async def send(self, chat_id: str, replies: Sequence[Reply], t: Translator) -> None:
        texts: list[str] = []
        for reply in replies:
            if reply.file_path:
                photo = await self._file(chat_id, reply, t, texts)
                if photo is not None:
                    await self._flush(chat_id, texts)
                    await self._photo(chat_id, photo, reply, t)
                continue
            texts.append(sanitise(render_plain(reply, t)))
        await self._flush(chat_id, texts)

    async def send_text(self, chat_id: str, text: str) -> None:
        await self._flush(chat_id, [sanitise(text)])

    async def _flush(self, chat_id: str, texts: list[str]) -> None:
        for message in pack(texts):
            await self._paced()
            await self.client.send_message(chat_id, message)
        texts.clear()

    async def _file(self, chat_id: str, reply: Reply, t: Translator, texts: list[str]) -> str | None:
        """A link text added to `texts`, or the URL of a chart to send as a photo."""
        assert reply.file_path is not None
        path = Path(reply.file_path)
        if self.links is None:
            texts.append(t("{name} cannot be sent on Zalo: this server has no public address for files. "
                           "Ask the administrator.", name=sanitise(reply.text)))
            return None
        try:
            url, expires_at = self.links.url_for(path)
        except ValueError:
            log.error("a file outside the summaries folder cannot be linked: %s", path.name)
            return None
        if path.suffix.lower() == ".png":
            return url
        texts.append(self._link_text(reply, t, url, expires_at))
        return None

    def _link_text(self, reply: Reply, t: Translator, url: str, expires_at: datetime) -> str:
        return t("{name}: {url}\nThe link works until {time}.", name=sanitise(reply.text), url=url,
                 time=t.datetime(expires_at, self.zone))

    async def _photo(self, chat_id: str, url: str, reply: Reply, t: Translator) -> None:
        try:
            await self._paced()
            await self.client.send_photo(chat_id, url, caption=sanitise(reply.text)[:MAX_TEXT] or None)
        except (BlockedError, RetryAfterError, UncertainDeliveryError):
            # The caller's business: mark the person blocked, wait and try again later, or (the picture may
            # have arrived) decide whether to send again; a link now could deliver the chart twice.
            raise
        except SendError as exc:  # Zalo could not take the picture: the link still works
            log.warning("sendPhoto failed (%s); sending the chart as a link", exc)
            assert self.links is not None
            assert reply.file_path is not None
            link, expires_at = self.links.url_for(Path(reply.file_path))
            await self.send_text(chat_id, self._link_text(reply, t, link, expires_at))


class ZaloChannel:
    """The outbound channel on Zalo, for dialog replies and the clock's messages alike. The client's named
    errors already are the errors the channel's callers handle (RetryAfterError, BlockedError, TransientError)."""

    name = Channel.ZALO.value

    def __init__(self, client: ZaloClient, links: FileLinks | None, zone: Any,
                 translate: Callable[[str], Translator], default_locale: str) -> None:
        self.replier = ZaloReplier(client, links, zone)
        self.translate, self.default_locale = translate, default_locale

    async def send(self, chat_id: str, replies: Sequence[Reply], *, version: int | None = None,
                   locale: str | None = None) -> None:
        if version is None:
            # A message the clock sends has no dialog behind it: numbers could not be answered, so no choices.
            replies = [Reply(r.text, title=r.title, file_path=r.file_path) for r in replies]
        await self.replier.send(chat_id, replies, self.translate(locale or self.default_locale))

    async def send_file(self, chat_id: str, reply: Reply, *, locale: str | None = None) -> None:
        await self.replier.send(chat_id, [reply], self.translate(locale or self.default_locale))

    async def remove_choices(self, chat_id: str, message_id: str) -> None:
        """Choices are typed numbers here: nothing to take off."""

    def paced(self, pace: Callable[[], Awaitable[None]] | None) -> ZaloChannel:
        """This channel for one dialog reply, awaiting `pace` (bot/pacing.py) before each call to Zalo."""
        turn = ZaloChannel.__new__(ZaloChannel)
        turn.replier = replace(self.replier, pace=pace)
        turn.translate, turn.default_locale = self.translate, self.default_locale
        return turn


# --- the adapter ----------------------------------------------------------------------------------


class ZaloAdapter:
    """One update at a time into the core (the dispatcher in server.py keeps one chat in order)."""

    def __init__(self, port: Port, client: ZaloClient, links: FileLinks | None = None) -> None:
        self.port, self.client = port, client
        self.channel = ZaloChannel(client, links, port.zone, port.translator, port.default_locale)

    async def handle(self, body: Any) -> None:
        message = parse_update(body)
        if message is None:
            log.info("a Zalo update without a usable message was ignored")
            return
        if message.from_bot or not message.private:
            return  # private chats with people only
        sender = sender_of(message)
        try:
            await self._dispatch(sender, message)
        except BlockedError:
            await self.port.blocked(sender)
        except (RetryAfterError, TransientError) as exc:  # flood control, a network fault: expected, one line
            if isinstance(exc, RetryAfterError):  # for the whole bot: the clock's wave waits too
                self.port.slow_down(sender, exc.seconds)
            log.warning("a reply on Zalo could not be sent: %s", exc)
        except SendError as exc:
            log.error("a reply on Zalo could not be sent: %s", exc)

    async def _dispatch(self, sender: Sender, message: ZaloMessage) -> None:
        if message.event_name == TEXT_EVENT:
            text = sanitise(message.text or "").strip()  # spaces only: the conversation says it got nothing
            # The conversation reads "/start CODE" and other commands out of the text itself.
            await self._reply(sender, await self.port.handle(sender, TextInput(text), message.message_id,
                                                             early=self._early(sender)))
        elif message.event_name == IMAGE_EVENT:
            photo = self._incoming_photo(message)
            await self._reply(sender, await self.port.handle(sender, photo, message.message_id))
        else:  # stickers, unsupported content (also what protected users' messages arrive as)
            t = await self.port.translator_for(sender)
            answer = Reply(t("I can read only text and photos here. Type /trogiup for help."))
            await self.channel.paced(self.port.reply_pace(sender)).send(sender.chat_id, [answer], locale=t.locale)

    def _early(self, sender: Sender) -> EarlyReply:
        """How the core sends a reply at once during a long turn (the summary's "working on it")."""
        async def send(replies: Sequence[Reply]) -> None:
            await self.channel.send(sender.chat_id, replies)
        return send

    async def _reply(self, sender: Sender, response: Response) -> None:
        if response.duplicate or not response.replies:
            return
        await self.channel.paced(self.port.reply_pace(sender)).send(sender.chat_id, response.replies,
                                                                   version=response.version, locale=response.locale)

    def _incoming_photo(self, message: ZaloMessage) -> IncomingFile:
        """Zalo gives photos only, by URL and with no file name: fetched when the core asks, within the cap."""
        url = message.photo_url

        async def fetch(cap: int) -> bytes:
            try:
                if not url:
                    raise DownloadFailedError("no URL in the update")
                # The client's timeout is per read: a server dripping a byte at a time is cut off here.
                return await asyncio.wait_for(self.client.download(url, cap), PHOTO_DOWNLOAD_SECONDS)
            except (DownloadFailedError, TimeoutError) as exc:
                log.warning("a Zalo photo could not be fetched: %s", exc)
                raise FetchFailedError(str(exc)) from exc

        return IncomingFile(PHOTO, fetch, file_id=(url or "")[:1000], unique=message.message_id, photos_only=True)
