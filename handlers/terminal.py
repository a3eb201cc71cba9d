"""The terminal: the same guided dialog as on Telegram, on the embedded database, through the same port
(bot/port.py): a typed path is announced as a file like an upload, and replies go out through
TerminalChannel.

Input and output are plain callables so that tests can drive a session line by line. Whoever runs the
shell acts for the unit they name, as its chair (grassroots) or officer (upper level): the terminal is
for trying forms on a machine the administrator controls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from bot import uploads
from bot.channels import DOCUMENT, PHOTO, IncomingFile
from bot.dialog.model import Reply, TextInput
from bot.domain import Channel, Unit, UnitKind
from bot.i18n import Translator
from bot.ids import parse_id
from bot.port import Command, EarlyReply, ExpectedFile, Port, Sender
from bot.render_text import render_plain

ReadLine = Callable[[str], str]  # raises EOFError when input ends
Write = Callable[[str], None]
QUIT_WORDS = {"q", "quit", "exit", "thoát", "thoat"}


class TerminalChannel:
    """The outbound channel of the terminal: replies as plain text with numbered choices, files as paths."""

    name = Channel.TERMINAL.value

    def __init__(self, write: Write, translate: Callable[[str], Translator], default_locale: str) -> None:
        self.write, self.translate, self.default_locale = write, translate, default_locale

    async def send(self, chat_id: str, replies: Sequence[Reply], *, version: int | None = None,
                   locale: str | None = None) -> None:
        t = self.translate(locale or self.default_locale)
        for reply in replies:
            if reply.file_path:
                await self.send_file(chat_id, reply, locale=locale)
                continue
            self.write("")
            self.write(render_plain(reply, t))

    async def send_file(self, chat_id: str, reply: Reply, *, locale: str | None = None) -> None:
        self.write("")
        self.write(f"📎 {reply.text}: {reply.file_path}")

    async def remove_choices(self, chat_id: str, message_id: str) -> None:
        """Typed numbers: nothing to take off."""


class TerminalSession:
    def __init__(self, port: Port, t: Translator, read: ReadLine, write: Write, *, user: str | None = None) -> None:
        self.port, self.desk, self.t = port, port.local_desk(), t
        self.read, self.write = read, write
        self.channel = TerminalChannel(write, port.translator, t.locale)
        # Whoever started the shell (the command line passes the OS user's name); someone, always.
        self.user = user or "terminal"

    async def choose_unit(self) -> Unit | None:
        """Ask for a unit by number, code or part of its name; None when input ends."""
        t = self.t
        units = await self.desk.units()
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
        self.write(await self.desk.deadlines(unit, self.t))

    async def chat(self, unit: Unit) -> None:
        """The guided dialog for `unit` until the person quits or input ends; the draft stays saved."""
        sender = await self.desk.act_for(unit, self.user, self.t.locale)
        await self._send(sender, Command("trogiup"))
        await self._send(sender, Command("baocao", unit.code))
        await self._talk(sender)

    async def review(self, unit: Unit) -> bool:
        """The reviewer's side (/duyet) as an officer of the upper level `unit` (the department for the province),
        with numbered buttons like the chair's; False, and nothing started, for a grassroots union."""
        sender = await self.desk.act_as_reviewer(unit, self.user, self.t.locale)
        if sender is None:
            return False
        await self._send(sender, Command("duyet"))
        await self._talk(sender)
        return True

    async def _talk(self, sender: Sender) -> None:
        suffixes = frozenset((*uploads.PHOTO_TYPES, *self.port.document_types))  # a file name with these
        while True:
            try:
                line = self.read("> ")
            except EOFError:
                self.write("")
                break
            if line.strip().lower() in QUIT_WORDS:
                break
            expected = await self.port.expected_file(sender)
            path = _typed_path(line, suffixes) if expected is not None else None
            if expected is not None and path is not None:
                await self._attach(sender, expected, path)
                continue
            await self._send(sender, TextInput(line))
        self.write(self.t("Goodbye. Your answers are saved: run the same command again to continue."))

    async def _send(self, sender: Sender, event: Command | TextInput | IncomingFile) -> None:
        response = await self.port.handle(sender, event, early=self._early(sender))
        await self.channel.send(sender.chat_id, response.replies, version=response.version, locale=response.locale)
        expected = await self.port.expected_file(sender)
        if expected is not None:  # a photo or file question: here a file is sent by typing where it is
            t = self.port.translator(response.locale)
            self.write(t("On this computer, type the path of the file, for example {example}. "
                         "Type 'xong' when you are done.", example=_example_path(expected.type)))

    def _early(self, sender: Sender) -> EarlyReply:
        """How the core prints a reply at once during a long turn (the summary's "working on it")."""
        async def send(replies: Sequence[Reply]) -> None:
            await self.channel.send(sender.chat_id, replies)
        return send

    async def _attach(self, sender: Sender, expected: ExpectedFile, path: Path) -> None:
        """A file on this computer, handed to the core like an upload (the same checks), read only if they pass."""
        if not path.is_file():
            t = await self.port.translator_for(sender)
            self.write(t("There is no file at {path}. Type the path of a file on this computer, for example "
                         "{example}.", path=str(path), example=_example_path(expected.type)))
            return

        async def fetch(cap: int) -> bytes:
            return path.read_bytes()  # its size was checked against the cap before: a local file states it

        kind = PHOTO if expected.type == "photo" else DOCUMENT
        await self._send(sender, IncomingFile(kind, fetch, name=path.name, size=path.stat().st_size))


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
