"""Telegram updates of different chats side by side, one chat's in the order they came.

python-telegram-bot runs one update at a time unless told otherwise: one officer's /tonghop for a province
(seconds of work) would keep every other person waiting. This processor lets updates of different chats run
together while each chat's own updates stay in their order (a "1" typed before a "2" is answered first), as
the Zalo dispatcher does (handlers/zalo/server.py). The core takes each person's lock as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT_UPDATES = 256


def chat_key(update: object) -> Hashable | None:
    """The chat an update belongs to (a button press: the chat of its message); None when there is none."""
    if isinstance(update, Update):
        chat, user = update.effective_chat, update.effective_user
        if chat is not None:
            return ("chat", chat.id)
        if user is not None:
            return ("user", user.id)
    return None


class PerChatUpdates(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._waiting: dict[Hashable, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        # The lock is taken in the order the updates were handed over: PTB starts them in that order, and
        # asyncio's lock wakes its waiters first in, first out.
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # the last one of this chat for now: forget its lock
                del self._waiting[key]
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
