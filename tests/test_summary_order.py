"""The rows a summary is computed from come out of the database read in the order every summary lists them,
so that the passes over ten thousand rows read memory in order (bench/summary.py: 2x the units cost 2.5x the
time when the rows were made in the order of a set of ids)."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.app import prepare
from bot.config import Config
from bot.demo import fill_demo
from bot.summary.service import unit_rows
from storage import campaigns as campaign_store
from tests.conftest import VN
from tests.fakes import FakeClock

CAMPAIGN = "daklak-95-nam-cdvn-2024"


@pytest.fixture
async def demo_db(config: Config, clock: FakeClock):
    prepared = await prepare(config, clock.now())
    await fill_demo(prepared.db, datetime(2024, 12, 31, tzinfo=VN), config.locales_dir)
    try:
        yield prepared.db
    finally:
        await prepared.db.close()


async def test_unit_rows_are_made_in_the_order_summaries_list_them(demo_db) -> None:
    campaign = await campaign_store.campaign(demo_db, CAMPAIGN)
    assert campaign is not None
    period = {p.key: p for p in await campaign_store.periods_of(demo_db, CAMPAIGN)}["dot-1"]
    for answers in (True, False):
        rows = await unit_rows(demo_db, campaign, period.id, None, answers=answers)
        assert len(rows) == 39
        assert [(r.upper_code, r.code) for r in rows] == sorted((r.upper_code, r.code) for r in rows)
