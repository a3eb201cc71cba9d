"""Telegram's webhook on the bot's own small aiohttp server (aiohttp is installed with the bot; it also
serves Zalo), instead of python-telegram-bot's tornado one.

Why our own: the secret Telegram sends in X-Telegram-Bot-Api-Secret-Token is compared here in constant
time (hmac.compare_digest), before the body is read and before anything reaches the Application; PTB's
server compares it with `!=` and needs the `webhooks` extra (tornado). A request with a wrong or missing
secret gets 403 and changes nothing. A good one is answered once its update is in the Application's
update queue, which the Application works through exactly as it does with polled updates.

Telegram posts to `webhook_url` as configured (with /telegram added when it has no path); this server
answers on that path at webhook_listen:webhook_port, behind a reverse proxy that terminates TLS.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.config import TelegramConfig

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
DEFAULT_PATH = "/telegram"
MAX_BODY = 1024 * 1024  # an update is a few kilobytes; files come by file_id, not in the body

APPLICATION_KEY = web.AppKey("telegram_application", Application)
SECRET_KEY = web.AppKey("telegram_secret", bytes)


def webhook_target(webhook_url: str) -> tuple[str, str]:
    """(the URL given to Telegram, the path this server answers on): webhook_url and its path, or, when it
    has none, webhook_url + /telegram, so that the two always agree."""
    path = urlsplit(webhook_url).path.rstrip("/")
    if path:
        return webhook_url, path
    return webhook_url.rstrip("/") + DEFAULT_PATH, DEFAULT_PATH


def build_webhook_app(application: Application, secret: str, path: str = DEFAULT_PATH) -> web.Application:
    if not secret:
        raise ValueError("a webhook needs its secret")
    app = web.Application(client_max_size=MAX_BODY)
    app[APPLICATION_KEY] = application
    app[SECRET_KEY] = secret.encode()
    app.router.add_post(path, _update)
    return app


async def _update(request: web.Request) -> web.Response:
    given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(given, request.app[SECRET_KEY]):
        log.warning("a Telegram webhook call with a wrong or missing secret was refused (from %s)", request.remote)
        return web.json_response({"ok": False, "description": "forbidden"}, status=403)
    try:
        data: Any = await request.json()
    except ValueError:
        return web.json_response({"ok": False, "description": "not JSON"}, status=400)
    application = request.app[APPLICATION_KEY]
    try:
        update = Update.de_json(data, application.bot) if isinstance(data, dict) else None
    except Exception as exc:  # noqa: BLE001 - whatever does not read as an Update is refused, not raised
        log.warning("a Telegram webhook body is not an update (%s): refused", type(exc).__name__)
        update = None
    if update is None:
        return web.json_response({"ok": False, "description": "not an update"}, status=400)
    await application.update_queue.put(update)
    return web.json_response({"ok": True})


class TelegramWebhook:
    """The server and Telegram's setWebhook, started and stopped next to the Application."""

    def __init__(self, application: Application, cfg: TelegramConfig) -> None:
        if cfg.webhook_secret is None:
            raise ValueError("a webhook needs its secret")
        self.application, self.cfg = application, cfg
        self.url, self.path = webhook_target(cfg.webhook_url)
        self.runner: web.AppRunner | None = None

    @property
    def addresses(self) -> list[Any]:
        return list(self.runner.addresses) if self.runner else []

    async def start(self) -> None:
        assert self.cfg.webhook_secret is not None
        secret = self.cfg.webhook_secret.get_secret_value()
        self.runner = web.AppRunner(build_webhook_app(self.application, secret, self.path), access_log=None)
        await self.runner.setup()
        try:
            await web.TCPSite(self.runner, self.cfg.webhook_listen, self.cfg.webhook_port,
                              reuse_port=self.cfg.webhook_shared_port or None).start()
            await self.application.bot.set_webhook(self.url, secret_token=secret,
                                                   allowed_updates=Update.ALL_TYPES)
        except BaseException:
            await self.stop()  # not started: nothing is left listening
            raise
        log.info("Telegram webhook: %s -> %s:%s%s", self.url, self.cfg.webhook_listen,
                 self.cfg.webhook_port, self.path)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
