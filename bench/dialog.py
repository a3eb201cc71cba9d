"""Benchmark: the guided report dialog through python-telegram-bot, against a bare echo bot.

    python -m bench.dialog [--chairs 200] [--drafts 5000] [--concurrency 1] [--synchronous FULL|NORMAL]
                           [--database-url postgresql://user@host:5432/empty_db] [--profile out.prof]
    python -m bench.dialog --both [--database-url ...]   # SQLite, then PostgreSQL; steps/s and the ratio
    python bench/dialog.py ...

Everything runs in-process in a temp folder: no network, no real token, nothing written to the
repository. Phases:

1. setup: a config like tests/conftest.py's, prepare() (migrations, sample organisation) with a
   campaigns folder holding one synthetic campaign of exactly 15 questions (integers, money, yes/no,
   select_one, a date, short and long text; one cross-field constraint; one skip rule that the
   scripted answers make relevant, so every chair is asked all 15).
2. chairs: N extra grassroots units, one chair invite each, each chair registered with
   "/start <code>" through the Application.
3. dialog: every chair, round-robin, sends /baocao, answers the 15 questions (typed text, or the
   callback data of the button the bot just sent, as a phone would) and taps "send the report":
   17 updates per chair, each one `await app.process_update(Update.de_json(...))` on the
   Application that handlers.telegram.build_application() builds, with a local fake Bot API.
4. floor: a bare Application, one MessageHandler that echoes the text with send_message through the
   same fake Bot API, the same number of text updates.
5. shipped: a few chairs through build_application() with its AIORateLimiter left in place (phase 3
   takes it out, see below), to show what the limiter allows.
6. drafts: D people with a draft open at question 7 of the 15, then process RSS, tracemalloc peak
   of the phase, and the database size; then a sample of them answer question 7 (step latency with
   a large table).

About the rate limiter: build_application() installs AIORateLimiter, which holds every request that
has a chat_id (sendMessage, editMessageReplyMarkup) to 30 per second overall, Telegram's broadcast
limit. With it the dialog cannot pass ~30 messages/s whatever the code costs, so phase 3 removes
it from the built Application (bot._rate_limiter = None) to measure the cost of a step; phase 5
measures the shipped configuration.

No timing is asserted. Correctness is checked and printed: every chair must reach each question
in order and N submissions must be stored.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import faulthandler
import gc
import json
import logging
import math
import os
import platform
import pstats
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a file: python bench/dialog.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest, RequestData

from bench.common import write_config
from bot.app import prepare
from bot.clock import FixedClock
from bot.config import Config, load_config
from bot.conversation import Command, Conversation, Press, Response, Sender
from bot.dialog.model import TextInput
from bot.domain import Channel, Role, Unit, UnitKind
from bot.invites import hash_code, issue_invite, new_code
from bot.port import Port
from handlers.telegram import TelegramDeps, build_application
from storage import drafts as draft_store
from storage import people as people_store
from storage import units as unit_store
from storage.db import Database
from storage.units import UnitRow

REPO = Path(__file__).resolve().parent.parent
VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 9, 20, 8, 0, tzinfo=VN)  # inside the synthetic period, before it is due
NOW_TS = int(NOW.timestamp())
TOKEN = "123456:BENCH-not-real"  # a fake token; nothing leaves the process
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Bench", "username": "BenchBot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
PARENT_UNIT = "DL-BMT"  # an upper-level union of the sample organisation
CAMPAIGN_ID = "bench-15"
USER_BASE = 700_000_000
DRAFT_USER_BASE = 800_000_000
GRASSROOTS = (UnitKind.ENTERPRISE_PRIVATE, UnitKind.ENTERPRISE_STATE, UnitKind.PUBLIC_AGENCY)

# --- the synthetic campaign ----------------------------------------------------------------------

CAMPAIGN_TOML = """\
id = "bench-15"
title = { vi = "Báo cáo thử tải 15 câu", en = "Load-test report, 15 questions" }
timezone = "Asia/Ho_Chi_Minh"

[plan]
issuer = "Liên đoàn Lao động tỉnh (thử tải)"
title = "Kế hoạch thử tải: báo cáo quý III/2024"

[audience]
scope = { kinds = ["grassroots"] }
reports_to = "LĐLĐ tỉnh (qua Ban Tuyên giáo – Nữ công)"

[contact]
department = "Ban Tuyên giáo – Nữ công"

[[periods]]
key = "quy-3-2024"
name = { vi = "Quý III/2024", en = "Q3 2024" }
covers = { start = 2024-07-01, end = 2024-09-30 }
due = { date = 2024-10-05, wording = "before", text = "trước ngày 5/10/2024" }

[[fields]]
name = "members_total"
type = "integer"
label = { vi = "Tổng số đoàn viên của đơn vị?", en = "How many members does your union have?" }
report_label = { vi = "Tổng số đoàn viên", en = "Members" }
unit = { vi = "người", en = "people" }
constraint = ". >= 0"
constraint_message = { vi = "Nhập số đoàn viên, từ 0 trở lên, ví dụ: 120", en = "Enter 0 or more, e.g. 120" }

