"""Benchmark: deadline reminders from planning to hand-over, with Telegram's limits off and on.

    python bench/reminders.py [--recipients 20000] [--limited-seconds 10] [--wave 600]
                              [--api-chairs 1000] [--profile] [--database-url postgresql://...]
    python -m bench.reminders --both    # SQLite, then PostgreSQL (a throwaway local server): reminders/s, ratio
    python -m bench.reminders ...

Everything runs in-process in a temp folder: no network, nothing written to the repository.

setup  A config like tests/conftest.py's and prepare() (migrations, campaigns, sample organisation);
       N grassroots units "BENCH-00001"... imported with units.apply_import under the sample's upper
       units, and one chair each with a Telegram identity. The first --api-chairs chairs go through
       people.ensure_local_member (its speed is printed, with the time it would take for all N); the
       rest are inserted in bulk in one transaction with the same rows (people, identities,
       memberships, audit). --api-chairs -1 puts every chair through the storage API.
       At 2024-08-02 08:00 +07:00 the Đắk Lắk 95-year campaign's dot-1 (due before 5/8/2024) has its
       before-3 slot due, and no unit has submitted: N reminders to plan.
(a)    Limits off. ReminderPlanner.plan_once, timed step by step (gather = _gather(), plan = the pure
       planner with rendering, dedupe = outbox.existing_keys, record = outbox.add), then one
       OutboxSender.drain() with per_second=1e9, per_chat_interval=0 to a channel that only records.
       Also a second tick a minute later (nothing new to plan: the cost of every tick in the grace
       window; wall time and CPU, time.process_time with the database thread), and the CPU of a tick
       after one more chair registered (the period is planned again in full). --profile runs cProfile
       over (a) and prints the top entries.
(b)    Limits on. A fresh set of --wave reminders (slots "bench-wave-a"/"-b" for the same chairs,
       recorded with outbox.add; the first 10% of chats get two messages, adjacent in the outbox, as
       when two campaigns fall on the same morning) drained by a new OutboxSender with
       per_second=30, per_chat_interval=1.0, real time.monotonic and asyncio.sleep, for
       drain(max_seconds=--limited-seconds). The channel records the monotonic time of every send.
       Printed: the rate from the first to the last send (start-up excluded) and as % of 30/s, the
       most messages in any 1-second window, and the shortest gap between two messages to one chat.

--realistic  Instead of (a) and (b): a wave through the real Telegram channel to a local fake Bot API over HTTP
       with a round trip and Telegram's enforcement (see bench/reminders_realistic.py).

No timing is asserted; the counts (N planned, N handed over) are checked and printed.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import cProfile
import io
import itertools
import json
import os
import platform
import pstats
import re
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import aiosqlite

if __package__ in (None, ""):  # run as a file: python bench/reminders.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import scheduler.service as service_module
from bench.common import write_config
from bot.app import prepare
from bot.clock import FixedClock
from bot.config import Config, load_config
from bot.dialog.model import Reply
from bot.domain import Channel, Role, Unit, UnitKind
from scheduler.planner import reminder_key
from scheduler.sender import OutboxSender
from scheduler.service import ReminderPlanner
from storage import campaigns as campaign_store
from storage import outbox
from storage import people as people_store
from storage import reminders as reminder_store
from storage import units as unit_store
from storage.db import Database
from storage.outbox import OutboxItem
from storage.timefmt import to_db
from storage.units import UnitRow

REPO = Path(__file__).resolve().parent.parent
VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 8, 2, 8, 0, tzinfo=VN)  # before-3 of the Đắk Lắk 95-year campaign's dot-1
CAMPAIGN_ID = "daklak-95-nam-cdvn-2024"
PERIOD_KEY = "dot-1"
PARENTS = ("DL-BMT", "DL-KP", "DL-CDVC")  # the sample's upper units
KINDS = (UnitKind.ENTERPRISE_STATE, UnitKind.ENTERPRISE_PRIVATE, UnitKind.PUBLIC_AGENCY)
CHAT_BASE = 8_000_000_000
LIMIT_PER_SECOND = 30.0
LIMIT_PER_CHAT = 1.0

T = TypeVar("T")


@dataclass
class RecordingChannel:
    """An OutboundChannel that records (monotonic time, chat id) and returns at once."""

    name: str = "telegram"
    sent: list[tuple[float, str]] = field(default_factory=list)

    async def send(self, chat_id: str, replies: Sequence[Reply], *, version: int | None = None,
                   locale: str | None = None) -> None:
        self.sent.append((time.monotonic(), chat_id))

    async def send_file(self, chat_id: str, reply: Reply, *, locale: str | None = None) -> None:
        self.sent.append((time.monotonic(), chat_id))

    async def remove_choices(self, chat_id: str, message_id: str) -> None:
        return None


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def wrap_async(self, label: str, fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        async def timed(*args: Any, **kwargs: Any) -> T:
            t0 = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - t0
                self.calls[label] += 1
        return timed

    def wrap(self, label: str, fn: Callable[..., T]) -> Callable[..., T]:
        def timed(*args: Any, **kwargs: Any) -> T:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - t0
                self.calls[label] += 1
        return timed


class patched:  # noqa: N801 - used as a context manager, reads like a statement
    """For the duration of the block, time the module functions the product code calls by name
    (module.attribute, looked up at each call), so a step's cost can be read without editing the code."""

    def __init__(self, targets: list[tuple[Any, str, str]]) -> None:
        self.targets, self.t = targets, Timings()

    def __enter__(self) -> Timings:
        # (owner, attribute, what its own __dict__ held: a module's function, or nothing for a method)
        self.saved = [(owner, attr, vars(owner).get(attr)) for owner, attr, _ in self.targets]
        for owner, attr, label in self.targets:
            fn = getattr(owner, attr)
            timed = self.t.wrap_async(label, fn) if asyncio.iscoroutinefunction(fn) else self.t.wrap(label, fn)
            setattr(owner, attr, timed)
        return self.t

    def __exit__(self, *exc: object) -> None:
        for owner, attr, own in reversed(self.saved):
            if own is None:
                delattr(owner, attr)  # the class's method shows through again
            else:
                setattr(owner, attr, own)


