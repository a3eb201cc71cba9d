"""Progress of a reminder wave: a log line every ~10 s (sent, failed, blocked, remaining, rate, expected
end), and the same figures to an optional listener after each message (the command line's bar).

Time comes from the injected clock, so a test with a fake clock sees the lines a real wave would."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.clock import Clock

if TYPE_CHECKING:
    from scheduler.sender import SendStats

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WaveProgress:
    sent: int
    failed: int
    blocked: int
    skipped: int
    retried: int
    total: int  # the rows due when the wave started
    rate: float  # outcomes per second so far
    expected_end: datetime | None  # None until there is a rate to go by

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.blocked + self.skipped + self.retried

    @property
    def remaining(self) -> int:
        return max(self.total - self.done, 0)


ProgressListener = Callable[[WaveProgress], None]


class WaveReporter:
    """One per drain: knows when the wave started and when it last logged."""

    def __init__(self, clock: Clock, total: int, every: float, listener: ProgressListener | None) -> None:
        self.clock, self.total, self.every, self.listener = clock, total, every, listener
        self.started = self.last_logged = clock.now()

    def step(self, stats: SendStats) -> None:
        sent, failed, blocked, skipped, retried = stats.sent, stats.failed, stats.blocked, stats.skipped, \
            stats.retried
        now = self.clock.now()
        elapsed = (now - self.started).total_seconds()
        done = sent + failed + blocked + skipped + retried
        rate = done / elapsed if elapsed > 0 else 0.0
        remaining = max(self.total - done, 0)
        end = now + timedelta(seconds=remaining / rate) if rate > 0 else None
        progress = WaveProgress(sent, failed, blocked, skipped, retried, self.total, rate, end)
        if self.listener is not None:
            self.listener(progress)
        if self.every > 0 and (now - self.last_logged).total_seconds() >= self.every:
            self.last_logged = now
            log.info("wave progress: %d sent, %d failed, %d blocked, %d remaining, %.1f messages/s, "
                     "expected end %s", sent, failed, blocked, remaining, rate,
                     end.isoformat(timespec="seconds") if end is not None else "unknown")
