"""Campaigns are bound to the organisation that issued them (`[audience] within`).

The seed plans come from four provinces; the sample organisation is Đắk Lắk and must receive only Đắk Lắk's
campaigns (no Tây Ninh, Lai Châu or Bình Định plan offered, no reminder for them). `campaigns check` warns
about a campaign that would reach every province of a database, or nobody.
"""

from __future__ import annotations

import asyncio
import tomllib
from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from bot.app import prepare
from bot.cli import app
from bot.config import Config
from bot.deadlines import campaigns_for_unit
from bot.domain import Channel, Role, UnitKind
from bot.scope import bind_within
from scheduler.service import ReminderPlanner
from storage import campaigns as campaign_store
from storage import outbox
from storage import people as people_store
from storage import units as unit_store
from tests.conftest import VN
from tests.fakes import FakeClock

PROVINCE_OF = {
    "daklak-95-nam-cdvn-2024": "DL",
    "daklak-chuyen-de-hcm-2024": "DL",
    "duongminhchau-thi-dua-2024": "TN",
    "phongtho-thang-cong-nhan-2024": "LC",
    "binhdinh-cdvc-thang-cong-nhan-2021": "BDI",
}


def test_every_seed_campaign_is_bound_to_its_own_province(repo: Path) -> None:
    files = sorted((repo / "campaigns").glob("*.toml"))
    assert {f.stem for f in files} == set(PROVINCE_OF)
    for f in files:
        data = tomllib.loads(f.read_text(encoding="utf-8"))
        assert data["audience"].get("within") == PROVINCE_OF[f.stem], f.name


async def test_the_sample_organisation_receives_only_the_daklak_campaigns(config: Config, clock: FakeClock) -> None:
    """Regression: Tây Ninh, Lai Châu and Bình Định plans were offered to Đắk Lắk units, with reminders."""
    prepared = await prepare(config, clock.now())
    db = prepared.db
    try:
        daklak = {cid for cid, p in PROVINCE_OF.items() if p == "DL"}
        for unit in await unit_store.all_units(db):
            offered = {c.id for c in await campaigns_for_unit(db, unit)}
            assert offered <= daklak, (unit.code, offered - daklak)
        for unit in await unit_store.all_units(db):  # someone reachable in every unit that reports
            if unit.kind is not UnitKind.PROVINCE:
                role = Role.OFFICER if unit.kind is UnitKind.UPPER else Role.CHAIR
                await people_store.ensure_local_member(
                    db, channel=Channel.TELEGRAM, external_id=f"x-{unit.code}", display_name=unit.code, unit=unit,
                    role=role, locale="vi", now=clock.now())
        planner = ReminderPlanner(db, config.reminders, VN, config.locales_dir)
        moment = datetime(2024, 7, 20, 8, 0, tzinfo=VN)
        while moment < datetime(2024, 9, 1, tzinfo=VN):  # every slot of the summer
            await planner.plan_once(moment)
            moment += timedelta(hours=12)
        rows = await outbox.all_rows(db)
        assert rows
        campaigns = set()
        for r in rows:
            if r.period_id is not None:
                row = await campaign_store.period_by_id(db, r.period_id)
                assert row is not None
                campaigns.add(row.campaign_id)
        assert campaigns <= daklak
        assert "daklak-95-nam-cdvn-2024" in campaigns
    finally:
        await db.close()


def test_bind_within_adds_or_replaces_the_audience_within() -> None:
    toml = 'id = "x"\n\n[audience]\nscope = { kinds = ["grassroots"] }\n\n[contact]\ndepartment = "Ban"\n'
    bound = tomllib.loads(bind_within(toml, "DL"))
    assert bound["audience"] == {"scope": {"kinds": ["grassroots"]}, "within": "DL"}
    assert bound["contact"] == {"department": "Ban"}
    rebound = tomllib.loads(bind_within(bind_within(toml, "LC").replace("LC", "TN"), "DL"))
    assert rebound["audience"]["within"] == "DL"
    assert tomllib.loads(bind_within('id = "x"\n', "DL"))["audience"] == {"within": "DL"}
    assert tomllib.loads(bind_within(toml, 'A"B'))["audience"]["within"] == 'A"B'


def _config(tmp_path: Path, campaigns: Path, repo: Path) -> Path:
    path = tmp_path / "cfg.toml"
    path.write_text(f'[app]\ncampaigns_dir = "{campaigns.as_posix()}"\nlocales_dir = "{(repo / "locales").as_posix()}"\n'
                    f'sample_units = "{(repo / "bot/data/sample_units.csv").as_posix()}"\n'
                    f'language = "en"\n[storage]\npath = "db.sqlite3"\n', encoding="utf-8")
    return path


async def _two_provinces(cfg: Path, now: datetime) -> None:
    from bot.config import load_config

    prepared = await prepare(load_config(cfg, environ={}), now)
    try:
        await unit_store.apply_import(prepared.db, [unit_store.UnitRow("LC", "LĐLĐ tỉnh Lai Châu", UnitKind.PROVINCE,
                                                                       None)], actor="test", now=now)
    finally:
        await prepared.db.close()


def test_campaigns_check_warns_about_a_missing_or_unknown_within(
        tmp_path: Path, repo: Path, campaigns_copy: Path, clock: FakeClock) -> None:
    cfg = _config(tmp_path, campaigns_copy, repo)
    runner = CliRunner()
    # The sample organisation (one root, DL): the other provinces' plans reach nobody here.
    result = runner.invoke(app, ["--config", str(cfg), "campaigns", "check"])
    assert result.exit_code == 0, result.output
    for cid, code in PROVINCE_OF.items():
        warned = f"Warning: {cid} is for the units under {code}" in result.output
        assert warned == (code != "DL"), cid
    assert "has no [audience] within" not in result.output
    # Two provinces in the database, and a campaign without within: it would reach both.
    path = campaigns_copy / "daklak-95-nam-cdvn-2024.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('within = "DL"\n', ""), encoding="utf-8")
    asyncio.run(_two_provinces(cfg, clock.now()))
    result = runner.invoke(app, ["--config", str(cfg), "campaigns", "check"])
    assert result.exit_code == 0, result.output
    assert "Warning: daklak-95-nam-cdvn-2024 has no [audience] within, and the organisation has 2 roots (DL, LC)" \
        in result.output
    assert "Warning: phongtho-thang-cong-nhan-2024" not in result.output  # LC exists now
