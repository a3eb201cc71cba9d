"""Benchmark: the dashboard's completeness page and its largest drill-down for a department at N units.

    python bench/dashboard.py [--units 10000] [--also 0] [--repeat 9]   # ~1 minute on 2 cores at 10,000
    python -m bench.dashboard --units 2000                              # a quick run

For each size N (--units, then --also; 0 skips it), in a fresh temp database built as bench/summary.py builds it
(bench.summary.build_dataset: a province, ~N/30 upper-level unions of uneven size, N grassroots unions, chairs,
~85% reported), a department officer is bound to the province. The dashboard's aiohttp sub-application
(handlers/web/dashboard.build_dashboard_app with handlers/web/pages) is served on loopback by aiohttp's test
server and asked, as that officer, for
  completeness   GET /dashboard/p/{dot-2}: counts and rates for the whole province, one row per upper level
  drill-down     GET /dashboard/p/{dot-2}/upper/{id} of the upper level with the most units
--repeat times each (after one warm-up request). The server time of each request is measured by an outermost
middleware around the whole handler (session lookup, the scope read from the database, the queries, the
computing and the template); the client's round trip is printed too. The floor, measured in the same run: the
bare `bot.summary.service.read_period` of the period (the tree, the submissions and the contacts of the whole
organisation, the pushed completeness's read), also --repeat times. Medians printed; goal (issue 16, printed,
not asserted): completeness <= 0.5 s server time at 10,000 units.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/dashboard.py`: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bench.summary import AS_OF, CAMPAIGN_ID, PERIOD, SETUP_AT, build_dataset
from bot.app import open_database
from bot.clock import FixedClock
from bot.config import load_config
from bot.conversation import Conversation
from bot.dashboard.session import SessionInfo
from bot.dashboard.views import DashboardViews
from bot.i18n import translator
from bot.summary.service import read_period
from handlers.web.dashboard import build_dashboard_app, mount_dashboard
from handlers.web.pages import pages
from handlers.web.render import WebContext
from storage import campaigns as campaign_store
from storage.timefmt import to_db

GOAL_S = 0.5
TOKEN = "bench-session-token"


class OneSession:
    """The bench's sessions: one department officer, signed in for the whole run."""

    def __init__(self, person_id: int) -> None:
        self.info = SessionInfo("bench", person_id, "vi", "csrf", AS_OF + timedelta(days=1))

    async def session(self, token: str) -> SessionInfo | None:
        return self.info if token == TOKEN else None


async def department_officer(db: Any) -> int:
    stamp = to_db(SETUP_AT)
    root = await db.fetchval("SELECT id FROM units WHERE parent_id IS NULL AND active = 1")
    async with db.transaction() as tx:
        pid = await tx.execute("INSERT INTO people(full_name, locale, created_at) VALUES ('Ban Tổ chức', 'vi', ?)",
                               (stamp,))
        await tx.execute("INSERT INTO memberships(person_id, unit_id, role, granted_at) VALUES (?, ?, 'department', ?)",
                         (pid, root, stamp))
    return int(pid)


