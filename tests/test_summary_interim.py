"""/tonghop on a large scope: "working on it" at once, the summary after, and other people's dialogs meanwhile.

The build is made slow by a compute_summary that waits for the test (a threading.Event), never by a timing
threshold: the test itself decides when the build may finish.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from bot.app import prepare
from bot.config import Config
from bot.conversation import Command, Conversation, Press, Response, Sender
from bot.conversation import staff as staff_flow
from bot.dialog.model import Reply
from bot.domain import Channel, Role
from bot.i18n import Translator
from bot.port import Port
from bot.summary import service as summary_service
from handlers.terminal import TerminalSession
from storage import units as unit_store
from tests.conftest import VN
from tests.fakes import FakeClock, RecordingOutput, ScriptedInput
from tests.test_conversation import CHAIR, OFFICER, World, text_of

INTERIM_VI = "Đang tổng hợp"


class EarlyReplies:
    """What the conversation sent at once during a turn, as an adapter's `early` callable would send it."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []
        self.arrived = asyncio.Event()

    async def __call__(self, replies: Sequence[Reply]) -> None:
        self.sent.append([r.text for r in replies])
        self.arrived.set()


class HeldBuild:
    """compute_summary, held in its worker thread until the test releases it."""

    def __init__(self) -> None:
        self.started, self.release = threading.Event(), threading.Event()
        self.real = summary_service.compute_summary
        self.on_thread: list[bool] = []

    def __call__(self, **kwargs: Any) -> Any:
        self.on_thread.append(threading.current_thread() is not threading.main_thread())
        self.started.set()
        assert self.release.wait(10), "the test never released the build"
        return self.real(**kwargs)


def summary_choice(response: Response) -> Press:
    found = [b.action for r in response.replies for b in r.choices if b.action.startswith("m:")]
    assert found, "no period offered"
    return Press(response.version, found[0])


async def test_a_slow_summary_says_it_is_coming_at_once_and_others_go_on_meanwhile(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.register(OFFICER, "DL-BMT", Role.OFFICER)
    await world.register(CHAIR, "DL-BMT-001")
    menu = await world.conv.handle(OFFICER, Command("tonghop"))
    held, early = HeldBuild(), EarlyReplies()
    monkeypatch.setattr(summary_service, "compute_summary", held)
    monkeypatch.setattr(staff_flow, "INTERIM_AFTER_SECONDS", 0.01)

    building = asyncio.create_task(world.conv.handle(OFFICER, summary_choice(menu), early=early))
    assert await asyncio.to_thread(held.started.wait, 10)
    # The build is under way, off the event loop: a chair's dialog step is answered meanwhile.
    deadlines = await world.conv.handle(CHAIR, Command("hannop"))
    assert "Kỷ niệm 95 năm" in text_of(deadlines)
    await asyncio.wait_for(early.arrived.wait(), 10)
    assert not building.done()
    assert len(early.sent) == 1
    assert INTERIM_VI in early.sent[0][0]  # before the result, which is still held

    held.release.set()
    response = await asyncio.wait_for(building, 10)
    assert held.on_thread == [True]
    assert text_of(response).startswith("📊")  # the summary itself
    assert INTERIM_VI not in text_of(response)  # said once, early, not again with the result
    assert len(early.sent) == 1


async def test_a_quick_summary_comes_without_a_word_before_it(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.register(OFFICER, "DL-BMT", Role.OFFICER)
    menu = await world.conv.handle(OFFICER, Command("tonghop"))
    monkeypatch.setattr(staff_flow, "INTERIM_AFTER_SECONDS", 60.0)  # far more than this small build takes
    early = EarlyReplies()
    response = await world.conv.handle(OFFICER, summary_choice(menu), early=early)
    assert early.sent == []
    assert text_of(response).startswith("📊")  # the summary itself


async def test_an_early_reply_that_cannot_be_sent_does_not_stop_the_summary(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels import TransientError

    await world.register(OFFICER, "DL-BMT", Role.OFFICER)
    menu = await world.conv.handle(OFFICER, Command("tonghop"))
    held = HeldBuild()
    monkeypatch.setattr(summary_service, "compute_summary", held)
    monkeypatch.setattr(staff_flow, "INTERIM_AFTER_SECONDS", 0.01)
    tried: list[str] = []

    async def failing(replies: Sequence[Reply]) -> None:
        tried.append(replies[0].text)
        held.release.set()  # the build goes on once the early reply was attempted
        raise TransientError("network down")

    response = await asyncio.wait_for(world.conv.handle(OFFICER, summary_choice(menu), early=failing), 10)
    assert len(tried) == 1
    assert text_of(response).startswith("📊")  # the summary itself


async def test_the_interim_reply_is_in_the_persons_language(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    officer = Sender(Channel.TELEGRAM, "2003", "2003", "Officer", None, "en")
    await world.register(officer, "DL-BMT", Role.OFFICER)
    menu = await world.conv.handle(officer, Command("tonghop"))
    assert "Summary of which period?" in text_of(menu)
    held, early = HeldBuild(), EarlyReplies()
    monkeypatch.setattr(summary_service, "compute_summary", held)
    monkeypatch.setattr(staff_flow, "INTERIM_AFTER_SECONDS", 0.01)
    building = asyncio.create_task(world.conv.handle(officer, summary_choice(menu), early=early))
    await asyncio.wait_for(early.arrived.wait(), 10)
    held.release.set()
    await asyncio.wait_for(building, 10)
    assert early.sent == [["Working on the summary… it will arrive here in a moment."]]


async def test_the_terminal_prints_the_interim_reply_before_the_summary(
        config: Config, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    held = HeldBuild()
    monkeypatch.setattr(summary_service, "compute_summary", held)
    monkeypatch.setattr(staff_flow, "INTERIM_AFTER_SECONDS", 0.01)
    out = RecordingOutput()

    def write(text: str) -> None:
        out(text)
        if INTERIM_VI in text:
            held.release.set()  # the summary may come now that the person was told

    prepared = await prepare(config, clock.now())
    try:
        port = Port(Conversation(prepared.db, clock, VN, config.locales_dir), config)
        session = TerminalSession(port, Translator("vi", config.locales_dir), ScriptedInput(["/tonghop", "1"]),
                                  write, user="tester")
        unit = await unit_store.by_code(prepared.db, "DL-BMT")
        assert unit is not None
        await asyncio.wait_for(session.chat(unit), 20)
    finally:
        await prepared.db.close()
    interim = next(i for i, line in enumerate(out.lines) if INTERIM_VI in line)
    summary = next(i for i, line in enumerate(out.lines) if line.startswith("📊"))
    assert interim < summary
