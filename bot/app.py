"""Start-up shared by every entry point: open the database, migrate, load campaigns and, on an
empty database, the sample organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.campaigns import CampaignFileError, load_campaign_dir
from bot.clock import Clock
from bot.config import Config
from bot.org_import import UnitsFileError, check_units, read_units_file
from storage import campaigns as campaign_store
from storage import units as unit_store
from storage.connect import open_url
from storage.db import Database
from storage.migrations import migrate

if TYPE_CHECKING:  # the dialog is imported when built: every command line start imports this module
    from bot.conversation import Conversation
    from scheduler.service import ReminderPlanner


@dataclass(frozen=True, slots=True)
class Prepared:
    db: Database
    migrations_applied: list[str]
    sample_units_loaded: int
    campaigns_loaded: list[str]


async def open_database(config: Config) -> Database:
    """The configured database: the SQLite file, or the PostgreSQL server of [storage] url."""
    return await open_url(config.db_url, base_dir=config.base_dir, busy_timeout_ms=config.storage.busy_timeout_ms,
                          pool_size=config.storage.pool_size)


async def prepare(config: Config, now: datetime, *, load_sample: bool = True) -> Prepared:
    """Migrate, load the campaign files, and give an empty organisation the sample units.

    A broken campaign file stops start-up (CampaignFileError) before anything is written, like a
    bad configuration: running with half the plans would silently drop reminders.
    """
    loaded, problems = load_campaign_dir(config.campaigns_dir)
    if problems:
        raise CampaignFileError(problems)
    db = await open_database(config)
    try:
        applied = await migrate(db)
        sample = 0
        if load_sample and await unit_store.count(db) == 0:
            path = config.resolve(config.app.sample_units)
            rows, unit_problems = check_units(read_units_file(path), [])
            if unit_problems:
                raise UnitsFileError(path, unit_problems)
            result = await unit_store.apply_import(db, rows, actor="setup:sample", now=now)
            sample = result.created
        synced = await campaign_store.sync_campaigns(
            db, [(c.campaign, c.sha256, str(c.path.name)) for c in loaded], actor="setup", now=now
        )
    except BaseException:
        await db.close()
        raise
    return Prepared(db, applied, sample, synced.created + synced.updated)


def build_core(config: Config, db: Database, clock: Clock) -> tuple[Conversation, ReminderPlanner]:
    """The dialog as every channel runs it and the reminder planner behind it ("remind them now" goes
    through conversation.reminders; the clock's job drives the same planner), with the folders for summaries
    and plans published in chat."""
    from bot.conversation import Conversation
    from bot.dashboard.access import DashboardAccess
    from scheduler.service import ReminderPlanner

    planner = ReminderPlanner(db, config.reminders, config.app.zone, config.locales_dir, review=config.review)
    conversation = Conversation(db, clock, config.app.zone, config.locales_dir, reminders=planner,
                                files_dir=config.data_dir / "summaries", campaigns_dir=config.campaigns_dir,
                                review=config.review)
    conversation.dashboard = DashboardAccess(db, clock, config)  # /bangtheodoi's links; the web server's sessions
    return conversation, planner


def build_conversation(config: Config, db: Database, clock: Clock) -> Conversation:
    """The dialog alone (the terminal, tests): build_core without keeping the planner apart."""
    return build_core(config, db, clock)[0]
