"""The Zalo channel's web side and its loop: the webhook endpoint, the signed-file endpoint, and the
long-polling alternative, on aiohttp. The API's address is [zalo] api_base_url (the public server by default).

Webhook: every request must carry X-Bot-Api-Secret-Token equal to the secret given to setWebhook;
a wrong or missing one gets 403 before the body is read, and nothing is processed. A good request
is answered at once and its update handled in the background, updates of one chat strictly one
after another (so "2" then "40" are read in that order) and different chats side by side.

Long polling: getUpdates returns one update per call, with no offset; each one goes through the
same dispatcher. The two modes exclude each other on Zalo's side, so polling starts by deleting the
webhook.

`ZaloService` puts it together for the command line: start() and stop() next to python-telegram-
bot's Application in one event loop.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from aiohttp import web

from bot.channels import RetryAfterError, SendError
from bot.config import ZALO_TOKEN_ENV, Config, ZaloConfig, check_api_url, check_zalo_channel
from bot.i18n import N_, Translator, translator
from bot.port import Port
from handlers.web.server import WebServer
from handlers.zalo.adapter import FILES_PATH, FileLinks, ZaloAdapter, parse_update
from handlers.zalo.client import API_BASE, ZaloClient, ZaloUnauthorizedError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
WEBHOOK_PATH = "/zalo/webhook"

DISPATCHER_KEY = web.AppKey("zalo_dispatcher", object)
SECRET_KEY = web.AppKey("zalo_secret", str)
LINKS_KEY = web.AppKey("zalo_links", object)
TRANSLATOR_KEY = web.AppKey("zalo_translator", Translator)

LINK_REFUSED = N_("This link is not valid or has expired.")


@dataclass(frozen=True, slots=True)
class ZaloSettings:
    """What the [zalo] section of config.toml and the environment give this channel (see `from_config`),
    plus where the API is and how long a poll waits, which tests change. Checked by the same rules as the
    section (bot.config.check_zalo_channel)."""

    token: str  # ZALO_BOT_TOKEN
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""  # https://.../zalo/webhook, in webhook mode
    secret: str | None = None  # ZALO_WEBHOOK_SECRET, 8 to 256 characters, in webhook mode
    listen: str = "127.0.0.1"
    port: int = 8444
    shared_port: bool = False  # SO_REUSEPORT: several bot processes on one port
    public_base_url: str = ""  # https://... that reaches this server: file links start with it
    messages_per_second: float = 5.0
    link_lifetime: timedelta = timedelta(hours=24)
    api_base: str = API_BASE
    poll_timeout: int = 30

    def __post_init__(self) -> None:
        check_zalo_channel(token=self.token, mode=self.mode, webhook_url=self.webhook_url, secret=self.secret)
        if not check_api_url(self.api_base):
            raise ValueError("api_base: the Zalo Bot API's address is empty")

    @classmethod
    def from_config(cls, zalo: ZaloConfig, **overrides: Any) -> ZaloSettings:
        """The settings of a loaded [zalo] section; `overrides` replace single fields (api_base, port...)."""
        fields: dict[str, Any] = {
            "token": zalo.token.get_secret_value() if zalo.token else "",
            "mode": zalo.mode,
            "webhook_url": zalo.webhook_url,
            "secret": zalo.webhook_secret.get_secret_value() if zalo.webhook_secret else None,
            "listen": zalo.listen,
            "port": zalo.port,
            "shared_port": zalo.shared_port,
            "public_base_url": zalo.public_base_url,
            "messages_per_second": zalo.messages_per_second,
            "link_lifetime": timedelta(hours=zalo.link_lifetime_hours),
            "api_base": zalo.api_base_url,
        }
        return cls(**(fields | overrides))

    @property
    def webhook_path(self) -> str:
        path = urlsplit(self.webhook_url).path.rstrip("/")
        return path or WEBHOOK_PATH


# --- dispatching ----------------------------------------------------------------------------------


class Dispatcher:
    """Runs updates in the background: one chat in order, chats side by side. `join()` waits for all."""

    def __init__(self, handle: Callable[[Any], Awaitable[None]]) -> None:
        self.handle = handle
        self.tasks: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    def submit(self, body: Any) -> asyncio.Task[None]:
        message = parse_update(body)
        key = message.chat_id if message else "?"
        self._waiting[key] = self._waiting.get(key, 0) + 1
        lock = self._locks.setdefault(key, asyncio.Lock())
        task = asyncio.create_task(self._run(key, lock, body))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _run(self, key: str, lock: asyncio.Lock, body: Any) -> None:
        try:
            async with lock:
                await self.handle(body)
        except Exception:
            log.exception("a Zalo update failed")
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                self._locks.pop(key, None)

    async def join(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


# --- the web endpoint ---------------------------------------------------------------------------


def build_web_app(*, dispatcher: Dispatcher | None = None, secret: str | None = None,
                  webhook_path: str = WEBHOOK_PATH, links: FileLinks | None = None,
                  t: Translator | None = None) -> web.Application:
    """The webhook (when a dispatcher and secret are given) and the signed-file endpoint (when links are);
    `t` speaks to whoever opens a bad file link (default: Vietnamese)."""
    app = web.Application(client_max_size=1024 * 1024)
    add_routes(app, dispatcher=dispatcher, secret=secret, webhook_path=webhook_path, links=links, t=t)
    return app


def add_routes(app: web.Application, *, dispatcher: Dispatcher | None = None, secret: str | None = None,
               webhook_path: str = WEBHOOK_PATH, links: FileLinks | None = None,
               t: Translator | None = None) -> None:
    """build_web_app's routes, added to an application shared with others (handlers/web/server.py)."""
    if dispatcher is not None:
        if not secret:
            raise ValueError("a webhook needs its secret")
        app[DISPATCHER_KEY] = dispatcher
        app[SECRET_KEY] = secret
        app.router.add_post(webhook_path, _webhook)
    if links is not None:
        app[LINKS_KEY] = links
        app[TRANSLATOR_KEY] = t or translator()
        app.router.add_get(FILES_PATH + "/{expires}/{signature}/{path:.+}", _file)


