"""Zalo: the same reporting, reminders and summaries as on Telegram, through the Zalo Bot Platform API.

client.py talks to the API (httpx), adapter.py turns its events into the core's events (bot/port.py)
and renders replies as plain text, server.py holds the webhook, the signed-file endpoint and the polling
loop (aiohttp).
"""

from handlers.zalo.adapter import FileLinks, ZaloAdapter, ZaloChannel, parse_update
from handlers.zalo.client import ZaloClient, ZaloError
from handlers.zalo.server import Dispatcher, Poller, ZaloService, ZaloSettings, build_web_app

__all__ = [
    "Dispatcher",
    "FileLinks",
    "Poller",
    "ZaloAdapter",
    "ZaloChannel",
    "ZaloClient",
    "ZaloError",
    "ZaloService",
    "ZaloSettings",
    "build_web_app",
    "parse_update",
]
