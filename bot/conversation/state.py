"""A person's dialog state, typed, and what one step decides.

The state is saved as JSON in the drafts table after every step. The JSON keeps the shape it had when
the state was a bare dict (mode as its string value, the same keys), so drafts saved by an older version
load and resume; keys this version does not know are carried along untouched.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from bot.campaign_model import Campaign, Period
from bot.dialog.model import Reply


class Mode(Enum):
    """Where a person is in the dialog; the value is what the saved state holds."""

    IDLE = "idle"
    FORM = "form"  # answering a report's questions
    CHOOSE_UNIT = "choose_unit"
    CHOOSE_REPORT = "choose_report"
    CHOOSE_SUBMISSION = "choose_submission"  # /danop: a report to see or correct
    CHOOSE_LANGUAGE = "choose_language"
    CHANNEL_CHOOSE = "channel_choose"
    SUMMARY_CHOOSE = "summary_choose"
    REMIND_CHOOSE = "remind_choose"
    REMIND_CONFIRM = "remind_confirm"
    PLAN_REVIEW = "plan_review"
    REVIEW = "review"  # /duyet: one report's screen (review.py)
    REVIEW_REASON = "review_reason"  # typing why it is returned or reopened
    REVIEW_FIELDS = "review_fields"  # choosing the questions concerned
    REVIEW_DAYS = "review_days"  # a return after the period closed: for how many days the unit may correct it
    REVIEW_CONFIRM = "review_confirm"
    REVIEW_EXCUSE = "review_excuse"  # excusing a unit below from the review screen (review_excuse.py)

    @classmethod
    def of(cls, value: Any) -> Mode:
        """The mode a saved state names; one this version does not know is idle (nothing to resume)."""
        try:
            return cls(value)
        except ValueError:
            return cls.IDLE


# JSON keys of the typed fields; any other key of a saved state is kept in `extra`.
_KEYS = ("offered", "numbers", "menu", "form", "period_id", "step", "steps_total", "units", "unit_id",
         "periods", "submissions", "channels", "toml", "campaign_id", "year")


@dataclass(slots=True)
class State:
    mode: Mode = Mode.IDLE
    offered: list[str] = field(default_factory=list)  # actions the latest replies offered (buttons re-checked)
    numbers: list[str] | None = None  # what a typed number picks on text channels; None: saved before it was
    menu: dict[str, Any] | None = None  # the menu on offer, shown again when the person is lost
    form: dict[str, Any] | None = None  # FormState.to_json() of an open report
    period_id: int | None = None  # the open report's period; the period a reminder is confirmed for
    step: int | None = None  # progress of an open report, also kept in the row's columns for reminders
    steps_total: int | None = None
    units: list[int] | None = None  # units offered to report for
    unit_id: int | None = None  # the unit whose reports are offered
    periods: list[int] | None = None  # periods offered (report, summary, reminder)
    submissions: list[int] | None = None  # submissions offered for correction
    channels: list[str] | None = None  # channels offered for reminders
    toml: str | None = None  # a plan's draft campaign under review
    campaign_id: str | None = None
    year: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    sha: str | None = None  # the campaign version read with the draft; never saved

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        known = {k: data[k] for k in _KEYS if k in data}
        extra = {k: v for k, v in data.items() if k not in _KEYS and k != "mode" and k != "_sha"}
        return cls(mode=Mode.of(data.get("mode", "idle")), extra=extra, **known)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {**self.extra, "mode": self.mode.value, "offered": self.offered}
        if self.numbers is not None:
            data["numbers"] = self.numbers
        for key in _KEYS[2:]:
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    def copy(self) -> State:
        return dataclasses.replace(self)

    @property
    def in_form(self) -> bool:
        return self.mode is Mode.FORM


def idle() -> State:
    return State()


@dataclass(frozen=True, slots=True)
class PendingSubmission:
    """A report the person sent, recorded in the same transaction as the step; its receipt is written
    afterwards with the translator of the person's language, passed in."""

    period_id: int
    unit_id: int
    answers: dict[str, Any]
    late: bool
    unit_name: str
    due_at: datetime
    closes_at: datetime
    campaign: Campaign
    period: Period
    correction: bool  # a new revision of a report already sent


@dataclass(slots=True)
class Turn:
    """What one step decided, before it is written."""

    state: State
    replies: list[Reply]
    submit: PendingSubmission | None = None
    locale: str | None = None  # the person chose another language


def keep(state: State, replies: list[Reply]) -> Turn:
    """A turn that leaves the dialog where it is (a form stays open at the same question)."""
    return Turn(state.copy(), replies)


def to_idle(replies: list[Reply]) -> Turn:
    return Turn(State(), replies)


def menu(state: State, reply: Reply, before: list[Reply] | None = None) -> Turn:
    """A turn that offers a choice; the menu is kept in the state so that it can be shown again."""
    state = state.copy()
    state.menu = reply.to_json()
    return Turn(state, [*(before or []), reply])
