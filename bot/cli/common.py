"""What every command needs: the configuration, a translator, the clock, clean failures."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from bot.app import open_database
from bot.clock import Clock, SystemClock
from bot.config import Config, ConfigError, load_config
from bot.i18n import Translator
from bot.i18n import translator as default_translator
from storage.db import Database
from storage.migrations import migrate

T = TypeVar("T")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class State:
    """Options of the top-level command, shared with the subcommands."""

    config_path: Path | None = None
    clock: Clock = SystemClock()


state = State()


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(message, markup=False)
    raise typer.Exit(code)


def config() -> Config:
    try:
        return load_config(state.config_path)
    except ConfigError as exc:
        t = default_translator()  # no configuration, so no language from it: the default one
        fail(t("Configuration error:") + "\n" + exc.render(t), 2)


def translator(cfg: Config) -> Translator:
    return Translator(cfg.app.language, cfg.locales_dir)


def os_user() -> str | None:
    """The name of whoever runs the command, or None where there is none (some containers)."""
    try:
        return getpass.getuser() or None
    except Exception:  # noqa: BLE001 - getpass raises OSError, KeyError... when no name is set
        return None


def actor() -> str:
    """Who the audit log names for a command: cli:<OS user>, or plain cli."""
    user = os_user()
    return f"cli:{user}" if user else "cli"


@asynccontextmanager
async def migrated_database(cfg: Config) -> AsyncIterator[Database]:
    """The database, brought up to date first (a command may be the first thing run on a new machine)."""
    db = await open_database(cfg)
    try:
        await migrate(db)
        yield db
    finally:
        await db.close()


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def parse_instant(text: str) -> datetime:
    """--at: an ISO-8601 instant with its zone, or a clear refusal."""
    t = translator(config())
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        fail(t("--at {value}: expected an ISO-8601 instant such as 2024-08-02T08:00:00+07:00", value=text))
    if at.tzinfo is None:
        fail(t("--at {value}: give the zone too, e.g. 2024-08-02T08:00:00+07:00", value=text))
    return at
