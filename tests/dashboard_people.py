"""People for the dashboard's tests: the sample organisation, an officer of one district, the department, a chair,
each with a Telegram identity (external id = their Telegram user id)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from bot.dashboard.init_data import sign
from bot.domain import Channel, Role
from storage import people
from storage import units as unit_store
from storage.db import Database
from tests.fakes import FakeClock
from tests.telegram_fakes import FAKE_TOKEN
from tests.test_invites import load_sample

OFFICER_TG, DEPARTMENT_TG, CHAIR_TG, STRANGER_TG = 5001, 5002, 5003, 5999
OTHER_BOT_TOKEN = "654321:OTHER-BOT-not-real"  # a forged initData is one signed with another bot's token


def signed_init_data(user_id: int, auth: datetime, token: str = FAKE_TOKEN) -> str:
    """initData as Telegram's client hands it to a Mini App: the fields URL-encoded and `hash` signed with `token`
    (tests/test_dashboard_init_data.py checks the signing against Telegram's published algorithm)."""
    fields = {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "auth_date": str(int(auth.timestamp())),
              "user": json.dumps({"id": user_id, "first_name": "Hoa", "last_name": "Nguyễn", "language_code": "vi"},
                                 ensure_ascii=False, separators=(",", ":"))}
    return urlencode({**fields, "hash": sign(fields, token)})


@dataclass(frozen=True, slots=True)
class DashboardPeople:
    officer: int
    department: int
    chair: int


async def seed_people(db: Database, repo: Path, clock: FakeClock) -> DashboardPeople:
    await load_sample(db, repo, clock)
    units = {u.code: u for u in await unit_store.all_units(db)}
    grassroots = next(u for u in units.values() if u.parent_code == "DL-BMT")

    async def member(tg: int, name: str, code: str, role: Role, locale: str = "vi") -> int:
        unit = units.get(code, grassroots)
        return await people.ensure_local_member(db, channel=Channel.TELEGRAM, external_id=str(tg), display_name=name,
                                                unit=unit, role=role, locale=locale, now=clock.now())

    return DashboardPeople(
        officer=await member(OFFICER_TG, "Cán bộ BMT", "DL-BMT", Role.OFFICER),
        department=await member(DEPARTMENT_TG, "Ban TG-NC", "DL", Role.DEPARTMENT, "en"),
        chair=await member(CHAIR_TG, "Chủ tịch CĐCS", grassroots.code, Role.CHAIR),
    )