def timing_middleware(server_s: list[float], server_cpu: list[float]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Clock and CPU time (the process's, the database thread included: nothing else runs in it meanwhile) of
    each request's handler."""
    @web.middleware
    async def timed(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                    ) -> web.StreamResponse:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return await handler(request)
        finally:
            server_s.append(time.perf_counter() - t0)
            server_cpu.append(time.process_time() - c0)
    return timed


async def measure(config_path: Path, repeat: int) -> dict[str, Any]:
    config = load_config(config_path, environ={})
    db = await open_database(config)
    try:
        person = await department_officer(db)
        conv = Conversation(db, FixedClock(AS_OF), config.app.zone, config.locales_dir,
                            files_dir=config_path.parent / "files")
        views = DashboardViews(conv, config)
        server_s: list[float] = []
        server_cpu: list[float] = []
        root = web.Application(middlewares=[timing_middleware(server_s, server_cpu)])
        context = WebContext(translator_for=lambda locale: translator(locale, config.locales_dir),
                             zone=config.app.zone)
        mount_dashboard(root, build_dashboard_app(context, OneSession(person), [pages(views)]))
        campaign = await campaign_store.campaign(db, CAMPAIGN_ID)
        assert campaign is not None
        row = next(p for p in await campaign_store.periods_of(db, CAMPAIGN_ID) if p.key == PERIOD)
        page = await views.completeness(person, row.id, "vi")
        assert page is not None
        largest = max(page.uppers, key=lambda u: u.counts.expected)
        res: dict[str, Any] = {"expected": page.counts.expected, "uppers": len(page.uppers),
                               "largest_upper_units": largest.counts.expected}
        await read_period(db, campaign, row)  # warm the connection's cache as the pages' warm-up request does
        floor, floor_cpu = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            await read_period(db, campaign, row)
            floor.append(time.perf_counter() - t0)
            floor_cpu.append(time.process_time() - c0)
        res["floor"], res["floor_cpu"] = statistics.median(floor), statistics.median(floor_cpu)
        client = TestClient(TestServer(root, host="127.0.0.1"))
        await client.start_server()
        try:
            for name, path in (("completeness", f"/dashboard/p/{row.id}"),
                               ("drill_down", f"/dashboard/p/{row.id}/upper/{largest.unit_id}")):
                rounds = []
                server_s.clear()
                server_cpu.clear()
                for i in range(repeat + 1):
                    t0 = time.perf_counter()
                    response = await client.get(path, headers={"Cookie": f"cd_session={TOKEN}"})
                    body = await response.text()
                    rounds.append(time.perf_counter() - t0)
                    assert response.status == 200, (response.status, body[:500])
                    if i == 0:
                        res[f"{name}_bytes"] = len(body.encode())
                res[name] = statistics.median(server_s[1:])  # the first request warms the templates up
                res[f"{name}_min"] = min(server_s[1:])
                res[f"{name}_cpu"] = statistics.median(server_cpu[1:])
                res[f"{name}_round_trip"] = statistics.median(rounds[1:])
        finally:
            await client.close()
        return res
    finally:
        await db.close()


def report(n: int, res: dict[str, Any]) -> None:
    ok = "ok" if res["completeness"] <= GOAL_S or n != 10_000 else "OVER"
    print(f"\n{n:,} units ({res['expected']:,} expected in {PERIOD}, {res['uppers']} upper levels; the largest has "
          f"{res['largest_upper_units']} units)")
    print(f"  floor: read_period (whole organisation, no answers)  median {res['floor']:.3f} s "
          f"(CPU {res['floor_cpu']:.3f} s)")
    for name, label in (("completeness", "completeness page   "), ("drill_down", "drill-down (largest)")):
        print(f"  {label} server median {res[name]:.3f} s (min {res[f'{name}_min']:.3f}, CPU "
              f"{res[f'{name}_cpu']:.3f} s, {res[name] / res['floor']:.1f}x the floor), round trip "
              f"{res[f'{name}_round_trip']:.3f} s, {res[f'{name}_bytes']:,} bytes")
    print(f"  goal: completeness <= {GOAL_S} s server time at 10,000 units: {ok}")


async def run(args: argparse.Namespace) -> int:
    for n in [args.units, *([args.also] if args.also else [])]:
        with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
            t0 = time.perf_counter()
            info = await build_dataset(Path(tmp), n, args.fields)
            print(f"built {n:,} units in {time.perf_counter() - t0:.1f} s ({info['submissions']:,} submissions)")
            report(n, await measure(Path(info["config"]), args.repeat))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--units", type=int, default=10_000)
    p.add_argument("--also", type=int, default=0, help="a second size (0: none)")
    p.add_argument("--fields", type=int, default=30)
    p.add_argument("--repeat", type=int, default=9)
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(run(parse_args())))