async def _webhook(request: web.Request) -> web.Response:
    given = request.headers.get(SECRET_HEADER, "")
    expected = request.app[SECRET_KEY]
    if not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("a Zalo webhook call with a wrong or missing secret was refused")
        return web.json_response({"ok": False, "description": "forbidden"}, status=403)
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"ok": False, "description": "not JSON"}, status=400)
    dispatcher = request.app[DISPATCHER_KEY]
    assert isinstance(dispatcher, Dispatcher)
    dispatcher.submit(body)
    return web.json_response({"ok": True})


async def _file(request: web.Request) -> web.StreamResponse:
    links = request.app[LINKS_KEY]
    assert isinstance(links, FileLinks)
    info = request.match_info
    target = links.resolve(info["expires"], info["signature"], info["path"])
    if target is None:
        text = request.app[TRANSLATOR_KEY](LINK_REFUSED)
        if text != LINK_REFUSED:
            text += "\n\n" + LINK_REFUSED  # English below, for whoever reads no Vietnamese
        return web.Response(status=403, text=text + "\n")
    response = web.FileResponse(target)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(target.name, safe='')}"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- long polling ---------------------------------------------------------------------------------


class Poller:
    """getUpdates in a loop: one update per call, each through the dispatcher.

    Nothing stops the loop but `stop`: a refused token (401) is an alert in the log, repeated at each
    try, with a pause that grows to `max_refused_pause` (the token may be fixed or restored on Zalo's
    side); flood control waits as long as Zalo asks; other faults back off up to `max_pause`."""

    def __init__(self, client: ZaloClient, dispatcher: Dispatcher, *, timeout: int = 30,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, max_pause: float = 60.0,
                 refused_pause: float = 30.0, max_refused_pause: float = 900.0) -> None:
        self.client, self.dispatcher, self.timeout = client, dispatcher, timeout
        self.sleep, self.max_pause = sleep, max_pause
        self.refused_pause, self.max_refused_pause = refused_pause, max_refused_pause
        self.token_refused = False  # while true, no Zalo message reaches the bot

    async def poll_once(self) -> bool:
        """Ask once; True when an update came (and was handed to the dispatcher)."""
        update = await self.client.get_updates(self.timeout)
        if self.token_refused:
            self.token_refused = False
            log.warning("Zalo accepts the bot token again: Zalo messages are received again")
        if update is None:
            return False
        self.dispatcher.submit(update)
        return True

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        pause, refused_pause = 1.0, self.refused_pause
        while not stop.is_set():
            try:
                await self.poll_once()
                pause, refused_pause = 1.0, self.refused_pause
            except ZaloUnauthorizedError:
                self.token_refused = True
                log.error("ALERT: Zalo refused the bot token (401): no Zalo message reaches the bot until %s is "
                          "fixed; trying again in %.0f s", ZALO_TOKEN_ENV, refused_pause)
                await self.sleep(refused_pause)
                refused_pause = min(refused_pause * 2, self.max_refused_pause)
            except RetryAfterError as exc:
                wait = max(exc.seconds, 1.0)
                log.warning("Zalo asked to slow down (429): getUpdates waits %.0f s", wait)
                await self.sleep(wait)
            except SendError as exc:
                log.warning("getUpdates failed (%s); trying again in %.0f s", exc, pause)
                await self.sleep(pause)
                pause = min(pause * 2, self.max_pause)


