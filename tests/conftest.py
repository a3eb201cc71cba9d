from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config, load_config
from storage.db import Database
from storage.migrations import migrate
from tests import pg_cluster
from tests.fakes import FakeClock
from tests.pg_cluster import PostgresForTests

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
    config.addinivalue_line("markers", "sqlite_only(why): a db test that needs SQLite itself; not run on PostgreSQL")
    config.addinivalue_line("markers", "both_backends: the test's `world` runs on SQLite and on PostgreSQL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests run unless the run asks otherwise, and then each skip says why (`-rs` prints it). A test
    marked sqlite_only is not run on PostgreSQL at all (it is not a skip: there is nothing to run there)."""
    def on_postgresql(item: pytest.Item) -> bool:
        params = getattr(getattr(item, "callspec", None), "params", {})
        return "postgresql" in (params.get("backend"), params.get("world_backend"))

    sqlite_only = [i for i in items if i.get_closest_marker("sqlite_only") is not None and on_postgresql(i)]
    if sqlite_only:
        config.hook.pytest_deselected(items=sqlite_only)
        items[:] = [i for i in items if i not in sqlite_only]
    if not config.getoption(SKIP_SLOW):
        return
    skip = pytest.mark.skip(reason=f"marked slow and the run was started with {SKIP_SLOW}")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)


@pytest.fixture
def repo() -> Path:
    return REPO


def write_test_config(folder: Path, db_name: str = "test.sqlite3", more: str = "") -> Path:
    """A config.toml in `folder` whose data lives there and whose campaigns, locales and sample organisation are
    the repository's own; `more` adds sections."""
    path = folder / "config.toml"
    path.write_text(
        f"""
[app]
data_dir = "data"
campaigns_dir = "{(REPO / "campaigns").as_posix()}"
locales_dir = "{(REPO / "locales").as_posix()}"
sample_units = "{(REPO / "bot/data/sample_units.csv").as_posix()}"

[storage]
path = "data/{db_name}"
{more}""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_test_config(tmp_path)


@pytest.fixture
def config(config_path: Path) -> Config:
    return load_config(config_path, environ={})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2024, 8, 2, 8, 0, tzinfo=VN))


# --- the storage contract runs on both backends ------------------------------------------------------------
# Every test that takes the `db` (or `fresh_db`) fixture runs on SQLite and on PostgreSQL; a test that needs
# SQLite itself (a PRAGMA, the backup API, the one aiosqlite connection) says so with
# @pytest.mark.sqlite_only("why") and runs once.
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresForTests | str]:
    """The session's PostgreSQL server with a migrated template database, or why there is none."""
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(pg_cluster.server())
        except pg_cluster.PostgresUnavailableError as exc:
            yield str(exc)
            return
        server = PostgresForTests(url)
        try:
            yield server
        finally:
            server.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _open(backend: str, tmp_path: Path, postgres: Callable[[], PostgresForTests | str], *, migrated: bool
                ) -> AsyncIterator[Database]:
    if backend == "sqlite":
        database = await Database.open(tmp_path / "db.sqlite3")
        if migrated:
            await migrate(database)
        try:
            yield database
        finally:
            await database.close()
        return
    async with _require(postgres()).database(migrated=migrated) as database:
        yield database


def _require(postgres: PostgresForTests | str) -> PostgresForTests:
    """The server, or a skip that says why there is none (a failure under CI=true: CI must run this half)."""
    if isinstance(postgres, str):
        reason = f"PostgreSQL half of the storage suite: {postgres}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: CI must run it)")
        pytest.skip(reason)
    return postgres


def _server(request: pytest.FixtureRequest) -> Callable[[], PostgresForTests | str]:
    """The session's server, started on first use: a run of SQLite tests alone never starts one."""
    return lambda: request.getfixturevalue("postgres")


@pytest.fixture
async def db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A migrated database of the backend under test (a fresh PostgreSQL database per test)."""
    async for database in _open(backend, tmp_path, _server(request), migrated=True):
        yield database


@pytest.fixture
async def fresh_db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """An empty database of the backend under test: no migration applied yet."""
    async for database in _open(backend, tmp_path, _server(request), migrated=False):
        yield database


@pytest.fixture
def campaigns_copy(tmp_path: Path) -> Path:
    """A private copy of the campaign folder that a test may break."""
    target = tmp_path / "campaigns"
    shutil.copytree(REPO / "campaigns", target)
    return target


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A module or test marked both_backends runs its `world` on SQLite and on PostgreSQL."""
    if "world_backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("world_backend", BACKENDS, indirect=True)


@pytest.fixture
def world_backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
async def world(config: Config, clock: FakeClock, world_backend: str, request: pytest.FixtureRequest
                ) -> AsyncIterator[World]:
    """The prepared sample organisation and a Conversation with the reminder planner behind "remind now", for the
    dialog tests (their helpers are in tests/test_conversation.py); on PostgreSQL for a test marked
    both_backends."""
    if world_backend == "sqlite":
        async for made in _world(config, clock):
            yield made
        return
    async with _require(request.getfixturevalue("postgres")).empty_database_url() as url:
        on_server = config.model_copy(update={"storage": config.storage.model_copy(update={"url": url})})
        async for made in _world(on_server, clock):
            yield made


async def _world(config: Config, clock: FakeClock) -> AsyncIterator[World]:
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
