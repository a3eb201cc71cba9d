"""The process wiring: channels opened and closed around one database, and the reminder clock."""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.config import Config
from bot.dialog.model import Reply
from bot.domain import Channel, Role
from handlers.serve import Running, close, make_sender, open_running, serve, tick
from storage import people as people_store
from storage import units as unit_store
from tests.conftest import VN
from tests.fakes import FakeClock


class Recording:
    name = "telegram"

    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent.append((chat_id, reply))


async def test_serve_with_no_channel_stops_cleanly(config: Config, clock: FakeClock) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(serve(config, clock, stop))
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(task, timeout=10)  # the database is closed and nothing is left running


async def test_one_tick_plans_and_sends_through_the_open_channels(config: Config, clock: FakeClock) -> None:
    running: Running = await open_running(config, clock)
    try:
        unit = await unit_store.by_code(running.db, "DL-BMT-001")
        assert unit is not None
        await people_store.ensure_local_member(running.db, channel=Channel.TELEGRAM, external_id="c1",
                                               display_name="Chủ tịch", unit=unit, role=Role.CHAIR, locale="vi",
                                               now=clock.now(), chat_id="111")
        channel = Recording()
        running.channels["telegram"] = channel
        sender = make_sender(config, running)
        clock.set(datetime(2024, 8, 2, 8, 1, tzinfo=VN))
        result, stats = await tick(running, sender, max_seconds=None)
        assert result.pending >= 1
        assert stats.sent == len(channel.sent) >= 1
        assert all(chat == "111" for chat, _ in channel.sent)
        again, stats2 = await tick(running, sender, max_seconds=None)  # the next minute: nothing twice
        assert (again.pending, stats2.sent) == (0, 0)
    finally:
        await close(running)
