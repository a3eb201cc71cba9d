"""The one base of the errors a person reads: an English gettext message id and its parameters.

A leaf module: it imports nothing of the project, so storage/, scheduler/ and handlers/ may raise these errors
without reaching into the core. The text is chosen where the error is raised (the msgid, marked for extraction
with N_ or a t-like keyword) and put into the reader's language where it is shown: `render(t)` for the message
itself, `explain(t)` for the message with what to do about it (the same unless a subclass knows more).
`str(error)` stays the English text with the parameters filled in, for logs and tracebacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol


class Translate(Protocol):
    """What render() needs of bot.i18n.Translator (not imported: this module stays a leaf)."""

    def gettext(self, message: str, **params: object) -> str: ...

    def number(self, value: int | float | Decimal, /) -> str: ...


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return message


class TranslatableError(Exception):
    """An error with a message id (English, a key of the catalogs) and the values of its {placeholders}.

    A subclass names its fixed message in the class attribute `msgid`; one with several messages passes the
    msgid to the constructor. Multiple inheritance keeps an older base (`class ParseError(TranslatableError,
    ValueError)`), so `except ValueError` still catches it."""

    msgid: str = N_("Something went wrong.")

    def __init__(self, msgid: str | None = None, /, **params: object) -> None:
        if msgid is not None:
            self.msgid = msgid
        self.params: dict[str, object] = dict(params)
        super().__init__(self.english())

    def english(self) -> str:
        """The message id with its parameters filled in, untranslated (what str() shows)."""
        return self.msgid.format(**self.params) if self.params else self.msgid

    def shown_params(self, t: Translate) -> Mapping[str, object]:
        """The parameters as the reader sees them; a subclass may write numbers the locale's way here."""
        return self.params

    def render(self, t: Translate) -> str:
        """The message in the reader's language."""
        return t.gettext(self.msgid, **self.shown_params(t))

    def explain(self, t: Translate) -> str:
        """The message and what to do about it, in the reader's language."""
        return self.render(t)
