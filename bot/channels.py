"""The narrow port to a messenger, for messages the clock sends (reminders, pushed summaries).

Adapters raise these named errors, and the sender handles each at one point: wait and retry, stop
writing to a person who blocked the bot, retry with backoff on a passing fault.
"""

from __future__ import annotations

from typing import Protocol

from bot.dialog.model import Reply


class SendError(Exception):
    """A message could not be delivered."""


class RetryAfterError(SendError):
    """The messenger asks us to slow down: wait `seconds`, then try again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class BlockedError(SendError):
    """The person blocked the bot (or deleted their account): never write to them again there."""


class TransientError(SendError):
    """A network or server fault that may pass."""


class OutboundChannel(Protocol):
    name: str

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Deliver one reply; raise RetryAfterError, BlockedError or TransientError."""
        ...
