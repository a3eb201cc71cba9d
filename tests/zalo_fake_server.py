"""A fake Zalo Bot Platform API on loopback HTTP, for the project's own tests.

It speaks the protocol as documented: `POST /bot<TOKEN>/<method>` with a JSON body (GET with query
parameters works too), answers `{ok, result}` or `{ok: false, error_code, description}`, and
records every call. It refuses a wrong token (401), a sendMessage whose text is empty or over 2000
characters (400), a setWebhook whose secret_token is not 8 to 256 characters (400), and getUpdates
while a webhook is set. Chats in `blocked_chats` get 403 on every send.

getUpdates returns ONE update per call, with no offset, from a queue a test fills with `queue()`;
when nothing is queued it waits (at most `max_wait` seconds, to keep tests short) and answers with
error 408, as Zalo does when a long poll ends empty. `fail_next()` makes the next calls of a method
answer with an error (429 quota exceeded, 5xx...); `answer_late()` makes the next calls of a method do
their work (a message is delivered) but hold the answer back, as a slow network would. `add_photo()` serves bytes at a URL on the same
server, as Zalo's CDN would serve a photo someone sent; `deliver()` plays Zalo calling the bot's
webhook. sendPhoto fetches the photo URL it is given (loopback only), as Zalo would, and records
what it got.

Everything listens on 127.0.0.1 and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiohttp import web

FAKE_TOKEN = "4242:ZALO-TEST-not-real"
DATE_MS = 1_722_560_400_000  # 2024-08-02 08:00 +07:00, the tests' clock, as Zalo's epoch milliseconds
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
MAX_TEXT = 2000
BOT_INFO = {"id": "4242", "account_name": "bot.CongDoan", "account_type": "BASIC",
            "can_join_groups": False}
LOOPBACK = "127.0.0.1"
METHODS = {"getMe": "get_me", "getUpdates": "get_updates", "setWebhook": "set_webhook", "deleteWebhook": "delete_webhook",
           "getWebhookInfo": "get_webhook_info", "sendMessage": "send_message", "sendPhoto": "send_photo",
           "sendChatAction": "send_chat_action"}

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    params: dict[str, Any]
    status: int  # the HTTP status the fake answered with


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    status: int
    content_type: str | None
    size: int


class FakeZaloServer:
    def __init__(self, token: str = FAKE_TOKEN, *, max_wait: float = 0.2) -> None:
        self.token = token
        self.max_wait = max_wait
        self.calls: list[Call] = []
        self.rejected: list[str] = []  # calls answered with an error the bot caused (400, 401)
        self.updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.failures: dict[str, deque[tuple[int, str, dict[str, str], dict[str, Any]]]] = {}
        self.late: dict[str, deque[float]] = {}  # per method: seconds to hold back the next answers
        self.blocked_chats: set[str] = set()
        self.photos: dict[str, tuple[bytes, str, bool]] = {}
        self.photo_requests: list[str] = []
        self.fetched: list[Fetched] = []  # what sendPhoto fetched from the URLs it was given
        self.webhook: dict[str, Any] | None = None
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    # --- life cycle -----------------------------------------------------------------------------

    async def start(self) -> FakeZaloServer:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/photos/{name}", self._photo)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, LOOPBACK, 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def __aenter__(self) -> FakeZaloServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- what a test arranges -------------------------------------------------------------------

    def queue(self, update: dict[str, Any]) -> None:
        """One update for a later getUpdates (one per call, in order)."""
        self.updates.put_nowait(update)

    def fail_next(self, method: str, code: int, times: int = 1, description: str | None = None,
                  headers: dict[str, str] | None = None, body: dict[str, Any] | None = None) -> None:
        """`body`: more keys in the error's JSON, e.g. {"parameters": {"retry_after": 5}}."""
        text = description or {429: "Quota exceeded", 403: "Forbidden", 500: "Internal server error",
                               502: "Bad gateway", 503: "Service unavailable"}.get(code, "Error")
        queue = self.failures.setdefault(method, deque())
        for _ in range(times):
            queue.append((code, text, headers or {}, body or {}))

    def answer_late(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `method` are carried out, then answered only after `seconds`."""
        self.late.setdefault(method, deque()).extend([seconds] * times)

    def add_photo(self, name: str, content: bytes = JPEG_BYTES, content_type: str = "image/jpeg", *,
                  declare_length: bool = True) -> str:
        """Serve `content` at a URL on this server; the URL is returned."""
        self.photos[name] = (content, content_type, declare_length)
        return f"{self.base_url}/photos/{name}"

    async def deliver(self, url: str, update: dict[str, Any], *, secret: str | None, wrapped: bool = True,
                      raw: bytes | None = None) -> httpx.Response:
        """POST an update to the bot's webhook as Zalo does (`wrapped`: {ok, result: update})."""
        if urlsplit(url).hostname != LOOPBACK:
            raise ValueError(f"the fake only calls loopback addresses, not {url}")
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Bot-Api-Secret-Token"] = secret
        body = raw if raw is not None else json.dumps({"ok": True, "result": update} if wrapped else update).encode()
        async with httpx.AsyncClient(timeout=5) as http:
            return await http.post(url, content=body, headers=headers)

    # --- what a test reads ----------------------------------------------------------------------

    def sent(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call of one method, in order (refused ones included)."""
        return [c.params for c in self.calls if c.method == method]

    def accepted(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method and c.status == 200]

    def texts(self, chat_id: str | None = None) -> list[str]:
        """Texts of the accepted sendMessage calls (to one chat)."""
        return [str(p["text"]) for p in self.accepted("sendMessage") if chat_id is None or p["chat_id"] == chat_id]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    # --- the API ----------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return self._error(method, params, 400, "Bad request: body is not JSON")
            if isinstance(body, dict):
                params.update(body)
        if request.match_info["token"] != self.token:
            return self._error(method, params, 401, "Unauthorized")
        queued = self.failures.get(method)
        if queued:
            code, text, headers, extra = queued.popleft()
            return self._error(method, params, code, text, headers=headers, bot_fault=False, extra=extra)
        handler = getattr(self, f"_m_{METHODS[method]}", None) if method in METHODS else None
        if handler is None:
            return self._error(method, params, 404, f"Not found: unknown method {method}")
        response: web.Response = await handler(method, params)
        late = self.late.get(method)
        if late:
            await asyncio.sleep(late.popleft())  # done (delivered), but the answer is held back
        return response

    def _ok(self, method: str, params: dict[str, Any], result: Any) -> web.Response:
        self.calls.append(Call(method, params, 200))
        return web.json_response({"ok": True, "result": result})

    def _error(self, method: str, params: dict[str, Any], code: int, description: str, *,
               headers: dict[str, str] | None = None, bot_fault: bool = True, status: int | None = None,
               extra: dict[str, Any] | None = None) -> web.Response:
        self.calls.append(Call(method, params, status or code))
        if bot_fault and code in (400, 401, 404):
            self.rejected.append(f"{method}: {description}")
        return web.json_response({"ok": False, "error_code": code, "description": description, **(extra or {})},
                                 status=status or code, headers=headers)

    def _sent(self, method: str, params: dict[str, Any]) -> web.Response:
        return self._ok(method, params, {"message_id": f"{next(_ids):020x}", "date": DATE_MS})

    def _chat(self, method: str, params: dict[str, Any]) -> web.Response | None:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, str) or not chat_id:
            return self._error(method, params, 400, "Bad request: chat_id is required (a string)")
        if chat_id in self.blocked_chats:
            return self._error(method, params, 403, "Forbidden: the user cannot receive messages from this bot",
                               bot_fault=False)
        return None

    async def _m_get_me(self, method: str, params: dict[str, Any]) -> web.Response:
        return self._ok(method, params, BOT_INFO)

    async def _m_get_updates(self, method: str, params: dict[str, Any]) -> web.Response:
        if self.webhook is not None:
            return self._error(method, params, 400, "Bad request: getUpdates is not available while a webhook is set")
        try:
            wait = min(float(params.get("timeout", 30)), self.max_wait)
        except (TypeError, ValueError):
            return self._error(method, params, 400, "Bad request: timeout")
        try:
            update = await asyncio.wait_for(self.updates.get(), timeout=wait)
        except TimeoutError:
            # A long poll that ends empty: Zalo's "408 Request timeout", in the body of a 200 answer.
            return self._error(method, params, 408, "Request timeout", bot_fault=False, status=200)
        return self._ok(method, params, update)

    async def _m_set_webhook(self, method: str, params: dict[str, Any]) -> web.Response:
        url, secret = params.get("url"), params.get("secret_token")
        if not isinstance(url, str) or not url.startswith("https://"):
            return self._error(method, params, 400, "Bad request: url must be https")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            return self._error(method, params, 400, "Bad request: secret_token must have 8 to 256 characters")
        self.webhook = {"url": url, "secret_token": secret, "updated_at": DATE_MS}
        return self._ok(method, params, {"url": url, "updated_at": DATE_MS})

    async def _m_delete_webhook(self, method: str, params: dict[str, Any]) -> web.Response:
        self.webhook = None
        return self._ok(method, params, {"url": "", "updated_at": DATE_MS})

    async def _m_get_webhook_info(self, method: str, params: dict[str, Any]) -> web.Response:
        url = self.webhook["url"] if self.webhook else ""
        return self._ok(method, params, {"url": url, "updated_at": DATE_MS})

    async def _m_send_message(self, method: str, params: dict[str, Any]) -> web.Response:
        refused = self._chat(method, params)
        if refused is not None:
            return refused
        text = params.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT:
            length = len(text) if isinstance(text, str) else None
            return self._error(method, params, 400, f"Bad request: text must have 1 to 2000 characters ({length})")
        return self._sent(method, params)

    async def _m_send_photo(self, method: str, params: dict[str, Any]) -> web.Response:
        refused = self._chat(method, params)
        if refused is not None:
            return refused
        photo, caption = params.get("photo"), params.get("caption")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            return self._error(method, params, 400, "Bad request: photo must be a URL")
        if caption is not None and (not isinstance(caption, str) or len(caption) > MAX_TEXT):
            return self._error(method, params, 400, "Bad request: caption too long")
        await self._fetch(photo)
        return self._sent(method, params)

    async def _m_send_chat_action(self, method: str, params: dict[str, Any]) -> web.Response:
        refused = self._chat(method, params)
        if refused is not None:
            return refused
        self.calls.append(Call(method, params, 200))
        return web.json_response({"ok": True})

    async def _fetch(self, url: str) -> None:
        """What Zalo does with a sendPhoto URL: fetch it (here only on loopback)."""
        if urlsplit(url).hostname != LOOPBACK:
            self.fetched.append(Fetched(url, 0, None, 0))
            return
        async with httpx.AsyncClient(timeout=5) as http:
            response = await http.get(url)
        self.fetched.append(Fetched(url, response.status_code, response.headers.get("Content-Type"),
                                    len(response.content)))

    async def _photo(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.photo_requests.append(name)
        if name not in self.photos:
            return web.Response(status=404)
        content, content_type, declare_length = self.photos[name]
        if declare_length:
            return web.Response(body=content, content_type=content_type)
        response = web.StreamResponse(headers={"Content-Type": content_type})  # chunked: no Content-Length
        await response.prepare(request)
        for i in range(0, len(content), 64 * 1024):
            await response.write(content[i:i + 64 * 1024])
        await response.write_eof()
        return response


# --- updates as Zalo sends them -------------------------------------------------------------------


def message(user_id: str, *, name: str = "Nguyễn Thị Hoa", message_id: str | None = None,
            chat_type: str = "PRIVATE", **content: Any) -> dict[str, Any]:
    return {
        "from": {"id": user_id, "display_name": name, "is_bot": False},
        "chat": {"id": user_id, "chat_type": chat_type},
        "message_id": message_id or f"{next(_ids):020x}",
        "date": DATE_MS,
        **content,
    }


def text_update(user_id: str, text: str, **kw: Any) -> dict[str, Any]:
    return {"event_name": "message.text.received", "message": message(user_id, text=text, **kw)}


def image_update(user_id: str, photo_url: str, caption: str | None = None, **kw: Any) -> dict[str, Any]:
    content: dict[str, Any] = {"photo": photo_url}
    if caption is not None:
        content["caption"] = caption
    return {"event_name": "message.image.received", "message": message(user_id, **content, **kw)}


def sticker_update(user_id: str, **kw: Any) -> dict[str, Any]:
    return {"event_name": "message.sticker.received",
            "message": message(user_id, sticker="0e078a2fb66a5f34067b", **kw)}


def unsupported_update(user_id: str, **kw: Any) -> dict[str, Any]:
    return {"event_name": "message.unsupported.received", "message": message(user_id, **kw)}
