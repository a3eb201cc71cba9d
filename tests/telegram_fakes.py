"""A fake Bot API for in-process tests of the Telegram adapter, and builders of incoming updates.

`RecordingRequest` stands where python-telegram-bot's HTTP client would be. It answers the few Bot
API methods the adapter uses, records every call, and refuses everything else, including any URL
that is not under the fake token, so a test can never reach Telegram by accident. Like Telegram, it
rejects a sendMessage whose HTML does not parse, whose text is empty or over 4096 characters after
entity parsing, or whose callback data is over 64 bytes: the adapter then sees the same BadRequest
that production would.

Whether Telegram's 4096 counts Unicode characters or UTF-16 code units (an emoji outside the BMP
being two) is disputed in public reports; the fake counts characters, the reading backed by a live
measurement. `utf16_length` is here for tests that want the stricter bound.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from itertools import count
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import web
from telegram import Bot, Update
from telegram.request import BaseRequest, RequestData

FAKE_TOKEN = "123456:TEST-TOKEN-not-real"
BOT_ID = 123456
BOT_USERNAME = "CongDoanBaoCaoBot"
DATE = 1_722_560_400  # 2024-08-02 08:00 +07:00, the tests' clock, as Telegram's epoch seconds
# The start and end of a JPEG file: what every photo download returns in these tests.
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
# A PDF's first bytes: what a document download returns, unless a test sets `document_bytes`.
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64

BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Báo cáo Công đoàn", "username": BOT_USERNAME}


class RefusedRequestError(RuntimeError):
    """The code under test asked for something the fake does not serve, or for another host."""


# --- Telegram's HTML, as strictly as Telegram reads it ----------------------------------------------

TELEGRAM_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre",
                           "a", "span", "tg-spoiler", "tg-emoji", "blockquote"})
_BAD_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")


class TelegramHTMLError(ValueError):
    pass


class _HTMLReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            raise TelegramHTMLError(f"unsupported start tag <{tag}>")
        self.open.append(tag)
        self.tags.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise TelegramHTMLError(f"unsupported self-closing tag <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise TelegramHTMLError(f"unmatched end tag </{tag}>")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def unknown_decl(self, data: str) -> None:
        raise TelegramHTMLError(f"unsupported declaration {data!r}")

    def handle_decl(self, decl: str) -> None:
        raise TelegramHTMLError(f"unsupported declaration {decl!r}")

    def handle_comment(self, data: str) -> None:
        raise TelegramHTMLError("comments are not supported")


@dataclass(frozen=True, slots=True)
class ParsedHTML:
    text: str  # what the person sees, entities decoded
    tags: list[str]  # every tag used, in order


def parse_telegram_html(markup: str) -> ParsedHTML:
    """The text of a parse_mode=HTML message, or TelegramHTMLError where Telegram says "can't parse
    entities": unknown tags, unbalanced tags, a bare "&", a "<" or ">" that is not part of a tag."""
    bad = _BAD_AMPERSAND.search(markup)
    if bad:
        raise TelegramHTMLError(f"bare '&' at {bad.start()}: {markup[max(bad.start() - 20, 0):bad.start() + 20]!r}")
    without_tags = re.sub(r"</?[a-z][a-z-]*(?:\s[^<>]*)?>", "", markup)
    if "<" in without_tags or ">" in without_tags:
        raise TelegramHTMLError("a '<' or '>' outside a tag")
    reader = _HTMLReader()
    reader.feed(markup)
    reader.close()
    if reader.open:
        raise TelegramHTMLError(f"unclosed tags {reader.open}")
    return ParsedHTML("".join(reader.text), reader.tags)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units (entity offsets are counted so): an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


# --- the fake API -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentMessage:
    message_id: int
    params: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def buttons(self) -> list[dict[str, Any]]:
        markup = self.params.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]