def plan_steps(planner: ReminderPlanner) -> patched:
    """gather = the planner's _gather (one period's late units and recipients), plan = the pure plan()
    (rendering included), dedupe = outbox.existing_keys, record = outbox.add, marks = the fingerprints that let
    a tick skip what did not change (audience and submission marks)."""
    return patched([(planner, "_gather", "gather"), (service_module, "plan", "plan"),
                    (outbox, "existing_keys", "dedupe"), (outbox, "add", "record"),
                    (reminder_store, "audience_marks", "marks"), (reminder_store, "submission_marks", "marks")])


def drain_steps(channel: RecordingChannel) -> patched:
    return patched([(outbox, "claim", "claim"), (reminder_store, "submitted_units", "submitted?"),
                    (channel, "send", "send"), (outbox, "finish_many", "finish"),
                    (outbox, "retry_later", "retry_later"), (outbox, "release", "release")])


# ------------------------------------------------------------------------------------------- setup

@dataclass
class Env:
    config: Config
    db: Database
    planner: ReminderPlanner
    period_id: int
    chairs: list[tuple[int, int, str]]  # (person id, unit id, chat id)
    report: list[tuple[str, str]] = field(default_factory=list)


async def add_chairs_bulk(db: Database, units: list[Unit], start: int) -> None:
    """The rows ensure_local_member writes, for many chairs in one transaction."""
    stamp = to_db(NOW)
    async with db.transaction() as tx:
        base = int(await tx.fetchval("SELECT coalesce(max(id), 0) FROM people"))
        people, identities, memberships, audit = [], [], [], []
        for offset, unit in enumerate(units):
            pid = base + 1 + offset
            external, chat = f"bench-{unit.code}", str(CHAT_BASE + start + offset)
            name = f"Chủ tịch {unit.code}"
            people.append((pid, name, "vi", stamp))
            identities.append((pid, Channel.TELEGRAM.value, external, chat, name, stamp))
            memberships.append((pid, unit.id, Role.CHAIR.value, stamp))
            audit.append((stamp, f"telegram:{external}", "bind", "membership", str(pid),
                          f'{{"unit": "{unit.code}", "role": "chair"}}'))
        await tx.executemany("INSERT INTO people(id, full_name, locale, created_at) VALUES (?, ?, ?, ?)", people)
        await tx.executemany(
            "INSERT INTO identities(person_id, channel, external_id, chat_id, display_name, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", identities)
        await tx.executemany(
            "INSERT INTO memberships(person_id, unit_id, role, granted_at) VALUES (?, ?, ?, ?)", memberships)
        await tx.executemany(
            "INSERT INTO audit_log(at, actor, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?)", audit)
        if db.dialect == "postgresql":  # ids given here: the identity goes on after them, as SQLite's rowid does
            await tx.fetchall("SELECT setval(pg_get_serial_sequence('people', 'id'), (SELECT max(id) FROM people))")


