from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config, load_config
from storage.db import Database
from storage.migrations import migrate
from tests.fakes import FakeClock

if TYPE_CHECKING:
    from tests.test_conversation import World

REPO = Path(__file__).resolve().parent.parent
VN = ZoneInfo("Asia/Ho_Chi_Minh")
SKIP_SLOW = "--skip-slow"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(SKIP_SLOW, action="store_true", default=False,
                     help="skip the tests marked slow (they run by default; CI runs them)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a long test (many ticks, fuzzing); skipped only with --skip-slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests run unless the run asks otherwise, and then each skip says why (`-rs` prints it)."""
    if not config.getoption(SKIP_SLOW):
        return
    skip = pytest.mark.skip(reason=f"marked slow and the run was started with {SKIP_SLOW}")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A config.toml in a temp folder whose data lives there and whose campaigns, locales and sample
    organisation are the repository's own."""
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[app]
data_dir = "data"
campaigns_dir = "{(REPO / "campaigns").as_posix()}"
locales_dir = "{(REPO / "locales").as_posix()}"
sample_units = "{(REPO / "bot/data/sample_units.csv").as_posix()}"

[storage]
path = "data/test.sqlite3"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config(config_path: Path) -> Config:
    return load_config(config_path, environ={})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2024, 8, 2, 8, 0, tzinfo=VN))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "db.sqlite3")
    await migrate(database)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def campaigns_copy(tmp_path: Path) -> Path:
    """A private copy of the campaign folder that a test may break."""
    target = tmp_path / "campaigns"
    shutil.copytree(REPO / "campaigns", target)
    return target


@pytest.fixture
async def world(config: Config, clock: FakeClock) -> AsyncIterator[World]:
    """The prepared sample organisation and a Conversation with the reminder planner behind "remind now", for the
    dialog tests (their helpers are in tests/test_conversation.py)."""
    from bot.app import prepare
    from bot.conversation import Conversation
    from scheduler.service import ReminderPlanner
    from tests.test_conversation import World

    prepared = await prepare(config, clock.now())
    planner = ReminderPlanner(prepared.db, config.reminders, VN, config.locales_dir)
    try:
        yield World(
            prepared.db, Conversation(prepared.db, clock, VN, config.locales_dir, reminders=planner), clock, config
        )
    finally:
        await prepared.db.close()
