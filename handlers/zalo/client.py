"""A small async client for the Zalo Bot Platform API, on httpx.

Every method is `POST https://bot-api.zaloplatforms.com/bot<TOKEN>/<method>` with a JSON body, and
every answer is `{ok, result, description, error_code}`. A 429 ("quota exceeded") or a 5xx answer,
and a connection that could not be made, are retried with exponential backoff (a Retry-After header
wins); what is left becomes one of the named errors below, each a subclass of the error the outbox
sender already handles (bot/channels.py): 429 -> RetryAfterError, 403 -> BlockedError, 408/5xx and
network faults -> TransientError, anything else -> SendError.

A send is the exception to the retries: once its request has left, a 5xx answer or a time-out while
waiting may hide a delivered message, and Zalo has no idempotency key. Such a send is not retried here
and raises UncertainDeliveryError, as on Telegram, so the outbox sender decides per kind of message
(scheduler/sender.py). A connection that could not be made is still retried: nothing left.

The token is part of every URL, so it is kept out of sight: it is not in repr(), not in any error
message, and httpx's own request log lines have it replaced by "<token>".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bot.channels import (
    BlockedError,
    FetchFailedError,
    FileTooLargeError,
    RetryAfterError,
    SendError,
    TransientError,
    UncertainDeliveryError,
)
from bot.config import ZALO_API_BASE, ZALO_SECRET_MAX, ZALO_SECRET_MIN

log = logging.getLogger(__name__)

API_BASE = ZALO_API_BASE  # [zalo] api_base_url changes it
MAX_TEXT = 2000  # sendMessage: 1 to 2000 characters
SECRET_MIN, SECRET_MAX = ZALO_SECRET_MIN, ZALO_SECRET_MAX  # setWebhook's secret_token
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendSticker", "sendChatAction"})


# --- errors -------------------------------------------------------------------------------------


class ZaloError(SendError):
    """An answer with ok = false (or no answer at all). Never carries the token."""

    def __init__(self, method: str, error_code: int | None, description: str) -> None:
        # Not super(): in the subclasses the next class is RetryAfterError or BlockedError, whose
        # constructors take other arguments.
        Exception.__init__(self, f"Zalo {method}: {error_code or '-'} {description}".strip())
        self.method, self.error_code, self.description = method, error_code, description


class ZaloBadRequestError(ZaloError):
    """400: a wrong parameter (an empty or too long text, an unknown chat)."""


class ZaloUnauthorizedError(ZaloError):
    """401: the token is wrong or was revoked."""


class ZaloForbiddenError(ZaloError, BlockedError):
    """403: the bot may not write to this person (taken as "blocked" by the outbox sender)."""


class ZaloNotFoundError(ZaloError):
    """404."""


class ZaloTimeoutError(ZaloError, TransientError):
    """408: for getUpdates simply "nothing arrived"; elsewhere a passing fault."""


class ZaloServerError(ZaloError, TransientError):
    """5xx, after the retries."""


class ZaloNetworkError(ZaloError, TransientError):
    """No answer: the connection failed or timed out."""


class ZaloUncertainServerError(ZaloServerError, UncertainDeliveryError):
    """A send answered with a 5xx: Zalo may have delivered it (not retried)."""


class ZaloUncertainNetworkError(ZaloNetworkError, UncertainDeliveryError):
    """A send whose request left but whose answer never came (a time-out, a broken read): maybe delivered."""


class ZaloQuotaExceededError(ZaloError, RetryAfterError):
    """429, after the retries: the outbox sender waits `seconds` and tries again."""

    def __init__(self, method: str, error_code: int | None, description: str, seconds: float) -> None:
        ZaloError.__init__(self, method, error_code, description)
        self.seconds = seconds


_BY_CODE: dict[int, type[ZaloError]] = {
    400: ZaloBadRequestError, 401: ZaloUnauthorizedError, 403: ZaloForbiddenError, 404: ZaloNotFoundError,
    408: ZaloTimeoutError,
}


# --- the token never reaches a log ----------------------------------------------------------------


class _TokenRedactor(logging.Filter):
    """Replaces known tokens in records of the loggers it is attached to (httpx logs every URL)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is not ours to fix
            return True
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "<token>")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_REDACTOR = _TokenRedactor()
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(_REDACTOR)


# --- pacing ---------------------------------------------------------------------------------------