[[fields]]
name = "members_female"
type = "integer"
label = { vi = "Trong đó, bao nhiêu đoàn viên nữ?", en = "Of those, how many are women?" }
report_label = { vi = "Số đoàn viên nữ", en = "Women members" }
unit = { vi = "người", en = "people" }
constraint = ". >= 0 and . <= ${members_total}"
constraint_message.vi = "Số đoàn viên nữ không được lớn hơn tổng số đoàn viên"
constraint_message.en = "Cannot exceed the number of members"

[[fields]]
name = "new_members"
type = "integer"
label = { vi = "Số đoàn viên kết nạp mới trong quý?", en = "New members this quarter?" }
report_label = { vi = "Số đoàn viên kết nạp mới", en = "New members" }
hint = { vi = "Không có thì nhập 0.", en = "Enter 0 if none." }
unit = { vi = "người", en = "people" }

[[fields]]
name = "activities"
type = "integer"
label = { vi = "Số hoạt động đã tổ chức?", en = "How many activities were held?" }
report_label = { vi = "Số hoạt động", en = "Activities held" }
unit = { vi = "hoạt động", en = "activities" }

[[fields]]
name = "news_items"
type = "integer"
label = { vi = "Số tin, bài đã gửi đăng?", en = "How many news items were submitted?" }
report_label = { vi = "Số tin, bài gửi đăng", en = "News items submitted" }
unit = { vi = "tin, bài", en = "items" }

[[fields]]
name = "budget_spent"
type = "money"
label = { vi = "Kinh phí đã chi cho hoạt động?", en = "Money spent on activities?" }
report_label = { vi = "Kinh phí đã chi", en = "Money spent" }

[[fields]]
name = "gifts_value"
type = "money"
label = { vi = "Giá trị quà tặng đoàn viên, người lao động?", en = "Value of gifts to members and workers?" }
report_label = { vi = "Giá trị quà tặng", en = "Value of gifts" }

[[fields]]
name = "held_dialogue"
type = "yes_no"
label.vi = "Đơn vị có tổ chức đối thoại với người sử dụng lao động không?"
label.en = "Did your union hold a dialogue with the employer?"
report_label = { vi = "Tổ chức đối thoại", en = "Dialogue held" }

[[fields]]
name = "dialogue_date"
type = "date"
label = { vi = "Đối thoại vào ngày nào?", en = "On what date?" }
report_label = { vi = "Ngày đối thoại", en = "Dialogue date" }
relevant = "${held_dialogue} = true"

[[fields]]
name = "dialogue_participants"
type = "integer"
label = { vi = "Số người lao động tham gia đối thoại?", en = "How many workers took part in dialogues?" }
report_label = { vi = "Số người lao động dự đối thoại", en = "Workers in dialogues" }
unit = { vi = "người", en = "people" }

[[fields]]
name = "agreement_status"
type = "select_one"
label = { vi = "Thỏa ước lao động tập thể của đơn vị?", en = "Your collective agreement?" }
report_label = { vi = "Thỏa ước lao động tập thể", en = "Collective agreement" }
choices = [
  { value = "signed", label = { vi = "Đã ký, còn hiệu lực", en = "Signed, in force" } },
  { value = "renewing", label = { vi = "Đang sửa đổi, ký lại", en = "Being renewed" } },
  { value = "none", label = { vi = "Chưa có", en = "None" } },
]

[[fields]]
name = "safety_rating"
type = "select_one"
label = { vi = "Tự đánh giá công tác an toàn, vệ sinh lao động?", en = "Self-assessment of occupational safety?" }
report_label = { vi = "Tự đánh giá an toàn, vệ sinh lao động", en = "Occupational safety self-assessment" }
choices = [
  { value = "good", label = { vi = "Tốt", en = "Good" } },
  { value = "fair", label = { vi = "Khá", en = "Fair" } },
  { value = "weak", label = { vi = "Cần cố gắng", en = "Needs work" } },
]

[[fields]]
name = "had_accident"
type = "yes_no"
label = { vi = "Trong quý có xảy ra tai nạn lao động không?", en = "Was there a work accident this quarter?" }
report_label = { vi = "Có tai nạn lao động", en = "Work accident" }

[[fields]]
name = "highlight"
type = "text"
label = { vi = "Hoạt động nổi bật nhất?", en = "The most notable activity?" }
report_label = { vi = "Hoạt động nổi bật nhất", en = "Most notable activity" }

