"""The conversation around the form: who is talking, what they may do, and what is stored.

One entry point, `Conversation.handle(sender, event, update_key)`, for every channel. It reads the
person's saved dialog state, runs one step, and writes the new state (and a submission, when one is
made) in one transaction together with the update's key, so a restart loses nothing and a
re-delivered update or a double tap does nothing twice. Buttons come back as `Press(version,
action)`: a press is acted on only if it was offered by the latest reply (same version), which
re-authorises every callback on the server.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.campaign_model import Campaign, Period, last_day
from bot.campaigns import load_campaign_file
from bot.clock import Clock
from bot.commands import help_lines
from bot.deadline_text import deadlines_text
from bot.deadlines import Deadline, Status, days_left_or_late, deadlines_for_unit
from bot.dialog import form
from bot.dialog.form import FormContext, FormState
from bot.dialog.model import ActionInput, Button, FileInput, Reply, TextInput
from bot.domain import Channel, Role, Unit, UnitKind
from bot.i18n import Translator, normalise_locale, translator
from bot.ids import parse_id
from bot.invites import hash_code, looks_like_code, new_code
from bot.keyed_locks import KeyedLocks
from bot.parsing import ParseError
from bot.plans import chat as plan_chat
from bot.plans.text import PlanError
from bot.reminder_text import OPEN_ACTION
from bot.scope import bind_within, campaign_reaches, root_of, staff_units, subtree_ids
from bot.summary import files as summary_files
from bot.summary import service as summary_service
from bot.summary.rollup import subtree_answers
from bot.summary.text import summary_text
from storage import campaigns as campaign_store
from storage import drafts as draft_store
from storage import people as people_store
from storage import submissions as submission_store
from storage import units as unit_store
from storage.db import Database
from storage.people import Identity, InviteRefusedError

if TYPE_CHECKING:
    from scheduler.service import ReminderPlanner

log = logging.getLogger(__name__)

LINK_CODE_LIFETIME = timedelta(minutes=30)
# An update that keeps losing the race for its person's state (another process writing for them) is worked
# out again until it is applied, for at most this long; then the person is told to send it again.
RETRY_BUDGET_SECONDS = 10.0
KNOWN_IDENTITIES_MAX = 10_000  # identity -> person ids remembered for the per-person lock
# Whether the channel of the update being handled has buttons: the form words its prompts for it. A context
# variable rather than a parameter: every FormContext built during one update reads it, from many methods.
_BUTTONS: ContextVar[bool] = ContextVar("buttons", default=True)
# Plain words work as well as slash commands.
COMMAND_WORDS = {
    "báo cáo": "baocao", "bao cao": "baocao", "baocao": "baocao", "nộp báo cáo": "baocao",
    "hạn nộp": "hannop", "han nop": "hannop", "hannop": "hannop",
    "đã nộp": "danop", "da nop": "danop", "danop": "danop",
    "hủy": "huy", "huỷ": "huy", "huy": "huy", "thôi": "huy",
    "trợ giúp": "trogiup", "tro giup": "trogiup", "giúp": "trogiup", "help": "trogiup", "trogiup": "trogiup",
    "ngôn ngữ": "ngonngu", "ngon ngu": "ngonngu", "language": "ngonngu", "ngonngu": "ngonngu",
    "nhắc nhở": "nhacnho", "nhac nho": "nhacnho", "nhacnho": "nhacnho",
    "tổng hợp": "tonghop", "tong hop": "tonghop", "tonghop": "tonghop",
    "liên kết": "lienket", "lien ket": "lienket", "lienket": "lienket",
    "kênh": "kenh", "kenh": "kenh", "kênh nhắc": "kenh",
}
# Commands that open a menu of their own, which would take the place of an open report's state: refused
# until the report is finished or cancelled.
NOT_DURING_A_REPORT = frozenset({"ngonngu", "kenh", "tonghop", "nhacnho"})


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    arg: str = ""


@dataclass(frozen=True, slots=True)
class Press:
    version: int
    action: str



@dataclass(frozen=True, slots=True)
class PlanFile:
    """A plan document (kế hoạch) sent by the department or an admin, already size-checked."""

    name: str
    data: bytes


Event = Command | Press | TextInput | FileInput | PlanFile


@dataclass(frozen=True, slots=True)
class Sender:
    channel: Channel
    external_id: str
    chat_id: str
    display_name: str
    username: str | None = None
    language_code: str | None = None

    @property
    def buttons(self) -> bool:
        """Whether replies reach this person with buttons (else numbered choices and typed words)."""
        return self.channel.has_buttons


@dataclass(slots=True)
class Response:
    replies: list[Reply]
    version: int  # buttons of these replies carry it
    locale: str
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class ExpectedFile:
    person_id: int
    unit_id: int
    period_id: int
    field: str
    type: str  # "photo" or "document"


@dataclass(slots=True)
class _Turn:
    """What one step decided, before it is written."""

    state: dict[str, Any]
    replies: list[Reply]
    submit: dict[str, Any] | None = None
    locale: str | None = None


IDLE: dict[str, Any] = {"mode": "idle"}


class Conversation:
    def __init__(self, db: Database, clock: Clock, zone: ZoneInfo, locales_dir: Path,
                 reminders: ReminderPlanner | None = None, files_dir: Path | None = None,
                 campaigns_dir: Path | None = None) -> None:
        self.db, self.clock, self.zone, self.locales_dir = db, clock, zone, locales_dir
        self.reminders = reminders
        self.files_dir = files_dir  # where summaries are written before they are sent
        self.campaigns_dir = campaigns_dir  # where a plan published in chat becomes a campaign file
        self.retry_budget = RETRY_BUDGET_SECONDS
        self._locks = KeyedLocks()
        self._person_ids: dict[tuple[str, str], int] = {}

    def translator(self, locale: str) -> Translator:
        return translator(locale, self.locales_dir)

    async def locale_of(self, sender: Sender) -> str:
        return await people_store.locale_of(self.db, sender.channel, sender.external_id) or normalise_locale(
            sender.language_code)

    async def expected_attachment(self, sender: Sender) -> ExpectedFile | None:
        """The photo or document question the person is at, if any (the adapter then takes the file)."""
        person = await people_store.person_by_identity(self.db, sender.channel, sender.external_id)
        draft = await draft_store.load(self.db, person.id) if person else None
        if person is None or draft is None or draft.state.get("mode") != "form":
            return None
        fstate = FormState.from_json(draft.state["form"])
        campaign = await campaign_store.campaign(self.db, fstate.campaign_id)
        if campaign is None or fstate.phase != "ask" or fstate.current is None:
            return None
        f = next((f for f in campaign.fields if f.name == fstate.current), None)
        if f is None or not f.type.is_attachment:
            return None
        return ExpectedFile(person.id, fstate.unit_id, draft.state["period_id"], f.name, f.type.value)

    # --- entry point ----------------------------------------------------------------------------

    async def already_handled(self, sender: Sender, update_key: str | None) -> bool:
        return update_key is not None and await draft_store.seen(self.db, sender.channel.value, update_key)

    async def handle(self, sender: Sender, event: Event, update_key: str | None = None) -> Response:
        """One update, applied exactly once: one person's updates are worked out one at a time in this
        process, and one that lost the race to another process is worked out again on the newer state."""
        token = _BUTTONS.set(sender.buttons)
        try:
            async with self._locks.hold(await self._lock_key(sender)):
                deadline = time.monotonic() + self.retry_budget
                attempt = 0
                while True:
                    try:
                        return await self._handle_once(sender, event, update_key)
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
        finally:
            _BUTTONS.reset(token)

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

    async def _handle_once(self, sender: Sender, event: Event, update_key: str | None) -> Response:
        now = self.clock.now()
        context = await people_store.turn_context(self.db, sender.channel, sender.external_id, update_key, now)
        if context.seen:
            return Response([], 0, normalise_locale(sender.language_code), duplicate=True)
        person = context.person
        draft = draft_store.from_row(person.id, context.draft_row) if person and context.draft_row else None
        state = draft.state if draft else dict(IDLE)
        if context.campaign_sha:
            state["_sha"] = context.campaign_sha  # read with the draft; dropped before the state is saved
        version = draft.version if draft else 0
        if isinstance(event, TextInput) and event.text.strip().startswith("/"):
            event = _as_command(event.text)
        if isinstance(event, Command) and event.name == "start" and event.arg:
            return await self._register(sender, event.arg.strip(), person, update_key, now)
        if isinstance(event, TextInput) and state.get("mode") != "form" and looks_like_code(event.text.strip()):
            # Zalo has no deep links: the invite code typed as a message registers too.
            return await self._register(sender, event.text.strip(), person, update_key, now)
        if person is None:
            locale = normalise_locale(sender.language_code)
            t = self.translator(locale)
            return Response([Reply(t("Hello! This bot collects the reports of trade unions. To begin, open the "
                                     "invite link your upper-level union sent you, or type the invite code."))],
                            0, locale)
        locale = person.locale
        t = self.translator(locale)
        numbered = not sender.buttons
        turn = await self._dispatch(person.id, locale, t, state, version, event, numbered, sender)
        new_version = await self._write(person.id, sender, turn, version, update_key, now, touch=context.touch)
        return Response(turn.replies, new_version, turn.locale or locale)

    async def _write(self, person_id: int, sender: Sender, turn: _Turn, version: int, update_key: str | None,
                     now: datetime, *, touch: bool = True) -> int:
        state = dict(turn.state)
        state.pop("_sha", None)
        state["offered"] = [a for r in turn.replies for a in r.actions]
        # The choices a typed number picks: those of the last reply that had any, as shown numbered; none when
        # the reply went out with buttons (a "1" typed on a linked text channel must not press one unseen).
        numbered = next((r.choices for r in reversed(turn.replies) if r.choices), ())
        state["numbers"] = [] if sender.buttons else [b.action for b in numbered]
        unit_id: int | None = None
        period_id: int | None = None
        step = steps_total = 0
        if state.get("mode") == "form":  # an open form is also kept in the row's columns, which reminders read
            unit_id, period_id = state["form"]["unit_id"], state["period_id"]
            step, steps_total = state.get("step", 0), state.get("steps_total", 0)
        writes = []
        if update_key is not None:
            writes.append(draft_store.update_mark(sender.channel.value, update_key, now))
        if turn.locale:
            writes.append(people_store.locale_set(person_id, turn.locale))
        if touch:  # last seen (and any block lifted) is refreshed, not rewritten on every step
            writes.append(people_store.identity_touch(sender.channel, sender.external_id, now))
        writes.append(draft_store.state_save(
            person_id=person_id, expected_version=version, state=state, unit_id=unit_id, period_id=period_id,
            step=step, steps_total=steps_total, now=now,
        ))
        if turn.submit is None:
            await self.db.write(writes)  # the common step: one trip to the database
            return version + 1
        sub = turn.submit
        async with self.db.transaction(durable=True) as tx:  # a receipt follows: synced to disk
            for w in writes:  # a duplicate or stale update stops here, before anything is recorded
                await tx.apply(w)
            row = await submission_store.record(
                tx, period_id=sub["period_id"], unit_id=sub["unit_id"], person_id=person_id,
                channel=sender.channel.value, answers=sub["answers"], now=now, late=sub["late"],
            )
        turn.replies.insert(0, self._receipt(sub, row))
        return version + 1

    # --- dispatch -------------------------------------------------------------------------------

    async def _dispatch(self, person_id: int, locale: str, t: Translator, state: dict[str, Any], version: int,
                        event: Event | ActionInput, numbered: bool, sender: Sender) -> _Turn:
        if isinstance(event, TextInput):
            word = " ".join(event.text.lower().split()).strip(".!?")
            if word in COMMAND_WORDS:  # a lone command word is never an answer worth keeping
                event = Command(COMMAND_WORDS[word])
            elif not word:  # spaces or line breaks only: say so, and show where the person is
                return self._keep(state, [Reply(t("Your message was empty.")),
                                          *await self._resume(person_id, t, state)])
        if isinstance(event, Press) and event.action.startswith(f"{OPEN_ACTION}:"):
            return await self._open_from_reminder(person_id, t, state, event.action)
        if isinstance(event, Press):
            if event.version != version or event.action not in state.get("offered", []):
                replies = [Reply(t("That button is out of date. Here is where you are now:"))]
                replies += await self._resume(person_id, t, state)
                return self._keep(state, replies)
            event = ActionInput(event.action)
        elif isinstance(event, TextInput) and numbered:
            event = _numbered_to_action(event, state)
        if isinstance(event, Command):
            return await self._command(person_id, locale, t, state, event, sender)
        if isinstance(event, PlanFile):
            return await self._on_plan_file(person_id, t, state, event)
        mode = state.get("mode", "idle")
        if mode == "plan_review":
            return await self._on_plan_review(person_id, t, state, event)
        if mode == "form":
            return await self._form_step(person_id, t, state, event)
        if mode == "choose_unit":
            return await self._on_choose_unit(person_id, t, state, event)
        if mode == "choose_report":
            return await self._on_choose_report(person_id, t, state, event)
        if mode == "choose_submission":
            return await self._on_choose_submission(person_id, t, state, event)
        if mode == "choose_language":
            return self._on_choose_language(t, state, event)
        if mode == "channel_choose":
            return await self._on_channel_choose(person_id, t, state, event)
        if mode == "summary_choose":
            return await self._on_summary_choose(person_id, t, state, event)
        if mode == "remind_choose":
            return await self._on_remind_choose(person_id, t, state, event)
        if mode == "remind_confirm":
            return await self._on_remind_confirm(person_id, t, state, event)
        return self._keep(state, [Reply(t("I did not understand. Type /baocao to report, /hannop to see "
                                          "deadlines, or /trogiup for help."))])

    async def _command(self, person_id: int, locale: str, t: Translator, state: dict[str, Any], cmd: Command,
                       sender: Sender) -> _Turn:
        in_form = state.get("mode") == "form"
        if in_form and cmd.name in NOT_DURING_A_REPORT:
            return self._keep(state, [Reply(t("Please finish or cancel (/huy) the report first."))])
        match cmd.name:
            case "baocao":
                if in_form:
                    return self._keep(state, await self._resume(person_id, t, state))
                return await self._start_report(person_id, t, cmd.arg)
            case "huy":
                if in_form:
                    ctx, fstate = await self._form_context(t, state)
                    fstate, replies = form.request_cancel(ctx, fstate)
                    return self._form_turn(ctx, state, fstate, replies)
                return _Turn(dict(IDLE), [Reply(t("There is nothing to cancel."))])
            case "hannop":
                replies = await self._deadlines(person_id, t)
                return self._keep(state, replies + self._still_open_hint(t, state))
            case "danop":
                if in_form:
                    replies = await self._submissions_list(person_id, t, interactive=False)
                    return self._keep(state, replies + self._still_open_hint(t, state))
                return await self._submissions_turn(person_id, t)
            case "ngonngu":
                return _menu({"mode": "choose_language"}, Reply(
                    t("Choose a language:"),
                    choices=(Button("Tiếng Việt", "lang:vi"), Button("English", "lang:en")), columns=2))
            case "lienket":
                return self._keep(state, [await self._link_code(person_id, t)])
            case "kenh":
                return await self._channel_menu(person_id, t)
            case "tonghop":
                return await self._summary_menu(person_id, t)
            case "nhacnho":
                return await self._remind_menu(person_id, t)
            case "start":
                names = await self._greeting(person_id, t)
                return self._keep(state, [Reply(names), self._help(t)])
            case _:
                return self._keep(state, [self._help(t), *self._still_open_hint(t, state)])

    def _keep(self, state: dict[str, Any], replies: list[Reply]) -> _Turn:
        """A turn that leaves the dialog where it is (a form stays open at the same question)."""
        return _Turn(dict(state), replies)

    def _still_open_hint(self, t: Translator, state: dict[str, Any]) -> list[Reply]:
        if state.get("mode") != "form":
            return []
        return [Reply(t("Your report is still open at question {i}/{n}: type /baocao to continue.",
                        i=state.get("step", 0), n=state.get("steps_total", 0)))]

    def _help(self, t: Translator) -> Reply:
        return Reply("\n".join([
            t("What I can do:"),
            *help_lines(t),
            "",
            t("You can also type the words: báo cáo, hạn nộp, đã nộp, hủy."),
        ]))

    def _period_label(self, t: Translator, campaign: Campaign, period: Period, due_at: datetime) -> str:
        """A period on a menu button: campaign — period (due before dd/mm/yyyy)."""
        due = t("due before {date}", date=t.date(due_at, self.zone))
        return f"{campaign.title.get(t.locale)} — {period.name.get(t.locale)} ({due})"

    # --- registration ---------------------------------------------------------------------------

    async def _register(self, sender: Sender, code: str, person: Any, update_key: str | None,
                        now: datetime) -> Response:
        locale = person.locale if person else normalise_locale(sender.language_code)
        t = self.translator(locale)
        if not looks_like_code(code):
            return Response([Reply(t("This invite code is not valid. Ask your upper-level union for a new invite "
                                     "link."))], 0, locale)
        identity = Identity(sender.channel, sender.external_id, sender.chat_id, sender.display_name,
                            sender.username)
        try:
            new_person, view = await people_store.redeem_invite(
                self.db, code_hash=hash_code(code), identity=identity, locale=locale, now=now)
        except InviteRefusedError as exc:
            if exc.reason == "unknown":
                linked = await self._link(sender, identity, code, update_key, now)
                if linked is not None:
                    return linked
            text = {
                "used": t("This invite link has already been used. Each link works once: ask your upper-level "
                          "union for a new one."),
                "expired": t("This invite link has expired. Ask your upper-level union for a new one."),
            }.get(exc.reason, t("This invite code is not valid. Ask your upper-level union for a new invite link."))
            return Response([Reply(text)], 0, locale)
        t = self.translator(new_person.locale)
        role_text = _role_text(t, view.membership.role)
        replies = [
            Reply(t("Welcome, {name}! You are registered as {role} of {unit}.", name=new_person.full_name,
                    role=role_text, unit=view.unit.name)),
            self._help(t),
        ]
        return await self._reply_in_place(new_person.id, new_person.locale, sender, replies, update_key, now)

    async def _link(self, sender: Sender, identity: Identity, code: str, update_key: str | None,
                    now: datetime) -> Response | None:
        """A link code made with /lienket on another channel: this account joins that person."""
        try:
            person = await people_store.redeem_link_code(self.db, code_hash=hash_code(code), identity=identity,
                                                         now=now)
        except InviteRefusedError as exc:
            if exc.reason == "unknown":
                return None
            t = self.translator(normalise_locale(sender.language_code))
            text = {
                "taken": t("This account is already registered for someone else; nothing was linked."),
                "expired": t("This link code has expired. Type /lienket again on your other channel."),
                "used": t("This link code has already been used. Type /lienket again on your other channel."),
            }.get(exc.reason, t("This invite code is not valid. Ask your upper-level union for a new invite link."))
            return Response([Reply(text)], 0, normalise_locale(sender.language_code))
        t = self.translator(person.locale)
        replies = [Reply(t("Linked: {name} can now use the bot here too. Type /kenh to choose where reminders go.",
                           name=person.full_name))]
        return await self._reply_in_place(person.id, person.locale, sender, replies, update_key, now)

    async def _reply_in_place(self, person_id: int, locale: str, sender: Sender, replies: list[Reply],
                              update_key: str | None, now: datetime) -> Response:
        """Replies outside the dialog (registering, linking): the person's draft stays where it was."""
        draft = await draft_store.load(self.db, person_id)
        turn = self._keep(draft.state if draft else dict(IDLE), replies)
        version = await self._write(person_id, sender, turn, draft.version if draft else 0, update_key, now)
        return Response(replies, version, locale)

    async def _link_code(self, person_id: int, t: Translator) -> Reply:
        code = new_code()
        now = self.clock.now()
        await people_store.create_link_code(self.db, person_id=person_id, code_hash=hash_code(code), now=now,
                                            expires_at=now + LINK_CODE_LIFETIME)
        return Reply(t("Your link code: {code}\nOn your other channel (Telegram or Zalo), send this code to the bot "
                       "within 30 minutes: reports, reminders and receipts then reach you there too.", code=code))

    async def _channel_menu(self, person_id: int, t: Translator) -> _Turn:
        channels, chosen = await people_store.channels_of(self.db, person_id)
        if len(channels) < 2:
            return _Turn(dict(IDLE), [Reply(t("You use only one channel. To add another, type /lienket here and send "
                                              "the code to the bot on the other one."))])
        names = {"telegram": "Telegram", "zalo": "Zalo"}
        choices = [Button(names.get(c, c) + (" ✓" if c == chosen else ""), f"ch:{c}") for c in channels]
        choices.append(Button(t("The one I used last") + (" ✓" if chosen is None else ""), "ch:last"))
        return _menu({"mode": "channel_choose", "channels": channels},
                     Reply(t("Where should reminders and summaries reach you?"), choices=tuple(choices)))

    async def _on_channel_choose(self, person_id: int, t: Translator, state: dict[str, Any], event: Any) -> _Turn:
        if isinstance(event, ActionInput) and event.action.startswith("ch:"):
            choice = event.action[3:]
            if choice == "last" or choice in state.get("channels", []):
                await people_store.set_preferred_channel(self.db, person_id, None if choice == "last" else choice)
                return _Turn(dict(IDLE), [Reply(t("Saved."))])
        return self._keep(state, [Reply(t("Please choose one of the answers offered.")),
                                  Reply.from_json(state["menu"])])

    async def _greeting(self, person_id: int, t: Translator) -> str:
        views = await people_store.memberships_of(self.db, person_id)
        if not views:
            return t("Hello! You have no unit yet: ask your upper-level union for an invite link.")
        units = "; ".join(f"{_role_text(t, v.membership.role)} — {v.unit.name}" for v in views)
        return t("Hello, {name}! Your units: {units}.", name=views[0].person.full_name, units=units)

    # --- choosing what to report ------------------------------------------------------------------

    async def reportable_units(self, person_id: int) -> list[Unit]:
        """Units this person files reports for: chairs their own, officers their own upper unit."""
        views = await people_store.memberships_of(self.db, person_id)
        units = [v.unit for v in views if v.membership.role in (Role.CHAIR, Role.OFFICER)]
        return list({u.id: u for u in units}.values())

    async def may_report_for(self, person_id: int, unit: Unit) -> bool:
        """A chair for the units they are bound to; an officer for every unit in their subtree."""
        views = await people_store.memberships_of(self.db, person_id)
        for v in views:
            if v.membership.role is Role.CHAIR and v.unit.id == unit.id:
                return True
            if v.membership.role is Role.OFFICER:
                if v.unit.id == unit.id:
                    return True
                if any(a.id == v.unit.id for a in await unit_store.ancestors(self.db, unit.id)):
                    return True
        return False

    async def _start_report(self, person_id: int, t: Translator, arg: str) -> _Turn:
        if arg:
            unit = await unit_store.by_code(self.db, arg.strip())
            if unit is None or not await self.may_report_for(person_id, unit):
                return _Turn(dict(IDLE), [Reply(t("You cannot report for unit {code}.", code=arg.strip()))])
            return await self._choose_report(person_id, t, unit)
        units = await self.reportable_units(person_id)
        if not units:
            return _Turn(dict(IDLE), [Reply(t("Your role does not file reports. Reports are filed by the chairs "
                                              "of grassroots unions and by upper-level officers."))])
        if len(units) == 1:
            return await self._choose_report(person_id, t, units[0])
        return _menu(
            {"mode": "choose_unit", "units": [u.id for u in units]},
            Reply(t("Which unit are you reporting for?"), choices=tuple(Button(u.name, f"u:{u.id}") for u in units)),
        )

    async def _on_choose_unit(self, person_id: int, t: Translator, state: dict[str, Any], event: Any) -> _Turn:
        unit_id = parse_id(event.action[2:]) if isinstance(event, ActionInput) and event.action.startswith("u:") \
            else None
        if unit_id is not None:
            unit = await unit_store.by_id(self.db, unit_id)
            if unit is not None and unit_id in state.get("units", []) and await self.may_report_for(person_id, unit):
                return await self._choose_report(person_id, t, unit)
        return self._keep(state, [Reply(t("Please choose one of the units offered.")),
                                  *await self._resume(person_id, t, state)])

    async def _open_items(self, unit: Unit) -> list[Deadline]:
        return [d for d in await deadlines_for_unit(self.db, unit, self.clock.now())
                if d.status in (Status.OPEN, Status.OVERDUE)]

    async def _choose_report(self, person_id: int, t: Translator, unit: Unit) -> _Turn:
        items = await self._open_items(unit)
        if not items:
            return _Turn(dict(IDLE), [Reply(t("{unit} has no report waiting. Type /hannop to see all deadlines, "
                                              "or /danop to correct a report already sent.", unit=unit.name))])
        if len(items) == 1:
            return await self._open_form(person_id, t, unit, items[0])
        choices = [Button(self._period_label(t, d.campaign, d.period, d.due_at), f"p:{d.period_id}") for d in items]
        return _menu({"mode": "choose_report", "unit_id": unit.id, "periods": [d.period_id for d in items]},
                     Reply(t("Which report do you want to file for {unit}?", unit=unit.name), choices=tuple(choices)))

    async def _on_choose_report(self, person_id: int, t: Translator, state: dict[str, Any], event: Any) -> _Turn:
        period_id = parse_id(event.action[2:]) if isinstance(event, ActionInput) and event.action.startswith("p:") \
            else None
        if period_id is not None:
            unit = await unit_store.by_id(self.db, state["unit_id"])
            if unit is not None and period_id in state.get("periods", []):
                if not await self.may_report_for(person_id, unit):  # the membership may be gone since the menu
                    return _Turn(dict(IDLE), [Reply(t("You can no longer report for this unit; nothing was sent."))])
                for d in await self._open_items(unit):
                    if d.period_id == period_id:
                        return await self._open_form(person_id, t, unit, d)
        return self._keep(state, [Reply(t("Please choose one of the reports offered.")),
                                  *await self._resume(person_id, t, state)])

    async def _open_form(self, person_id: int, t: Translator, unit: Unit, d: Deadline,
                         revision_of: int | None = None, answers: dict[str, Any] | None = None) -> _Turn:
        ctx = FormContext(d.campaign, d.period, unit.kind, t, self.zone, _BUTTONS.get())
        notes: list[Reply] = []
        if answers is None and unit.kind is UnitKind.UPPER:
            answers, from_units = await self._rollup_answers(ctx, d.period_id, unit)
            if from_units:
                notes.append(Reply(t("The figures are filled in with the totals of the {n} units under you that have "
                                     "reported. Check them and add what your level organised itself.", n=from_units)))
        fstate = FormState(d.campaign.id, d.period.key, unit.id, unit.kind.value, answers=dict(answers or {}),
                           revision_of=revision_of)
        state = {"mode": "form", "period_id": d.period_id}
        fstate, replies = form.start(ctx, fstate)
        intro = [] if revision_of else [Reply(
            t("{campaign} — {period}\nUnit: {unit}\nDue before {due}. {n} questions; you can stop at any time and "
              "continue later.", campaign=d.campaign.title.get(t.locale), period=d.period.name.get(t.locale),
              unit=unit.name, due=t.weekday_date(d.due_at, self.zone), n=form.progress(ctx, fstate)[1]),
        )]
        return self._form_turn(ctx, state, fstate, intro + notes + replies)

    async def _open_from_reminder(self, person_id: int, t: Translator, state: dict[str, Any], action: str) -> _Turn:
        """"📝 Nộp ngay" in a reminder: sent outside any dialog, so it carries no version; it is checked here
        like a command (who may report, is the period still open) and opens the form at the right question."""
        parts = action.split(":")
        period_id, unit_id = (parse_id(parts[1]), parse_id(parts[2])) if len(parts) == 3 else (None, None)
        if period_id is None or unit_id is None:
            return self._keep(state, [Reply(t("That button is out of date. Here is where you are now:")),
                                      *await self._resume(person_id, t, state)])
        if state.get("mode") == "form":
            if state.get("period_id") != period_id or state["form"]["unit_id"] != unit_id:
                return self._keep(state, [Reply(t("Please finish or cancel (/huy) the report first.")),
                                          *await self._resume(person_id, t, state)])
            return self._keep(state, await self._resume(person_id, t, state))
        unit = await unit_store.by_id(self.db, unit_id)
        if unit is None or not await self.may_report_for(person_id, unit):
            # The button may be forged or the membership gone: no unit is named, not even this one.
            return self._keep(state, [Reply(t("This reminder is not for a unit you report for. Type /baocao to "
                                              "see the reports you can file."))])
        for d in await self._open_items(unit):
            if d.period_id == period_id:
                return await self._open_form(person_id, t, unit, d)
        return await self._choose_report(person_id, t, unit)

    async def _rollup_answers(self, ctx: FormContext, period_id: int, unit: Unit) -> tuple[dict[str, Any], int]:
        """An upper level's report starts from the totals of its subtree's latest submissions."""
        return await subtree_answers(self.db, ctx.fields, period_id, unit.id)

    # --- the form -------------------------------------------------------------------------------

    async def _form_context(self, t: Translator, state: dict[str, Any]) -> tuple[FormContext, FormState]:
        fstate = FormState.from_json(state["form"])
        campaign = await campaign_store.campaign(self.db, fstate.campaign_id, state.get("_sha"))
        if campaign is None:
            raise LookupError(fstate.campaign_id)
        period = campaign.period(fstate.period_key)
        return FormContext(campaign, period, UnitKind(fstate.unit_kind), t, self.zone, _BUTTONS.get()), fstate

    def _form_turn(self, ctx: FormContext, state: dict[str, Any], fstate: FormState, replies: list[Reply]) -> _Turn:
        new_state = dict(state)
        new_state["form"] = fstate.to_json()
        new_state["step"], new_state["steps_total"] = form.progress(ctx, fstate)
        return _Turn(new_state, replies)

    async def _form_step(self, person_id: int, t: Translator, state: dict[str, Any], event: Any) -> _Turn:
        try:
            ctx, fstate = await self._form_context(t, state)
        except (LookupError, KeyError):
            return _Turn(dict(IDLE), [Reply(t("This report is no longer available; your draft was closed."))])
        fstate, replies, outcome = form.step(ctx, fstate, event)
        if outcome.cancelled:
            return _Turn(dict(IDLE), [Reply(t("The report was cancelled; nothing was sent."))])
        if outcome.submit:
            return await self._submit(person_id, t, ctx, state, fstate)
        return self._form_turn(ctx, state, fstate, replies)

    async def _submit(self, person_id: int, t: Translator, ctx: FormContext, state: dict[str, Any],
                      fstate: FormState) -> _Turn:
        now = self.clock.now()
        unit = await unit_store.by_id(self.db, fstate.unit_id)
        period_row = await campaign_store.period_by_id(self.db, state["period_id"])
        if period_row is None or period_row.campaign_id != ctx.campaign.id:
            return _Turn(dict(IDLE), [Reply(t("This report is no longer available; your draft was closed."))])
        if unit is None or not await self.may_report_for(person_id, unit):
            return _Turn(dict(IDLE), [Reply(t("You can no longer report for this unit; nothing was sent."))])
        if now >= period_row.closes_at:
            return self._form_turn(ctx, state, fstate, [Reply(t(
                "This period closed on {date}; reports are no longer accepted. Please contact {contact}.",
                date=t.date(period_row.closes_at, self.zone), contact=ctx.campaign.contact.department))])
        turn = _Turn(dict(IDLE), [])
        turn.submit = {
            "period_id": period_row.id, "unit_id": unit.id, "answers": dict(fstate.answers),
            "late": now >= period_row.due_at, "unit_name": unit.name, "due_at": period_row.due_at,
            "closes_at": period_row.closes_at, "campaign": ctx.campaign, "period": ctx.period,
            "correction": fstate.revision_of is not None, "t": t,
        }
        return turn

    def _receipt(self, sub: dict[str, Any], row: submission_store.SubmissionRow) -> Reply:
        t: Translator = sub["t"]
        campaign: Campaign = sub["campaign"]
        period: Period = sub["period"]
        lines = [
            t("✅ Correction received (revision {rev}).", rev=row.revision) if sub["correction"]
            else t("✅ Report received. Thank you!"),
            f"{campaign.title.get(t.locale)} — {period.name.get(t.locale)}",
            t("Unit: {unit}", unit=sub["unit_name"]),
            t("Receipt number: {ref}", ref=row.reference),
            t("Time: {when}", when=t.datetime(row.last_submitted_at, self.zone)),
        ]
        if row.late:
            late_days = days_left_or_late(sub["due_at"], row.first_submitted_at, campaign.zone)
            lines.append(t.ngettext("Submitted after the due date ({n} day late).",
                                    "Submitted after the due date ({n} days late).", late_days))
        lines.append(t("You can correct it until {date} with /danop.",
                       date=t.date(last_day(sub["closes_at"]), self.zone)))
        return Reply("\n".join(lines))

    async def _resume(self, person_id: int, t: Translator, state: dict[str, Any]) -> list[Reply]:
        mode = state.get("mode", "idle")
        if mode == "form":
            try:
                ctx, fstate = await self._form_context(t, state)
            except (LookupError, KeyError):
                return [Reply(t("This report is no longer available; your draft was closed."))]
            replies = form.resume(ctx, fstate)
            state["form"] = fstate.to_json()  # answers a changed campaign no longer holds stay dropped when kept
            return replies
        if "menu" in state:
            return [Reply.from_json(state["menu"])]
        return [Reply(t("Type /baocao to report, /hannop to see deadlines, or /trogiup for help."))]

    # --- summaries ----------------------------------------------------------------------------------

    async def _summary_menu(self, person_id: int, t: Translator) -> _Turn:
        scope = await summary_service.scope_of(self.db, person_id)
        if scope is None:
            return _Turn(dict(IDLE), [Reply(t("Summaries are for upper-level officers and the department. "
                                              "Type /danop to see your own reports."))])
        units = await subtree_ids(self.db, scope[0] or [])
        choices = []
        periods = []
        for campaign in await campaign_store.live_campaigns(self.db):
            if not await campaign_reaches(self.db, campaign, units):
                continue  # another province's campaign: not even its title
            for row in await campaign_store.periods_of(self.db, campaign.id):
                periods.append((row.due_at, campaign, row))
        for _due, campaign, row in sorted(periods, key=lambda x: x[0], reverse=True)[:30]:
            choices.append(Button(self._period_label(t, campaign, campaign.period(row.key), row.due_at), f"m:{row.id}"))
        if not choices:  # closed periods are listed too: "none open" would be wrong here
            return _Turn(dict(IDLE), [Reply(t("There is no reporting period to summarise yet."))])
        return _menu({"mode": "summary_choose", "periods": [int(b.action[2:]) for b in choices]},
                     Reply(t("Summary of which period?"), choices=tuple(choices)))

    async def _on_summary_choose(self, person_id: int, t: Translator, state: dict[str, Any], event: Any) -> _Turn:
        period_id = parse_id(event.action[2:]) if isinstance(event, ActionInput) and event.action.startswith("m:") \
            else None
        if period_id is None or period_id not in state.get("periods", []):
            return self._keep(state, [Reply(t("Please choose one of the reports offered.")),
                                      *await self._resume(person_id, t, state)])
        scope = await summary_service.scope_of(self.db, person_id)  # again: the membership may be gone
        row = await campaign_store.period_by_id(self.db, period_id)
        campaign = await campaign_store.campaign(self.db, row.campaign_id) if row else None
        if scope is None or row is None or campaign is None or not await campaign_reaches(
                self.db, campaign, await subtree_ids(self.db, scope[0] or [])):
            return _Turn(dict(IDLE), [Reply(t("Summaries are for upper-level officers and the department. "
                                              "Type /danop to see your own reports."))])
        roots, scope_name = scope
        summary = await summary_service.build_summary(self.db, row.campaign_id, row.key, scope_roots=roots,
                                                      scope_name=scope_name, now=self.clock.now())
        replies = [Reply(summary_text(summary, t, self.zone))]
        if self.files_dir is not None:
            out_dir = self.files_dir / f"person-{person_id}"
            for fmt, caption in (("xlsx", t("Excel workbook")), ("docx", t("Word report (báo cáo)")),
                                 ("png", t("Chart"))):
                # Writing a workbook for thousands of units takes seconds: off the event loop, so other
                # people's dialogs are not kept waiting.
                path = await asyncio.to_thread(summary_files.write, summary, fmt, out_dir, t, self.zone)
                replies.append(Reply(caption, file_path=str(path)))
        return _Turn(dict(IDLE), replies)

    # --- a plan sent in chat ----------------------------------------------------------------------

    async def accepts_plan(self, sender: Sender) -> bool:
        """Department staff and admins, when no report is open, may send a plan to draft a campaign."""
        person = await people_store.person_by_identity(self.db, sender.channel, sender.external_id)
        if person is None or self.campaigns_dir is None:
            return False
        draft = await draft_store.load(self.db, person.id)
        if draft is not None and draft.state.get("mode") == "form":
            return False
        return _is_staff(await people_store.memberships_of(self.db, person.id))

    async def _on_plan_file(self, person_id: int, t: Translator, state: dict[str, Any], event: PlanFile) -> _Turn:
        if state.get("mode") == "form" or not _is_staff(await people_store.memberships_of(self.db, person_id)):
            return self._keep(state, [Reply(self.unexpected_file_text(t))])
        try:
            found, problems = await plan_chat.read_plan_off_loop(event.data, event.name)
        except PlanError as exc:
            return _Turn(dict(IDLE), [Reply(exc.render(t))])
        draft = found.draft
        year = found.proposal.periods[0].due_date.year if found.proposal.periods else self.clock.now().year
        new_state = {"mode": "plan_review", "toml": draft.toml, "campaign_id": draft.campaign_id, "year": year}
        return _menu(new_state, Reply(plan_chat.review_text(t, found, problems), title=t("Draft campaign from {name}",
                                                                                        name=event.name),
                                      choices=self._plan_buttons(t), columns=2))

    def unexpected_file_text(self, t: Translator) -> str:
        """The answer to a file (photo, document, plan) sent when no question asks for one; the adapters
        send it too, when they turn a file away before it reaches the conversation."""
        return t("I was not expecting a file now. Type /baocao to continue your report.")

    def _plan_buttons(self, t: Translator) -> tuple[Button, ...]:
        return (Button(t("✅ Publish"), "plan:publish"), Button(t("🗑 Discard"), "plan:discard"))

    async def _on_plan_review(self, person_id: int, t: Translator, state: dict[str, Any], event: Any) -> _Turn:
        staff = await staff_units(self.db, person_id)
        if not staff:  # no longer department staff or admin since the draft was shown: nothing is published
            return _Turn(dict(IDLE), [Reply(t("Only department staff and administrators can publish a campaign; "
                                              "nothing was published."))])
        action = event.action if isinstance(event, ActionInput) else None
        if action == "plan:discard":
            return _Turn(dict(IDLE), [Reply(t("The draft was discarded; nothing was published."))])
        if action == "plan:publish":
            problems = plan_chat.problems_of(state["toml"], state["campaign_id"])
            if problems:
                return self._keep(state, [Reply("\n".join([t("The draft does not load yet (campaigns check):"),
                                                           *problems])), Reply.from_json(state["menu"])])
            assert self.campaigns_dir is not None
            # The campaign reaches the publisher's own province only, whatever the draft says.
            toml = bind_within(state["toml"], (await root_of(self.db, staff[0])).code)
            try:
                path = plan_chat.publish(toml, state["campaign_id"], self.campaigns_dir)
            except FileExistsError:
                return self._keep(state, [Reply(t("A campaign {id} already exists; nothing was published.",
                                                  id=state["campaign_id"]))])
            loaded = load_campaign_file(path)
            await campaign_store.sync_campaigns(self.db, [(loaded.campaign, loaded.sha256, path.name)],
                                                actor=f"person:{person_id}", now=self.clock.now())
            return _Turn(dict(IDLE), [Reply(t("Published: {title}. Reminders start from now on.",
                                              title=loaded.campaign.title.get(t.locale)))])
        if isinstance(event, TextInput):
            try:
                toml = plan_chat.apply_edit(state["toml"], event.text, state.get("year", self.clock.now().year))
            except ParseError as err:
                return self._keep(state, [Reply(err.render(t)), Reply.from_json(state["menu"])])
            new_state = dict(state)
            new_state["toml"] = toml
            problems = plan_chat.problems_of(toml, state["campaign_id"])
            text = t("Changed.") if not problems else "\n".join([t("Changed. Still to fix:"), *problems])
            return _menu(new_state, Reply(text, choices=self._plan_buttons(t), columns=2))
        return self._keep(state, [Reply.from_json(state["menu"])])

    # --- reminders on request --------------------------------------------------------------------

    async def remind_scope(self, person_id: int) -> set[int]:
        """Units a person may remind: the subtrees of their officer, department and admin memberships'
        units (the same scope as a summary's, summary_service.scope_of, spelled out); empty: none."""
        scope = await summary_service.scope_of(self.db, person_id)
        return set() if scope is None else await subtree_ids(self.db, scope[0] or [])

    async def _remind_menu(self, person_id: int, t: Translator) -> _Turn:
        scope = await self.remind_scope(person_id)
        if not scope or self.reminders is None:
            return _Turn(dict(IDLE), [Reply(t("Only upper-level officers and the department can send reminders."))])
        now = self.clock.now()
        choices = []
        for campaign in await campaign_store.live_campaigns(self.db):
            if not await campaign_reaches(self.db, campaign, scope):
                continue  # another province's campaign
            for row in await campaign_store.periods_of(self.db, campaign.id):
                if now < row.closes_at:
                    choices.append(Button(self._period_label(t, campaign, campaign.period(row.key), row.due_at),
                                          f"n:{row.id}"))
        if not choices:
            return _Turn(dict(IDLE), [Reply(t("No reporting period is open at the moment."))])
        return _menu({"mode": "remind_choose", "periods": [int(b.action[2:]) for b in choices]},
                     Reply(t("Remind the units that have not reported — for which period?"), choices=tuple(choices)))

    async def _on_remind_choose(self, person_id: int, t: Translator, state: dict[str, Any], event: Any) -> _Turn:
        period_id = parse_id(event.action[2:]) if isinstance(event, ActionInput) and event.action.startswith("n:") \
            else None
        if period_id is None or period_id not in state.get("periods", []) or self.reminders is None:
            return self._keep(state, [Reply(t("Please choose one of the reports offered.")),
                                      *await self._resume(person_id, t, state)])
        scope = await self.remind_scope(person_id)
        if not scope:
            return _Turn(dict(IDLE), [Reply(t("Only upper-level officers and the department can send reminders."))])
        late, items = await self.reminders.on_request(period_id, self.clock.now(), scope)
        if not late:
            return _Turn(dict(IDLE), [Reply(t("Every unit in your scope has reported for this period. 👍"))])
        unreachable = sum(1 for u in late if not any(p.channel for p in u.recipients))
        lines = [t.ngettext("{n} unit has not reported:", "{n} units have not reported:", len(late))]
        lines += [f"• {u.name}" for u in late[:30]]
        if len(late) > 30:
            lines.append(t("… and {n} more.", n=len(late) - 30))
        if unreachable:
            lines.append(t("{n} of them cannot be reached by the bot (no registered person, or blocked).",
                           n=unreachable))
        lines.append(t("Send a reminder to {n} people now?", n=len(items)))
        return _menu({"mode": "remind_confirm", "period_id": period_id},
                     Reply("\n".join(lines), choices=(Button(t("Yes, send"), "yes"), Button(t("No"), "no")),
                           columns=2))

    async def _on_remind_confirm(self, person_id: int, t: Translator, state: dict[str, Any], event: Any) -> _Turn:
        answer = event.action if isinstance(event, ActionInput) else None
        if answer == "no":
            return _Turn(dict(IDLE), [Reply(t("All right, nothing was sent."))])
        if answer != "yes" or self.reminders is None:
            return self._keep(state, [Reply(t("Please choose one of the answers offered.")),
                                      Reply.from_json(state["menu"])])
        scope = await self.remind_scope(person_id)
        if not scope:
            return _Turn(dict(IDLE), [Reply(t("Only upper-level officers and the department can send reminders."))])
        now = self.clock.now()
        _late, items = await self.reminders.on_request(state["period_id"], now, scope)
        added = await self.reminders.enqueue(items, now)
        return _Turn(dict(IDLE), [Reply(t("{n} reminders are queued and go out within a minute, at the pace "
                                          "the messengers allow.", n=added))])

    # --- deadlines and submissions ----------------------------------------------------------------

    async def _deadlines(self, person_id: int, t: Translator) -> list[Reply]:
        units = await self.reportable_units(person_id)
        if not units:
            return [Reply(t("You have no unit that files reports."))]
        now = self.clock.now()
        return [Reply(deadlines_text(t, u, await deadlines_for_unit(self.db, u, now), self.zone)) for u in units]

    async def _submissions_list(self, person_id: int, t: Translator, *, interactive: bool) -> list[Reply]:
        units = {u.id: u for u in await self.reportable_units(person_id)}
        rows = await submission_store.of_units(self.db, units)
        if not rows:
            return [Reply(t("No report has been submitted yet. Type /baocao to file one."))]
        lines = [t("Reports submitted:")]
        choices = []
        for i, row in enumerate(rows, start=1):
            info = await self._period_info(row.period_id)
            if info is None:
                continue
            campaign, period, _closes_at = info
            status = t("revision {rev}", rev=row.revision) + (" " + t("(late)") if row.late else "")
            lines.append(f"{i}. {campaign.title.get(t.locale)} — {period.name.get(t.locale)}\n"
                         f"   {units[row.unit_id].name}: {row.reference}, "
                         f"{t.datetime(row.last_submitted_at, self.zone)}, {status}")
            if interactive:
                choices.append(Button(row.reference, f"s:{row.id}"))
        text = "\n".join(lines)
        if interactive and choices:
            text += "\n\n" + t("Choose a report to see it or correct it.")
        return [Reply(text, choices=tuple(choices), columns=2)]

    async def _period_info(self, period_id: int) -> tuple[Campaign, Period, datetime] | None:
        row = await campaign_store.period_by_id(self.db, period_id)
        if row is None:
            return None
        campaign = await campaign_store.campaign(self.db, row.campaign_id)
        if campaign is None:
            return None
        return campaign, campaign.period(row.key), row.closes_at

    async def _submissions_turn(self, person_id: int, t: Translator) -> _Turn:
        replies = await self._submissions_list(person_id, t, interactive=True)
        ids = [int(a[2:]) for r in replies for a in r.actions if a.startswith("s:")]
        if not ids:
            return _Turn(dict(IDLE), replies)
        return _menu({"mode": "choose_submission", "submissions": ids}, replies[-1], before=replies[:-1])

    async def _on_choose_submission(self, person_id: int, t: Translator, state: dict[str, Any],
                                    event: Any) -> _Turn:
        sub_id = parse_id(event.action[2:]) if isinstance(event, ActionInput) and event.action.startswith("s:") \
            else None
        if sub_id is not None:
            row = await submission_store.by_id(self.db, sub_id)
            unit = await unit_store.by_id(self.db, row.unit_id) if row else None
            info = await self._period_info(row.period_id) if row else None
            if row and unit and info and sub_id in state.get("submissions", []) and \
                    await self.may_report_for(person_id, unit):
                campaign, period, closes_at = info
                answers = await submission_store.latest_answers(self.db, row.id)
                if self.clock.now() >= closes_at:
                    ctx = FormContext(campaign, period, unit.kind, t, self.zone, _BUTTONS.get())
                    text = "\n".join([t("This period has closed; the report can no longer be corrected."), "",
                                      *form.review_lines(ctx, answers)])
                    return _Turn(dict(IDLE), [Reply(text, title=f"{campaign.title.get(t.locale)} — "
                                                                 f"{period.name.get(t.locale)}")])
                deadline = next(d for d in await deadlines_for_unit(self.db, unit, self.clock.now())
                                if d.period_id == row.period_id)
                return await self._open_form(person_id, t, unit, deadline, revision_of=row.id, answers=answers)
        return self._keep(state, [Reply(t("Please choose one of the reports offered.")),
                                  *await self._resume(person_id, t, state)])

    def _on_choose_language(self, t: Translator, state: dict[str, Any], event: Any) -> _Turn:
        if isinstance(event, ActionInput) and event.action in ("lang:vi", "lang:en"):
            locale = event.action[5:]
            # Confirmed in the new language; bound to `t` so that the catalog extractor sees the messages.
            t = self.translator(locale)
            turn = _Turn(dict(IDLE), [Reply(t("Language set to English.") if locale == "en"
                                            else t("Language set to Vietnamese."))])
            turn.locale = locale
            return turn
        return self._keep(state, [Reply(t("Please choose one of the languages offered.")),
                                  Reply.from_json(state["menu"])])