class Pacer:
    """At most `per_second` sends per second for this bot (Zalo publishes no rate: keep it configurable)."""

    def __init__(self, per_second: float | None, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.gap = 1.0 / per_second if per_second else 0.0
        self.monotonic, self.sleep = monotonic, sleep
        self._next = -1e18
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if self.gap <= 0:
            return
        async with self._lock:
            delay = self._next - self.monotonic()
            if delay > 0:
                await self.sleep(delay)
            self._next = max(self.monotonic(), self._next) + self.gap


class DownloadTooLargeError(FileTooLargeError):
    """The file is over the cap; `size` is its stated size, or what had arrived when it was dropped."""


class DownloadFailedError(FetchFailedError):
    """The file could not be fetched (a bad URL, an error status, a network fault)."""


# --- the client -----------------------------------------------------------------------------------


class ZaloClient:
    def __init__(
        self,
        token: str,
        *,
        base_url: str = API_BASE,
        http: httpx.AsyncClient | None = None,
        timeout: float = 20.0,
        max_retries: int = 3,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        messages_per_second: float | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not token:
            raise ValueError("no Zalo bot token")
        self._token = token
        _REDACTOR.secrets.add(token)
        self.base_url = base_url.rstrip("/")
        self._http = http or httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._owns_http = http is None
        self.timeout = timeout
        self.max_retries, self.backoff, self.max_backoff = max_retries, backoff, max_backoff
        self.sleep = sleep
        self.pacer = Pacer(messages_per_second, monotonic=monotonic, sleep=sleep)

    def __repr__(self) -> str:
        return f"ZaloClient(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> ZaloClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- one call -------------------------------------------------------------------------------

    def _url(self, method: str) -> str:
        return f"{self.base_url}/bot{self._token}/{method}"

    async def call(self, method: str, params: dict[str, Any] | None = None, *,
                   timeout: float | None = None) -> Any:
        """The `result` of one method, retried on 429, 5xx and failed connections; else a ZaloError."""
        if method in SEND_METHODS:
            await self.pacer.wait()
        attempt = 0
        while True:
            try:
                response = await self._http.post(self._url(method), json=params or {},
                                                 timeout=timeout or self.timeout)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never left: trying again cannot send a message twice.
                if attempt < self.max_retries:
                    await self.sleep(self._delay(attempt, None))
                    attempt += 1
                    continue
                raise ZaloNetworkError(method, None, type(exc).__name__) from None
            except httpx.HTTPError as exc:
                uncertain = method in SEND_METHODS  # the request may have reached Zalo
                raise (ZaloUncertainNetworkError if uncertain else ZaloNetworkError)(
                    method, None, type(exc).__name__) from None
            body = _json(response)
            if response.status_code < 400 and body.get("ok") is True:
                return body.get("result")
            code = _int(body.get("error_code")) or (response.status_code if response.status_code >= 400 else None)
            description = str(body.get("description") or response.reason_phrase or "error")[:300]
            if code in RETRY_STATUSES or (code is not None and code >= 500):
                asked = _retry_after(response, body)
                delay = self._delay(attempt, asked)
                if code != 429 and method in SEND_METHODS:
                    raise ZaloUncertainServerError(method, code, description)  # maybe delivered: no blind retry
                if code == 429 and asked is not None and asked > self.max_backoff:
                    # A long wait is not sat out inside one call: the caller (outbox, poller) waits it.
                    raise ZaloQuotaExceededError(method, code, description, asked)
                if attempt < self.max_retries:
                    log.info("Zalo %s answered %s; retrying in %.2f s", method, code, delay)
                    await self.sleep(delay)
                    attempt += 1
                    continue
                if code == 429:
                    raise ZaloQuotaExceededError(method, code, description, delay)
                raise ZaloServerError(method, code, description)
            raise _BY_CODE.get(code or 0, ZaloError)(method, code, description)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        return min(self.backoff * 2 ** attempt, self.max_backoff)

    # --- the methods ----------------------------------------------------------------------------

    async def get_me(self) -> dict[str, Any]:
        return await self.call("getMe")

    async def get_updates(self, timeout: int = 30) -> dict[str, Any] | None:
        """One update, or None when nothing arrived within `timeout` seconds (Zalo answers 408 then)."""
        try:
            result = await self.call("getUpdates", {"timeout": str(timeout)}, timeout=timeout + 10)
        except ZaloTimeoutError:
            return None
        return result or None

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        if not SECRET_MIN <= len(secret_token) <= SECRET_MAX:
            raise ValueError(f"the webhook secret must be {SECRET_MIN} to {SECRET_MAX} characters long")
        if not url.startswith("https://"):
            raise ValueError("the webhook URL must start with https://")
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def get_webhook_info(self) -> Any:
        return await self.call("getWebhookInfo")

    async def send_message(self, chat_id: str, text: str) -> Any:
        if not 1 <= len(text) <= MAX_TEXT:
            raise ValueError(f"a Zalo message has 1 to {MAX_TEXT} characters, not {len(text)}")
        return await self.call("sendMessage", {"chat_id": str(chat_id), "text": text})

    async def send_photo(self, chat_id: str, photo_url: str, caption: str | None = None) -> Any:
        params: dict[str, Any] = {"chat_id": str(chat_id), "photo": photo_url}
        if caption:
            params["caption"] = caption[:MAX_TEXT]
        return await self.call("sendPhoto", params)

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> Any:
        return await self.call("sendChatAction", {"chat_id": str(chat_id), "action": action})

    # --- files people send ------------------------------------------------------------------------

    async def download(self, url: str, max_bytes: int) -> bytes:
        """GET a photo Zalo gave us by URL, refusing it as soon as it is known to exceed `max_bytes`. Its
        Content-Type is not read: what the file is, is read from its bytes (bot/uploads.py)."""
        if not url.lower().startswith(("https://", "http://")):
            raise DownloadFailedError("not an http(s) URL")
        try:
            async with self._http.stream("GET", url, timeout=self.timeout, follow_redirects=True) as response:
                if response.status_code != 200:
                    raise DownloadFailedError(f"status {response.status_code}")
                declared = _int(response.headers.get("Content-Length"))
                if declared is not None and declared > max_bytes:
                    raise DownloadTooLargeError(declared)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise DownloadTooLargeError(size)
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise DownloadFailedError(type(exc).__name__) from None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: httpx.Response, body: dict[str, Any]) -> float | None:
    """How long the server asks us to wait: the Retry-After header, else `retry_after` in the body (at the
    top or under `parameters`, as the Bot APIs put it); None when it says nothing usable."""
    parameters = body.get("parameters")
    for raw in (response.headers.get("Retry-After"), body.get("retry_after"),
                parameters.get("retry_after") if isinstance(parameters, dict) else None):
        if raw is None:
            continue
        try:
            seconds = float(raw)
        except (TypeError, ValueError):
            continue
        if 0 <= seconds < 86_400:  # NaN, negative or absurd values are not a wait
            return seconds
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
