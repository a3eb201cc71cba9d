"""What goes into the dialog and what comes out of it: plain values, the same on every channel.

A channel adapter turns an update into one of the inputs below and renders each Reply for its
medium: buttons on Telegram, numbered lines on Zalo and the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class TextInput:
    text: str


@dataclass(frozen=True, slots=True)
class ActionInput:
    """A button press, already matched to an action the last reply offered."""

    action: str


@dataclass(frozen=True, slots=True)
class FileInput:
    """A photo or document already checked and stored by the adapter."""

    kind: str  # "photo" or "document"
    attachment_id: int
    file_name: str


Input = TextInput | ActionInput | FileInput


@dataclass(frozen=True, slots=True)
class Button:
    """A choice (its `action` comes back as a press), or, with a `url`, a link the person opens: on Telegram a URL
    button, or with `web_app` a Mini App button (https only; handlers/telegram_channel.py); on text channels the
    link written out. A link is never numbered nor pressed."""

    label: str
    action: str  # short: it travels in Telegram callback data (64 bytes with the version prefix)
    url: str | None = None
    web_app: bool = False

    def to_json(self) -> list[Any]:
        """[label, action] as outbox rows and saved menus hold choices; a link adds its url and web_app."""
        return [self.label, self.action] if self.url is None else [self.label, self.action, self.url, self.web_app]

    @classmethod
    def from_json(cls, data: list[Any]) -> Button:
        if len(data) >= 3:
            return cls(data[0], data[1], url=data[2], web_app=bool(data[3]) if len(data) > 3 else False)
        return cls(data[0], data[1])


@dataclass(frozen=True, slots=True)
class Reply:
    """One message. `choices` are the answers on offer (numbered on text channels); `nav` are moves
    such as back and skip (typed words on text channels); `columns` is how many choice buttons fit on a
    row."""

    text: str
    title: str | None = None
    choices: tuple[Button, ...] = ()
    nav: tuple[Button, ...] = ()
    columns: int = 1
    file_path: str | None = None  # a file to send with the message (summaries, exports)

    @property
    def actions(self) -> tuple[str, ...]:
        """What may come back as a press: every choice and move but the links."""
        return tuple(b.action for b in (*self.choices, *self.nav) if b.url is None)

    @property
    def numbered(self) -> tuple[Button, ...]:
        """The choices a text channel numbers (links are written out instead)."""
        return tuple(b for b in self.choices if b.url is None)

    @property
    def links(self) -> tuple[Button, ...]:
        return tuple(b for b in self.choices if b.url is not None)

    def to_json(self) -> dict[str, Any]:
        """The reply as kept in the reminder outbox and in a dialog's saved menu. The format is the one outbox
        rows already hold, so keep it; `nav` and `file_path` are not kept (neither a reminder nor a menu has
        them)."""
        return {"text": self.text, "title": self.title, "columns": self.columns,
                "choices": [b.to_json() for b in self.choices]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        # .get: menus saved before the title was kept have no "title".
        return cls(data["text"], title=data.get("title"), columns=data.get("columns", 1),
                   choices=tuple(Button.from_json(b) for b in data.get("choices", [])))


@dataclass(slots=True)
class Outcome:
    """What the engine asks its caller to do after a step."""

    submit: bool = False
    cancelled: bool = False
