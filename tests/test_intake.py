"""File intake is the core's (bot/intake.py behind bot/port.py), the same for every channel: a file is
fetched only after the core's checks pass, within the cap; nothing refused is kept; and "this person
blocked us" is one call to the core."""

from __future__ import annotations

import pytest

from bot.channels import DOCUMENT, PHOTO, FetchFailedError, FileTooLargeError, IncomingFile
from bot.conversation import Response, Sender
from bot.domain import Channel
from bot.port import Port
from storage import people as people_store
from tests.telegram_fakes import JPEG_BYTES
from tests.test_conversation import (
    World,
)
from tests.test_optional_files import _to_the_first_file_question

CHAIR = Sender(Channel.TELEGRAM, "1001", "1001", "Nguyễn Thị Hoa", "hoa", "vi")
MB = 1024 * 1024


class Fetches:
    """A fetch that records the caps it was called with, and returns or raises what it is given."""

    def __init__(self, result: bytes | Exception = JPEG_BYTES) -> None:
        self.caps: list[int] = []
        self.result = result

    async def __call__(self, cap: int) -> bytes:
        self.caps.append(cap)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def text(response: Response) -> str:
    return "\n".join(r.text for r in response.replies)


async def attachments(world: World) -> int:
    return int(await world.db.fetchval("SELECT count(*) FROM attachments"))


async def test_a_file_nobody_asked_for_is_never_fetched(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    fetch = Fetches()
    response = await Port(world.conv, world.config).handle(CHAIR, IncomingFile(PHOTO, fetch, size=10), "u1")
    assert "chưa cần tệp" in text(response)
    assert fetch.caps == []
    assert await attachments(world) == 0


async def test_a_photo_over_its_stated_limit_is_refused_before_fetching(world: World) -> None:
    await _to_the_first_file_question(world)
    fetch = Fetches()
    limit = world.config.uploads.max_photo_mb
    response = await Port(world.conv, world.config).handle(CHAIR, IncomingFile(PHOTO, fetch, size=int(
        (limit + 1) * MB)), "u2")
    assert "quá lớn" in text(response)
    assert fetch.caps == []
    assert await attachments(world) == 0


async def test_a_document_of_a_type_not_accepted_is_refused_before_fetching(world: World) -> None:
    await _to_the_first_file_question(world)
    fetch = Fetches()
    response = await Port(world.conv, world.config).handle(CHAIR, IncomingFile(DOCUMENT, fetch, name="virus.exe",
                                                                              size=100), "u3")
    assert ".pdf" in text(response)
    assert fetch.caps == []


async def test_the_fetch_gets_the_cap_and_a_file_found_too_large_while_fetching_is_not_kept(world: World) -> None:
    await _to_the_first_file_question(world)
    fetch = Fetches(FileTooLargeError(99 * MB))
    response = await Port(world.conv, world.config).handle(CHAIR, IncomingFile(PHOTO, fetch), "u4")  # no size
    assert fetch.caps == [int(world.config.uploads.max_photo_mb * MB)]
    assert "quá lớn" in text(response)
    assert await attachments(world) == 0


@pytest.mark.parametrize(("kind", "expected"), [(PHOTO, "ảnh này"), (DOCUMENT, "tệp này")])
async def test_a_failed_fetch_asks_to_send_it_again(world: World, kind: str, expected: str) -> None:
    await _to_the_first_file_question(world)
    fetch = Fetches(FetchFailedError("gone"))
    response = await Port(world.conv, world.config).handle(CHAIR, IncomingFile(kind, fetch, name="a.pdf"), "u5")
    assert expected in text(response)
    assert "gửi lại" in text(response)
    assert await attachments(world) == 0


async def test_a_fetched_photo_is_kept_and_answers_the_question_once(world: World) -> None:
    await _to_the_first_file_question(world)
    port = Port(world.conv, world.config)
    fetch = Fetches()
    photo = IncomingFile(PHOTO, fetch, size=len(JPEG_BYTES), file_id="f1", unique="u-f1")
    await port.handle(CHAIR, photo, "u6")
    again = await port.handle(CHAIR, photo, "u6")  # re-delivered: not fetched, not kept twice
    assert again.duplicate
    assert len(fetch.caps) == 1
    assert await attachments(world) == 1


async def test_a_person_who_blocked_the_bot_is_marked_by_one_call_to_the_core(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    await Port(world.conv, world.config).blocked(CHAIR)
    row = await world.db.fetchone("SELECT blocked_at FROM identities WHERE external_id = ?", (CHAIR.external_id,))
    assert row is not None
    assert row["blocked_at"] is not None
    person = await people_store.person_by_identity(world.db, Channel.TELEGRAM, CHAIR.external_id)
    assert person is not None
