"""The terminal: the same guided dialog as on Telegram, on the embedded database.

Input and output are plain callables so that tests can drive a session line by line. Whoever runs the
shell acts for the unit they name, as its chair (grassroots) or officer (upper level): the terminal is
for trying forms on a machine the administrator controls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from pathlib import Path

from bot import uploads
from bot.clock import Clock
from bot.config import UploadsConfig
from bot.conversation import Command, Conversation, ExpectedFile, Sender
from bot.deadline_text import deadlines_text
from bot.deadlines import deadlines_for_unit
from bot.dialog.model import FileInput, TextInput
from bot.domain import Channel, Role, Unit, UnitKind
from bot.i18n import Translator
from bot.ids import parse_id
from bot.render_text import render_plain
from storage import people as people_store
from storage import units as unit_store
from storage.db import Database

ReadLine = Callable[[str], str]  # raises EOFError when input ends
Write = Callable[[str], None]
QUIT_WORDS = {"q", "quit", "exit", "thoát", "thoat"}


class TerminalSession:
    def __init__(self, db: Database, conversation: Conversation, t: Translator, clock: Clock, read: ReadLine,
                 write: Write, *, uploads: UploadsConfig, data_dir: Path, user: str | None = None) -> None:
        self.db, self.conversation, self.t, self.clock = db, conversation, t, clock
        self.read, self.write = read, write
        self.uploads, self.data_dir = uploads, data_dir  # evidence files: the same rules as on Telegram
        if not user:
            from bot.cli.common import os_user  # the command line is what starts a terminal session

            user = os_user()
        self.user = user or "terminal"

    async def choose_unit(self) -> Unit | None:
        """Ask for a unit by number, code or part of its name; None when input ends."""
        t = self.t
        units = await unit_store.all_units(self.db)
        if not units:
            self.write(t("No units yet: import a file with python -m bot units import FILE."))
            return None
        shown = [u for u in units if u.kind is not UnitKind.PROVINCE][:60]
        self.write(t("Units of the organisation:"))
        for i, unit in enumerate(shown, start=1):
            self.write(f"{i:>3}. {unit.name} ({unit.code})")
        if len(units) > len(shown) + 1:
            self.write(t("… and {n} more: type a code or part of a name.", n=len(units) - len(shown) - 1))
        while True:
            try:
                answer = self.read(t("Type a unit's number or code (q to quit): ")).strip()
            except EOFError:
                self.write("")
                return None
            if answer.lower() in QUIT_WORDS:
                return None
            found = _pick(shown, units, answer)
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                self.write(t("Several units match; type the code of the one you mean:"))
                for unit in found[:10]:
                    self.write(f"     {unit.name} ({unit.code})")
                continue
            self.write(t("Please type a number from 1 to {n} or a unit code, for example 1 or {code}.",
                         n=len(shown), code=shown[0].code))

    async def show_unit(self, unit: Unit) -> None:
        items = await deadlines_for_unit(self.db, unit, self.clock.now())
        self.write(deadlines_text(self.t, unit, items, self.conversation.zone))

    async def chat(self, unit: Unit) -> None:
        """The guided dialog for `unit` until the person quits or input ends; the draft stays saved."""
        sender = await self._sender_for(unit)
        suffixes = frozenset((*uploads.PHOTO_TYPES, *self.uploads.document_types))  # a file name with these
        await self._send(sender, Command("trogiup"))
        await self._send(sender, Command("baocao", unit.code))
        while True:
            try:
                line = self.read("> ")
            except EOFError:
                self.write("")
                break
            if line.strip().lower() in QUIT_WORDS:
                break
            expected = await self.conversation.expected_attachment(sender)
            path = _typed_path(line, suffixes) if expected is not None else None
            if expected is not None and path is not None:
                await self._attach(sender, expected, path)
                continue
            await self._send(sender, TextInput(line))
        self.write(self.t("Goodbye. Your answers are saved: run the same command again to continue."))

    async def _send(self, sender: Sender, event: Command | TextInput | FileInput) -> None:
        response = await self.conversation.handle(sender, event)
        t = self.conversation.translator(response.locale)
        for reply in response.replies:
            self.write("")
            if reply.file_path:
                self.write(f"📎 {reply.text}: {reply.file_path}")
                continue
            self.write(render_plain(reply, t))
        expected = await self.conversation.expected_attachment(sender)
        if expected is not None:  # a photo or file question: here a file is sent by typing where it is
            self.write(t("On this computer, type the path of the file, for example {example}. "
                         "Type 'xong' when you are done.", example=_example_path(expected.type)))

    async def _attach(self, sender: Sender, expected: ExpectedFile, path: Path) -> None:
        """A file on this computer, checked like a Telegram upload, copied into the data folder."""
        t = self.conversation.translator(await self.conversation.locale_of(sender))
        if not path.is_file():
            self.write(t("There is no file at {path}. Type the path of a file on this computer, for example "
                         "{example}.", path=str(path), example=_example_path(expected.type)))
            return
        if expected.type != "photo" and path.suffix.lower() not in self.uploads.document_types:
            self.write(uploads.wrong_type(t, self.uploads.document_types))
            return
        size = path.stat().st_size
        limit = uploads.limit_mb(self.uploads, expected.type)
        if uploads.over_limit(size, limit):
            self.write(uploads.too_large(t, size, limit))
            return
        try:
            file = await uploads.keep(self.db, expected, path.read_bytes(), channel=Channel.TERMINAL, name=path.name,
                                      data_dir=self.data_dir, now=self.clock.now())
        except uploads.NotAnImageError:
            self.write(uploads.wrong_type(t, uploads.PHOTO_TYPES))
            return
        await self._send(sender, file)

    async def _sender_for(self, unit: Unit) -> Sender:
        role = Role.OFFICER if unit.kind is UnitKind.UPPER else Role.CHAIR
        external_id = f"{self.user}@{unit.code}"
        await people_store.ensure_local_member(
            self.db, channel=Channel.TERMINAL, external_id=external_id, display_name=self.user, unit=unit, role=role,
            locale=self.t.locale, now=self.clock.now(),
        )
        return Sender(Channel.TERMINAL, external_id, external_id, self.user, None, self.t.locale)


def _pick(shown: list[Unit], units: list[Unit], answer: str) -> list[Unit]:
    """By number in the list shown, by exact code, or by part of a name."""
    number = parse_id(answer)  # ASCII digits only: "²" is a digit to str.isdigit, not to int()
    if number is not None and 1 <= number <= len(shown):
        return [shown[number - 1]]
    folded = answer.lower()
    for unit in units:
        if unit.code.lower() == folded:
            return [unit]
    return [u for u in units if folded and folded in u.name.lower()]


def _typed_path(line: str, suffixes: Collection[str]) -> Path | None:
    """The file a line names, if it reads as a path (a folder separator, "~", or a file name ending in one of
    `suffixes`); None for words such as "xong" or "bỏ qua". Quotes and "\\ " from a dragged-in file are undone."""
    text = line.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    text = text.replace("\\ ", " ")
    if not text or (text.startswith("/") and "/" not in text[1:] and not Path(text).suffix):
        return None  # nothing, or a command such as /huy
    looks_like_path = "/" in text or os.sep in text or text.startswith("~") or Path(text).suffix.lower() in suffixes
    return Path(text).expanduser() if looks_like_path else None


def _example_path(kind: str) -> str:
    return "~/Pictures/hoat-dong.jpg" if kind == "photo" else "~/Documents/bao-cao.pdf"
