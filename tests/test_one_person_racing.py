"""Many updates of one person at once (a quick typist, or Telegram and Zalo linked to one person): every update
is applied exactly once, in some order, and every one is answered; none is dropped after a few retries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.conversation import Command, Conversation, Press, Response, Sender
from bot.dialog.model import TextInput
from bot.domain import Channel
from storage import drafts as draft_store
from storage.db import Database
from tests.conftest import VN
from tests.test_conversation import (
    World,
    text_of,
)

# Racing updates meet real concurrency on a server: the world runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

REPORT = "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1"
CHAIR = Sender(Channel.TELEGRAM, "1001", "1001", "Nguyễn Thị Hoa", None, "vi")
CHAIR_ON_ZALO = Sender(Channel.ZALO, "z-1001", "z-1001", "Hoa trên Zalo", None, "vi")
TWIN = Sender(Channel.TELEGRAM, "1002", "1002", "Lê Thị Mai", None, "vi")  # replays the winning order
TWIN_ON_ZALO = Sender(Channel.ZALO, "z-1002", "z-1002", "Mai trên Zalo", None, "vi")
# What the updates say: numbers, words and commands, so the order they are applied in matters.
TEXTS = ["5", "40", "1,3", "12", "0", "bỏ qua", "quay lại", "7", "3", "/hannop", "2", "1", "có", "25", "4",
         "9", "8", "quay lại", "6", "11", "bỏ qua", "10", "15", "/danop", "20", "13", "14", "16", "17", "18"]


async def open_report(conv: Conversation, who: Sender) -> Response:
    menu = await conv.handle(who, Command("baocao", "DL-BMT-001" if who is not TWIN else "DL-BMT-002"))
    chosen = next(i for i, b in enumerate(menu.replies[-1].choices, start=1) if REPORT in b.label)
    if who.channel is Channel.TELEGRAM:  # buttons there, numbers elsewhere
        return await conv.handle(who, Press(menu.version, menu.replies[-1].choices[chosen - 1].action))
    return await conv.handle(who, TextInput(str(chosen)))


async def draft_version(db: Database, who: Sender) -> int:
    person_id = await db.fetchval("SELECT person_id FROM identities WHERE channel = ? AND external_id = ?",
                                  (who.channel.value, who.external_id))
    draft = await draft_store.load(db, person_id)
    assert draft is not None
    return draft.version


async def assert_applied_once_each(world: World, responses: list[Response], sent: list[tuple[Sender, str, str]],
                                   before: int) -> None:
    """Each update answered, each applied once (one new version each), all of them one after the other; the
    result is what the same updates give when sent one by one in the order they were applied."""
    assert all(not r.duplicate and r.replies for r in responses)
    assert all(text_of(r) for r in responses)
    assert sorted(r.version for r in responses) == list(range(before + 1, before + len(sent) + 1))
    assert await draft_version(world.db, sent[0][0]) == before + len(sent)
    for who, key, _text in sent:
        assert await draft_store.seen(world.db, who.channel.value, key)
    await world.register(TWIN, "DL-BMT-002")
    twin_of = {Channel.TELEGRAM: TWIN}
    if any(who.channel is Channel.ZALO for who, _key, _text in sent):  # the twin is on both channels too
        code = text_of(await world.conv.handle(TWIN, Command("lienket"))).split("\n")[0].split(": ")[1]
        await world.conv.handle(TWIN_ON_ZALO, TextInput(code))
        twin_of[Channel.ZALO] = TWIN_ON_ZALO
    await open_report(world.conv, TWIN)
    for response, (who, _key, text) in sorted(zip(responses, sent, strict=True), key=lambda p: p[0].version):
        replayed = await world.conv.handle(twin_of[who.channel], TextInput(text))
        if not text.startswith("/"):  # a command's answer names the unit; every other one is the same
            assert [r.text for r in replayed.replies] == [r.text for r in response.replies]
    mine, twin = await world.state(sent[0][0]), await world.state(TWIN)
    assert mine["form"]["answers"] == twin["form"]["answers"]
    assert (mine["form"]["current"], mine["form"]["phase"]) == (twin["form"]["current"], twin["form"]["phase"])


async def test_thirty_updates_at_once_for_one_person_are_all_applied_once_and_answered(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    await open_report(world.conv, CHAIR)
    before = await draft_version(world.db, CHAIR)
    sent = [(CHAIR, f"u{i}", text) for i, text in enumerate(TEXTS)]
    responses = await asyncio.gather(*(world.conv.handle(who, TextInput(text), update_key=key)
                                       for who, key, text in sent))
    await assert_applied_once_each(world, list(responses), sent, before)
    assert len(world.conv._locks) == 0  # no lock left behind once nobody waits


async def test_telegram_and_zalo_of_one_person_racing_are_all_applied_once(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    code = text_of(await world.conv.handle(CHAIR, Command("lienket"))).split("\n")[0].split(": ")[1]
    assert "Đã liên kết" in text_of(await world.conv.handle(CHAIR_ON_ZALO, TextInput(code)))
    await open_report(world.conv, CHAIR)
    before = await draft_version(world.db, CHAIR)
    sent = [(CHAIR if i % 2 else CHAIR_ON_ZALO, f"m{i}", text) for i, text in enumerate(TEXTS)]
    responses = await asyncio.gather(*(world.conv.handle(who, TextInput(text), update_key=key)
                                       for who, key, text in sent))
    await assert_applied_once_each(world, list(responses), sent, before)


async def test_two_processes_racing_for_one_person_retry_until_every_update_is_applied(world: World) -> None:
    """No lock is shared between processes: the version check and retries alone keep every update."""
    await world.register(CHAIR, "DL-BMT-001")
    await open_report(world.conv, CHAIR)
    before = await draft_version(world.db, CHAIR)
    other = Conversation(world.db, world.clock, VN, world.config.locales_dir)
    sent = [(CHAIR, f"p{i}", text) for i, text in enumerate(TEXTS)]
    responses = await asyncio.gather(*((world.conv if i % 2 else other).handle(who, TextInput(text), update_key=key)
                                       for i, (who, key, text) in enumerate(sent)))
    await assert_applied_once_each(world, list(responses), sent, before)


class AlwaysOvertaken(Conversation):
    """A process whose every step finds that another one has written for the person first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attempts = 0

    async def _handle_once(self, sender: Sender, event: Any, update_key: str | None, *_rest: Any) -> Response:
        self.attempts += 1
        await asyncio.sleep(0)
        raise draft_store.StaleVersionError(sender.external_id)


async def test_an_update_that_never_wins_the_race_gets_a_clear_answer_not_silence(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    conv = AlwaysOvertaken(world.db, world.clock, VN, world.config.locales_dir)
    conv.retry_budget = 0.05
    response = await conv.handle(CHAIR, TextInput("5"), update_key="lost-race")
    assert conv.attempts > 3  # more than the three tries that used to end in silence
    assert "Xin gửi lại" in text_of(response)
    assert not await draft_store.seen(world.db, "telegram", "lost-race")  # a re-delivery is worked out afresh
