"""Several real bot processes (`python -m bot run`) on one database, sending one reminder wave to a local fake
Bot API on 127.0.0.1: some processes start mid-wave, and the one that sends is killed (SIGKILL) mid-wave.

    python -m bench.multiprocess                                  # SQLite: 2 processes, 1 more mid-wave, 300 chats
    python -m bench.multiprocess --postgresql --processes 3 --late 1 --chats 2000 --rate 30
                                  # PostgreSQL: a throwaway local server (tests/pg_cluster.py), 3 processes + 1
    python -m bench.multiprocess --storage postgresql://bot@127.0.0.1:5432/wave ...   # an empty database of yours

What is checked (tests/test_multiprocess.py asserts it): every chat receives the reminder (0 missing); a chat
receives it twice only if its message was on the wire when the sender was killed (delivered, outcome not yet
recorded); no sliding second holds more than the configured rate, across all processes; another process sends
within 10 s of the kill. The fake records when each sendMessage arrives; the holder of the sender role is read
from the database (its owner id carries its pid), and what it had in flight is read right after the kill.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.common import REPO
from bot.config import load_config
from storage import leases, outbox
from storage.db import Database

TOKEN = "123456:MULTIPROCESS-not-real"  # a fake token for the fake Bot API
FIRST_CHAT = 700_000
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Báo cáo Công đoàn", "username": "CongDoanBaoCaoBot"}


class WaveApi:
    """getMe, long polling with nothing new, the start-up calls, and sendMessage after a round trip; records the
    arrival (monotonic) and chat of every sendMessage."""

    def __init__(self, rtt: float) -> None:
        self.rtt = rtt
        self.arrivals: list[tuple[float, str]] = []
        self.started = 0  # getMe calls: processes that have opened their channel
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> WaveApi:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._call)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/bot"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def chats(self) -> list[str]:
        return [chat for _, chat in self.arrivals]

    async def _call(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = dict(await request.post()) if request.can_read_body else {}
        result: Any = True
        if method == "getMe":
            self.started += 1
            result = BOT_USER
        elif method == "getUpdates":
            await asyncio.sleep(min(float(str(params.get("timeout", 1))), 1.0))
            result = []
        elif method == "sendMessage":
            chat = str(params["chat_id"])
            self.arrivals.append((time.monotonic(), chat))
            await asyncio.sleep(self.rtt)
            result = {"message_id": len(self.arrivals), "date": int(time.time()), "text": str(params.get("text")),
                      "chat": {"id": int(chat), "type": "private"}, "from": BOT_USER}
        return web.json_response({"ok": True, "result": result})


@dataclass
class WaveResult:
    chats: int
    delivered: list[str]
    missing: set[str]
    repeated: dict[str, int]  # chat -> deliveries beyond the first
    in_flight_at_kill: set[str]  # delivered, still 'sending' for the killed process when it died
    repeated_before_kill: int  # repeats among the deliveries before the kill (the late start's doing, if any)
    peak_per_second: int
    rate: float
    takeover_seconds: float | None  # from the kill to the next delivery
    killed_pid: int | None
    late_started: int
    duration: float
    logs: dict[int, str] = field(default_factory=dict)

    def summary(self) -> str:
        repeats = sum(self.repeated.values())
        takeover = "-" if self.takeover_seconds is None else f"{self.takeover_seconds:.1f} s"
        return (f"{self.chats:,} chats in {self.duration:.1f} s: {len(self.delivered):,} deliveries, "
                f"{len(self.missing)} missing, {repeats} repeated ({len(self.in_flight_at_kill)} in flight at the "
                f"kill), peak {self.peak_per_second} in a sliding second (configured {self.rate:g}/s), "
                f"take-over {takeover}, {self.late_started} started mid-wave")


def peak_per_sliding_second(times: list[float]) -> int:
    best, left = 0, 0
    for right, t in enumerate(times):
        while times[left] <= t - 1.0:
            left += 1
        best = max(best, right - left + 1)
    return best


def write_config(folder: Path, base_url: str, rate: float, storage: str | None) -> Path:
    campaigns = folder / "campaigns"  # none: the wave is the outbox the harness fills
    campaigns.mkdir(exist_ok=True)
    db_line = f'path = "{(folder / "wave.sqlite3").as_posix()}"' if storage is None else f'url = "{storage}"'
    path = folder / "config.toml"
    path.write_text(f"""
[app]
data_dir = "data"
campaigns_dir = "{campaigns.as_posix()}"
locales_dir = "{(REPO / "locales").as_posix()}"
sample_units = "{(REPO / "bot/data/sample_units.csv").as_posix()}"

[telegram]
base_url = "{base_url}"

[storage]
{db_line}

