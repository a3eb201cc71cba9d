"""Hostile plan files (issue 11, item 15): every upload is answered quickly with a clear message, a .docx
zip bomb is refused before it is inflated, and reading a plan never freezes other people's dialogs."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfWriter

from bot.app import prepare
from bot.config import Config
from bot.conversation import Command, Conversation, PlanFile, Sender
from bot.domain import Channel, Role
from bot.i18n import Translator
from bot.invites import issue_invite
from bot.plans import chat as plan_chat
from bot.plans.text import (
    MAX_DOCX_XML_BYTES,
    MAX_PDF_PAGES,
    MAX_PLAN_BYTES,
    MAX_PLAN_CHARS,
    PackedPlanError,
    PlanError,
    TooLargePlanError,
    TooLongPlanError,
    TooManyPagesError,
    plan_text_from_bytes,
)
from storage import drafts as draft_store
from storage import units as unit_store
from tests.conftest import VN
from tests.fakes import FakeClock

PLANS = Path(__file__).parent / "plans"
TAN_BIEN = PLANS / "tanbien_thang_cong_nhan_2024.txt"
MB = 1024 * 1024


def zip_bomb(xml_bytes: int) -> bytes:
    """A .docx whose word/document.xml inflates to `xml_bytes` of one repeated run: a few hundred KB packed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with zf.open("word/document.xml", "w") as part:
            chunk = b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * (MB // 32)
            written = 0
            while written < xml_bytes:
                part.write(chunk)
                written += len(chunk)
    return buffer.getvalue()


def understated(data: bytes, name: str, claimed: int) -> bytes:
    """The same package with `name`'s uncompressed size rewritten to `claimed` in both headers: what a
    hostile client can do, so a check of the declared sizes alone is not enough."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(name)
        real = info.file_size
    out = bytearray(data)
    # The local header (offset 22) and the central directory entry (offset 24) both hold the size.
    local = info.header_offset
    out[local + 22 : local + 26] = claimed.to_bytes(4, "little")
    central = bytes(out).rfind(b"PK\x01\x02" + bytes(out[local + 4 : local + 6]))
    central = bytes(out).find(b"PK\x01\x02")
    while central >= 0:
        entry_name_len = int.from_bytes(out[central + 28 : central + 30], "little")
        if bytes(out[central + 46 : central + 46 + entry_name_len]) == name.encode():
            assert int.from_bytes(out[central + 24 : central + 28], "little") == real
            out[central + 24 : central + 28] = claimed.to_bytes(4, "little")
            break
        central = bytes(out).find(b"PK\x01\x02", central + 4)
    return bytes(out)


def vi(exc: PlanError, config: Config) -> str:
    return exc.render(Translator("vi", config.locales_dir))


# --- the readers' limits ------------------------------------------------------------------------------


def test_a_docx_zip_bomb_is_refused_from_its_declared_sizes_without_inflating(
        config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = zip_bomb(256 * MB)
    assert len(bomb) < 2 * MB  # small to send, huge to open
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def recording_open(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(name if isinstance(name, str) else name.filename)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording_open)
    with pytest.raises(PackedPlanError) as info:
        plan_text_from_bytes(bomb, "ke-hoach.docx")
    assert "word/document.xml" not in opened  # refused from the sizes the package states
    message = vi(info.value, config)
    assert "ke-hoach.docx" in message
    assert "64 MB" in message


def test_a_docx_that_understates_its_size_is_stopped_while_inflating_at_the_limit(config: Config) -> None:
    real = zip_bomb(MAX_DOCX_XML_BYTES + 4 * MB)
    lying = understated(real, "word/document.xml", 10_000)
    with zipfile.ZipFile(io.BytesIO(lying)) as zf:
        assert zf.getinfo("word/document.xml").file_size == 10_000  # the check of declared sizes passes
    with pytest.raises(PlanError) as info:  # packed (counted while inflating) or damaged: never inflated whole
        plan_text_from_bytes(lying, "ke-hoach.docx")
    assert "ke-hoach.docx" in vi(info.value, config)


def test_a_docx_with_thousands_of_parts_is_refused(config: Config) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
        for i in range(1500):
            zf.writestr(f"word/media/p{i}.bin", b"")
    with pytest.raises(PackedPlanError):
        plan_text_from_bytes(buffer.getvalue(), "nhieu-phan.docx")


def test_a_text_over_the_character_limit_is_refused_naming_the_limit(config: Config) -> None:
    text = ("Các công đoàn cơ sở báo cáo kết quả trước ngày 15/6/2024. " * (MAX_PLAN_CHARS // 40))[: MAX_PLAN_CHARS + 1]
    with pytest.raises(TooLongPlanError) as info:
        plan_text_from_bytes(text.encode(), "dai.txt")
    assert "300.000" in vi(info.value, config)  # the number written the Vietnamese way
    assert plan_text_from_bytes(text[:MAX_PLAN_CHARS].encode(), "vua.txt").kind == "txt"  # the limit itself passes


def test_a_pdf_with_more_pages_than_the_limit_is_refused_before_its_pages_are_read(config: Config) -> None:
    writer = PdfWriter()
    for _ in range(MAX_PDF_PAGES + 1):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(TooManyPagesError) as info:
        plan_text_from_bytes(buffer.getvalue(), "day.pdf")
    assert str(MAX_PDF_PAGES) in vi(info.value, config)


def test_a_file_over_the_upload_limit_is_refused_before_it_is_looked_at(config: Config, tmp_path: Path) -> None:
    with pytest.raises(TooLargePlanError) as info:
        plan_text_from_bytes(b"a" * (MAX_PLAN_BYTES + 1), "to.txt")
    assert "20 MB" in vi(info.value, config)
    path = tmp_path / "to.txt"
    with path.open("wb") as f:  # a sparse file: read_plan_file refuses it from its size, without reading it
        f.truncate(MAX_PLAN_BYTES + 1)
    from bot.plans.text import read_plan_file

    with pytest.raises(TooLargePlanError):
        read_plan_file(path)


# --- in chat ---------------------------------------------------------------------------------------


@dataclass
class Chat:
    conv: Conversation
    staff: Sender
    chair: Sender
    db: Any


@pytest.fixture
async def chat(config: Config, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Chat]:
    prepared = await prepare(config, clock.now())
    db = prepared.db
    try:
        conv = Conversation(db, clock, VN, config.locales_dir, campaigns_dir=tmp_path / "campaigns")
        staff = Sender(Channel.TELEGRAM, "901", "901", "Ban TG-NC", None, "vi")
        chair = Sender(Channel.TELEGRAM, "902", "902", "Chủ tịch", None, "vi")
        for sender, code, role in ((staff, "DL", Role.DEPARTMENT), (chair, "DL-BMT-001", Role.CHAIR)):
            unit = await unit_store.by_code(db, code)
            assert unit is not None
            invite = await issue_invite(db, unit=unit, role=role, lifetime=timedelta(days=1), created_by="t",
                                        now=clock.now(), bot_username="X")
            await conv.handle(sender, Command("start", invite.code))
        yield Chat(conv, staff, chair, db)
    finally:
        await db.close()


def _random(size: int) -> bytes:
    return os.urandom(size)


SHAPES_20_MB = {
    "random.docx": lambda: _random(20 * MB),
    "random.pdf": lambda: _random(20 * MB),
    "random.txt": lambda: _random(20 * MB),
    "zip.docx": lambda: b"PK\x03\x04" + _random(20 * MB - 4),
    "pdf-header.pdf": lambda: b"%PDF-1.7\n" + _random(20 * MB - 9),
    "text.txt": lambda: ("báo cáo trước ngày 15/6/2024; " * (20 * MB // 32)).encode()[: 20 * MB],
    "one-over.txt": lambda: b"a" * (20 * MB + 1),
    "paragraphs.docx": lambda: minimal_docx("<w:p/>" * 2_000_000),  # 12 MB of XML in 20 KB: slow to parse
}


@pytest.mark.parametrize("name", sorted(SHAPES_20_MB))
async def test_a_20_mb_upload_of_any_shape_is_answered_with_a_clear_message(chat: Chat, name: str,
                                                                              config: Config) -> None:
    data = SHAPES_20_MB[name]()
    response = await chat.conv.handle(chat.staff, PlanFile(name, data))
    text = "\n".join(r.text for r in response.replies)
    assert name in text  # names the file
    assert any(word in text for word in ("quá", "không", "hỏng", "hơn")), text  # what is wrong, in Vietnamese
    assert await review_mode(chat) is None  # no draft offered


async def review_mode(chat: Chat) -> str | None:
    """The staff member's dialog mode when it is a plan review, else None."""
    person = await chat.db.fetchval("SELECT person_id FROM identities WHERE external_id = '901'")
    draft = await draft_store.load(chat.db, person)
    mode = draft.state.get("mode") if draft is not None else None
    return mode if mode == "plan_review" else None


async def test_another_persons_dialog_answers_while_a_plan_is_being_read(
        chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan reading is held (a thread event) until the chair's step has been answered: the chair's step
    can only finish first when the reading is off the event loop."""
    entered, release = threading.Event(), threading.Event()
    order: list[str] = []
    real_read = plan_chat.read_plan

    def held_read(data: bytes, name: str) -> plan_chat.PlanDraft:
        entered.set()
        release.wait(10)  # on the loop (the defect), this returns only by timeout, after which the chair runs
        return real_read(data, name)

    monkeypatch.setattr(plan_chat, "read_plan", held_read)

    async def plan() -> None:
        response = await chat.conv.handle(chat.staff, PlanFile("ke-hoach.txt", TAN_BIEN.read_bytes()))
        assert response.replies
        order.append("plan")

    reading = asyncio.create_task(plan())
    assert await asyncio.to_thread(entered.wait, 10)
    chair_step = await chat.conv.handle(chat.chair, Command("hannop"))
    assert chair_step.replies
    order.append("chair")
    release.set()
    await reading
    assert order == ["chair", "plan"]
    assert await review_mode(chat) == "plan_review"  # the plan was read all the same


# --- a PDF that keeps pypdf busy: read in a process that is killed at the time limit -----------------------


def content_stream_pdf(repeats: int) -> bytes:
    """A one-page PDF of a few KB whose content stream inflates to 32 bytes x `repeats` of text drawing:
    pypdf spends seconds per megabyte on it."""
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf 10 10 Td (a) Tj ET\n" * repeats)
    page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


async def test_a_pdf_that_keeps_the_reader_busy_is_given_up_at_the_time_limit(
        chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from bot.plans import worker

    data = content_stream_pdf(600_000)  # about 19 MB of drawing: far longer to read than the limit below
    assert len(data) < 200_000
    monkeypatch.setattr(worker, "READ_SECONDS", 1.0)
    response = await chat.conv.handle(chat.staff, PlanFile("cham.pdf", data))
    text = "\n".join(r.text for r in response.replies)
    assert "cham.pdf" in text
    assert "quá lâu" in text  # "takes too long": named, with what to send instead
    assert await review_mode(chat) is None
    assert multiprocessing.active_children() == []  # the reader was killed, not left running


def test_an_error_in_the_reading_process_comes_back_as_the_same_plan_error() -> None:
    from bot.plans.worker import run_bounded, text_and_proposal

    with pytest.raises(TooLongPlanError) as info:
        run_bounded(text_and_proposal, b"a" * (MAX_PLAN_CHARS + 1), "dai.txt", name="dai.txt")
    assert info.value.params == {"name": "dai.txt", "limit": MAX_PLAN_CHARS}


def test_a_small_docx_of_endless_empty_table_cells_is_refused_at_the_block_limit(config: Config) -> None:
    """A few KB that python-docx would take minutes over (it spends tens of µs on every cell)."""
    from bot.plans.text import MAX_DOCX_BLOCKS, TooManyBlocksPlanError

    rows = "<w:tbl>" + ("<w:tr>" + "<w:tc><w:p/></w:tc>" * 50 + "</w:tr>") * (MAX_DOCX_BLOCKS // 50 + 10) + "</w:tbl>"
    data = minimal_docx(rows)
    assert len(data) < 100_000
    with pytest.raises(TooManyBlocksPlanError) as info:
        plan_text_from_bytes(data, "o-trong.docx")
    assert "20.000" in vi(info.value, config)


def minimal_docx(body: str) -> bytes:
    """A .docx package of the three parts python-docx needs, with `body` inside <w:body>."""
    main = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
             '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
             'document.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    document = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{main}"><w:body>{body}</w:body></w:document>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("word/document.xml", document)
    return buffer.getvalue()
