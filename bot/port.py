"""The narrow port between the adapters (handlers/) and the core: all an adapter may ask of the bot.

An adapter turns an update into a typed event (a text, a button press, a command, or a file announced
with a way to fetch it) and hands it to `Port.handle`, which answers with a `Response` the adapter sends
through its `OutboundChannel` (bot/channels.py). When the messenger says a person blocked the bot, the
adapter calls `Port.blocked`. Adapters never import storage/, and never touch the database or the clock.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.channels import IncomingFile
from bot.config import Config
from bot.conversation import (
    Command,
    Conversation,
    EarlyReply,
    ExpectedFile,
    Press,
    Response,
    Sender,
    no_early_reply,
)
from bot.deadline_text import deadlines_text
from bot.deadlines import deadlines_for_unit
from bot.dialog.model import TextInput
from bot.domain import Channel, Role, Unit, UnitKind
from bot.i18n import Translator
from bot.intake import FileIntake
from bot.pacing import Pace, SendPacer
from storage import people as people_store
from storage import units as unit_store

# What an adapter may hand in: typed text (commands are read out of it), a press, a command, a file.
InboundEvent = TextInput | Press | Command | IncomingFile


class Port:
    """The core as the adapters see it, for one conversation and the uploads rules of `config`."""

    def __init__(self, conversation: Conversation, config: Config, pacer: SendPacer | None = None) -> None:
        self._conversation = conversation
        self._pacer = pacer  # the channels' send budget, shared with the clock's wave (bot/pacing.py)
        self._intake = FileIntake(conversation, config.uploads, config.data_dir)
        self.default_locale = config.app.language
        self.document_types = config.uploads.document_types  # what a document's name may end with
        self.files_dir = conversation.files_dir  # where summaries are written, for channels that link to them

    @property
    def zone(self) -> ZoneInfo:
        return self._conversation.zone

    def now(self) -> datetime:
        """The core's "now", for what a channel must date itself (a file link's expiry)."""
        return self._conversation.clock.now()

    async def handle(self, sender: Sender, event: InboundEvent, update_key: str | None = None, *,
                     early: EarlyReply = no_early_reply) -> Response:
        """One update from one person, applied once (a re-delivered `update_key` gives a duplicate).
        `early`: how the adapter sends a reply at once, before the Response, when the answer takes long
        (the summary's "working on it"); the adapter sends it to this person through its channel."""
        if isinstance(event, IncomingFile):
            return await self._intake.receive(sender, event, update_key)
        return await self._conversation.handle(sender, event, update_key, early=early)

    async def blocked(self, sender: Sender) -> None:
        """The messenger said this person blocked the bot: stop writing to them there (superiors see it)."""
        conversation = self._conversation
        await people_store.mark_blocked(conversation.db, sender.channel, sender.external_id,
                                        conversation.clock.now())

    def reply_pace(self, sender: Sender) -> Pace | None:
        """What the adapter awaits before each message of one reply to `sender`: the channel's next send
        slot, ahead of the clock's wave. None when nothing paces this port (the terminal, tests)."""
        if self._pacer is None:
            return None
        return self._pacer.turn(sender.channel.value, sender.chat_id)

    def slow_down(self, sender: Sender, seconds: float) -> None:
        """The messenger answered a reply with 429: the whole channel, wave included, waits `seconds`."""
        if self._pacer is not None:
            self._pacer.pause(sender.channel.value, seconds)

    def translator(self, locale: str) -> Translator:
        return self._conversation.translator(locale)

    async def translator_for(self, sender: Sender) -> Translator:
        """The person's language, for what an adapter says itself ("I can read only text and photos")."""
        return self._conversation.translator(await self._conversation.locale_of(sender))

    async def expected_file(self, sender: Sender) -> ExpectedFile | None:
        """The photo or document question the person is at, if any."""
        return await self._conversation.expected_attachment(sender)

    def local_desk(self) -> LocalDesk:
        """For the terminal: choosing a unit and acting for it on this machine."""
        return LocalDesk(self._conversation)


class LocalDesk:
    """What the terminal asks beyond the dialog: the units to choose from, a unit's deadlines, and the
    identity of whoever runs the shell, acting for the unit they chose."""

    def __init__(self, conversation: Conversation) -> None:
        self._conversation = conversation

    async def units(self) -> list[Unit]:
        return await unit_store.all_units(self._conversation.db)

    async def deadlines(self, unit: Unit, t: Translator) -> str:
        c = self._conversation
        return deadlines_text(t, unit, await deadlines_for_unit(c.db, unit, c.clock.now()), c.zone)

    async def act_for(self, unit: Unit, user: str, locale: str) -> Sender:
        """`user` as the unit's chair (grassroots) or officer (upper level), registered on first use."""
        role = Role.OFFICER if unit.kind is UnitKind.UPPER else Role.CHAIR
        external_id = f"{user}@{unit.code}"
        c = self._conversation
        await people_store.ensure_local_member(
            c.db, channel=Channel.TERMINAL, external_id=external_id, display_name=user, unit=unit, role=role,
            locale=locale, now=c.clock.now(),
        )
        return Sender(Channel.TERMINAL, external_id, external_id, user, None, locale)

    async def act_as_reviewer(self, unit: Unit, user: str, locale: str) -> Sender | None:
        """`user` as an officer of the upper level `unit` (the department, for the province), registered on first
        use, to try the reviewer's side (/duyet); None for a grassroots union, which reviews nobody."""
        roles = {UnitKind.UPPER: Role.OFFICER, UnitKind.PROVINCE: Role.DEPARTMENT}
        if unit.kind not in roles:
            return None
        external_id = f"{user}@{unit.code}"
        c = self._conversation
        await people_store.ensure_local_member(
            c.db, channel=Channel.TERMINAL, external_id=external_id, display_name=user, unit=unit,
            role=roles[unit.kind], locale=locale, now=c.clock.now(),
        )
        return Sender(Channel.TERMINAL, external_id, external_id, user, None, locale)


# The port's vocabulary, for the adapters: who speaks, what they send, what comes back.
__all__ = ["Command", "EarlyReply", "ExpectedFile", "InboundEvent", "IncomingFile", "LocalDesk", "Port", "Press",
           "Response", "Sender"]