[reminders]
messages_per_second = {rate}
""", encoding="utf-8")
    return path


async def open_database(config_path: Path) -> Database:
    """The database the processes share, opened as the bot opens it."""
    from bot.app import open_database as bot_open_database

    return await bot_open_database(load_config(config_path, environ={}))


class Processes:
    def __init__(self, config_path: Path, folder: Path) -> None:
        self.config_path, self.folder = config_path, folder
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self) -> asyncio.subprocess.Process:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONPATH": str(REPO)}
        env.pop("BOT_CONFIG", None)
        log = (self.folder / f"bot-{len(self.procs)}.log").open("wb")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(self.config_path), "run",
            cwd=REPO, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        self.procs.append(proc)
        return proc

    async def stop(self) -> dict[int, str]:
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        logs = {}
        for i, proc in enumerate(self.procs):
            logs[proc.pid] = (self.folder / f"bot-{i}.log").read_text(encoding="utf-8", errors="replace")
        return logs


async def _until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        await asyncio.sleep(0.05)


async def fill_wave(db: Database, chats: int) -> None:
    now = datetime.now(UTC)
    items = [outbox.OutboxItem(f"wave:{i}", "manual", None, None, None, "telegram", str(FIRST_CHAT + i), now,
                               {"text": f"Nhắc nộp báo cáo {i}"}) for i in range(chats)]
    await outbox.add(db, items, now)


async def _holder_pid(db: Database) -> tuple[str, int]:
    holder = await leases.holder(db, "sender", datetime.now(UTC))
    if holder is None:
        raise RuntimeError("nobody holds the sender role mid-wave")
    return holder.owner, int(holder.owner.split(":")[-2])


async def _in_flight_of(db: Database, owner: str) -> set[str]:
    rows = await db.fetchall("SELECT payload FROM outbox WHERE status = 'sending' AND owner = ?", (owner,))
    return {str(json.loads(r["payload"])["chat_id"]) for r in rows}


async def run_wave(folder: Path, *, processes: int = 2, late: int = 1, chats: int = 300, rate: float = 25.0,
                   late_at: float = 0.25, kill_at: float | None = 0.5, rtt: float = 0.03,
                   storage: str | None = None, timeout: float = 60.0) -> WaveResult:
    """The scenario: `processes` start; when `late_at` of the wave is delivered, `late` more start (and are
    waited for until they answer); when `kill_at` is, the sender is SIGKILLed (None: no kill)."""
    async with WaveApi(rtt) as api:
        config_path = write_config(folder, api.base_url, rate, storage)
        from bot.app import prepare  # migrate, sample organisation: as the first start would

        prepared = await prepare(load_config(config_path, environ={}), datetime.now(UTC))
        db = prepared.db
        bots = Processes(config_path, folder)
        started = time.monotonic()
        killed_pid, in_flight, killed_at = None, set(), None
        try:
            await fill_wave(db, chats)
            for _ in range(processes):
                await bots.start()
            await _until(lambda: len(api.arrivals) >= late_at * chats, timeout, "the wave to begin")
            for _ in range(late):
                await bots.start()
            await _until(lambda: api.started >= processes + late, timeout, "the late processes to start")
            await asyncio.sleep(1.0)  # they have recovered and ticked once, during the wave
            if len(set(api.chats())) >= chats:
                raise RuntimeError("the wave ended before the late processes were up: give it more chats")
            if kill_at is not None:
                await _until(lambda: len(api.arrivals) >= kill_at * chats, timeout, "the wave to go on")
                owner, killed_pid = await _holder_pid(db)
                os.kill(killed_pid, signal.SIGKILL)
                killed_at = time.monotonic()
                in_flight = await _in_flight_of(db, owner) & set(api.chats())
            await _until(lambda: set(api.chats()) >= {str(FIRST_CHAT + i) for i in range(chats)}, timeout,
                         "every chat to be reached")
            await asyncio.sleep(1.0)  # anything sent twice late still arrives
            duration = time.monotonic() - started
        finally:
            logs = await bots.stop()
            await db.close()
    delivered = api.chats()
    counts: dict[str, int] = {}
    for chat in delivered:
        counts[chat] = counts.get(chat, 0) + 1
    after = [t for t, _ in api.arrivals if killed_at is not None and t > killed_at]
    before = [chat for t, chat in api.arrivals if killed_at is None or t <= killed_at]
    return WaveResult(
        chats=chats, delivered=delivered, missing={str(FIRST_CHAT + i) for i in range(chats)} - set(delivered),
        repeated={c: n - 1 for c, n in counts.items() if n > 1}, in_flight_at_kill=in_flight,
        repeated_before_kill=len(before) - len(set(before)),
        peak_per_second=peak_per_sliding_second(sorted(t for t, _ in api.arrivals)), rate=rate,
        takeover_seconds=(min(after) - killed_at) if after and killed_at is not None else None,
        killed_pid=killed_pid, late_started=late, duration=duration, logs=logs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--late", type=int, default=1, help="processes started mid-wave")
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--no-kill", action="store_true", help="do not kill the sender mid-wave")
    parser.add_argument("--storage", default=None, help="a database URL; default: a SQLite file in a temp folder")
    parser.add_argument("--postgresql", action="store_true",
                        help="on a throwaway PostgreSQL 15 server started for the run (unless --storage names one)")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        storage = args.storage
        if args.postgresql and not storage:
            from bench.both import postgres_url

            storage = stack.enter_context(postgres_url(""))
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        result = asyncio.run(run_wave(Path(tmp), processes=args.processes, late=args.late, chats=args.chats,
                                      rate=args.rate, kill_at=None if args.no_kill else 0.5, storage=storage,
                                      timeout=max(60.0, 3 * args.chats / args.rate)))
    print(result.summary())
    ok = (not result.missing and set(result.repeated) <= result.in_flight_at_kill
          and result.repeated_before_kill == 0 and result.peak_per_second <= args.rate + 1
          and (args.no_kill or (result.takeover_seconds is not None and result.takeover_seconds <= 10)))
    return 0 if ok else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
