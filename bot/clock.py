"""Where "now" comes from: the system clock in production, a fake one in tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def check_zone(value: str) -> str:
    """An IANA time zone name, or ValueError saying what is expected (for config and campaign validators)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; expected an IANA name such as Asia/Ho_Chi_Minh") from None
    return value


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware instant."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """One instant, always: the command line's --at, the benches, a test that does not move time."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at
