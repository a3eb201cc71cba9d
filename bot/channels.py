"""What passes between a messenger and the core. Inbound, a file is announced (`IncomingFile`) with a way
to fetch it, which the core calls after its own checks (bot/intake.py). Outbound, dialog replies and the
messages the clock sends (reminders, pushed summaries) go through the same `OutboundChannel`, implemented by
Telegram, Zalo, the terminal and the tests' recording fakes.

Channels raise these named errors, and their callers handle each at one point: the outbox sender waits and
retries, stops writing to a person who blocked the bot, retries with backoff on a passing fault; an adapter
answering a person tells the core that the person blocked us (bot.port.Port.blocked).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
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


class UncertainDeliveryError(TransientError):
    """The request left but no clear answer came back (a 5xx, a time-out while waiting for the answer): the
    message may have been delivered. There is no idempotency key, so a blind retry can deliver it twice;
    the caller decides per kind of message whether to retry (scheduler/sender.py)."""


class OutboundChannel(Protocol):
    """What the core asks of a messenger. Every method raises only the named errors above."""

    name: str

    async def send(self, chat_id: str, replies: Sequence[Reply], *, version: int | None = None,
                   locale: str | None = None) -> None:
        """The replies of one turn, in order: each text with its choices, and each reply that has a
        `file_path` as a file (send_file). `version` is what buttons carry (the dialog re-authorises it);
        None for a message the clock sends, outside any dialog: its buttons are checked like commands, and a
        text channel leaves out numbered choices nobody could answer. `locale` is the chat's language, for
        words a channel adds of its own (a link's expiry); None: the bot's default."""
        ...

    async def send_file(self, chat_id: str, reply: Reply, *, locale: str | None = None) -> None:
        """A summary file (reply.file_path) with reply.text as its caption, the way this channel can."""
        ...

    async def remove_choices(self, chat_id: str, message_id: str) -> None:
        """Take the choices off a message already sent, so that they cannot be used twice (nothing to do
        where choices are typed numbers)."""
        ...


# --- inbound: a file announced -------------------------------------------------------------------

PHOTO, DOCUMENT = "photo", "document"


class FileTooLargeError(Exception):
    """Raised by a fetch that stopped at the cap: the file has at least `size` bytes."""

    def __init__(self, size: int) -> None:
        super().__init__(f"over the cap: {size} bytes or more")
        self.size = size


class FetchFailedError(Exception):
    """Raised by a fetch that could not get the file (no address, a fault, too slow): the person is asked
    to send it again."""


# Given the cap in bytes, the file's bytes; FileTooLargeError past the cap, FetchFailedError when it failed.
Fetch = Callable[[int], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A file as a channel announces it; nothing is fetched until the core's checks pass.

    `kind` is what the channel says it is: "photo" (a picture the messenger sent as one) or "document" (a
    file with a name, checked against the accepted types). `size` is the size the channel states, if any.
    `photos_only`: the channel carries only pictures (its bytes must be one)."""

    kind: str
    fetch: Fetch
    name: str | None = None
    size: int | None = None
    file_id: str | None = None
    unique: str | None = None
    mime: str | None = None
    photos_only: bool = False
