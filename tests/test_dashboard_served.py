"""The pages as `python -m bot run` serves them (handlers/serve.py's wiring): a department officer signs in with a
single-use link and reads the periods, a period's completeness and the review queue on the bot's one web server."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import httpx

from bot.config import load_config
from bot.domain import Channel, Role
from handlers.serve import close, open_running, start_channels
from storage import people as people_store
from storage import units as unit_store
from tests.fakes import FakeClock


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_signed_in_department_officer_reads_the_pages_on_the_bots_web_server(
        config_path: Path, clock: FakeClock) -> None:
    port = free_port()
    cfg = load_config(config_path, environ={"BOT__WEB__PORT": str(port), "BOT__DASHBOARD__ENABLED": "true"})
    running = await open_running(cfg, clock)
    try:
        await start_channels(cfg, running)
        province = await unit_store.by_code(running.db, "DL")
        assert province is not None
        person = await people_store.ensure_local_member(
            running.db, channel=Channel.TELEGRAM, external_id="dept-1", display_name="Ban Tổ chức", unit=province,
            role=Role.DEPARTMENT, locale="vi", now=clock.now(), chat_id="dept-1")
        assert running.conversation.dashboard is not None
        link = await running.conversation.dashboard.new_link(person)
        token = link.rstrip("/").rsplit("/", 1)[-1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            signed = await http.get(f"/dashboard/login/{token}")
            assert signed.status_code == 200
            assert http.cookies.get("cd_session")
            home = await http.get("/dashboard/home")
            assert home.status_code == 200
            assert 'id="periods"' in home.text
            period = re.search(r'href="/dashboard/p/(\d+)" *class="period"|class="period" href="/dashboard/p/(\d+)"',
                               home.text)
            assert period is not None
            period_id = next(g for g in period.groups() if g)
            page = await http.get(f"/dashboard/p/{period_id}")
            assert page.status_code == 200
            assert 'id="completeness"' in page.text
            assert "Liên đoàn Lao động thành phố Buôn Ma Thuột" in page.text
            queue = await http.get("/dashboard/review")
            assert queue.status_code == 200
            assert 'id="queue"' in queue.text
            assert (await http.get("/dashboard/p/987654")).status_code == 404
    finally:
        await close(running)
