"""What every flow is handed and the few replies they share (where you are, help, a period on a button)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from bot.campaign_model import Campaign, Period
from bot.channels import SendError
from bot.clock import Clock
from bot.commands import help_lines
from bot.config import ReviewConfig
from bot.dialog import form
from bot.dialog.form import FormContext, FormState
from bot.dialog.model import ActionInput, Input, Reply
from bot.domain import UnitKind
from bot.i18n import Translator
from bot.ids import parse_id
from storage import campaigns as campaign_store
from storage.db import Database

from .events import Command, Sender

if TYPE_CHECKING:
    from bot.dashboard.access import DashboardAccess
from .state import Mode, State, Turn, keep

log = logging.getLogger(__name__)

# How an adapter lets a flow send one reply at once, during a turn, before the turn's own replies (which
# come back in the Response as usual): "working on the summary…" while a long build runs.
EarlyReply = Callable[[Sequence[Reply]], Awaitable[None]]


async def no_early_reply(_replies: Sequence[Reply]) -> None:
    """For callers with nobody to tell before the answer (the command line, the scheduler, tests)."""


class Reachable(Protocol):
    """A person a reminder may go to: unreachable when no channel is left (blocked everywhere)."""

    @property
    def channel(self) -> str | None: ...


class LateUnit(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def recipients(self) -> Sequence[Reachable]: ...


class RemindNow(Protocol):
    """"Remind them now", as the conversation needs it; the scheduler's ReminderPlanner is one. A protocol, so
    the core does not import the scheduler (scheduler -> bot, never back)."""

    async def on_request(self, period_id: int, now: datetime, within: set[int] | None
                         ) -> tuple[Sequence[LateUnit], Sequence[Any]]: ...
    async def enqueue(self, items: Sequence[Any], now: datetime) -> int: ...


class Services(Protocol):
    """What a flow may use of the conversation (the core's Conversation is one): the database, the clock
    and the other services, and the core's writing of a turn for replies outside the dialog."""

    @property
    def db(self) -> Database: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def zone(self) -> ZoneInfo: ...
    @property
    def reminders(self) -> RemindNow | None: ...
    @property
    def files_dir(self) -> Path | None: ...
    @property
    def campaigns_dir(self) -> Path | None: ...
    @property
    def review(self) -> ReviewConfig: ...
    @property
    def dashboard(self) -> DashboardAccess | None: ...

    def translator(self, locale: str) -> Translator: ...

    async def write_turn(self, person_id: int, sender: Sender, turn: Turn, version: int, update_key: str | None,
                         now: datetime, *, t: Translator | None = None, touch: bool = True) -> int: ...


@dataclass(slots=True)
class Step:
    """One update of one registered person, as a flow sees it: the services (through `conv`), who, in
    which language, on which channel, and the state the update found."""

    conv: Services
    person_id: int
    t: Translator
    state: State
    sender: Sender
    early: EarlyReply = no_early_reply

    @property
    def buttons(self) -> bool:
        """Whether the channel has buttons: the form words its prompts for it."""
        return self.sender.buttons

    async def tell_now(self, replies: Sequence[Reply]) -> None:
        """Send `replies` at once, before the turn's own. Only a courtesy: a failure is logged and the turn
        goes on (the final replies meet the same channel and its errors)."""
        try:
            await self.early(replies)
        except SendError as exc:
            log.warning("an early reply to %s:%s could not be sent: %s", self.sender.channel.value,
                        self.sender.external_id, exc)


# A flow's entry points: one per mode (an answer while in that mode) and one per command.
ModeHandler = Callable[[Step, Input], Awaitable[Turn]]
CommandHandler = Callable[[Step, Command], Awaitable[Turn]]


async def form_context(step: Step, state: State) -> tuple[FormContext, FormState]:
    """The open report's campaign, period and answers; LookupError or KeyError when it is gone."""
    if state.form is None:
        raise KeyError("form")
    fstate = FormState.from_json(state.form)
    campaign = await campaign_store.campaign(step.conv.db, fstate.campaign_id, state.sha)
    if campaign is None:
        raise LookupError(fstate.campaign_id)
    period = campaign.period(fstate.period_key)
    return FormContext(campaign, period, UnitKind(fstate.unit_kind), step.t, step.conv.zone, step.buttons), fstate


async def resume(step: Step, state: State) -> list[Reply]:
    """Where the person is: the open question, the menu on offer, or what they can type."""
    t = step.t
    if state.mode is Mode.FORM:
        try:
            ctx, fstate = await form_context(step, state)
        except (LookupError, KeyError):
            return [Reply(t("This report is no longer available; your draft was closed."))]
        replies = form.resume(ctx, fstate)
        state.form = fstate.to_json()  # answers a changed campaign no longer holds stay dropped when kept
        return replies
    if state.menu is not None:
        return [Reply.from_json(state.menu)]
    return [Reply(t("Type /baocao to report, /hannop to see deadlines, or /trogiup for help."))]


async def choose_again(step: Step, text: str) -> Turn:
    """An answer that is not one of the choices on offer: say so and show them again."""
    return keep(step.state, [Reply(text), *await resume(step, step.state)])


def menu_again(step: Step, text: str) -> Turn:
    """The same, for a menu that is shown again as it was saved."""
    assert step.state.menu is not None
    return keep(step.state, [Reply(text), Reply.from_json(step.state.menu)])


def still_open_hint(t: Translator, state: State) -> list[Reply]:
    if state.mode is not Mode.FORM:
        return []
    return [Reply(t("Your report is still open at question {i}/{n}: type /baocao to continue.",
                    i=state.step or 0, n=state.steps_total or 0))]


def help_reply(t: Translator) -> Reply:
    return Reply("\n".join([
        t("What I can do:"),
        *help_lines(t),
        "",
        t("You can also type the words: báo cáo, hạn nộp, đã nộp, hủy."),
    ]))


def period_label(step: Step, campaign: Campaign, period: Period, due_at: datetime) -> str:
    """A period on a menu button: campaign — period (due before dd/mm/yyyy)."""
    t = step.t
    due = t("due before {date}", date=t.due_date(due_at, step.conv.zone))
    return f"{campaign.title.get(t.locale)} — {period.name.get(t.locale)} ({due})"


def chosen_id(event: Input, prefix: str) -> int | None:
    """The id a menu choice carries ("m:12" -> 12, prefix "m:"), pressed or picked by its number; None for
    anything else. ASCII digits only (bot.ids.parse_id)."""
    if isinstance(event, ActionInput) and event.action.startswith(prefix):
        return parse_id(event.action[len(prefix):])
    return None
