"""The core of the conversation: one update in, the person's state loaded, one flow run, all written at once.

One entry point, `Conversation.handle(sender, event, update_key)`, for every channel. It reads the
person's saved dialog state, runs one step, and writes the new state (and a submission, when one is
made) in one transaction together with the update's key, so a restart loses nothing and a
re-delivered update or a double tap does nothing twice. One person's updates are worked out one at a
time in this process; one that lost the race to another process is worked out again on the newer state.
Buttons come back as `Press(version, action)`: a press is acted on only if it was offered by the latest
reply (same version), which re-authorises every callback on the server.

The dialog itself lives in flows, one module each: registration.py (invites, linking), reporting.py
(choosing and answering a report, the receipt), submissions.py (deadlines, /danop and corrections),
staff.py (summaries, reminders on request, plans), settings.py (language, channel), review.py (/duyet: approve or
return a report; review_chair.py the chair's side). A flow is a set of
handlers: one per mode it owns (`async def on_x(step: Step, event: Input) -> Turn`) and one per command
that enters it (`async def x(step: Step, cmd: Command) -> Turn`); a handler returns a `Turn` (the new
state, the replies, perhaps a submission) and never writes the state itself.

Adding a flow (e.g. the review flow) = one module + one table row: write bot/conversation/review.py
with its handlers, add its mode to `Mode` in state.py, and add the row `Mode.REVIEW: review.on_review`
to MODE_HANDLERS below (and `"duyet": review.start` to COMMAND_HANDLERS if a command opens it).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import ReviewConfig
from bot.dialog.model import ActionInput, Input, Reply, TextInput
from bot.domain import Unit
from bot.i18n import Translator, normalise_locale, translator
from bot.invites import looks_like_code
from bot.keyed_locks import KeyedLocks
from bot.reminder_text import OPEN_ACTION
from bot.vi_text import fold
from storage import drafts as draft_store
from storage import people as people_store
from storage import submissions as submission_store
from storage.db import Database
from storage.locks import person_step
from storage.reviews import ReportApprovedError, ReportLockedError

if TYPE_CHECKING:
    from bot.dashboard.access import DashboardAccess

from . import dashboard, locks, registration, reporting, review, review_chair, settings, staff, submissions
from .common import (
    CommandHandler,
    EarlyReply,
    ModeHandler,
    RemindNow,
    Step,
    choose_again,
    help_reply,
    no_early_reply,
    still_open_hint,
)
from .events import (
    COMMAND_WORDS,
    NOT_DURING_A_REPORT,
    Command,
    Event,
    ExpectedFile,
    PlanFile,
    Press,
    Response,
    Sender,
    as_command,
    numbered_to_action,
)
from .state import Mode, State, Turn, keep

log = logging.getLogger(__name__)

# An update that keeps losing the race for its person's state (another process writing for them) is worked
# out again until it is applied, for at most this long; then the person is told to send it again.
RETRY_BUDGET_SECONDS = 10.0
KNOWN_IDENTITIES_MAX = 10_000  # identity -> person ids remembered for the per-person lock

# An answer (text, a press matched to an offered action, a file) goes to the handler of the mode it finds.
MODE_HANDLERS: dict[Mode, ModeHandler] = {
    Mode.FORM: reporting.on_form,
    Mode.CHOOSE_UNIT: reporting.on_choose_unit,
    Mode.CHOOSE_REPORT: reporting.on_choose_report,
    Mode.CHOOSE_SUBMISSION: submissions.on_choose_submission,
    Mode.CHOOSE_LANGUAGE: settings.on_choose_language,
    Mode.CHANNEL_CHOOSE: settings.on_channel_choose,
    Mode.SUMMARY_CHOOSE: staff.on_summary_choose,
    Mode.REMIND_CHOOSE: staff.on_remind_choose,
    Mode.REMIND_CONFIRM: staff.on_remind_confirm,
    Mode.PLAN_REVIEW: staff.on_plan_review,
    Mode.REVIEW: review.on_review,
    Mode.REVIEW_REASON: review.on_reason,
    Mode.REVIEW_FIELDS: review.on_fields,
    Mode.REVIEW_DAYS: review.on_days,
    Mode.REVIEW_EXCUSE: review.on_excuse,
    Mode.REVIEW_CONFIRM: review.on_confirm,
}
# A command (slash or plain word) goes to the flow it opens, whatever the mode; any other shows the help.
COMMAND_HANDLERS: dict[str, CommandHandler] = {
    "baocao": reporting.report,
    "huy": reporting.cancel,
    "hannop": submissions.deadlines,
    "danop": submissions.submitted,
    "ngonngu": settings.language_menu,
    "kenh": settings.channel_menu,
    "lienket": registration.link_code,
    "start": registration.greet,
    "tonghop": staff.summary_menu,
    "nhacnho": staff.remind_menu,
    "duyet": review.start,
    "mokhoa": locks.unlock,
    "mien": locks.excuse,
    "bangtheodoi": dashboard.open_dashboard,
}


class Conversation:
    def __init__(self, db: Database, clock: Clock, zone: ZoneInfo, locales_dir: Path,
                 reminders: RemindNow | None = None, files_dir: Path | None = None,
                 campaigns_dir: Path | None = None, review: ReviewConfig | None = None) -> None:
        self.db, self.clock, self.zone, self.locales_dir = db, clock, zone, locales_dir
        self.review = review or ReviewConfig()  # [review]: waiting days, locks (issue 15)
        self.reminders = reminders
        self.files_dir = files_dir  # where summaries are written before they are sent
        self.campaigns_dir = campaigns_dir  # where a plan published in chat becomes a campaign file
        self.dashboard: DashboardAccess | None = None  # /bangtheodoi's links (bot/app.py sets it from [dashboard])
        self.retry_budget = RETRY_BUDGET_SECONDS
        self._locks = KeyedLocks()
        self._person_ids: dict[tuple[str, str], int] = {}

    # --- what the adapters and the scheduler ask ----------------------------------------------------------

    def translator(self, locale: str) -> Translator:
        return translator(locale, self.locales_dir)

    async def locale_of(self, sender: Sender) -> str:
        return await people_store.locale_of(self.db, sender.channel, sender.external_id) or normalise_locale(
            sender.language_code)

    async def expected_attachment(self, sender: Sender) -> ExpectedFile | None:
        """The photo or document question the person is at, if any (the adapter then takes the file)."""
        return await reporting.expected_attachment(self, sender)

    async def reportable_units(self, person_id: int) -> list[Unit]:
        """Units this person files reports for: chairs their own, officers their own upper unit."""
        return await reporting.reportable_units(self.db, person_id)

    async def may_report_for(self, person_id: int, unit: Unit) -> bool:
        """A chair for the units they are bound to; an officer for every unit in their subtree."""
        return await reporting.may_report_for(self.db, person_id, unit)

    async def remind_scope(self, person_id: int) -> set[int]:
        """Units a person may remind (the subtrees of their upper memberships); empty: none."""
        return await staff.remind_scope(self.db, person_id)

    async def accepts_plan(self, sender: Sender) -> bool:
        """Department staff and admins, when no report is open, may send a plan to draft a campaign."""
        return await staff.accepts_plan(self, sender)

    def unexpected_file_text(self, t: Translator) -> str:
        """The answer to a file (photo, document, plan) sent when no question asks for one; the adapters
        send it too, when they turn a file away before it reaches the conversation."""
        return staff.unexpected_file_text(t)

    async def already_handled(self, sender: Sender, update_key: str | None) -> bool:
        return update_key is not None and await draft_store.seen(self.db, sender.channel.value, update_key)

    # --- one update ---------------------------------------------------------------------------------------

    async def handle(self, sender: Sender, event: Event, update_key: str | None = None, *,
                     early: EarlyReply = no_early_reply) -> Response:
        """One update, applied exactly once: one person's updates are worked out one at a time in this
        process, and one that lost the race to another process is worked out again on the newer state.
        `early` sends a reply at once, before the Response (a flow's "working on it" during long work)."""
        key = await self._lock_key(sender)
        # In this process a person's updates queue here; across processes on PostgreSQL an advisory lock takes
        # the same key (storage/locks.py), and on SQLite the version check of the step's one write transaction
        # makes the loser work its update out again on the winner's state.
        async with self._locks.hold(key), person_step(self.db, key):
            deadline = time.monotonic() + self.retry_budget
            attempt = 0
            while True:
                try:
                    return await self._handle_once(sender, event, update_key, early)
                except draft_store.StaleVersionError:
                    attempt += 1  # another process wrote for this person first: recompute on its state
                    if time.monotonic() >= deadline:
                        break
                    await asyncio.sleep(_backoff(attempt))
                except draft_store.DuplicateUpdateError:
                    return Response([], 0, normalise_locale(sender.language_code), duplicate=True)
        log.warning("an update of %s:%s lost the race for its state %d times; the person is asked to resend",
                    sender.channel.value, sender.external_id, attempt)
        locale = await self.locale_of(sender)
        t = self.translator(locale)  # not marked as handled: a re-delivery is worked out afresh
        return Response([Reply(t("Too many messages arrived at the same moment and yours could not be taken. "
                                 "Please send it again."))], 0, locale)

    async def _lock_key(self, sender: Sender) -> tuple[str, ...] | tuple[str, int]:
        """The person behind the identity (two linked channels share one lock), or the identity itself
        before it belongs to anyone. Identities never move to another person, so the answer is remembered."""
        identity = (sender.channel.value, sender.external_id)
        person_id = self._person_ids.get(identity)
        if person_id is None:
            person = await people_store.person_by_identity(self.db, sender.channel, sender.external_id)
            if person is None:
                return ("identity", *identity)
            if len(self._person_ids) >= KNOWN_IDENTITIES_MAX:
                self._person_ids.clear()
            self._person_ids[identity] = person_id = person.id
        return ("person", person_id)

    async def _handle_once(self, sender: Sender, event: Event, update_key: str | None,
                           early: EarlyReply) -> Response:
        now = self.clock.now()
        context = await people_store.turn_context(self.db, sender.channel, sender.external_id, update_key, now)
        if context.seen:
            return Response([], 0, normalise_locale(sender.language_code), duplicate=True)
        person = context.person
        draft = draft_store.from_row(person.id, context.draft_row) if person and context.draft_row else None
        state = State.from_json(draft.state) if draft else State()
        state.sha = context.campaign_sha  # read with the draft; never saved
        version = draft.version if draft else 0
        if isinstance(event, TextInput) and event.text.strip().startswith("/"):
            event = as_command(event.text)
        code = _invite_code(event, state)
        if code is not None:
            return await registration.register(self, sender, code, person, update_key, now)
        if person is None:
            return self._stranger(sender)
        t = self.translator(person.locale)
        turn = await self._dispatch(Step(self, person.id, t, state, sender, early), version, event)
        new_version = await self.write_turn(person.id, sender, turn, version, update_key, now, t=t,
                                            touch=context.touch)
        return Response(turn.replies, new_version, turn.locale or person.locale)

    def _stranger(self, sender: Sender) -> Response:
        locale = normalise_locale(sender.language_code)
        t = self.translator(locale)
        return Response([Reply(t("Hello! This bot collects the reports of trade unions. To begin, open the invite "
                                 "link your upper-level union sent you, or type the invite code."))], 0, locale)

    async def write_turn(self, person_id: int, sender: Sender, turn: Turn, version: int, update_key: str | None,
                         now: datetime, *, t: Translator | None = None, touch: bool = True) -> int:
        """Write what a step decided, with the update's key, in one trip (one transaction with the submission
        when there is one; its receipt, worded with `t`, then leads the replies). Returns the new version."""
        state = turn.state
        state.offered = [a for r in turn.replies for a in r.actions]
        # The choices a typed number picks: those of the last reply that had any, as shown numbered; none when
        # the reply went out with buttons (a "1" typed on a linked text channel must not press one unseen).
        numbered = next((r.numbered for r in reversed(turn.replies) if r.numbered), ())
        state.numbers = [] if sender.buttons else [b.action for b in numbered]
        unit_id, period_id, step, steps_total = reporting.form_columns(state)
        writes = []
        if update_key is not None:
            writes.append(draft_store.update_mark(sender.channel.value, update_key, now))
        if turn.locale:
            writes.append(people_store.locale_set(person_id, turn.locale))
        if touch:  # last seen (and any block lifted) is refreshed, not rewritten on every step
            writes.append(people_store.identity_touch(sender.channel, sender.external_id, now))
        writes.append(draft_store.state_save(
            person_id=person_id, expected_version=version, state=state.to_json(), unit_id=unit_id,
            period_id=period_id, step=step, steps_total=steps_total, now=now,
        ))
        sub = turn.submit
        if sub is None:
            await self.db.write(writes)  # the common step: one trip to the database
            return version + 1
        assert t is not None, "a submission is received in the person's language"
        try:
            async with self.db.transaction(durable=True) as tx:  # a receipt follows: synced to disk
                for w in writes:  # a duplicate or stale update stops here, before anything is recorded
                    await tx.apply(w)
                row = await submission_store.record(
                    tx, period_id=sub.period_id, unit_id=sub.unit_id, person_id=person_id,
                    channel=sender.channel.value, answers=sub.answers, now=now, late=sub.late,
                )
        except ReportApprovedError as exc:  # approved while the correction was open: nothing was written
            turn.state, turn.submit = State(), None  # the caller answers with this turn's replies
            turn.replies[:] = [Reply(review_chair.approved_refusal(t, self.zone, exc.by_name, exc.at))]
            return await self.write_turn(person_id, sender, turn, version, update_key, now, t=t, touch=touch)
        except ReportLockedError as exc:  # the period closed while the correction was open: nothing was written
            turn.state, turn.submit = State(), None
            turn.replies[:] = [Reply(t("This period closed on {date}; the report can no longer be corrected. "
                                       "Please ask your upper-level union to reopen it (/mokhoa).",
                                       date=t.date(exc.closes_at, self.zone)))]
            return await self.write_turn(person_id, sender, turn, version, update_key, now, t=t, touch=touch)
        turn.replies.insert(0, reporting.receipt(t, self.zone, sub, row))
        return version + 1

    # --- dispatch -----------------------------------------------------------------------------------------

    async def _dispatch(self, step: Step, version: int, event: Event) -> Turn:
        t, state = step.t, step.state
        if isinstance(event, TextInput):
            word = fold(event.text).strip(".!?")
            if word in COMMAND_WORDS:  # a lone command word is never an answer worth keeping
                event = Command(COMMAND_WORDS[word])
            elif not word and state.mode is not Mode.REVIEW_REASON:  # spaces only: say so, show where one is
                return await choose_again(step, t("Your message was empty."))
        if isinstance(event, Command):
            return await _command(step, event)
        if isinstance(event, PlanFile):
            return await staff.on_plan_file(step, event)
        if isinstance(event, Press):
            if event.action.startswith(f"{OPEN_ACTION}:"):
                return await reporting.open_from_reminder(step, event.action)
            if event.action.startswith(f"{review_chair.FIX_ACTION}:"):  # a returned report's message
                return await submissions.open_returned(step, event.action)
            if event.version != version or event.action not in state.offered:
                return await choose_again(step, t("That button is out of date. Here is where you are now:"))
            answer: Input = ActionInput(event.action)
        elif isinstance(event, TextInput) and not step.buttons:
            answer = numbered_to_action(event, state.offered, state.numbers)
        else:
            answer = event
        return await self._answer(step, answer)

    async def _answer(self, step: Step, event: Input) -> Turn:
        handler = MODE_HANDLERS.get(step.state.mode)
        if handler is not None:
            return await handler(step, event)
        return keep(step.state, [Reply(step.t("I did not understand. Type /baocao to report, /hannop to see "
                                              "deadlines, or /trogiup for help."))])


async def _command(step: Step, cmd: Command) -> Turn:
    if step.state.in_form and cmd.name in NOT_DURING_A_REPORT:
        return keep(step.state, [Reply(step.t("Please finish or cancel (/huy) the report first."))])
    handler = COMMAND_HANDLERS.get(cmd.name)
    if handler is not None:
        return await handler(step, cmd)
    return keep(step.state, [help_reply(step.t), *still_open_hint(step.t, step.state)])


def _invite_code(event: Event, state: State) -> str | None:
    """The code of an update that registers or links: "/start CODE" (the deep link), or on Zalo, which has
    no deep links, the code typed as a message (not while a form is open: it may be an answer)."""
    if isinstance(event, Command) and event.name == "start" and event.arg:
        return event.arg.strip()
    if isinstance(event, TextInput) and not state.in_form and looks_like_code(event.text.strip()):
        return event.text.strip()
    return None


def _backoff(attempt: int) -> float:
    """Seconds before working an update out again: doubling from 4 ms up to 0.2 s, jittered so that two
    processes racing for one person do not meet again at once."""
    return min(0.002 * 2 ** attempt, 0.2) * random.uniform(0.5, 1.5)  # noqa: S311 (jitter, not a secret)


__all__ = ["COMMAND_HANDLERS", "MODE_HANDLERS", "Conversation"]