async def setup(tmp: Path, n: int, api_chairs: int, database_url: str = "") -> Env:
    report: list[tuple[str, str]] = []
    config = load_config(write_config(tmp, REPO / "campaigns"),
                         environ={"BOT__STORAGE__URL": database_url} if database_url else {})
    t0 = time.perf_counter()
    prepared = await prepare(config, NOW)
    db = prepared.db
    report.append(("prepare() (migrate, campaigns, sample)", f"{time.perf_counter() - t0:.2f} s"))

    rows = [UnitRow(f"BENCH-{i:05d}", f"Công đoàn cơ sở thử tải số {i}", KINDS[i % 3], PARENTS[i % 3])
            for i in range(1, n + 1)]
    t0 = time.perf_counter()
    result = await unit_store.apply_import(db, rows, actor="bench", now=NOW)
    dt = time.perf_counter() - t0
    assert result.created == n, result
    report.append((f"units.apply_import, {n:,} units", f"{dt:.2f} s  ({n / dt:,.0f} units/s)"))

    units = [u for u in await unit_store.all_units(db) if u.code.startswith("BENCH-")]
    by_api = n if api_chairs < 0 else min(api_chairs, n)
    t0 = time.perf_counter()
    for i, unit in enumerate(units[:by_api]):
        await people_store.ensure_local_member(
            db, channel=Channel.TELEGRAM, external_id=f"bench-{unit.code}", display_name=f"Chủ tịch {unit.code}",
            unit=unit, role=Role.CHAIR, locale="vi", now=NOW, chat_id=str(CHAT_BASE + i))
    dt_api = time.perf_counter() - t0
    if by_api:
        per = dt_api / by_api
        report.append((f"people.ensure_local_member x {by_api:,}",
                       f"{dt_api:.2f} s  ({1 / per:,.0f}/s, {per * 1e3:.2f} ms each; all {n:,}: ~{per * n:.0f} s)"))
    if by_api < n:
        t0 = time.perf_counter()
        await add_chairs_bulk(db, units[by_api:], by_api)
        dt = time.perf_counter() - t0
        report.append((f"bulk SQL chairs x {n - by_api:,} (1 transaction)",
                       f"{dt:.2f} s  ({(n - by_api) / dt:,.0f}/s)"))

    chairs = [(r["person_id"], r["unit_id"], r["chat_id"]) for r in await db.fetchall(
        "SELECT m.person_id, m.unit_id, i.chat_id FROM memberships m JOIN identities i ON i.person_id = m.person_id "
        "JOIN units u ON u.id = m.unit_id WHERE u.code LIKE 'BENCH-%' ORDER BY u.code")]
    assert len(chairs) == n, len(chairs)
    period_id = next(r.id for r in await campaign_store.periods_of(db, CAMPAIGN_ID) if r.key == PERIOD_KEY)
    planner = ReminderPlanner(db, config.reminders, config.app.zone, config.locales_dir)
    return Env(config, db, planner, period_id, chairs, report)


# ---------------------------------------------------------------------------------------- phase (a)