[[fields]]
name = "summary"
type = "long_text"
label = { vi = "Tóm tắt kết quả, khó khăn và kiến nghị", en = "Results, difficulties and requests, in short" }
report_label = { vi = "Kết quả, khó khăn, kiến nghị", en = "Results, difficulties, requests" }
required = false
"""

# What a chair sends for each question, in order: ("text", typed) or ("button", action).
ANSWERS: list[tuple[str, str, str]] = [
    ("members_total", "text", "120"),
    ("members_female", "text", "64"),
    ("new_members", "text", "8"),
    ("activities", "text", "5"),
    ("news_items", "text", "3"),
    ("budget_spent", "text", "750 nghìn"),  # under 1.000.000, so no "is that right?" step
    ("gifts_value", "text", "500.000"),
    ("held_dialogue", "button", "yes"),  # makes dialogue_date relevant: all 15 are asked
    ("dialogue_date", "text", "15/8"),
    ("dialogue_participants", "text", "45"),
    ("agreement_status", "button", "c:signed"),
    ("safety_rating", "button", "c:good"),
    ("had_accident", "button", "no"),
    ("highlight", "text", "Hội thao công nhân"),
    ("summary", "text", "Tổ chức 2 buổi tuyên truyền, 1 hội thao; mô hình “Bữa cơm công đoàn” được hưởng ứng. "
                        "Kiến nghị LĐLĐ tỉnh hỗ trợ kinh phí tổ chức Tháng Công nhân năm sau."),
]
QUESTIONS = len(ANSWERS)
STEPS_PER_CHAIR = QUESTIONS + 2  # /baocao, 15 answers, send


# --- a Bot API that answers locally ---------------------------------------------------------------


class LocalBotAPI(BaseRequest):
    """Answers the few Bot API methods the benchmark uses with canned JSON; counts calls and keeps
    the last message and keyboard sent to each chat (what the phone shows)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.last_text: dict[int, str] = {}
        self.last_markup: dict[int, Any] = {}
        self.last_message_id: dict[int, int] = {}
        self._message_id = 0

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None, connect_timeout: Any = None,
                         pool_timeout: Any = None) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        self.calls[endpoint] += 1
        params = request_data.parameters if request_data is not None else {}
        result: Any = True
        if endpoint == "sendMessage":
            chat_id = int(params["chat_id"])
            self._message_id += 1
            self.last_text[chat_id] = str(params["text"])
            self.last_markup[chat_id] = params.get("reply_markup")
            self.last_message_id[chat_id] = self._message_id
            result = {"message_id": self._message_id, "date": NOW_TS, "from": BOT_USER,
                      "chat": {"id": chat_id, "type": "private"}, "text": params["text"]}
        elif endpoint == "getMe":
            result = BOT_USER
        elif endpoint not in ("answerCallbackQuery", "editMessageReplyMarkup", "setMyCommands",
                              "deleteMyCommands", "close", "logOut"):
            return 400, b'{"ok":false,"error_code":400,"description":"Bad Request: not faked by bench"}'
        return 200, _json_bytes({"ok": True, "result": result})


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


# --- updates as Telegram sends them ------------------------------------------------------------------


class UpdateIds:
    def __init__(self) -> None:
        self.next_update = 1
        self.next_message = 1

    def update(self) -> int:
        self.next_update += 1
        return self.next_update

    def message(self) -> int:
        self.next_message += 1
        return self.next_message


def user_json(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Chủ tịch", "last_name": str(user_id % 100_000),
            "language_code": "vi"}


