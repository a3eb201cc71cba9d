"""Starting the bot when a channel cannot start: a short message in the user's language that names the
address, a non-zero exit, no traceback, no token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_config
from bot.i18n import Translator
from handlers.serve import (
    CANNOT_LISTEN,
    TOKEN_REFUSED,
    UNREACHABLE,
    ChannelStartError,
    close,
    open_running,
    start_channels,
)
from tests.fakes import FakeClock
from tests.zalo_fake_server import FAKE_TOKEN as ZALO_TOKEN
from tests.zalo_fake_server import FakeZaloServer

TOKEN = "123456:SECRET-token-never-printed"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_bot(repo: Path, config_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BOT__", "TELEGRAM_", "ZALO_"))}
    clean |= {"PYTHONPATH": str(repo), "BOT_CONFIG": str(config_path), "PYTHONWARNINGS": "ignore"} | env
    return subprocess.run([sys.executable, "-m", "bot", "run"], cwd=repo, env=clean, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)


def test_with_a_token_but_no_bot_api_the_bot_says_in_vietnamese_what_failed_and_exits(
    repo: Path, config_path: Path
) -> None:
    port = closed_port()
    address = f"http://127.0.0.1:{port}/bot"
    proc = run_bot(repo, config_path, {"TELEGRAM_BOT_TOKEN": TOKEN, "BOT__TELEGRAM__BASE_URL": address})
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output
    assert "Không kết nối được" in proc.stderr
    assert address in proc.stderr
    assert "SECRET-token" not in output
    assert len(proc.stderr.strip().splitlines()) <= 3, proc.stderr


def test_the_message_names_the_address_in_each_language_and_each_problem(config_path: Path) -> None:
    cfg = load_config(config_path, environ={})
    for language in ("vi", "en"):
        t = Translator(language, cfg.locales_dir)
        for problem, variable in ((UNREACHABLE, None), (TOKEN_REFUSED, "ZALO_BOT_TOKEN"), (CANNOT_LISTEN, None)):
            text = ChannelStartError("Zalo", problem, "https://zalo.example:8443", "ConnectError").explain(t)
            assert "https://zalo.example:8443" in text
            if variable:
                assert variable in text
    vi = Translator("vi", cfg.locales_dir)
    assert ChannelStartError("Telegram", UNREACHABLE, "https://api.telegram.org", "x").explain(vi).startswith(
        "Không kết nối được")


async def test_a_zalo_token_refused_at_start_is_a_start_error_naming_the_server(
    config_path: Path, clock: FakeClock
) -> None:
    async with FakeZaloServer() as fake:
        cfg = load_config(config_path, environ={"BOT__ZALO__ENABLED": "true", "ZALO_BOT_TOKEN": ZALO_TOKEN + "x",
                                                "BOT__ZALO__API_BASE_URL": fake.base_url})
        running = await open_running(cfg, clock)
        try:
            with pytest.raises(ChannelStartError) as caught:
                await start_channels(cfg, running)
        finally:
            await close(running)  # what was opened is closed
    assert (caught.value.channel, caught.value.problem, caught.value.address) == ("Zalo", TOKEN_REFUSED,
                                                                                   fake.base_url)
    assert fake.methods() == ["deleteWebhook"]  # the configured server was asked, not Zalo's public one
    assert ZALO_TOKEN not in str(caught.value)


async def test_a_telegram_token_refused_at_start_is_a_start_error_that_never_prints_the_token(
    config_path: Path, clock: FakeClock
) -> None:
    from tests.telegram_fakes import LoopbackBotAPI

    async with LoopbackBotAPI() as api:  # it knows only the fake token: ours gets 401
        cfg = load_config(config_path, environ={"TELEGRAM_BOT_TOKEN": TOKEN, "BOT__TELEGRAM__BASE_URL": api.base_url})
        running = await open_running(cfg, clock)
        try:
            with pytest.raises(ChannelStartError) as caught:
                await start_channels(cfg, running)
        finally:
            await close(running)
    assert (caught.value.channel, caught.value.problem, caught.value.address) == ("Telegram", TOKEN_REFUSED,
                                                                                   api.base_url)
    text = caught.value.explain(Translator("vi", cfg.locales_dir))
    assert "TELEGRAM_BOT_TOKEN" in text
    assert api.base_url in text
    assert "SECRET-token" not in text + str(caught.value)