class RecordingRequest(BaseRequest):
    """Answers Bot API calls locally and records them as (method, parameters).

    `forbidden_chats`: chats that have blocked the bot; sending there gets Telegram's 403.
    """

    ANSWERS_TRUE = frozenset({"editMessageReplyMarkup", "answerCallbackQuery", "setMyCommands", "deleteWebhook",
                              "setWebhook", "setChatMenuButton"})

    def __init__(self, token: str = FAKE_TOKEN, *, file_bytes: bytes = JPEG_BYTES, document_bytes: bytes = PDF_BYTES,
                 forbidden_chats: frozenset[int] = frozenset()) -> None:
        self.token = token
        self.file_bytes = file_bytes  # photos
        self.document_bytes = document_bytes  # documents (file ids "doc-…", served from documents/)
        self.forbidden_chats = forbidden_chats
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.messages: list[SentMessage] = []  # sendMessage calls that Telegram would have accepted
        self.downloads: list[str] = []
        self.refused: list[str] = []  # PTB wraps our exception in a NetworkError: tests check this list
        self.rejected: list[str] = []  # calls answered with a 400, as Telegram would
        self._message_ids = count(1000)
        self._api = f"https://api.telegram.org/bot{token}/"
        self._files = f"https://api.telegram.org/file/bot{token}/"

    # --- BaseRequest ----------------------------------------------------------------------------

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if unquote(url).startswith(self._files):  # PTB percent-encodes the path: the token's ":" is "%3A"
            if method != "GET":
                return self._refuse(f"{method} of a file URL")
            path = unquote(url)[len(self._files):]
            self.downloads.append(path)
            return 200, self.document_bytes if path.startswith("documents/") else self.file_bytes
        if not url.startswith(self._api):
            where = urlsplit(url)
            return self._refuse(f"{method} {where.scheme}://{where.netloc}/…: not under the fake token")
        api_method = url[len(self._api):].rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append((api_method, params))
        if api_method == "sendMessage":
            return self._send_message(params)
        result = self._answer(api_method, params)
        if result is None:
            return self._refuse(f"unknown Bot API method {api_method!r}")
        return self._ok(result)

    # --- answers --------------------------------------------------------------------------------

    @staticmethod
    def _ok(result: Any) -> tuple[int, bytes]:
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _error(self, code: int, description: str) -> tuple[int, bytes]:
        self.rejected.append(description)
        return code, json.dumps({"ok": False, "error_code": code, "description": description}).encode()

    def _refuse(self, why: str) -> tuple[int, bytes]:
        self.refused.append(why)
        raise RefusedRequestError(why)

    def _send_message(self, params: dict[str, Any]) -> tuple[int, bytes]:
        chat_id = int(params["chat_id"])
        if chat_id in self.forbidden_chats:
            return self._error(403, "Forbidden: bot was blocked by the user")
        text = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            try:
                text = parse_telegram_html(text).text
            except TelegramHTMLError as exc:
                return self._error(400, f"Bad Request: can't parse entities: {exc}")
        if not text.strip():
            return self._error(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            return self._error(400, "Bad Request: message is too long")
        markup = params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if len(str(button.get("callback_data", "")).encode()) > MAX_CALLBACK_BYTES:
                    return self._error(400, "Bad Request: BUTTON_DATA_INVALID")
        message_id = next(self._message_ids)
        self.messages.append(SentMessage(message_id, params))
        return self._ok({
            "message_id": message_id,
            "date": DATE,
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
            "text": params.get("text", ""),
        })

    def _answer(self, api_method: str, params: dict[str, Any]) -> Any:
        if api_method == "getMe":
            return BOT_USER
        if api_method in self.ANSWERS_TRUE:
            return True
        if api_method == "getFile":
            file_id = str(params["file_id"])
            if file_id.startswith("doc-"):
                return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(self.document_bytes),
                        "file_path": f"documents/{file_id}"}
            return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(self.file_bytes),
                    "file_path": "photos/x.jpg"}
        return None

    # --- what was asked -------------------------------------------------------------------------

    def sent(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call of one Bot API method, in order (rejected ones included)."""
        return [params for name, params in self.calls if name == method]

    def sent_texts(self) -> list[str]:
        return [str(p["text"]) for p in self.sent("sendMessage")]

    def methods(self) -> list[str]:
        return [name for name, _ in self.calls]

    def last_keyboard(self) -> list[dict[str, Any]]:
        """The buttons (text, callback_data) of the last message that had any."""
        for message in reversed(self.messages):
            if message.buttons:
                return message.buttons
        return []

    def last_callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.last_keyboard()]

    def all_callback_data(self) -> list[str]:
        return [str(p.get("callback_data")) for params in self.sent("sendMessage")
                for row in (params.get("reply_markup") or {}).get("inline_keyboard", []) for p in row]


# --- incoming updates ---------------------------------------------------------------------------


def _user(user_id: int, first_name: str, language_code: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    return user


def _chat(user_id: int, first_name: str) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": first_name}


def _message(message_id: int, user_id: int, first_name: str, language_code: str | None) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "date": DATE,
        "chat": _chat(user_id, first_name),
        "from": _user(user_id, first_name, language_code),
    }


def _with_text(message: dict[str, Any], text: str) -> dict[str, Any]:
    message["text"] = text
    if text.startswith("/"):  # Telegram marks a command so that filters.COMMAND sees it
        command = text.split(" ", 1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]
    return message


def text_update(update_id: int, user_id: int, text: str, first_name: str = "Nguyễn Thị Hoa",
                language_code: str | None = "vi", *, bot: Bot) -> Update:
    """A private text message; "/command ..." carries a bot_command entity, as Telegram sends it."""
    message = _with_text(_message(update_id, user_id, first_name, language_code), text)
    return Update.de_json({"update_id": update_id, "message": message}, bot)


def edited_text_update(update_id: int, user_id: int, message_id: int, text: str, first_name: str = "Nguyễn Thị Hoa",
                       *, bot: Bot) -> Update:
    """The person edited an earlier message of theirs (`message_id`) to read `text`."""
    message = _with_text(_message(message_id, user_id, first_name, "vi"), text)
    message["edit_date"] = DATE + 60
    return Update.de_json({"update_id": update_id, "edited_message": message}, bot)


def callback_update(update_id: int, user_id: int, data: str, message_id: int, first_name: str = "Nguyễn Thị Hoa",
                    language_code: str | None = "vi", *, bot: Bot) -> Update:
    """A press of an inline button under the bot's message `message_id`."""
    query = {
        "id": f"cq-{update_id}",
        "from": _user(user_id, first_name, language_code),
        "chat_instance": f"ci-{user_id}",
        "data": data,
        "message": {
            "message_id": message_id,
            "date": DATE,
            "chat": _chat(user_id, first_name),
            "from": BOT_USER,
            "text": "…",
        },
    }
    return Update.de_json({"update_id": update_id, "callback_query": query}, bot)


def photo_update(update_id: int, user_id: int, file_size: int, first_name: str = "Nguyễn Thị Hoa",
                 language_code: str | None = "vi", *, bot: Bot) -> Update:
    """A photo in the sizes Telegram sends: a thumbnail, then the full picture (the last one)."""
    message = _message(update_id, user_id, first_name, language_code)
    message["photo"] = [
        {"file_id": f"thumb-{update_id}", "file_unique_id": f"tu{update_id}", "width": 90, "height": 68,
         "file_size": min(file_size, 1500)},
        {"file_id": f"photo-{update_id}", "file_unique_id": f"pu{update_id}", "width": 1280, "height": 960,
         "file_size": file_size},
    ]
    return Update.de_json({"update_id": update_id, "message": message}, bot)


def document_update(update_id: int, user_id: int, file_name: str, mime_type: str, file_size: int,
                    first_name: str = "Nguyễn Thị Hoa", language_code: str | None = "vi", *, bot: Bot) -> Update:
    message = _message(update_id, user_id, first_name, language_code)
    message["document"] = {"file_id": f"doc-{update_id}", "file_unique_id": f"du{update_id}", "file_name": file_name,
                           "mime_type": mime_type, "file_size": file_size}
    return Update.de_json({"update_id": update_id, "message": message}, bot)


def sticker_update(update_id: int, user_id: int, first_name: str = "Nguyễn Thị Hoa", *, bot: Bot) -> Update:
    """Something the bot does not read."""
    message = _message(update_id, user_id, first_name, "vi")
    message["sticker"] = {"file_id": "st", "file_unique_id": "stu", "width": 512, "height": 512, "is_animated": False,
                          "is_video": False, "type": "regular"}
    return Update.de_json({"update_id": update_id, "message": message}, bot)


class LoopbackBotAPI:
    """A minimal Bot API over HTTP on 127.0.0.1 (what `[telegram] base_url` would point at): getMe, getUpdates
    (nothing new, after a short wait, for long polling), the calls made at start and stop, and sendMessage, each
    recorded as (method, parameters). Only FAKE_TOKEN is known: another token gets 401."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> LoopbackBotAPI:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._call)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        host, port = self.runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/bot"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]

    async def _call(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != FAKE_TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = {k: str(v) for k, v in (await request.post()).items()}
        self.calls.append((method, params))
        result: Any = True
        if method == "getMe":
            result = BOT_USER
        elif method == "getUpdates":
            await asyncio.sleep(0.05)
            result = []
        elif method == "sendMessage":
            result = {"message_id": len(self.calls), "date": 1_722_560_400, "text": params.get("text", ""),
                      "chat": {"id": int(params["chat_id"]), "type": "private"}, "from": BOT_USER}
        return web.json_response({"ok": True, "result": result})
