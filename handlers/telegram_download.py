"""Fetching a file someone sent on Telegram, never more than a hard cap of bytes.

The size Telegram states (in the message, then in getFile) is checked first. A file whose size is not
stated is streamed and dropped as soon as it passes the cap; python-telegram-bot's own download reads
the whole body into memory first, so it is used only with a request class that cannot stream (the
tests' fakes), and then the cap is checked on what came back.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels import FileTooLargeError

CHUNK = 64 * 1024
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DOWNLOAD_SECONDS = 120.0  # one whole file, however slowly it arrives


class DownloadTooLargeError(FileTooLargeError):
    """The file is over the cap; `size` is its stated size, or what had arrived when it was dropped."""



async def download_capped(bot: Bot, file_id: str, max_bytes: int, *,
                          transport: httpx.AsyncBaseTransport | None = None) -> bytes:
    tg_file = await bot.get_file(file_id)
    if tg_file.file_size is not None and tg_file.file_size > max_bytes:
        raise DownloadTooLargeError(tg_file.file_size)
    path = str(tg_file.file_path or "")
    if bot.local_mode and not path.startswith(("http://", "https://")):  # a local Bot API server: a path
        size = Path(path).stat().st_size
        if size > max_bytes:
            raise DownloadTooLargeError(size)
        return Path(path).read_bytes()
    url = _encoded(path)
    if isinstance(bot.request, HTTPXRequest) or transport is not None:
        return await stream_capped(url, max_bytes, transport=transport)
    content = bytes(await bot.request.retrieve(url))
    if len(content) > max_bytes:
        raise DownloadTooLargeError(len(content))
    return content


async def stream_capped(url: str, max_bytes: int, *, transport: httpx.AsyncBaseTransport | None = None) -> bytes:
    """GET `url`, refusing it as soon as its Content-Length or the bytes received pass `max_bytes`. The
    client's timeouts are per read; DOWNLOAD_SECONDS bounds the whole (TimeoutError)."""
    async with (asyncio.timeout(DOWNLOAD_SECONDS), httpx.AsyncClient(timeout=TIMEOUT, transport=transport) as client,
                client.stream("GET", url) as response):
        response.raise_for_status()
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise DownloadTooLargeError(int(declared))
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise DownloadTooLargeError(size)
            chunks.append(chunk)
        return b"".join(chunks)


def _encoded(path: str) -> str:
    """What python-telegram-bot does to a file path with non-ASCII characters: the path percent-encoded."""
    parts = urlsplit(path)
    return urlunsplit(parts._replace(path=quote(parts.path)))
