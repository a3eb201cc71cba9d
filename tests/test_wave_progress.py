"""A reminder wave tells the log how it is going every ~10 s, on the injected clock (no real time)."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

import pytest

from bot.channels import BlockedError, TransientError
from bot.dialog.model import Reply
from scheduler.progress import WaveProgress
from scheduler.sender import OutboxSender
from storage import outbox
from storage.db import Database
from storage.outbox import OutboxItem
from tests.fakes import FakeClock
from tests.reminder_fakes import FakeTime, RecordingChannel

LINE = re.compile(r"wave progress: (\d+) sent, (\d+) failed, (\d+) blocked, (\d+) remaining, ([\d.]+) messages/s, "
                  r"expected end (\S+)")


async def _wave(db: Database, clock: FakeClock, n: int) -> None:
    now = clock.now()
    await outbox.add(db, [OutboxItem(f"k:{i}", "manual", None, None, None, "telegram", f"c{i}", now,
                                     Reply(f"Nhắc {i}").to_json()) for i in range(n)], now)


def _lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, ...]]:
    found = [LINE.search(r.getMessage()) for r in caplog.records if r.name == "scheduler.progress"]
    return [m.groups() for m in found if m]


async def test_wave_logs_sent_failed_blocked_remaining_rate_and_end_every_ten_seconds(
    db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await _wave(db, clock, 250)
    fake = FakeTime(clock)
    channel = RecordingChannel(clock, fake)
    channel.fail_chat("c3", BlockedError("blocked"), None)
    channel.fail_chat("c7", TransientError("502"), None)
    sender = OutboxSender(db, {"telegram": channel}, clock, per_second=10.0, per_chat_interval=1.0, max_attempts=1,
                          monotonic=fake.monotonic, sleep=fake.sleep)
    start = clock.now()
    with caplog.at_level(logging.INFO, logger="scheduler.progress"):
        stats = await sender.drain()
    assert stats.sent == 248
    # 250 messages at 10 a second last 24.9 s: a line at 10 s and one at 20 s, none at the end of a short rest.
    lines = _lines(caplog)
    assert len(lines) == 2
    (sent, failed, blocked, remaining, rate, end) = lines[0]
    # At 10.0 s the 101st outcome has just been recorded: 99 sent, c7 failed, c3 blocked.
    assert (int(sent), int(failed), int(blocked), int(remaining)) == (99, 1, 1, 149)
    assert float(rate) == pytest.approx(10.1, abs=0.05)
    # 149 left at 10.1 a second: about 14.8 s after the line, i.e. ~24.8 s after the start.
    assert abs(datetime.fromisoformat(end) - (start + timedelta(seconds=10 + 149 / 10.1))) <= timedelta(seconds=1)
    sent2, failed2, blocked2, remaining2, _rate2, _end2 = lines[1]
    assert (int(sent2), int(failed2), int(blocked2), int(remaining2)) == (199, 1, 1, 49)


async def test_wave_progress_listener_sees_every_outcome_and_ends_with_nothing_remaining(
    db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await _wave(db, clock, 30)
    fake = FakeTime(clock)
    sender = OutboxSender(db, {"telegram": RecordingChannel(clock, fake)}, clock, per_second=29.0,
                          monotonic=fake.monotonic, sleep=fake.sleep, batch=7)  # several claims, one wave
    seen: list[WaveProgress] = []
    sender.on_progress = seen.append
    with caplog.at_level(logging.INFO, logger="scheduler.progress"):
        await sender.drain()
    assert [p.done for p in seen] == list(range(1, 31))
    assert {p.total for p in seen} == {30}
    assert seen[-1].remaining == 0
    assert _lines(caplog) == []  # a wave of about one second says nothing in the log


async def test_empty_tick_reports_no_progress(db: Database, clock: FakeClock,
                                              caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeTime(clock)
    sender = OutboxSender(db, {"telegram": RecordingChannel(clock, fake)}, clock, monotonic=fake.monotonic,
                          sleep=fake.sleep)
    seen: list[WaveProgress] = []
    sender.on_progress = seen.append
    with caplog.at_level(logging.INFO, logger="scheduler.progress"):
        await sender.drain()
    assert seen == []
    assert _lines(caplog) == []