def text_update(ids: UpdateIds, user_id: int, text: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": ids.message(), "date": NOW_TS, "from": user_json(user_id),
        "chat": {"id": user_id, "type": "private", "first_name": "Chủ tịch"}, "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split(" ", 1)[0])}]
    return {"update_id": ids.update(), "message": message}


def button_update(ids: UpdateIds, user_id: int, data: str, message_id: int) -> dict[str, Any]:
    uid = ids.update()
    return {"update_id": uid, "callback_query": {
        "id": str(uid), "from": user_json(user_id), "chat_instance": str(user_id), "data": data,
        "message": {"message_id": message_id, "date": NOW_TS, "from": BOT_USER,
                    "chat": {"id": user_id, "type": "private"}, "text": "…"},
    }}


def callback_for(markup: Any, action: str) -> str | None:
    """The callback data of the button whose action is `action`, from the last keyboard sent."""
    if not markup:
        return None
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data") or ""
            if data.partition("|")[2] == action:
                return data
    return None


# --- measuring -----------------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, one per update
    wall: float = 0.0
    cpu: float = 0.0  # process CPU time (all threads: the event loop and aiosqlite's)
    by_kind: dict[str, list[float]] = field(default_factory=dict)  # "text" / "button" latencies

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.wall if self.wall else 0.0

    def pct_ms(self, p: float, kind: str | None = None) -> float:
        values = self.latencies if kind is None else self.by_kind.get(kind, [])
        if not values:
            return float("nan")
        ordered = sorted(values)
        rank = max(math.ceil(p / 100 * len(ordered)) - 1, 0)
        return ordered[rank] * 1000

    @property
    def cpu_ms(self) -> float:
        """Process CPU per update: less disturbed than wall time by other work on the machine."""
        return self.cpu / self.count * 1000 if self.count else float("nan")

    @property
    def mean_ms(self) -> float:
        return sum(self.latencies) / len(self.latencies) * 1000 if self.latencies else float("nan")


async def process(app: Application, data: dict[str, Any]) -> float:
    """One update, as the Application would get it from getUpdates: parsed, then processed."""
    t0 = time.perf_counter()
    await app.process_update(Update.de_json(data, app.bot))
    return time.perf_counter() - t0


async def run_batches(run: Run, items: list[Any], make: Callable[[Any], dict[str, Any] | None], app: Application,
                      concurrency: int) -> None:
    """Process the updates `make` builds for `items`, `concurrency` at a time (items of one batch
    belong to different people). Building an update is not timed; processing it is."""
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(0, len(items), concurrency):
        batch = [d for d in (make(item) for item in items[i:i + concurrency]) if d is not None]
        if len(batch) == 1:
            took = [await process(app, batch[0])]
        elif batch:
            took = list(await asyncio.gather(*(process(app, d) for d in batch)))
        else:
            continue
        run.latencies.extend(took)
        for data, seconds in zip(batch, took, strict=True):
            run.by_kind.setdefault("button" if "callback_query" in data else "text", []).append(seconds)
    run.wall += time.perf_counter() - start
    run.cpu += time.process_time() - cpu_start


class HandleTimer:
    """Times Conversation.handle on one instance, so a step splits into the conversation's share
    (load state, run the engine, save in SQLite) and the rest (python-telegram-bot, rendering)."""

    def __init__(self, conversation: Conversation) -> None:
        self.seconds, self.calls = 0.0, 0
        self._inner = conversation.handle
        conversation.handle = self  # type: ignore[method-assign]  # the instance attribute wins

    async def __call__(self, *args: Any, **kwargs: Any) -> Response:
        t0 = time.perf_counter()
        try:
            return await self._inner(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t0
            self.calls += 1

    def reset(self) -> None:
        self.seconds, self.calls = 0.0, 0


class ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = self.format(record)


def rss_mb() -> float:
    """Current resident set size of this process."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def max_rss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 2**20 if sys.platform == "darwin" else r / 1024  # bytes on macOS, KiB on Linux


async def checkpoint(db: Database) -> None:
    """SQLite: everything into the main file (a PostgreSQL server has its own)."""
    if db.dialect == "sqlite":
        await db.fetchone("PRAGMA wal_checkpoint(TRUNCATE)")


def file_mb(path: Path) -> float:
    return path.stat().st_size / 2**20 if path.exists() else 0.0


# --- setup ---------------------------------------------------------------------------------------------


@dataclass
class Env:
    tmp: Path
    config: Config
    conversation: Conversation
    period_id: int


async def setup(tmp: Path, database_url: str = "") -> Env:
    campaigns = tmp / "campaigns"
    campaigns.mkdir()
    (campaigns / f"{CAMPAIGN_ID}.toml").write_text(CAMPAIGN_TOML, encoding="utf-8")
    config_path = write_config(tmp, campaigns)
    environ = {"TELEGRAM_BOT_TOKEN": TOKEN, **({"BOT__STORAGE__URL": database_url} if database_url else {})}
    config = load_config(config_path, environ=environ)
    prepared = await prepare(config, NOW)
    assert prepared.campaigns_loaded == [CAMPAIGN_ID], prepared.campaigns_loaded
    period_id = await prepared.db.fetchval("SELECT id FROM periods WHERE campaign_id = ?", (CAMPAIGN_ID,))
    conversation = Conversation(prepared.db, FixedClock(NOW), config.app.zone, config.locales_dir)
    return Env(tmp, config, conversation, int(period_id))


async def add_units(env: Env, prefix: str, n: int) -> list[Unit]:
    rows = [UnitRow(f"{prefix}-{i:05d}", f"Công đoàn cơ sở {prefix} số {i}", GRASSROOTS[i % 3], PARENT_UNIT)
            for i in range(n)]
    await unit_store.apply_import(env.conversation.db, rows, actor="bench", now=NOW)
    by_code = {u.code: u for u in await unit_store.all_units(env.conversation.db)}
    return [by_code[r.code] for r in rows]


async def invite_codes(env: Env, units: list[Unit]) -> list[str]:
    codes = []
    for unit in units:
        issued = await issue_invite(env.conversation.db, unit=unit, role=Role.CHAIR, lifetime=timedelta(days=14),
                                    created_by="bench", now=NOW, bot_username="BenchBot")
        codes.append(issued.code)
    return codes


# --- the dialog through Telegram ----------------------------------------------------------------------------


@dataclass
class Chair:
    user_id: int
    step: int = 0  # the next of the STEPS_PER_CHAIR updates to send
    broken: str | None = None  # why it stopped following the script


class Script:
    """Builds each chair's next update from what the bot last showed that chair."""

    def __init__(self, api: LocalBotAPI, ids: UpdateIds) -> None:
        self.api, self.ids = api, ids
        self.off_script: list[str] = []

    def _stop(self, chair: Chair, why: str) -> None:
        chair.broken = why
        self.off_script.append(f"chair {chair.user_id} step {chair.step}: {why}")

    def next_update(self, chair: Chair) -> dict[str, Any] | None:
        if chair.broken or chair.step >= STEPS_PER_CHAIR:
            return None
        uid, s = chair.user_id, chair.step
        shown = self.api.last_text.get(uid, "")
        if s > 0 and s <= QUESTIONS and f"{s}/{QUESTIONS}" not in shown:
            self._stop(chair, f"expected question {s}/{QUESTIONS}, saw {shown[:80]!r}")
            return None
        chair.step += 1
        if s == 0:
            return text_update(self.ids, uid, "/baocao")
        if s <= QUESTIONS:
            _name, how, value = ANSWERS[s - 1]
            if how == "text":
                return text_update(self.ids, uid, value)
            action = value
        else:
            action = "submit"
        data = callback_for(self.api.last_markup.get(uid), action)
        if data is None:
            chair.step -= 1
            self._stop(chair, f"no {action!r} button in the last message")
            return None
        return button_update(self.ids, uid, data, self.api.last_message_id[uid])


async def build_dialog_app(env: Env, api: LocalBotAPI, *, rate_limited: bool) -> Application:
    deps = TelegramDeps(Port(env.conversation, env.config), env.config)
    app = build_application(env.config, deps=deps, request=api,
                            updates_request=LocalBotAPI())
    if not rate_limited:
        app.bot._rate_limiter = None  # see the module docstring
    await app.initialize()
    return app


async def register(app: Application, api: LocalBotAPI, ids: UpdateIds, chairs: list[Chair], codes: list[str],
                   concurrency: int) -> Run:
    run = Run("register")
    pairs = list(zip(chairs, codes, strict=True))
    await run_batches(run, pairs, lambda p: text_update(ids, p[0].user_id, f"/start {p[1]}"), app, concurrency)
    return run


async def drive_dialog(app: Application, script: Script, chairs: list[Chair], concurrency: int,
                       name: str = "dialog") -> Run:
    run = Run(name)
    for _ in range(STEPS_PER_CHAIR):  # round-robin: every chair's step k before anyone's step k+1
        await run_batches(run, chairs, script.next_update, app, concurrency)
    return run


async def submissions_of(env: Env, prefix: str) -> int:
    return int(await env.conversation.db.fetchval(
        "SELECT count(*) FROM submissions s JOIN units u ON u.id = s.unit_id WHERE u.code LIKE ?", (f"{prefix}-%",)))


# --- the floor: a bare echo bot ------------------------------------------------------------------------------


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text is not None:
        await context.bot.send_message(message.chat_id, message.text)


async def floor_run(n_updates: int, n_users: int, concurrency: int) -> tuple[Run, LocalBotAPI]:
    api = LocalBotAPI()
    app = (ApplicationBuilder().token(TOKEN).request(api).get_updates_request(LocalBotAPI()).build())
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, echo))
    await app.initialize()
    ids = UpdateIds()
    texts = [value for _n, how, value in ANSWERS if how == "text"]
    warm = Run("warm-up")
    await run_batches(warm, list(range(min(200, n_updates))),
                      lambda i: text_update(ids, USER_BASE + i % n_users, texts[i % len(texts)]), app, concurrency)
    run = Run("floor")
    await run_batches(run, list(range(n_updates)),
                      lambda i: text_update(ids, USER_BASE + i % n_users, texts[i % len(texts)]), app, concurrency)
    await app.shutdown()
    return run, api