@dataclass
class Unlimited:
    n_planned: int
    n_pending: int
    n_superseded: int
    by_period: dict[int, int]
    steps: Timings
    plan_once_s: float
    drain_s: float
    drain_steps: Timings
    handed_over: int
    tick2_s: float
    tick2_steps: Timings
    tick2_new: int
    plan_once_cpu: float = 0.0  # time.process_time: the database thread included
    tick2_cpu: float = 0.0
    tick3_cpu: float = 0.0  # a tick after one new chair registered: its period is planned again in full
    tick3_new: int = 0


async def run_unlimited(env: Env) -> Unlimited:
    planner = env.planner
    with plan_steps(planner) as steps:
        t0, c0 = time.perf_counter(), time.process_time()
        result = await planner.plan_once(NOW)
        plan_once_s, plan_once_cpu = time.perf_counter() - t0, time.process_time() - c0
    by_period: dict[int, int] = defaultdict(int)
    for p in result.planned:
        by_period[p.item.period_id or 0] += 1

    channel = RecordingChannel()
    sender = OutboxSender(env.db, {Channel.TELEGRAM.value: channel}, FixedClock(NOW),
                          per_second=1e9, per_chat_interval=0)
    with drain_steps(channel) as drain_timings:
        t0 = time.perf_counter()
        stats = await sender.drain()
        drain_s = time.perf_counter() - t0
    assert stats.sent == len(channel.sent), (stats, len(channel.sent))

    # The next minute's tick: nothing changed, so every period is skipped on its fingerprint (scheduler/memory.py).
    later = NOW.replace(minute=1)
    with plan_steps(planner) as tick2_steps:
        t0, c0 = time.perf_counter(), time.process_time()
        again = await planner.plan_once(later)
        tick2_s, tick2_cpu = time.perf_counter() - t0, time.process_time() - c0

    # One more chair registers: the audience's marks move, the period is gathered and planned again in full.
    unit = await unit_store.by_code(env.db, "BENCH-00001")
    assert unit is not None
    await people_store.ensure_local_member(
        env.db, channel=Channel.TELEGRAM, external_id="bench-newcomer", display_name="Chủ tịch mới", unit=unit,
        role=Role.CHAIR, locale="vi", now=NOW, chat_id=str(CHAT_BASE - 1))
    c0 = time.process_time()
    third = await planner.plan_once(NOW.replace(minute=2))
    tick3_cpu = time.process_time() - c0
    return Unlimited(len(result.planned), result.pending, result.superseded, dict(by_period), steps, plan_once_s,
                     drain_s, drain_timings, stats.sent, tick2_s, tick2_steps, again.pending + again.superseded,
                     plan_once_cpu, tick2_cpu, tick3_cpu, third.pending)


# ---------------------------------------------------------------------------------------- phase (b)

@dataclass
class Limited:
    queued: int
    chats: int
    sent: int
    deferred: int
    drain_s: float
    startup_s: float
    span_s: float
    max_per_second_window: int
    min_chat_gap_s: float | None
    chat_violations: int
    repeated_chats_sent_twice: int


