"""Where "now" comes from: the system clock in production, a fake one in tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware instant."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
