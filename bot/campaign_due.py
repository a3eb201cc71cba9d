"""A period's deadline: the plan's date and wording, an optional time of day, and the instant they make.

"trước ngày D" is due at D 00:00, "chậm nhất ngày D" at D+1 00:00, "trước 17h00 ngày D" at 17:00 on D. Frozen
pydantic models like the rest of a campaign (bot/campaign_model.py re-exports these names)."""

from __future__ import annotations

import datetime as dt
import enum
import re
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError


class Model(BaseModel):
    """Every campaign model: unknown keys refused, nothing changed after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DueWording(enum.StrEnum):
    """How the plan words its deadline; it decides the exact instant."""

    BEFORE = "before"  # "trước ngày D": due at D 00:00, the last full day is D-1
    ON_OR_BEFORE = "on_or_before"  # "chậm nhất ngày D", "đến hết ngày D": due at D+1 00:00


def due_instant(day: dt.date, wording: DueWording, zone: ZoneInfo, at: time | None = None) -> datetime:
    """When a report on deadline `day` is due in `zone`. Without a time of day, at midnight: "before D" at
    D 00:00, "on or before D" at D+1 00:00. With one ("trước 17h00 ngày D", "chậm nhất 16 giờ 30 ngày D"),
    at that time on D, whatever the wording. Period.due_at and the plan reader's proposals both count with
    this."""
    if at is not None:
        return datetime.combine(day, at, tzinfo=zone)
    if wording is DueWording.ON_OR_BEFORE:
        day += timedelta(days=1)
    return datetime.combine(day, time(0, 0), tzinfo=zone)


def last_day(instant: datetime) -> datetime:
    """The last moment before an instant: the day to print as "until the end of" (the due day itself for a
    due instant off midnight)."""
    return instant - timedelta(seconds=1)


# "17:00", "7:30", "17h00", "17h", "17 giờ 30": the ways a time of day is written in a plan or a campaign file
# (":00" seconds: how a stored campaign's JSON writes it back)
_TIME_OF_DAY = re.compile(r"^\s*(?P<h>\d{1,2})\s*(?::|h|g|giờ|gio)\s*(?:(?P<m>\d{2})(?::00)?)?\s*(?:phút|phut|p)?\s*$",
                          re.IGNORECASE)
TIME_EXAMPLE = "17:00"


def read_time_of_day(text: str) -> time | None:
    """A time of day as people write it, or None when it is not one (hour 0–23, minutes 00–59)."""
    m = _TIME_OF_DAY.match(text)
    if m is None:
        return None
    hour, minute = int(m["h"]), int(m["m"] or 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None


class Due(Model):
    date: dt.date
    wording: DueWording
    text: str = Field(min_length=1)  # the plan's own words, or the department's decision
    source: Literal["plan", "department"] = "plan"
    # "trước 17h00 ngày D": due at that local time on `date` (the wording then only keeps the plan's words);
    # None: at midnight, as the wording says.
    time: dt.time | None = None

    @field_validator("time", mode="before")
    @classmethod
    def _time_of_day(cls, value: object) -> object:
        """ "17:00" or a TOML time (17:00:00) to the minute; anything else is refused with an example."""
        if value is None:
            return None
        found: time | None = None
        if isinstance(value, str):
            found = read_time_of_day(value)
        elif isinstance(value, time) and value.tzinfo is None and not value.second and not value.microsecond:
            found = value
        if found is None:
            raise PydanticCustomError(
                "due_time", 'not a time of day: {value}; write hours and minutes, e.g. time = "{example}"',
                {"value": repr(value) if not isinstance(value, time) else value.isoformat(), "example": TIME_EXAMPLE})
        return found


__all__ = ["TIME_EXAMPLE", "Due", "DueWording", "Model", "due_instant", "last_day", "read_time_of_day"]
