"""Progress of a long command: a bar on a terminal (rich), plain lines otherwise (CI, a pipe, a log file).

It writes to standard error, so what a command prints on standard output (a summary's text) stays clean
when piped. The words come from the caller, already translated; the bar itself shows only figures.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console

from bot.i18n import Translator

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

PLAIN_STEPS = 10  # plain lines: one each tenth of the work, so a pipe gets a few lines, not thousands


class CommandProgress:
    """`with CommandProgress(err, t, label, total) as p: p.update(done, label=...)`."""

    def __init__(self, console: Console, t: Translator, label: str, total: int = 0) -> None:
        self.console, self.t = console, t
        self.label, self.total, self.done = label, total, 0
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._printed: tuple[str, int] | None = None  # the last plain line: its label and tenth
        self._stages = 0

    def __enter__(self) -> CommandProgress:
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=self.console)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total or None)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if error is None and self.total and self.done < self.total:
            self.update(self.total)  # the last stage ended with the command
        if self._bar is not None:
            self._bar.stop()

    def update(self, done: int, total: int | None = None, label: str | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if label is not None:
            self.label = label
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=self.total or None, description=self.label)
            return
        self._plain()

    def step(self, label: str) -> None:
        """The next stage of a command made of a few stages begins (the one before it is done)."""
        self.update(self.done + (1 if self._stages else 0), label=label)
        self._stages += 1

    def _plain(self) -> None:
        if not self.total and not self.done:
            return  # nothing to say yet
        tenth = self.done * PLAIN_STEPS // self.total if self.total else 0
        if self._printed == (self.label, tenth):
            return
        self._printed = (self.label, tenth)
        if self.total:
            line = self.t("{label}: {done}/{total} ({percent})", label=self.label, done=self.t.number(self.done),
                          total=self.t.number(self.total), percent=self.t.percent(100 * self.done / self.total))
        else:
            line = self.t("{label}: {done}", label=self.label, done=self.t.number(self.done))
        self.console.print(line, markup=False, highlight=False)