# --- the service ----------------------------------------------------------------------------------


class ZaloService:
    """The Zalo channel in the bot's process: the web endpoint, and the webhook or the polling loop.

    Its routes go on the bot's one web server (`web`, started by the wiring before `start`, with the dashboard
    next to them); without one, the service runs a server of its own at settings.listen:port when it needs one."""

    def __init__(self, settings: ZaloSettings, port: Port, config: Config, *,
                 client: ZaloClient | None = None, web: WebServer | None = None) -> None:
        self.settings, self.port, self.config = settings, port, config
        self.client = client or ZaloClient(settings.token, base_url=settings.api_base,
                                           messages_per_second=settings.messages_per_second)
        self._owns_client = client is None
        self.links: FileLinks | None = None
        if settings.public_base_url and port.files_dir is not None:
            self.links = FileLinks(FileLinks.key_from_token(settings.token), settings.public_base_url,
                                   port.files_dir, port, settings.link_lifetime)
        self.adapter = ZaloAdapter(port, self.client, self.links)
        # Replies and the clock's messages (OutboxSender({"zalo": service.channel})) alike; the clock's in the
        # bot's language.
        self.channel = self.adapter.channel
        self.dispatcher = Dispatcher(self.adapter.handle)
        self._own_web: WebServer | None = None
        self._stop = asyncio.Event()
        self._poll_task: asyncio.Task[None] | None = None
        self._shared = web is not None
        if web is not None:
            self._add_routes(web)

    @property
    def serves_web(self) -> bool:
        """The webhook or the file links need a web server."""
        return self.settings.mode == "webhook" or self.links is not None

    def _add_routes(self, server: WebServer) -> None:
        if self.serves_web:
            s = self.settings
            add_routes(server.app, dispatcher=self.dispatcher if s.mode == "webhook" else None, secret=s.secret,
                       webhook_path=s.webhook_path, links=self.links,
                       t=translator(self.config.app.language, self.config.locales_dir))

    @property
    def runner(self) -> web.AppRunner | None:
        """The server this service runs itself (none when it shares the bot's)."""
        return self._own_web.runner if self._own_web else None

    @property
    def addresses(self) -> list[Any]:
        return self._own_web.addresses if self._own_web else []

    async def start(self) -> None:
        """Without the bot's shared server, listen on settings.listen:port when the webhook or file links need it;
        then set the webhook or start polling."""
        s = self.settings
        webhook = s.mode == "webhook"
        if self.port.files_dir is not None:
            self.port.files_dir.mkdir(parents=True, exist_ok=True)
        if self.serves_web and self._own_web is None and not self._shared:
            self._own_web = WebServer(s.listen, s.port, shared_port=s.shared_port)
            self._add_routes(self._own_web)
            await self._own_web.start()
        if webhook:
            assert s.secret is not None
            await self.client.set_webhook(s.webhook_url, s.secret)
        else:
            await self.client.delete_webhook()
            poller = Poller(self.client, self.dispatcher, timeout=s.poll_timeout)
            self._poll_task = asyncio.create_task(poller.run(self._stop))

    async def stop(self) -> None:
        self._stop.set()
        if self._poll_task is not None:
            self._poll_task.cancel()
            await asyncio.gather(self._poll_task, return_exceptions=True)
        await self.dispatcher.join()
        if self._own_web is not None:
            await self._own_web.stop()
        if self._owns_client:
            await self.client.aclose()
