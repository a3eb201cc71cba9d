"""`python -m bot health`: which process sends, the outbox's depth, each process's last tick, read from the
database; a running bot records its ticks; the command exits 1 when something needs a person."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli_app
from bot.config import load_config
from handlers.serve import serve
from scheduler.health import NO_PROCESS, NO_SENDER, STUCK, check, record_tick
from scheduler.role import SENDER_ROLE
from storage import leases, outbox
from storage.db import Database
from storage.migrations import migrate
from tests.fakes import FakeClock
from tests.telegram_fakes import FAKE_TOKEN, LoopbackBotAPI


def due_message(key: str, at: datetime) -> outbox.OutboxItem:
    return outbox.OutboxItem(key, "manual", None, None, None, "telegram", "4242", at, {"text": "Nhắc nộp báo cáo"})


async def test_a_healthy_deployment_names_its_sender_and_each_process_last_tick(db: Database,
                                                                                clock: FakeClock) -> None:
    now = clock.now()
    await record_tick(db, "host:1:aa", now - timedelta(hours=2), now - timedelta(seconds=30))
    await record_tick(db, "host:2:bb", now - timedelta(hours=1), now - timedelta(seconds=50))
    await leases.acquire(db, SENDER_ROLE, "host:2:bb", now, timedelta(seconds=6))
    await outbox.add(db, [due_message("m1", now - timedelta(minutes=1)), due_message("m2", now + timedelta(hours=1))],
                     now)
    health = await check(db, now)
    assert health.ok
    assert health.sender is not None
    assert health.sender.owner == "host:2:bb"
    assert (health.depth.due, health.depth.later, health.depth.sending) == (1, 1, 0)
    assert [(p.owner, p.alive, p.sends) for p in health.processes] == [("host:1:aa", True, False),
                                                                       ("host:2:bb", True, True)]


async def test_due_messages_without_a_sender_and_no_live_process_are_problems(db: Database,
                                                                             clock: FakeClock) -> None:
    now = clock.now()
    await record_tick(db, "host:1:aa", now - timedelta(hours=2), now - timedelta(minutes=4))  # silent 4 minutes
    await outbox.add(db, [due_message("m1", now - timedelta(minutes=2))], now)
    health = await check(db, now)
    assert health.problems == (NO_PROCESS, NO_SENDER)
    assert [p.alive for p in health.processes] == [False]


async def test_a_due_message_waiting_over_ten_minutes_is_a_problem_even_with_a_sender(db: Database,
                                                                                     clock: FakeClock) -> None:
    now = clock.now()
    await record_tick(db, "host:1:aa", now - timedelta(hours=2), now)
    await leases.acquire(db, SENDER_ROLE, "host:1:aa", now, timedelta(seconds=6))
    await outbox.add(db, [due_message("m1", now - timedelta(minutes=9))], now)
    assert (await check(db, now)).ok
    await outbox.add(db, [due_message("m0", now - timedelta(minutes=11))], now)
    assert (await check(db, now)).problems == (STUCK,)


async def test_a_process_silent_for_a_day_is_forgotten_at_the_next_beat(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    await record_tick(db, "host:old:aa", now - timedelta(days=3), now - timedelta(days=1, minutes=1))
    await record_tick(db, "host:new:bb", now, now)
    assert [p.owner for p in (await check(db, now)).processes] == ["host:new:bb"]


async def test_a_running_bot_records_its_ticks_and_holds_the_sender_role(config_path: Path,
                                                                        clock: FakeClock) -> None:
    async with LoopbackBotAPI() as api:
        cfg = load_config(config_path, environ={"TELEGRAM_BOT_TOKEN": FAKE_TOKEN, "BOT__TELEGRAM__BASE_URL": api.base_url})
        stop = asyncio.Event()
        task = asyncio.create_task(serve(cfg, clock, stop))
        try:
            async with await Database.open(cfg.db_path) as db:
                health = None
                for _ in range(1000):
                    with contextlib.suppress(sqlite3.OperationalError):  # the bot has not migrated it yet
                        health = await check(db, clock.now())
                    if (health is not None and health.processes) or task.done():
                        break
                    await asyncio.sleep(0.02)
                assert health is not None
                [process] = health.processes
                assert process.alive
                assert process.sends
                assert health.ok
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=20)


def _cli(config_path: Path, *args: str, language: str = "vi") -> tuple[int, str]:
    result = CliRunner(env={"BOT__APP__LANGUAGE": language}).invoke(
        cli_app, ["--config", str(config_path), "health", *args])
    return result.exit_code, result.stdout


async def _prepare(config_path: Path, *, live: bool) -> None:
    cfg = load_config(config_path, environ={})
    now = datetime.now(UTC)
    async with await Database.open(cfg.db_path) as db:
        await migrate(db)
        await record_tick(db, "host:9:cc", now - timedelta(hours=1), now if live else now - timedelta(hours=1))
        if live:
            await leases.acquire(db, SENDER_ROLE, "host:9:cc", now, timedelta(minutes=5))
        await outbox.add(db, [due_message("m1", now - timedelta(seconds=20))], now)


@pytest.mark.parametrize("live", [True, False])
async def test_the_health_command_says_it_in_vietnamese_and_exits_1_when_unhealthy(config_path: Path,
                                                                                  live: bool) -> None:
    await _prepare(config_path, live=live)
    code, text = await asyncio.to_thread(_cli, config_path)
    assert "host:9:cc" in text
    assert "Hộp thư đi: 1 tin đến hạn" in text
    if live:
        assert code == 0, text
        assert "Ổn định." in text
    else:
        assert code == 1, text
        assert "Chưa ổn" in text
        assert "không tiến trình nào giữ vai trò gửi" in text


async def test_the_health_command_prints_json_for_a_monitor(config_path: Path) -> None:
    await _prepare(config_path, live=True)
    code, text = await asyncio.to_thread(_cli, config_path, "--json")
    report = json.loads(text)
    assert code == 0
    assert report["ok"] is True
    assert report["sender"]["owner"] == "host:9:cc"
    assert report["outbox"]["due"] == 1
    assert [p["owner"] for p in report["processes"]] == ["host:9:cc"]
