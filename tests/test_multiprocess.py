"""Two real bot processes (`python -m bot run`) on one SQLite file, against a fake Bot API on 127.0.0.1: a wave
of 300 reminders; a second process starts mid-wave, then the sending one is killed with SIGKILL. The harness is
bench/multiprocess.py; its PostgreSQL variant (three processes and a fourth mid-wave, 2,000 chats) is the same
call with `processes=3, chats=2000, storage=<url>`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.multiprocess import run_wave

RATE = 24.0  # configured; Telegram's budget in this test is 25, the one-message margin of the shipped 29 of 30


@pytest.mark.slow
async def test_two_processes_on_one_sqlite_file_send_each_reminder_once_within_one_rate_and_take_over(
        tmp_path: Path) -> None:
    result = await run_wave(tmp_path, processes=1, late=1, chats=300, rate=RATE, late_at=0.2, kill_at=0.55)
    logs = "\n".join(f"--- bot {pid}\n{text[-3000:]}" for pid, text in result.logs.items())
    print(result.summary())
    assert result.missing == set(), logs
    assert result.repeated_before_kill == 0, logs  # the second process's start re-queued nothing
    # A repeat only for a message on the wire when the sender was killed: none from the second process's start.
    assert set(result.repeated) <= result.in_flight_at_kill, logs
    assert sum(result.repeated.values()) <= len(result.in_flight_at_kill)
    # One sender for the token: two processes at 24/s each would put up to 48 in a second.
    assert result.peak_per_second <= RATE + 1, logs
    assert result.takeover_seconds is not None
    assert result.takeover_seconds <= 10, logs
    survivor = next(text for pid, text in result.logs.items() if pid != result.killed_pid)
    assert "took the sender role over" in survivor