# --- open drafts ---------------------------------------------------------------------------------------------


def sender(user_id: int) -> Sender:
    return Sender(Channel.TELEGRAM, str(user_id), str(user_id), f"Chủ tịch {user_id % 100_000}", None, "vi")


async def answer_directly(conv: Conversation, who: Sender, response: Response, index: int) -> Response:
    """Answer question `index` (0-based) through the Conversation, as the Telegram adapter would."""
    _name, how, value = ANSWERS[index]
    if how == "text":
        return await conv.handle(who, TextInput(value))
    return await conv.handle(who, Press(response.version, value))


async def open_drafts(env: Env, n: int, mode: str) -> dict[str, Any]:
    """n people, each with a draft open at question 7. mode "drive": every one registers and answers
    through the Conversation; mode "engine": one template person does, and the others get the state
    the engine produced for it (their own unit in it) through storage.drafts.state_save."""
    if n <= 0:
        return {"built_s": 0.0, "at_q7": 0, "state_bytes": 0}
    conv, db = env.conversation, env.conversation.db
    answered = 6
    units = await add_units(env, "DRAFT", n)
    t0 = time.perf_counter()
    if mode == "drive":
        codes = await invite_codes(env, units)
        for i, code in enumerate(codes):
            who = sender(DRAFT_USER_BASE + i)
            await conv.handle(who, Command("start", code))
            response = await conv.handle(who, Command("baocao"))
            for q in range(answered):
                response = await answer_directly(conv, who, response, q)
    else:
        template = sender(DRAFT_USER_BASE)
        code = (await invite_codes(env, units[:1]))[0]
        await conv.handle(template, Command("start", code))
        response = await conv.handle(template, Command("baocao"))
        for q in range(answered):
            response = await answer_directly(conv, template, response, q)
        person = await people_store.person_by_identity(db, Channel.TELEGRAM, str(DRAFT_USER_BASE))
        assert person is not None
        draft = await draft_store.load(db, person.id)
        assert draft is not None
        assert draft.step == answered + 1, draft
        people: list[tuple[int, Unit]] = []
        for i, unit in enumerate(units[1:], start=1):  # storage calls, one person at a time
            code = new_code()
            await people_store.create_invite(db, code_hash=hash_code(code), unit_id=unit.id, role=Role.CHAIR,
                                             created_by="bench", now=NOW, expires_at=NOW + timedelta(days=14))
            ident = people_store.Identity(Channel.TELEGRAM, str(DRAFT_USER_BASE + i), str(DRAFT_USER_BASE + i),
                                          f"Chủ tịch {i}")
            p, _view = await people_store.redeem_invite(db, code_hash=hash_code(code), identity=ident, locale="vi",
                                                        now=NOW)
            people.append((p.id, unit))
        for start in range(0, len(people), 500):
            async with db.transaction() as tx:
                for person_id, unit in people[start:start + 500]:
                    state = dict(draft.state)
                    state["form"] = {**draft.state["form"], "unit_id": unit.id, "unit_kind": unit.kind.value}
                    await tx.apply(draft_store.state_save(
                        person_id=person_id, expected_version=0, state=state, unit_id=unit.id,
                        period_id=draft.period_id, step=draft.step, steps_total=draft.steps_total, now=NOW))
    build_s = time.perf_counter() - t0
    progress = await draft_store.open_for(db, env.period_id)  # what a reminder run reads
    at_q7 = sum(1 for p in progress if p.step == answered + 1 and p.unit_id in {u.id for u in units})
    sample = await db.fetchone("SELECT length(state) AS n FROM drafts ORDER BY person_id DESC LIMIT 1")
    return {"built_s": build_s, "at_q7": at_q7, "state_bytes": int(sample["n"]) if sample else 0}


