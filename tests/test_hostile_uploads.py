"""Hostile uploads (issue 11, item 16): a file whose size the channel does not state is streamed and
dropped at the cap, and every name derived from the client is bounded before it reaches the disk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Update

from bot import uploads
from bot.campaign_model import FormField
from bot.config import Config
from bot.invites import IssuedInvite
from handlers.telegram_download import DownloadTooLargeError, stream_capped
from handlers.zalo import adapter as zalo_adapter
from tests import test_telegram, test_zalo
from tests.telegram_fakes import PDF_BYTES, _message
from tests.test_telegram import TelegramHarness, answer_until, open_report, register

# The Telegram harness's fixtures, shared with tests/test_telegram.py.
tg_config = test_telegram.tg_config
db = test_telegram.db
invite = test_telegram.invite
fields = test_telegram.fields
tg = test_telegram.tg

MB = 1024 * 1024


def unsized_document(tg: TelegramHarness, name: str) -> Update:
    """A document update without file_size, as Telegram may send it."""
    message = _message(tg.next_update_id(), tg.user_id, tg.first_name, "vi")
    message["document"] = {"file_id": f"doc-{message['message_id']}", "file_unique_id": f"du{message['message_id']}",
                           "file_name": name, "mime_type": "application/pdf"}
    return Update.de_json({"update_id": message["message_id"], "message": message}, tg.app.bot)


def getfile_without_size(tg: TelegramHarness) -> None:
    """The fake's getFile answers without file_size too: nothing states how large the file is."""
    answer = tg.api._answer

    def unsized(api_method: str, params: dict[str, Any]) -> Any:
        result = answer(api_method, params)
        if api_method == "getFile" and isinstance(result, dict):
            result = {k: v for k, v in result.items() if k != "file_size"}
        return result

    tg.api._answer = unsized  # type: ignore[method-assign]


async def test_a_document_of_unstated_size_over_the_limit_is_refused_and_nothing_is_kept(
        tg: TelegramHarness, invite: IssuedInvite, fields: dict[str, FormField], tg_config: Config) -> None:
    await register(tg, invite)
    await open_report(tg)
    await answer_until(tg, fields, stop="photos")
    limit = tg_config.uploads.max_document_mb
    tg.api.document_bytes = PDF_BYTES + b"0" * int(limit * MB)
    getfile_without_size(tg)
    reply = await tg.process(unsized_document(tg, "bao-cao.pdf"))
    assert "quá lớn" in reply
    assert await tg.count("attachments") == 0
    uploaded = tg_config.data_dir / "uploads"
    assert not uploaded.exists() or not [p for p in uploaded.rglob("*") if p.is_file()]
    # Within the limit, the same unsized path keeps the file.
    tg.api.document_bytes = PDF_BYTES
    await tg.process(unsized_document(tg, "bao-cao.pdf"))
    assert await tg.count("attachments") == 0  # a PDF at the photo question: refused by its bytes, not its size


def endless_body(served: list[int]) -> httpx.MockTransport:
    """A server that sends 64 KiB chunks for ever, without Content-Length; `served` counts them."""

    async def body() -> AsyncIterator[bytes]:
        while True:
            served.append(1)
            yield b"\0" * 65536

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body())

    return httpx.MockTransport(handler)


async def test_a_download_without_a_stated_size_stops_at_the_cap() -> None:
    served: list[int] = []
    with pytest.raises(DownloadTooLargeError) as info:
        await stream_capped("https://files.example/x", MB, transport=endless_body(served))
    assert MB < info.value.size <= MB + 65536
    assert len(served) <= MB // 65536 + 2  # stopped reading, not read to the end


async def test_a_download_whose_stated_length_is_over_the_cap_is_not_read() -> None:
    served: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        served.append(1)
        yield b"\0"

    transport = httpx.MockTransport(lambda request: httpx.Response(200, headers={"Content-Length": str(5 * MB)},
                                                                   content=body()))
    with pytest.raises(DownloadTooLargeError) as info:
        await stream_capped("https://files.example/x", MB, transport=transport)
    assert info.value.size == 5 * MB
    assert served == []