def wave_items(env: Env, payloads: dict[int, dict[str, Any]], wave: int) -> tuple[list[OutboxItem], int]:
    """`wave` fresh reminders under new slot names: the first 10% of chats get two (adjacent rows)."""
    repeated = max(wave // 10, 0)
    chats = wave - repeated
    if chats > len(env.chairs):
        raise SystemExit(f"--wave {wave} needs {chats} chairs, there are {len(env.chairs)}")
    items = []
    for index, (person_id, unit_id, chat_id) in enumerate(env.chairs[:chats]):
        for slot in ("bench-wave-a", "bench-wave-b") if index < repeated else ("bench-wave-a",):
            items.append(OutboxItem(
                key=reminder_key(env.period_id, unit_id, person_id, slot), kind="reminder", person_id=person_id,
                unit_id=unit_id, period_id=env.period_id, channel=Channel.TELEGRAM.value, chat_id=chat_id,
                planned_for=NOW, payload=payloads[person_id]))
    return items, chats


async def run_limited(env: Env, payloads: dict[int, dict[str, Any]], wave: int, seconds: float) -> Limited:
    items, chats = wave_items(env, payloads, wave)
    added = await outbox.add(env.db, items, NOW)
    assert added == len(items), (added, len(items))
    repeated = {i.chat_id for i in items if i.key.endswith("bench-wave-b")}

    channel = RecordingChannel()
    sender = OutboxSender(env.db, {Channel.TELEGRAM.value: channel}, FixedClock(NOW),
                          per_second=LIMIT_PER_SECOND, per_chat_interval=LIMIT_PER_CHAT)  # real monotonic, sleep
    t0 = time.monotonic()
    stats = await sender.drain(max_seconds=seconds)
    drain_s = time.monotonic() - t0
    counts = await outbox.counts(env.db)

    times = [t for t, _ in channel.sent]
    window = 0
    for i, t in enumerate(times):  # sends in [t, t + 1 s)
        window = max(window, bisect.bisect_left(times, t + 1.0, lo=i) - i)
    per_chat: dict[str, list[float]] = defaultdict(list)
    for t, chat in channel.sent:
        per_chat[chat].append(t)
    gaps = [b - a for ts in per_chat.values() for a, b in itertools.pairwise(ts)]
    return Limited(
        queued=len(items), chats=chats, sent=stats.sent, deferred=counts.get("pending", 0), drain_s=drain_s,
        startup_s=(times[0] - t0) if times else 0.0, span_s=(times[-1] - times[0]) if len(times) > 1 else 0.0,
        max_per_second_window=window, min_chat_gap_s=min(gaps) if gaps else None,
        chat_violations=sum(1 for g in gaps if g < LIMIT_PER_CHAT),
        repeated_chats_sent_twice=sum(1 for c in repeated if len(per_chat.get(c, ())) >= 2),
    )


# ------------------------------------------------------------------------------------------ report

def line(label: str, value: str) -> str:
    return f"  {label:<46} {value}"


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s" if seconds > 0 else "-"


def top_profile(profile: cProfile.Profile, count: int) -> str:
    """The top entries by own time (everything), then by cumulative time (the project's own functions)."""
    parts = []
    for sort, restriction, title in (
        ("tottime", (), "by own time"),
        ("cumulative", (f"{re.escape(str(REPO))}/(bot|scheduler|storage)/",), "project code, by cumulative time"),
    ):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(sort).print_stats(*restriction, count)
        text = out.getvalue().replace(f"{REPO}/", "")
        start = text.find("   ncalls")
        parts.append(f"  -- {title}\n" + (text[start:].rstrip() if start >= 0 else text))
    return "\n".join(parts)


async def main(args: argparse.Namespace) -> int:
    started = time.perf_counter()

    print(f"== bench.reminders — {os.cpu_count()} cores, Python {platform.python_version()} "
          f"({platform.python_implementation()}), {platform.system()} {platform.machine()}, "
          f"SQLite {sqlite3.sqlite_version}, aiosqlite {getattr(aiosqlite, '__version__', '?')}")
    print(f"   database {'PostgreSQL' if args.database_url else 'SQLite'}, "
          f"recipients {args.recipients:,}, now {NOW.isoformat()}, campaign {CAMPAIGN_ID} {PERIOD_KEY}")
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp:
        env = await setup(Path(tmp), args.recipients, args.api_chairs, args.database_url)
        try:
            print("\nsetup")
            for label, value in env.report:
                print(line(label, value))

            profile = cProfile.Profile() if args.profile else None
            if profile:
                profile.enable()
            a = await run_unlimited(env)
            if profile:
                profile.disable()
            s = a.steps.seconds
            preview_s = s["gather"] + s["plan"] + s["dedupe"]
            record_s = s["record"]
            other_s = a.plan_once_s - preview_s - record_s
            total_s = a.plan_once_s + a.drain_s
            print("\n(a) limits off: plan_once + drain(per_second=1e9, per_chat_interval=0), recording channel")
            print(line("reminders due (pending) / expected",
                       f"{a.n_pending:,} / {args.recipients:,}"
                       f"  {'OK' if a.n_pending == args.recipients else 'MISMATCH'}"
                       f"  (+{a.n_superseded:,} superseded; period ids {sorted(a.by_period)})"))
            print(line("gather: _gather(), per period", f"{s['gather']:.3f} s  {rate(a.n_pending, s['gather'])}"))
            print(line("plan: pure planner incl. rendering", f"{s['plan']:.3f} s  {rate(a.n_pending, s['plan'])}"))
            print(line("dedupe: outbox.existing_keys", f"{s['dedupe']:.3f} s  {rate(a.n_pending, s['dedupe'])}"))
            print(line("= preview (gather + plan + dedupe)", f"{preview_s:.3f} s  {rate(a.n_pending, preview_s)}"))
            print(line(f"record: outbox.add x{a.steps.calls['record']}",
                       f"{record_s:.3f} s  {rate(a.n_pending, record_s)}"))
            print(line(f"plan_once total (other, summaries: {other_s:.3f} s)",
                       f"{a.plan_once_s:.3f} s  {rate(a.n_pending, a.plan_once_s)}  (CPU {a.plan_once_cpu:.3f} s)"))
            print(line("hand over: drain()", f"{a.drain_s:.3f} s  {rate(a.handed_over, a.drain_s)}"
                       f"  ({a.handed_over:,} handed over"
                       f" {'OK' if a.handed_over == a.n_pending else 'MISMATCH'})"))
            if getattr(args, "figures", None) is not None:
                args.figures[env.db.dialect] = {"reminders/s (plan + hand over)": a.handed_over / total_s,
                                                "plan_once reminders/s": a.n_pending / a.plan_once_s}
            print(line("overall plan_once + drain", f"{total_s:.3f} s  {rate(a.handed_over, total_s)}"
                       f"  (target >= 3,000/s: {'met' if a.handed_over / total_s >= 3000 else 'NOT met'})"))
            d = a.drain_steps
            for label, seconds in d.seconds.items():
                calls = d.calls[label]
                print(line(f"  drain step: {label} x{calls:,}",
                           f"{seconds:.3f} s  ({seconds / calls * 1e6:,.0f} us/call)"))
            print(line("  drain step: the sender's own loop", f"{a.drain_s - sum(d.seconds.values()):.3f} s"))
            t2 = a.tick2_steps.seconds
            print(line("next tick, nothing new (every minute in grace)",
                       f"{a.tick2_s:.3f} s  (gather {t2['gather']:.3f}, plan {t2['plan']:.3f},"
                       f" dedupe {t2['dedupe']:.3f}, marks {t2['marks']:.3f}; {a.tick2_new} new)"))
            print(line("next tick, nothing new: CPU", f"{a.tick2_cpu:.3f} s  (goal <= 0.1 s)"))
            print(line("a tick after one new chair: CPU", f"{a.tick3_cpu:.3f} s  ({a.tick3_new} new; the period"
                       " planned again in full)"))
            if profile:
                print(f"\n(a) cProfile, top {args.profile_top} (profiling slows everything down):")
                print(top_profile(profile, args.profile_top))

            b = await run_limited(env, await sent_payloads(env), args.wave, args.limited_seconds)
            achieved = (b.sent - 1) / b.span_s if b.span_s > 0 else 0.0
            print(f"\n(b) limits on: drain(max_seconds={args.limited_seconds:g}) with per_second={LIMIT_PER_SECOND:g},"
                  f" per_chat_interval={LIMIT_PER_CHAT:g}, real monotonic + asyncio.sleep")
            print(line("queued / chats (10% of chats get two)", f"{b.queued:,} / {b.chats:,}"))
            print(line("sent in the wave / left pending", f"{b.sent:,} / {b.deferred:,}"
                       + ("  (the wave ran dry: raise --wave)" if b.deferred == 0 else "")))
            print(line("start-up (drain start -> first send)", f"{b.startup_s * 1e3:.1f} ms"))
            print(line("achieved rate, first -> last send",
                       f"{achieved:.2f}/s = {achieved / LIMIT_PER_SECOND:.1%} of {LIMIT_PER_SECOND:g}/s"
                       f"  (target >= 95%: {'met' if achieved >= 0.95 * LIMIT_PER_SECOND else 'NOT met'})"))
            print(line("sent / wave length", f"{b.sent / args.limited_seconds:.2f}/s"))
            print(line("most sends in any 1 s window", f"{b.max_per_second_window}  (limit ~{LIMIT_PER_SECOND:g})"))
            gap = "-" if b.min_chat_gap_s is None else f"{b.min_chat_gap_s:.3f} s"
            print(line("per chat: shortest gap / gaps < 1 s",
                       f"{gap} / {b.chat_violations}  ({b.repeated_chats_sent_twice} chats got both messages)"))
            print(line("drain wall time (incl. handing back claims)",
                       f"{b.drain_s:.2f} s  (+{(b.drain_s - args.limited_seconds) * 1e3:.0f} ms over max_seconds)"))
        finally:
            await env.db.close()
    print(f"\ntotal run {time.perf_counter() - started:.1f} s")
    return 0


async def sent_payloads(env: Env) -> dict[int, dict[str, Any]]:
    """The reminder text (a) rendered for each chair, read back from the outbox, for the wave to reuse."""
    rows = await env.db.fetchall(
        "SELECT person_id, payload FROM outbox WHERE period_id = ? AND kind = 'reminder' AND status = 'sent'",
        (env.period_id,))
    out = {}
    for r in rows:
        payload = json.loads(r["payload"])
        payload.pop("chat_id", None)  # outbox.add puts the item's chat id back in
        out[r["person_id"]] = payload
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python bench/reminders.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--recipients", type=int, default=20_000, help="grassroots units, one chair each (20000)")
    p.add_argument("--limited-seconds", type=float, default=10.0, help="length of the rate-limited wave (10)")
    p.add_argument("--wave", type=int, default=600, help="reminders queued for the limited wave (600)")
    p.add_argument("--api-chairs", type=int, default=1000,
                   help="chairs added through ensure_local_member, the rest in bulk; -1: all (1000)")
    p.add_argument("--database-url", default="", metavar="URL",
                   help="an empty PostgreSQL database, e.g. postgresql://bot@127.0.0.1:5432/bench (password from "
                        "BOT_DB_PASSWORD); default: SQLite in the temp folder")
    p.add_argument("--both", action="store_true",
                   help="run on SQLite, then on PostgreSQL (--database-url, else a throwaway local server), and print "
                        "reminders/s of each and their ratio")
    p.add_argument("--profile", action="store_true", help="cProfile phase (a) and print the top entries")
    p.add_argument("--profile-top", type=int, default=25)
    p.add_argument("--realistic", action="store_true",
                   help="only the realistic wave: the Telegram channel over HTTP to a local fake Bot API with a round "
                        "trip and Telegram's limits (bench/reminders_realistic.py)")
    p.add_argument("--chats", type=int, default=2_000, help="realistic: chats in the wave (2000)")
    p.add_argument("--rtt-ms", type=float, default=150.0, help="realistic: round trip (150)")
    p.add_argument("--jitter-ms", type=float, default=50.0, help="realistic: ± on the round trip (50)")
    p.add_argument("--rate", type=float, default=29.0, help="realistic: the sender's messages per second (29)")
    p.add_argument("--in-flight", type=int, default=16, help="realistic: the sender's max_in_flight (16)")
    p.add_argument("--reply-every", type=float, default=0.3,
                   help="realistic: a dialog reply wanted every S seconds during the wave; 0: none (0.3)")
    return p.parse_args(argv)


def cli(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.realistic:
        from bench.reminders_realistic import realistic
        return asyncio.run(realistic(args.chats, args.rtt_ms, args.jitter_ms, args.rate, args.in_flight,
                                     args.reply_every))
    if not args.both:
        return asyncio.run(main(args))
    from bench.both import comparison, postgres_url

    figures: dict[str, dict[str, float]] = {}
    code = asyncio.run(main(argparse.Namespace(**{**vars(args), "database_url": "", "figures": figures})))
    with postgres_url(args.database_url) as url:
        print()
        code |= asyncio.run(main(argparse.Namespace(**{**vars(args), "database_url": url, "figures": figures})))
    print(comparison(figures))
    return code


if __name__ == "__main__":
    raise SystemExit(cli())
