"""The terminal: try the bot without any messenger, on the embedded database.

Input and output are plain callables so that tests can drive a session line by line.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.deadline_text import deadlines_text
from bot.deadlines import deadlines_for_unit
from bot.domain import Unit
from bot.i18n import Translator
from storage import units as unit_store
from storage.db import Database

ReadLine = Callable[[str], str]  # raises EOFError when input ends
Write = Callable[[str], None]


class TerminalSession:
    def __init__(self, db: Database, t: Translator, clock: Clock, zone: ZoneInfo, read: ReadLine, write: Write) -> None:
        self.db, self.t, self.clock, self.zone, self.read, self.write = db, t, clock, zone, read, write

    async def show_unit(self, unit: Unit) -> None:
        items = await deadlines_for_unit(self.db, unit, self.clock.now())
        self.write(deadlines_text(self.t, unit, items, self.zone))

    async def choose_and_show(self) -> None:
        """List the units by number; show the chosen one's deadlines until the person quits."""
        t = self.t
        units = await unit_store.all_units(self.db)
        if not units:
            self.write(t("No units yet: import a file with python -m bot units import FILE."))
            return
        self.write(t("Units of the organisation:"))
        for i, unit in enumerate(units, start=1):
            self.write(f"{i:>3}. {unit.name} ({unit.code})")
        while True:
            try:
                answer = self.read(t("Type a unit's number or code (q to quit): ")).strip()
            except EOFError:
                self.write("")
                return
            if answer.lower() in ("q", "quit", "thoat", "thoát", "exit"):
                return
            unit = self._pick(units, answer)
            if unit is None:
                self.write(
                    t(
                        "Please type a number from 1 to {n} or a unit code, for example 1 or {code}.",
                        n=len(units),
                        code=units[0].code,
                    )
                )
                continue
            self.write("")
            await self.show_unit(unit)
            self.write("")

    @staticmethod
    def _pick(units: list[Unit], answer: str) -> Unit | None:
        if answer.isdigit() and 1 <= int(answer) <= len(units):
            return units[int(answer) - 1]
        for unit in units:
            if unit.code.lower() == answer.lower():
                return unit
        return None