def _menu(state: dict[str, Any], reply: Reply, before: list[Reply] | None = None) -> _Turn:
    """A turn that offers a choice; the menu is kept in the state so that it can be shown again."""
    state = dict(state)
    state["menu"] = reply.to_json()
    return _Turn(state, [*(before or []), reply])


def _as_command(text: str) -> Command:
    head, _, arg = text.strip()[1:].partition(" ")
    name = head.split("@", 1)[0].lower()  # "/baocao@MyBot" in groups
    return Command(name, arg.strip())


def _numbered_to_action(event: TextInput, state: dict[str, Any]) -> TextInput | ActionInput:
    """On channels without buttons, "2" picks the second numbered choice of the last reply and "0" goes back.
    Only choices: moves such as send or done are typed words there, so a number never stands for one."""
    text = event.text.strip()
    offered = state.get("offered", [])
    # "numbers" is saved with every step; a state saved before it was falls back to what was offered.
    choices = state.get("numbers", [a for a in offered if a not in ("back", "skip")])
    number = parse_id(text)  # ASCII digits only: "²" is a digit to str.isdigit but not to int()
    if not choices or number is None:
        return event
    if number == 0 and "back" in offered:
        return ActionInput("back")
    if 1 <= number <= len(choices):
        return ActionInput(choices[number - 1])
    return event


def _backoff(attempt: int) -> float:
    """Seconds before working an update out again: doubling from 4 ms up to 0.2 s, jittered so that two
    processes racing for one person do not meet again at once."""
    return min(0.002 * 2 ** attempt, 0.2) * random.uniform(0.5, 1.5)  # noqa: S311 (jitter, not a secret)


def _is_staff(views: list[people_store.MemberView]) -> bool:
    """Department staff and admins: they publish plans (for their own province)."""
    return any(v.membership.role in (Role.DEPARTMENT, Role.ADMIN) for v in views)


def _role_text(t: Translator, role: Role) -> str:
    return {
        Role.CHAIR: t("the person reporting for"),
        Role.OFFICER: t("officer of"),
        Role.DEPARTMENT: t("department staff at"),
        Role.ADMIN: t("administrator at"),
    }[role]


__all__ = ["Command", "Conversation", "Event", "PlanFile", "Press", "Response", "Sender"]