async def resume_sample(env: Env, n: int, count: int) -> Run:
    """`count` of the drafted people answer question 7 through the Conversation (no Telegram)."""
    run = Run("resume")
    conv = env.conversation
    step = max(n // max(count, 1), 1)
    start = time.perf_counter()
    for i in range(0, n, step)[:count]:
        who = sender(DRAFT_USER_BASE + i)
        t0 = time.perf_counter()
        await conv.handle(who, TextInput(ANSWERS[6][2]))
        run.latencies.append(time.perf_counter() - t0)
    run.wall = time.perf_counter() - start
    return run


# --- main ------------------------------------------------------------------------------------------------------


def line(label: str, value: str) -> str:
    return f"  {label:<44} {value}"


def keep_figures(args: argparse.Namespace, dialect: str, figures: dict[str, float]) -> None:
    """For --both: this run's figures, under its backend."""
    if getattr(args, "figures", None) is not None:
        args.figures[dialect] = figures


async def main(args: argparse.Namespace) -> int:
    if args.watchdog:  # a run that hangs (or just takes too long) prints every thread's stack and exits
        faulthandler.dump_traceback_later(args.watchdog, exit=True)
    errors = ErrorCounter()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().addHandler(errors)
    out: list[str] = []
    conc = max(args.concurrency, 1)
    with tempfile.TemporaryDirectory(prefix="bench-dialog-") as tmpdir:
        tmp = Path(tmpdir)
        t_setup = time.perf_counter()
        env = await setup(tmp, args.database_url)
        db = env.conversation.db
        if db.dialect == "sqlite":  # shipped: NORMAL, the submit FULL; FULL everywhere for comparison
            await db.set_synchronous(args.synchronous)
        try:
            n, k = args.chairs, args.shipped_chairs
            units = await add_units(env, "BENCH", n + k)
            codes = await invite_codes(env, units)
            t_setup = time.perf_counter() - t_setup
            print(f"setup: {n + k} units and invites in {t_setup:.1f} s; database {env.config.db_display}", flush=True)

            handle_timer = HandleTimer(env.conversation)
            api, ids = LocalBotAPI(), UpdateIds()
            app = await build_dialog_app(env, api, rate_limited=False)
            chairs = [Chair(USER_BASE + i) for i in range(n)]
            reg = await register(app, api, ids, chairs, codes[:n], conc)
            registered = int(await db.fetchval("SELECT count(*) FROM memberships m JOIN units u ON u.id = m.unit_id "
                                               "WHERE u.code LIKE 'BENCH-%' AND m.role = 'chair'"))
            print(f"registered {registered}/{n} chairs ({reg.rate:.0f}/s)", flush=True)

            script = Script(api, ids)
            calls_before = Counter(api.calls)
            handle_timer.reset()
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            dialog = await drive_dialog(app, script, chairs, conc)
            if profiler:
                profiler.disable()
            calls = api.calls - calls_before
            handle_s, handle_calls = handle_timer.seconds, handle_timer.calls
            submitted = await submissions_of(env, "BENCH")
            await app.shutdown()
            print(f"dialog: {dialog.count} steps in {dialog.wall:.1f} s", flush=True)
            keep_figures(args, db.dialect, {"dialog steps/s": dialog.rate, "registrations/s": reg.rate})

            floor, _floor_api = await floor_run(dialog.count, n, conc)
            print(f"floor: {floor.count} updates in {floor.wall:.1f} s", flush=True)

            shipped = Run("shipped")
            shipped_ok = 0
            if k:
                api2 = LocalBotAPI()
                app2 = await build_dialog_app(env, api2, rate_limited=True)
                chairs2 = [Chair(USER_BASE + n + i) for i in range(k)]
                await register(app2, api2, ids, chairs2, codes[n:], 1)
                shipped = await drive_dialog(app2, Script(api2, ids), chairs2, conc, "shipped")
                await app2.shutdown()
                shipped_ok = await submissions_of(env, "BENCH") - submitted
                print(f"shipped (with AIORateLimiter): {shipped.count} steps in {shipped.wall:.1f} s", flush=True)

            # open drafts
            gc.collect()
            rss_before = rss_mb()
            traced_peak = float("nan")
            if args.tracemalloc:
                tracemalloc.start()
            drafts = await open_drafts(env, args.drafts, args.drafts_mode)
            if args.tracemalloc:
                _cur, traced_peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            rss_after = rss_mb()
            db_mb, wal_mb = file_mb(env.config.db_path), file_mb(Path(f"{env.config.db_path}-wal"))
            print(f"drafts: {drafts['at_q7']}/{args.drafts} open at question 7 in {drafts['built_s']:.1f} s "
                  f"(mode {args.drafts_mode}"
                  f"{', tracemalloc on' if args.tracemalloc else ''})", flush=True)
            await checkpoint(db)
            db_checkpointed_mb = file_mb(env.config.db_path)
            resume = await resume_sample(env, args.drafts, args.resume_sample) if args.resume_sample else Run("resume")
        finally:  # also on an error: an open connection's thread would keep the process alive
            await db.close()

    # Cost per update = wall time / updates, so the ratio holds at any --concurrency (at 1 it is
    # the ratio of mean latencies, give or take the untimed building of updates).
    ratio = floor.rate / dialog.rate if dialog.rate else float("nan")
    handle_ms = handle_s / handle_calls * 1000 if handle_calls else float("nan")
    out += [
        "",
        f"== bench.dialog — {os.cpu_count()} cores, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.machine()}",
        f"   chairs {n}, form {QUESTIONS} questions, {STEPS_PER_CHAIR} updates per chair "
        f"(/baocao, {QUESTIONS} answers, send), concurrency {conc}, "
        + (f"synchronous {args.synchronous}" if not args.database_url else "PostgreSQL (psycopg 3 pool)"),
        "dialog through python-telegram-bot (build_application, rate limiter off)",
        line("steps (updates processed)", f"{dialog.count}"),
        line("wall time", f"{dialog.wall:.2f} s"),
        line("steps/s", f"{dialog.rate:,.0f}"),
        line("step latency p50 / p95 / p99 / mean", f"{dialog.pct_ms(50):.2f} / {dialog.pct_ms(95):.2f} / "
                                                     f"{dialog.pct_ms(99):.2f} / {dialog.mean_ms:.2f} ms"),
        line("p50 typed-text steps / button steps", f"{dialog.pct_ms(50, 'text'):.2f} / "
                                                    f"{dialog.pct_ms(50, 'button'):.2f} ms "
                                                    f"({len(dialog.by_kind.get('text', []))} / "
                                                    f"{len(dialog.by_kind.get('button', []))})"),
        line("of a step: Conversation.handle / the rest", f"{handle_ms:.2f} / {dialog.mean_ms - handle_ms:.2f} ms "
                                                          f"(mean; {handle_ms / dialog.mean_ms:.0%} in handle)"),
        line("submissions stored", f"{submitted} of {n} {'OK' if submitted == n else 'MISMATCH'}"),
        line("chairs off script", f"{len(script.off_script)}"),
        line("Bot API calls during the dialog", ", ".join(f"{m} {c}" for m, c in sorted(calls.items()))),
        line("registration (/start <code>) p50 / rate", f"{reg.pct_ms(50):.2f} ms / {reg.rate:,.0f} per s"),
        "floor: bare Application, echo via send_message, same fake Bot API",
        line("updates", f"{floor.count}"),
        line("updates/s", f"{floor.rate:,.0f}"),
        line("latency p50 / p95 / p99 / mean", f"{floor.pct_ms(50):.2f} / {floor.pct_ms(95):.2f} / "
                                               f"{floor.pct_ms(99):.2f} / {floor.mean_ms:.2f} ms"),
        line("dialog step cost / floor (wall per update)", f"{ratio:.1f}x   (target <= 3x)"),
        line("same, in process CPU per update", f"{dialog.cpu_ms:.2f} / {floor.cpu_ms:.2f} ms = "
                                                f"{dialog.cpu_ms / floor.cpu_ms:.1f}x"),
        line("steps/s vs a third of the floor", f"{dialog.rate:,.0f} vs {floor.rate / 3:,.0f}   "
                                                "(the issue estimated 1,500 for a 4,500/s floor)"),
    ]
    if k:
        out += [
            "shipped: build_application as is, AIORateLimiter in place",
            line("steps / wall / steps/s", f"{shipped.count} / {shipped.wall:.2f} s / {shipped.rate:,.0f}"),
            line("step latency p50 / p95", f"{shipped.pct_ms(50):.2f} / {shipped.pct_ms(95):.2f} ms"),
            line("submissions stored", f"{shipped_ok} of {k}"),
        ]
    out += [
        f"open drafts ({args.drafts_mode} mode)",
        line("drafts open at question 7", f"{drafts['at_q7']} of {args.drafts}"),
        line("draft state size (one row)", f"{drafts['state_bytes']:,} bytes"),
        line("RSS before / after the phase", f"{rss_before:.1f} / {rss_after:.1f} MB"),
        line("ru_maxrss (peak of the whole run)", f"{max_rss_mb():.1f} MB   (target < 150 MB)"),
        line("tracemalloc peak during the phase", f"{traced_peak / 2**20:.1f} MB" if args.tracemalloc
             else "not measured (--no-tracemalloc)"),
        line("database file / WAL; file after checkpoint",
             f"{db_mb:.1f} / {wal_mb:.1f} MB; {db_checkpointed_mb:.1f} MB"),
    ]
    if resume.latencies:
        out.append(line(f"answer q7 with {args.drafts} drafts stored: p50/p95",
                        f"{resume.pct_ms(50):.2f} / {resume.pct_ms(95):.2f} ms ({resume.count} people)"))
    out.append(line("errors logged by handlers", f"{errors.count}" + (f" (first: {errors.first})"
                                                                      if errors.first else "")))
    print("\n".join(out))
    if script.off_script:
        print("off script (first 5):", *script.off_script[:5], sep="\n  ")
    if profiler:
        profiler.dump_stats(args.profile)
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        print(f"\ncProfile of the dialog phase saved to {args.profile}; top 25 by cumulative time:")
        stats.print_stats(25)
    return 0 if submitted == n and not script.off_script else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.dialog", description=__doc__.split("\n\n")[0])
    p.add_argument("--chairs", type=int, default=200, help="chairs driven through the whole form (default 200)")
    p.add_argument("--drafts", type=int, default=5000, help="people with a draft open at question 7 (default 5000)")
    p.add_argument("--drafts-mode", choices=("engine", "drive"), default="engine",
                   help="engine: one person driven, the state copied via storage.drafts.state_save (default); "
                        "drive: every person registers and answers 6 questions via the Conversation (slow)")
    p.add_argument("--tracemalloc", action=argparse.BooleanOptionalAction, default=True,
                   help="trace Python allocations during the drafts phase (default on; its own bookkeeping "
                        "adds to the RSS, --no-tracemalloc gives the RSS without it)")
    p.add_argument("--resume-sample", type=int, default=500,
                   help="drafted people who then answer question 7 via the Conversation (default 500; 0: skip)")
    p.add_argument("--shipped-chairs", type=int, default=6,
                   help="chairs driven with the shipped AIORateLimiter in place (default 6; 0: skip)")
    p.add_argument("--concurrency", type=int, default=1,
                   help="updates processed at once, for different people (default 1: one after another)")
    p.add_argument("--watchdog", type=int, default=600, metavar="SECONDS",
                   help="stop the whole run after this long, printing every thread's stack (default 600; 0: never)")
    p.add_argument("--synchronous", choices=("FULL", "NORMAL"), default="NORMAL",
                   help="SQLite durability of ordinary commits: NORMAL (shipped: a draft step syncs at checkpoints; "
                        "the commit before a receipt is always synced) or FULL (every step synced), to compare")
    p.add_argument("--database-url", default="", metavar="URL",
                   help="run on this empty database instead of a SQLite file, e.g. "
                        "postgresql://bot@127.0.0.1:5432/bench (password from BOT_DB_PASSWORD)")
    p.add_argument("--both", action="store_true",
                   help="run on SQLite, then on PostgreSQL (--database-url, else a throwaway local server), and print "
                        "steps/s of each and their ratio")
    p.add_argument("--profile", metavar="FILE", help="cProfile the dialog phase, save to FILE and print the top")
    return p.parse_args(argv)


def cli(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.both:
        return asyncio.run(main(args))
    from bench.both import comparison, postgres_url

    figures: dict[str, dict[str, float]] = {}
    print("== on SQLite", flush=True)
    code = asyncio.run(main(argparse.Namespace(**{**vars(args), "database_url": "", "figures": figures})))
    with postgres_url(args.database_url) as url:
        print("\n== on PostgreSQL", flush=True)
        code |= asyncio.run(main(argparse.Namespace(**{**vars(args), "database_url": url, "figures": figures})))
    print(comparison(figures))
    return code


if __name__ == "__main__":
    raise SystemExit(cli())
