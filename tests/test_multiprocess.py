"""Real bot processes (`python -m bot run`) on one database, against a fake Bot API on 127.0.0.1; the harness is
bench/multiprocess.py. On one SQLite file: a wave of 300 reminders, a second process starts mid-wave, then the
sending one is killed with SIGKILL. On one PostgreSQL database (the suite's server, tests/pg_cluster.py): three
processes, a fourth started mid-wave, 2,000 chats at Telegram's full 30/s, the sender killed mid-wave."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.multiprocess import WaveResult, run_wave
from tests import conftest

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


def assert_wave_sound(result: WaveResult, rate: float) -> None:
    """0 missing; a repeat only for a message on the wire at the kill; one rate across all processes; another
    process sends within 10 s of the kill."""
    logs = "\n".join(f"--- bot {pid}\n{text[-3000:]}" for pid, text in result.logs.items())
    print(result.summary())
    assert result.missing == set(), logs
    assert result.repeated_before_kill == 0, logs  # the late process's start re-queued nothing
    assert set(result.repeated) <= result.in_flight_at_kill, logs
    assert sum(result.repeated.values()) <= len(result.in_flight_at_kill)
    assert result.peak_per_second <= rate + 1, logs
    assert result.takeover_seconds is not None
    assert result.takeover_seconds <= 10, logs
    survivors = [text for pid, text in result.logs.items() if pid != result.killed_pid]
    assert any("took the sender role over" in text for text in survivors), logs


PG_RATE = 30.0  # Telegram's whole budget: the most the configuration allows, the shortest 2,000-chat wave


@pytest.mark.slow
async def test_three_processes_and_a_fourth_on_one_postgresql_send_each_reminder_once_within_one_rate(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    server = conftest._require(request.getfixturevalue("postgres"))
    async with server.empty_database_url() as url:
        result = await run_wave(tmp_path, processes=3, late=1, chats=2000, rate=PG_RATE, late_at=0.2,
                                kill_at=0.5, storage=url, timeout=150)
    assert result.late_started == 1
    assert_wave_sound(result, PG_RATE)