async def test_a_download_that_drips_below_the_cap_is_given_up_as_a_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    from handlers import telegram_download

    async def drip() -> AsyncIterator[bytes]:
        while True:  # every read arrives well within the per-read timeout; the whole never ends
            await asyncio.sleep(0.01)
            yield b"\0"

    monkeypatch.setattr(telegram_download, "DOWNLOAD_SECONDS", 0.2)
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=drip()))
    with pytest.raises(TimeoutError):
        await stream_capped("https://files.example/x", MB, transport=transport)


async def test_a_download_within_the_cap_is_returned_whole() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"%PDF-1.4 small"))
    assert await stream_capped("https://files.example/x", MB, transport=transport) == b"%PDF-1.4 small"


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("bao-cao." + "x" * 300, ".bin"),
        ("Báo cáo đợt 1.PDF", ".pdf"),
        ("a.p df", ".bin"),
        ("../../etc/passwd.pdf", ".pdf"),
        ("no-suffix", ".bin"),
    ],
)
def test_a_kept_file_name_is_bounded_whatever_the_client_sends(tmp_path: Path, name: str, suffix: str) -> None:
    path = uploads.kept_path(tmp_path, 7, "telegram-" + "u" * 300, uploads.safe_suffix(name) or Path(name).suffix)
    path.write_bytes(b"x")  # a 300-character suffix or stem used to raise OSError (name too long) here
    assert path.parent == tmp_path / "uploads" / "7"
    assert path.suffix == suffix
    assert len(path.name) <= uploads.MAX_STEM + 11


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Báo cáo đợt 1.pdf", "Báo cáo đợt 1.pdf"),
        ("C:\\Users\\hoa\\bao-cao.pdf", "bao-cao.pdf"),
        ("../../bao-cao.pdf", "bao-cao.pdf"),
        ("bao\u202ecao\x00.pdf", "baocao.pdf"),  # a right-to-left override and a NUL are dropped
        ("   ", None),
        (None, None),
    ],
)
def test_a_client_file_name_is_cleaned_for_keeping_and_showing(name: str | None, expected: str | None) -> None:
    assert uploads.client_name(name) == expected


def test_a_long_client_file_name_is_cut_in_the_middle_keeping_its_suffix() -> None:
    name = uploads.client_name("Báo cáo " * 100 + ".docx")
    assert name is not None
    assert len(name) == uploads.MAX_NAME
    assert name.endswith("….docx")
    assert uploads.client_name("a." + "x" * 300) == ("a." + "x" * 300)[: uploads.MAX_NAME - 1] + "…"


# --- Zalo: a photo URL that drips its bytes is cut off as a whole, not per read ---------------------------
zalo_config = test_zalo.zalo_config
fake = test_zalo.fake
zalo = test_zalo.zalo


async def test_a_zalo_photo_that_never_finishes_arriving_is_given_up_with_a_message(
        zalo: test_zalo.ZaloHarness, invite: IssuedInvite, fields: dict[str, FormField],
        fake: test_zalo.FakeZaloServer, monkeypatch: pytest.MonkeyPatch) -> None:
    await zalo.send(invite.code)
    listing = await zalo.send("/baocao")
    await zalo.send(str(test_zalo.choice_number(listing, *test_zalo.REPORT_95_DOT_1)))
    await zalo.answer_until(fields, stop="photos")
    started: list[str] = []

    async def dripping(url: str, max_bytes: int) -> bytes:
        started.append(url)
        await asyncio.Event().wait()  # every read within the client's timeout, the whole never ends
        raise AssertionError("unreachable")

    monkeypatch.setattr(zalo_adapter, "PHOTO_DOWNLOAD_SECONDS", 0.05)
    monkeypatch.setattr(zalo.client, "download", dripping)
    reply = await zalo.photo(fake.add_photo("slow.jpg"))
    assert started
    assert "gửi lại" in reply  # "could not fetch this photo, send it again"
    assert await zalo.count("attachments") == 0
