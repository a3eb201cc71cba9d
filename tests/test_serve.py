"""The process wiring: channels opened and closed around one database, and the reminder clock."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_conversation
from bot.clock import FixedClock
from bot.config import Config, ZaloConfig
from bot.dialog.model import Reply
from bot.domain import Channel, Role
from bot.i18n import Translator, translator
from handlers.serve import Running, close, make_sender, open_running, serve, tick
from handlers.zalo.adapter import FileLinks
from handlers.zalo.server import LINK_REFUSED, ZaloSettings, build_web_app
from storage import people as people_store
from storage import units as unit_store
from tests.conftest import VN
from tests.fakes import FakeClock


class Recording:
    name = "telegram"

    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []

    async def send(self, chat_id: str, replies: Sequence[Reply], *, version: int | None = None,
                   locale: str | None = None) -> None:
        self.sent.extend((chat_id, reply) for reply in replies)

    async def send_file(self, chat_id: str, reply: Reply, *, locale: str | None = None) -> None:
        self.sent.append((chat_id, reply))

    async def remove_choices(self, chat_id: str, message_id: str) -> None:
        """Nothing shown with choices here."""


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


async def test_each_channel_is_paced_by_its_own_rate(config: Config, clock: FakeClock) -> None:
    """Zalo at 5/s does not slow Telegram at 29/s: the sender interleaves them, each on its own schedule."""
    from scheduler.sender import OutboxSender
    from storage import outbox
    from storage.outbox import OutboxItem

    running: Running = await open_running(config, clock)
    try:
        now = clock.now()
        items = [OutboxItem(f"k:{ch}:{i}", "manual", None, None, None, ch, f"{ch}-{i}", now, {"text": "x"})
                 for ch in ("telegram", "zalo") for i in range(10)]
        await outbox.add(running.db, items, now)
        fake_time = [0.0]
        sent: list[tuple[str, float]] = []

        class Fake:
            def __init__(self, name: str) -> None:
                self.name = name

            async def send(self, chat_id: str, replies: Sequence[Reply], *, version: int | None = None,
                           locale: str | None = None) -> None:
                sent.append((self.name, fake_time[0]))

        async def sleep(seconds: float) -> None:
            fake_time[0] += seconds

        sender = OutboxSender(running.db, {"telegram": Fake("telegram"), "zalo": Fake("zalo")}, clock,
                              per_second={"telegram": 29.0, "zalo": 5.0}, monotonic=lambda: fake_time[0], sleep=sleep)
        stats = await sender.drain()
        assert stats.sent == 20
        zalo_times = [at for name, at in sent if name == "zalo"]
        telegram_times = [at for name, at in sent if name == "telegram"]
        assert all(b - a >= 0.2 - 1e-9 for a, b in itertools.pairwise(zalo_times))
        assert max(telegram_times) < 1.0  # ten Telegram messages are done long before the Zalo ones
        assert max(zalo_times) >= 1.8 - 1e-9  # nine gaps of 0.2 s
    finally:
        await close(running)


async def test_the_bot_and_the_terminal_build_the_same_conversation(config: Config, clock: FakeClock) -> None:
    """serve() and `python -m bot shell` both get their dialog from bot.app.build_conversation."""
    running: Running = await open_running(config, clock)
    try:
        conversation = running.conversation
        assert conversation.reminders is running.planner
        assert running.planner.db is running.db is conversation.db
        assert conversation.clock is clock
        assert conversation.files_dir == config.data_dir / "summaries"
        assert conversation.campaigns_dir == config.campaigns_dir
        fixed = FixedClock(datetime(2024, 8, 3, 9, 0, tzinfo=VN))
        other = build_conversation(config, running.db, fixed)
        assert other.clock is fixed
        assert other.clock.now() == fixed.at
        assert other.reminders is not None
        assert other.reminders.locales_dir == config.locales_dir
        # The planner's translators are the shared, cached ones.
        assert other.reminders.t("vi") is running.planner.t("vi") is translator("vi", config.locales_dir)
    finally:
        await close(running)


async def test_a_failing_shutdown_step_is_logged_and_the_others_still_run(
    config: Config, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    running: Running = await open_running(config, clock)
    ran: list[str] = []

    async def first() -> None:
        ran.append("first")

    async def broken() -> None:
        raise RuntimeError("the network is gone")

    running.closers += [first, broken]
    with caplog.at_level(logging.ERROR, logger="handlers.serve"):
        await close(running)
    assert ran == ["first"]  # run after the broken one (closers go in reverse)
    [record] = [r for r in caplog.records if r.name == "handlers.serve"]
    assert "broken" in record.getMessage()
    assert record.exc_info is not None
    assert "the network is gone" in str(record.exc_info[1])


def test_zalo_settings_come_from_the_config_section_checked_once_there() -> None:
    zalo = ZaloConfig(enabled=True, mode="webhook", webhook_url="https://bot.example.vn/zalo/hook", port=9000,
                      public_base_url="https://bot.example.vn", link_lifetime_hours=6, token="z-token",
                      webhook_secret="s3cret-s3cret", messages_per_second=2)
    settings = ZaloSettings.from_config(zalo, port=0, poll_timeout=1)
    assert (settings.token, settings.secret, settings.mode) == ("z-token", "s3cret-s3cret", "webhook")
    assert (settings.port, settings.poll_timeout, settings.listen) == (0, 1, "127.0.0.1")
    assert settings.link_lifetime == timedelta(hours=6)
    assert settings.messages_per_second == 2
    assert settings.webhook_path == "/zalo/hook"
    # The same rules as the section's, from the same place.
    with pytest.raises(ValueError, match="ZALO_WEBHOOK_SECRET of 8 to 256 characters"):
        ZaloSettings.from_config(zalo, secret="short")
    with pytest.raises(ValueError, match="ZALO_BOT_TOKEN"):
        ZaloSettings.from_config(ZaloConfig())  # not enabled, so no token


@pytest.mark.parametrize("language", ["vi", "en"])
async def test_a_refused_file_link_is_explained_in_the_app_language(
    config: Config, clock: FakeClock, tmp_path: Path, language: str
) -> None:
    root = tmp_path / "summaries"
    root.mkdir()
    (root / "a.xlsx").write_bytes(b"PK")
    links = FileLinks(b"k" * 32, "http://127.0.0.1", root, clock, lifetime=timedelta(hours=1))
    url, _ = links.url_for(root / "a.xlsx")
    t = Translator(language, config.locales_dir)
    async with TestClient(TestServer(build_web_app(links=links, t=t))) as http:
        path = url.removeprefix("http://127.0.0.1")
        assert (await http.get(path)).status == 200
        clock.advance(hours=2)
        refused = await http.get(path)
        assert refused.status == 403
        text = await refused.text()
    assert text.startswith(t(LINK_REFUSED))
    assert text.count(LINK_REFUSED) == 1  # English once: below the Vietnamese, or alone
