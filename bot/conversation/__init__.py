"""The conversation around the form: who is talking, what they may do, and what is stored.

`Conversation.handle(sender, event, update_key)` is the one entry point for every channel; core.py says
how an update is applied and how a flow is added. The names the adapters, the scheduler and the tests
use are importable from here.
"""

from __future__ import annotations

from .common import EarlyReply, no_early_reply
from .core import KNOWN_IDENTITIES_MAX, RETRY_BUDGET_SECONDS, Conversation
from .events import COMMAND_WORDS, NOT_DURING_A_REPORT, Command, Event, ExpectedFile, PlanFile, Press, Response, Sender
from .registration import LINK_CODE_LIFETIME
from .state import Mode, PendingSubmission, State, Turn

# The state of a person outside any dialog, as saved.
IDLE: dict[str, str] = {"mode": Mode.IDLE.value}

__all__ = [
    "COMMAND_WORDS", "IDLE", "KNOWN_IDENTITIES_MAX", "LINK_CODE_LIFETIME", "NOT_DURING_A_REPORT",
    "RETRY_BUDGET_SECONDS", "Command", "Conversation", "EarlyReply", "Event", "ExpectedFile", "Mode",
    "PendingSubmission", "PlanFile", "Press", "Response", "Sender", "State", "Turn", "no_early_reply",
]
