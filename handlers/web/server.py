"""The bot's one HTTP server ([web]): Zalo's webhook, the signed file links and the dashboard, on one aiohttp
Application, one runner, one listening socket.

The services add their routes (ZaloService) or sub-applications (the dashboard, at /dashboard) before `start`:
aiohttp freezes an application's routes once it runs. TLS is the reverse proxy's job (README, "The dashboard").
Telegram's webhook keeps a server of its own (handlers/telegram_webhook.py): its port is the one setWebhook and
the proxy point at, and its updates must not wait behind dashboard pages or file downloads.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.config import WebServer as WebSettings

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # a Zalo update is a few kilobytes; the dashboard's sub-app has its own, smaller limit


class WebServer:
    """Start once the routes are in; `stop` is safe before `start` and twice."""

    def __init__(self, listen: str, port: int, *, shared_port: bool = False) -> None:
        self.listen, self.port, self.shared_port = listen, port, shared_port
        self.app = web.Application(client_max_size=MAX_BODY)
        self.runner: web.AppRunner | None = None

    @classmethod
    def from_settings(cls, settings: WebSettings) -> WebServer:
        return cls(settings.listen, settings.port, shared_port=settings.shared_port)

    @property
    def address(self) -> str:
        return f"{self.listen}:{self.port}"

    @property
    def addresses(self) -> list[Any]:
        return list(self.runner.addresses) if self.runner else []

    @property
    def started(self) -> bool:
        return self.runner is not None

    async def start(self) -> None:
        """Listen (OSError when the port is taken or the address is not this machine's; nothing is left open)."""
        if self.runner is not None:
            return
        runner = web.AppRunner(self.app, access_log=None)  # links and sign-in URLs are capabilities: not logged
        await runner.setup()
        try:
            await web.TCPSite(runner, self.listen, self.port, reuse_port=self.shared_port or None).start()
        except BaseException:
            await runner.cleanup()
            raise
        self.runner = runner
        log.info("web server: listening on %s", self.address)

    async def stop(self) -> None:
        if self.runner is not None:
            runner, self.runner = self.runner, None
            await runner.cleanup()
