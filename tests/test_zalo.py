"""The Zalo channel over loopback HTTP: the real client, adapter, dispatcher and web endpoint of
handlers/zalo/, a real migrated database, and a fake Zalo Bot API (tests/zalo_fake_server.py) that
records every call and answers as Zalo does.

A chair talks to the bot the way they would on Zalo, where there are no buttons: the invite code as
a message, /baocao, numbers for choices, typed answers, a photo. The same form filled on Telegram,
Zalo and the terminal must store the same answers.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot import uploads
from bot.app import prepare
from bot.campaign_model import FormField
from bot.channels import BlockedError, RetryAfterError, TransientError, UncertainDeliveryError
from bot.config import Config, UploadsConfig, load_config
from bot.conversation import Command, Conversation, Press, Response, Sender
from bot.dialog.model import Reply, TextInput
from bot.domain import Channel, Role
from bot.i18n import Translator
from bot.invites import IssuedInvite, issue_invite
from bot.port import Port
from bot.text_split import split_text
from handlers.terminal import TerminalSession, _typed_path
from handlers.zalo.adapter import (
    FILES_PATH,
    FileLinks,
    ZaloAdapter,
    ZaloChannel,
    ZaloReplier,
    parse_update,
)
from handlers.zalo.client import (
    MAX_TEXT,
    ZaloClient,
    ZaloForbiddenError,
    ZaloQuotaExceededError,
    ZaloServerError,
    ZaloUnauthorizedError,
)
from handlers.zalo.server import WEBHOOK_PATH, Dispatcher, Poller, ZaloService, ZaloSettings, build_web_app
from scheduler.sender import OutboxSender
from scheduler.service import ReminderPlanner
from storage import campaigns as campaign_store
from storage import drafts as draft_store
from storage import people as people_store
from storage import submissions as submission_store
from storage import units as unit_store
from storage.db import Database
from tests.conftest import VN
from tests.fakes import FakeClock, RecordingOutput
from tests.zalo_fake_server import (
    FAKE_TOKEN,
    JPEG_BYTES,
    FakeZaloServer,
    image_update,
    sticker_update,
    text_update,
    unsupported_update,
)

DAKLAK_95 = "daklak-95-nam-cdvn-2024"
UNIT_CODE = "DL-BMT-001"
CHAIR = "e4ea2cd5189df1c3a88c"  # the chair's Zalo user id (== private chat id)
STRANGER = "6ede9afa66b88fe6d6a9"
SECRET = "webhook-secret-for-tests"
REPORT_95_DOT_1 = ("Kỷ niệm 95 năm", "Đợt 1")
PLAN_AT = datetime(2024, 8, 2, 8, 0, tzinfo=VN)


# --- the answers a chair gives, the same on every channel ----------------------------------------


class Skip:
    """Skip an optional question ("bỏ qua", or the Skip button)."""


SKIP = Skip()


@dataclass(frozen=True)
class Pick:
    """Choose these values of a multiple-choice question."""

    values: tuple[str, ...]


Answer = str | bool | Skip | Pick

SCRIPT: dict[str, Answer] = {
    "propaganda_sessions": "2",
    "propaganda_participants": "40",
    "propaganda_forms": Pick(("meeting", "social")),
    "contest_resolution_participants": "15",
    "contest_history_participants": "16",
    "members_admitted": "12",
    "members_to_party": "0",
    "works_plaqued": "3",
    "works_names": "Nhà văn hóa; Sân thể thao",
    "ao_dai_given": "0",
    "gifts_people": "1",
    "gifts_money": "12,5 triệu",  # read back in words: "đúng không?"
    "mai_am_houses": "0",
    "union_meal_held": True,
    "union_meal_people": "25",
    "dialogues": "4",
    "care_activities": "5",
    "highlights": SKIP,
    "photos": SKIP,
    "report_file": SKIP,
}

EXPECTED_ANSWERS = {
    "propaganda_sessions": 2,
    "propaganda_participants": 40,
    "propaganda_forms": ["meeting", "social"],
    "contest_resolution_participants": 15,
    "contest_history_participants": 16,
    "members_admitted": 12,
    "members_to_party": 0,
    "works_plaqued": 3,
    "works_names": "Nhà văn hóa; Sân thể thao",
    "ao_dai_given": 0,
    "gifts_people": 1,
    "gifts_money": 12_500_000,
    "mai_am_houses": 0,
    "union_meal_held": True,
    "union_meal_people": 25,
    "dialogues": 4,
    "care_activities": 5,
}


def choice_number(out: str, *parts: str, exact: bool = False) -> int:
    """The number a text channel gives the (last) choice whose label has every part (or is the first)."""
    found = None
    for m in re.finditer(r"^  (\d+)\. (.+)$", out, re.MULTILINE):
        label = m.group(2)
        if (exact and label == parts[0]) or (not exact and all(p in label for p in parts)):
            found = int(m.group(1))
    compact = re.search(r"^Gõ số từ 1 đến (\d+)\.$", out, re.MULTILINE)  # choices that are only numbers
    if found is None and exact and parts[0].isdigit() and compact and int(parts[0]) <= int(compact.group(1)):
        found = int(parts[0])
    assert found is not None, f"no choice {parts!r} in:\n{out}"
    return found


def current_question(out: str, fields: dict[str, FormField]) -> FormField | None:
    """The question a text reply asks last ("Câu 3/21: <label>")."""
    labels = re.findall(r"^Câu \d+/\d+: (.+)$", out, re.MULTILINE)
    if not labels:
        return None
    by_label = {f.label.vi: f for f in fields.values()}
    return by_label[labels[-1]]


def text_answer(out: str, fields: dict[str, FormField], script: dict[str, Answer]) -> str | None:
    """What a chair types next on a text channel, from what the bot just wrote; None after the receipt."""
    if "Đã nhận báo cáo" in out and "BC-" in out:
        return None
    if "đúng không?" in out:
        assert 'Gõ "đúng" để giữ' in out  # a number here would be the amount again: "yes" is a word
        return "đúng"
    if "kiểm tra lại báo cáo" in out:
        assert 'Để gửi báo cáo, gõ "gửi".' in out  # the answers are numbered: sending is a word
        return "gửi"
    f = current_question(out, fields)
    if f is None:
        assert "Trả lời bằng số" in out, out
        return str(choice_number(out, *REPORT_95_DOT_1))
    answer = script[f.name]
    if isinstance(answer, Skip):
        return "bỏ qua"
    if isinstance(answer, bool):
        return str(choice_number(out, "Có" if answer else "Không", exact=True))
    if isinstance(answer, Pick):
        values = [c.value for c in f.choices]
        return ",".join(str(values.index(v) + 1) for v in answer.values)
    return answer


def question_number(review: str, label_part: str) -> int:
    """The number the review gives the question whose label contains `label_part`."""
    match = re.search(rf"^(\d+)\. [^\n]*{re.escape(label_part)}", review, re.MULTILINE)
    assert match, f"{label_part!r} not in the review"
    return int(match.group(1))


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def zalo_config(config_path: Path) -> Config:
    return load_config(config_path, environ={})


@pytest.fixture
async def db(zalo_config: Config, clock: FakeClock) -> AsyncIterator[Database]:
    """The prepared database: migrated, with the sample organisation and the seed campaigns."""
    prepared = await prepare(zalo_config, clock.now())
    try:
        yield prepared.db
    finally:
        await prepared.db.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer() as server:
        yield server


@pytest.fixture
async def fields(db: Database) -> dict[str, FormField]:
    campaign = await campaign_store.campaign(db, DAKLAK_95)
    assert campaign is not None
    return {f.name: f for f in campaign.fields}


async def new_invite(db: Database, clock: FakeClock, *, unit_code: str = UNIT_CODE, role: Role = Role.CHAIR,
                     lifetime: timedelta = timedelta(days=14)) -> IssuedInvite:
    unit = await unit_store.by_code(db, unit_code)
    assert unit is not None
    return await issue_invite(db, unit=unit, role=role, lifetime=lifetime, created_by="test", now=clock.now(),
                              bot_username="CongDoanBaoCaoBot")


@pytest.fixture
async def invite(db: Database, clock: FakeClock) -> IssuedInvite:
    return await new_invite(db, clock)


class ZaloHarness:
    """The Zalo channel assembled as ZaloService assembles it, with the web endpoint on a loopback port;
    `send` plays one person's chat through getUpdates, `deliver` through the webhook."""

    def __init__(self, config: Config, clock: FakeClock, db: Database, fake: FakeZaloServer) -> None:
        self.config, self.clock, self.db, self.fake = config, clock, db, fake
        self.user = CHAIR
        self.sleeps: list[float] = []
        self.last = ""

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def start(self) -> None:
        self.client = ZaloClient(FAKE_TOKEN, base_url=self.fake.base_url, backoff=0.01, sleep=self._sleep)
        self.planner = ReminderPlanner(self.db, self.config.reminders, self.config.app.zone, self.config.locales_dir)
        self.files_dir = self.config.data_dir / "summaries"
        self.conversation = Conversation(self.db, self.clock, self.config.app.zone, self.config.locales_dir,
                                         reminders=self.planner, files_dir=self.files_dir)
        self.links = FileLinks(FileLinks.key_from_token(FAKE_TOKEN), "http://127.0.0.1", self.files_dir, self.clock)
        self.adapter = ZaloAdapter(Port(self.conversation, self.config), self.client, self.links)
        self.dispatcher = Dispatcher(self.adapter.handle)
        self.poller = Poller(self.client, self.dispatcher, timeout=1)
        self.runner = web.AppRunner(build_web_app(dispatcher=self.dispatcher, secret=SECRET, links=self.links))
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        host, port = self.runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self.links.base_url = self.base_url  # the public address is known once the port is
        self.webhook_url = self.base_url + WEBHOOK_PATH

    async def stop(self) -> None:
        await self.dispatcher.join()
        await self.runner.cleanup()
        await self.client.aclose()

    def outbound(self) -> ZaloChannel:
        return self.adapter.channel

    # --- talking --------------------------------------------------------------------------------

    async def _collect(self, chat: str, run: Callable[[], Any]) -> str:
        before = len(self.fake.texts(chat))
        await run()
        await self.dispatcher.join()
        self.last = "\n\n".join(self.fake.texts(chat)[before:])
        return self.last

    async def poll(self, update: dict[str, Any]) -> str:
        """One update through getUpdates (one per call, as Zalo does); the bot's texts for it, joined."""
        async def run() -> None:
            self.fake.queue(update)
            assert await self.poller.poll_once()
        return await self._collect(update["message"]["chat"]["id"], run)

    async def send(self, text: str, *, user: str | None = None) -> str:
        return await self.poll(text_update(user or self.user, text))

    async def photo(self, url: str, *, user: str | None = None) -> str:
        return await self.poll(image_update(user or self.user, url))

    async def deliver(self, update: dict[str, Any], *, secret: str | None = SECRET, wrapped: bool = True
                      ) -> tuple[httpx.Response, str]:
        """One update through the webhook, as Zalo calls it."""
        answer: list[httpx.Response] = []

        async def run() -> None:
            answer.append(await self.fake.deliver(self.webhook_url, update, secret=secret, wrapped=wrapped))
        out = await self._collect(update["message"]["chat"]["id"], run)
        return answer[0], out

    async def answer_until(self, fields: dict[str, FormField], stop: str | None = None,
                           script: dict[str, Answer] | None = None) -> str:
        """Answer as the script says until the question `stop` is asked (or the receipt, without stop)."""
        for _ in range(80):
            f = current_question(self.last, fields)
            if stop is not None and f is not None and f.name == stop and "đúng không?" not in self.last:
                return self.last
            answer = text_answer(self.last, fields, script or SCRIPT)
            if answer is None:
                return self.last
            await self.send(answer)
        raise AssertionError(f"never reached {stop}")

    # --- what is stored -------------------------------------------------------------------------

    async def person_id(self, user: str | None = None) -> int | None:
        person = await people_store.person_by_identity(self.db, Channel.ZALO, user or self.user)
        return None if person is None else person.id

    async def form(self) -> dict[str, Any]:
        person_id = await self.person_id()
        assert person_id is not None
        draft = await draft_store.load(self.db, person_id)
        assert draft is not None
        assert draft.state.get("mode") == "form", draft.state
        return draft.state["form"]

    async def count(self, table: str) -> int:
        return int(await self.db.fetchval(f"SELECT count(*) FROM {table}"))

    def assert_healthy(self) -> None:
        assert self.fake.rejected == [], f"Zalo would have refused: {self.fake.rejected}"
        for params in self.fake.sent("sendMessage"):
            assert 1 <= len(params["text"]) <= 2000


@pytest.fixture
async def zalo(zalo_config: Config, clock: FakeClock, db: Database, fake: FakeZaloServer
               ) -> AsyncIterator[ZaloHarness]:
    harness = ZaloHarness(zalo_config, clock, db, fake)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
    harness.assert_healthy()


async def no_sleep(_seconds: float) -> None:
    return None


# --- 1. the whole journey -------------------------------------------------------------------------


async def test_a_chair_registers_reports_with_a_photo_is_reminded_and_corrects_on_zalo(
        zalo: ZaloHarness, invite: IssuedInvite, fields: dict[str, FormField], db: Database,
        zalo_config: Config, fake: FakeZaloServer) -> None:
    # Registration: Zalo has no deep links, so the invite code is simply typed as a message.
    welcome = await zalo.send(invite.code)
    assert "Chào mừng Nguyễn Thị Hoa" in welcome
    assert "Công đoàn Công ty TNHH MTV Cà phê Buôn Ma Thuột" in welcome
    assert await zalo.person_id() is not None

    # /baocao: the open reports as a numbered list, a number picks one.
    listing = await zalo.send("/baocao")
    assert "Đồng chí muốn nộp báo cáo nào" in listing
    assert "Trả lời bằng số thứ tự lựa chọn." in listing
    first = await zalo.send(str(choice_number(listing, *REPORT_95_DOT_1)))
    assert "Câu 1/" in first
    assert "buổi tuyên truyền" in first

    # A bad answer is refused with an example, and nothing is stored.
    bad = await zalo.send("abc")
    assert "ví dụ" in bad
    assert "Câu 1/" in bad
    assert "propaganda_sessions" not in (await zalo.form())["answers"]

    await zalo.answer_until(fields, stop="members_admitted")
    assert (await zalo.form())["answers"]["propaganda_forms"] == ["meeting", "social"]

    # The morning reminder reaches the chair on Zalo, in words: there are no buttons, type /baocao.
    planned = await zalo.planner.plan_once(PLAN_AT)
    assert planned.pending == 1
    sender = OutboxSender(db, {"zalo": zalo.outbound()}, zalo.clock, per_chat_interval=0, sleep=no_sleep)
    stats = await sender.drain()
    assert (stats.sent, stats.failed, stats.blocked) == (1, 0, 0)
    reminder = fake.texts(CHAIR)[-1]
    assert "Nhắc hạn nộp báo cáo" in reminder
    assert "Gõ /baocao để nộp ngay." in reminder
    assert "Kỷ niệm 95 năm" in reminder
    assert re.search(r"dừng ở câu \d+/\d+", reminder)
    row = await db.fetchone("SELECT channel, status FROM outbox")
    assert row is not None
    assert (row["channel"], row["status"]) == ("zalo", "sent")

    # Typing /baocao as told: the report goes on at the same question.
    resumed = await zalo.send("/baocao")
    assert "kết nạp bao nhiêu đoàn viên mới" in resumed
    await zalo.answer_until(fields, stop="photos")

    # A photo, sent by URL as Zalo does: fetched, checked, stored under the data directory.
    unit = await unit_store.by_code(db, UNIT_CODE)
    assert unit is not None
    url = fake.add_photo("hoat-dong.jpg")
    received = await zalo.photo(url)
    assert "Đã nhận 1" in received
    assert fake.photo_requests == ["hoat-dong.jpg"]
    attachment = await db.fetchone("SELECT * FROM attachments")
    assert attachment is not None
    local = Path(attachment["local_path"])
    assert local.parent == zalo_config.data_dir / "uploads" / str(unit.id)
    assert local.read_bytes() == JPEG_BYTES
    assert attachment["sha256"] == hashlib.sha256(JPEG_BYTES).hexdigest()
    assert (attachment["field"], attachment["channel"], attachment["mime_type"]) == ("photos", "zalo", "image/jpeg")

    assert 'gõ "xong"' in received
    assert "Câu" in await zalo.send("xong")  # Done, as a word: on to the file
    assert (await zalo.form())["answers"]["photos"] == [attachment["id"]]
    review = await zalo.send("bỏ qua")  # no document on Zalo: skipped
    assert "kiểm tra lại báo cáo" in review
    assert "1 ảnh" in review

    receipt = await zalo.send("gửi")
    assert "Đã nhận báo cáo" in receipt
    reference = re.search(r"BC-[0-9A-Z]{6}", receipt)
    assert reference
    (submission,) = (await submission_store.of_unit(db, unit.id)).values()
    assert submission.reference == reference.group(0)
    (rev1,) = await submission_store.revisions(db, submission.id)
    assert rev1.channel == "zalo"
    assert rev1.answers["photos"] == [attachment["id"]]
    assert rev1.answers["dialogues"] == 4

    # The correction: /danop, the report by number, its review, one answer changed, sent again.
    listing = await zalo.send("/danop")
    assert submission.reference in listing
    shown = await zalo.send(str(choice_number(listing, submission.reference)))
    assert "Báo cáo đã nộp" in shown
    number = question_number(shown, "đối thoại tại nơi làm việc")
    asked = await zalo.send(f"sửa {number}")  # the answer by its number in the review
    assert f"Câu {number}/" in asked
    assert "Câu trả lời hiện tại: 4" in asked
    again = await zalo.send("3")
    assert "3 cuộc" in again
    assert 'Để gửi bản sửa, gõ "gửi".' in again
    second = await zalo.send("gửi")
    assert "lần 2" in second
    assert submission.reference in second

    rev1, rev2 = await submission_store.revisions(db, submission.id)
    assert (rev1.answers["dialogues"], rev2.answers["dialogues"]) == (4, 3)
    assert rev2.channel == "zalo"
    assert all(len(text) <= 2000 for text in fake.texts())
    assert {c.method for c in fake.calls} <= {"getUpdates", "sendMessage"}


# --- 2. the webhook's secret ----------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-123", SECRET + "x", SECRET.upper()])
async def test_a_webhook_call_without_the_right_secret_is_refused_and_changes_nothing(
        zalo: ZaloHarness, invite: IssuedInvite, fake: FakeZaloServer, secret: str | None) -> None:
    response, out = await zalo.deliver(text_update(STRANGER, invite.code), secret=secret)
    assert response.status_code == 403
    assert out == ""
    for table in ["people", "identities", "memberships", "drafts", "processed_updates", "attachments"]:
        assert await zalo.count(table) == 0, table
    assert fake.calls == []  # not even an answer was sent
    invite_row = await zalo.db.fetchone("SELECT used_at FROM invites WHERE id = ?", (invite.id,))
    assert invite_row is not None
    assert invite_row["used_at"] is None


async def test_the_right_secret_is_accepted_in_both_body_shapes(zalo: ZaloHarness, invite: IssuedInvite) -> None:
    response, welcome = await zalo.deliver(text_update(CHAIR, invite.code), wrapped=True)
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert "Chào mừng" in welcome
    bare = text_update(CHAIR, "/hannop")
    response, deadlines = await zalo.deliver(bare, wrapped=False)
    assert response.status_code == 200
    assert "05/08/2024" in deadlines
    assert await zalo.count("people") == 1
    response, again = await zalo.deliver(bare, wrapped=True)  # Zalo delivering the same message twice
    assert response.status_code == 200
    assert again == ""


async def test_a_webhook_body_that_is_not_json_is_refused(zalo: ZaloHarness, fake: FakeZaloServer) -> None:
    response = await fake.deliver(zalo.webhook_url, {}, secret=SECRET, raw=b"{not json")
    assert response.status_code == 400
    assert fake.calls == []


def test_both_body_shapes_parse_the_same() -> None:
    update = text_update(CHAIR, "Xin chào", message_id="16f6366b3f02645a3d15")
    wrapped, bare = parse_update({"ok": True, "result": update}), parse_update(update)
    assert wrapped == bare
    assert wrapped is not None
    assert (wrapped.event_name, wrapped.user_id, wrapped.chat_id, wrapped.text, wrapped.message_id) == (
        "message.text.received", CHAIR, CHAIR, "Xin chào", "16f6366b3f02645a3d15")
    assert wrapped.private
    # As Zalo's documentation shows getUpdates: no event_name, the name as first_name.
    documented = parse_update({"ok": True, "result": {"message": {
        "chat": {"id": "e4ea", "chat_type": "PRIVATE"}, "text": "Xin chào", "message_id": "16f6",
        "date": 1766619597466, "from": {"id": "e4ea", "first_name": "Nguyen Van A"}}}})
    assert documented is not None
    assert (documented.event_name, documented.display_name) == ("message.text.received", "Nguyen Van A")
    photo = parse_update(image_update(CHAIR, "https://cdn.example/p.jpg"))
    assert photo is not None
    assert photo.photo_url == "https://cdn.example/p.jpg"
    listed = parse_update({"event_name": "message.image.received", "message": {
        "from": {"id": "a"}, "chat": {"id": "a"}, "attachments": [{"type": "image", "payload": {"url": "u"}}]}})
    assert listed is not None
    assert listed.photo_url == "u"
    for junk in [None, [], {}, {"ok": True}, {"result": {"event_name": "x"}}, {"message": {"text": "no sender"}}]:
        assert parse_update(junk) is None, junk


# --- 3. what the bot cannot read, and where it does not talk ------------------------------------


async def test_stickers_and_unsupported_messages_are_answered_politely(
        zalo: ZaloHarness, invite: IssuedInvite) -> None:
    for update in [sticker_update(STRANGER), unsupported_update(STRANGER)]:
        out = await zalo.poll(update)
        assert "/trogiup" in out
    assert await zalo.count("people") == 0
    await zalo.send(invite.code)
    out = await zalo.poll(unsupported_update(CHAIR))
    assert "/trogiup" in out
    assert await zalo.count("submissions") == 0


async def test_group_chats_and_bots_are_not_answered(zalo: ZaloHarness, invite: IssuedInvite,
                                                     fake: FakeZaloServer) -> None:
    group = text_update(STRANGER, invite.code, chat_type="GROUP")
    assert await zalo.poll(group) == ""
    from_bot = text_update(STRANGER, invite.code)
    from_bot["message"]["from"]["is_bot"] = True
    assert await zalo.poll(from_bot) == ""
    assert await zalo.count("people") == 0
    assert fake.sent("sendMessage") == []


async def test_a_stranger_is_told_about_invite_codes(zalo: ZaloHarness) -> None:
    out = await zalo.send("xin chào", user=STRANGER)
    assert "mã mời" in out
    assert await zalo.count("people") == 0


# --- 4. long messages ---------------------------------------------------------------------------


def test_split_text_cuts_at_lines_then_spaces_and_keeps_everything() -> None:
    lines = [f"{i}. Câu hỏi số {i}, trả lời đầy đủ" for i in range(300)]
    text = "\n".join(lines)
    parts = split_text(text, MAX_TEXT)
    assert len(parts) > 1
    assert all(len(p) <= 2000 for p in parts)
    assert "\n".join(parts) == text  # cut at line boundaries only
    words = "Tổ chức hội thao cho người lao động " * 150  # one line, no newline
    parts = split_text(words.strip(), MAX_TEXT)
    assert all(len(p) <= 2000 for p in parts)
    assert " ".join(parts) == words.strip()
    emoji = "📤" * 1500  # 3000 UTF-16 units
    parts = split_text(emoji, MAX_TEXT)
    assert all(len(p.encode("utf-16-le")) // 2 <= 2000 for p in parts)
    assert "".join(parts) == emoji
    assert split_text("a\nb", 1) == ["a", "b"]


async def test_a_reply_longer_than_2000_characters_is_sent_in_parts(zalo: ZaloHarness, fake: FakeZaloServer) -> None:
    text = "\n".join(f"• Đơn vị số {i}: Công đoàn cơ sở <A&B> chưa nộp" for i in range(200))
    assert len(text) > 6000
    replier = ZaloReplier(zalo.client, None, VN)
    await replier.send(CHAIR, [Reply(text, title="Tổng hợp")], Translator("vi", zalo.config.locales_dir))
    sent = fake.texts(CHAIR)
    assert len(sent) >= 4
    assert all(len(s) <= 2000 for s in sent)
    assert "\n".join(sent) == "Tổng hợp\n" + text  # nothing lost, nothing escaped: Zalo shows plain text


async def test_a_long_review_is_split_and_the_choices_come_last(
        zalo: ZaloHarness, invite: IssuedInvite, fields: dict[str, FormField]) -> None:
    await zalo.send(invite.code)
    listing = await zalo.send("/baocao")
    await zalo.send(str(choice_number(listing, *REPORT_95_DOT_1)))
    sentence = "Tổ chức hội thao & “Bữa cơm công đoàn” cho 300 người lao động <toàn công ty>. "
    long_text = (sentence * 40)[:2990].strip()
    script = {**SCRIPT, "highlights": long_text}
    before = len(zalo.fake.texts(CHAIR))
    await zalo.answer_until(fields, stop="report_file", script=script)
    await zalo.send("bỏ qua")
    review = zalo.fake.texts(CHAIR)[before:]
    last_turn = zalo.last.split("\n\n")
    assert any("kiểm tra lại báo cáo" in part for part in last_turn)
    assert all(len(text) <= 2000 for text in review)
    assert len(zalo.last.split("\n\n")) >= 3  # more than one message for the review
    assert " ".join(long_text.split()) in " ".join(zalo.last.split())  # nothing lost at the cuts
    assert 'gõ "gửi"' in zalo.fake.texts(CHAIR)[-1]  # how to send closes the last part
    assert "Đã nhận báo cáo" in await zalo.send("gửi")


# --- 5. the API's errors --------------------------------------------------------------------------


async def test_a_429_is_retried_after_backoff(fake: FakeZaloServer) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with ZaloClient(FAKE_TOKEN, base_url=fake.base_url, backoff=0.5, sleep=sleep) as client:
        fake.fail_next("sendMessage", 429, times=2)
        result = await client.send_message(CHAIR, "Xin chào")
        assert result["message_id"]
        assert [c.status for c in fake.calls] == [429, 429, 200]
        assert sleeps == [0.5, 1.0]  # exponential backoff

        fake.fail_next("sendMessage", 429, headers={"Retry-After": "3"})
        await client.send_message(CHAIR, "Lần nữa")
        assert sleeps[-1] == 3.0  # Zalo's own wait, when it gives one

        fake.fail_next("sendMessage", 429, times=4)  # one try and three retries, all refused
        with pytest.raises(RetryAfterError) as quota:
            await client.send_message(CHAIR, "Quá hạn mức")
        assert isinstance(quota.value, ZaloQuotaExceededError)
        assert quota.value.seconds == 4.0  # the outbox sender waits this long before the next try
        assert str(quota.value) == "Zalo sendMessage: 429 Quota exceeded"

        fake.fail_next("getMe", 502, times=4)
        with pytest.raises(TransientError) as server:
            await client.get_me()
        assert isinstance(server.value, ZaloServerError)
        assert not isinstance(server.value, UncertainDeliveryError)  # getMe sends nothing: retried, then plain
        assert len(fake.sent("sendMessage")) == 3 + 2 + 4  # each one tried 1 + max_retries times at most
        assert len(fake.sent("getMe")) == 4


@pytest.mark.parametrize("code", [500, 502, 503, 504])
async def test_a_send_answered_with_a_5xx_is_uncertain_and_not_sent_again(fake: FakeZaloServer, code: int) -> None:
    async with ZaloClient(FAKE_TOKEN, base_url=fake.base_url, backoff=0.0, sleep=no_sleep) as client:
        fake.fail_next("sendMessage", code, times=4)
        with pytest.raises(UncertainDeliveryError) as uncertain:
            await client.send_message(CHAIR, "Nhắc hạn nộp báo cáo")
        assert isinstance(uncertain.value, ZaloServerError)
        assert len(fake.sent("sendMessage")) == 1  # no blind retry: Zalo may have delivered it


async def test_a_send_whose_answer_times_out_is_uncertain_and_delivered_once(fake: FakeZaloServer) -> None:
    async with ZaloClient(FAKE_TOKEN, base_url=fake.base_url, timeout=0.2, backoff=0.0, sleep=no_sleep) as client:
        fake.answer_late("sendMessage", 1.0, times=4)
        with pytest.raises(UncertainDeliveryError) as uncertain:
            await client.send_message(CHAIR, "Nhắc hạn nộp báo cáo")
        assert "Timeout" in str(uncertain.value)
        assert FAKE_TOKEN not in str(uncertain.value)
        await asyncio.sleep(1.0)  # the fake finishes the call it held back
    assert fake.texts(CHAIR) == ["Nhắc hạn nộp báo cáo"]  # it did arrive, and only once


async def test_a_send_that_could_not_connect_is_a_plain_transient_error() -> None:
    # Nothing listens on the discard port: the request never left, so a retry cannot deliver twice.
    async with ZaloClient(FAKE_TOKEN, base_url="http://127.0.0.1:9", max_retries=1, backoff=0.0,
                          sleep=no_sleep) as client:
        with pytest.raises(TransientError) as refused:
            await client.send_message(CHAIR, "Nhắc hạn nộp báo cáo")
    assert not isinstance(refused.value, UncertainDeliveryError)


@pytest.mark.parametrize("failure", ["502", "late answer"])
async def test_a_reminder_on_zalo_with_an_uncertain_send_is_recorded_uncertain_and_not_sent_again(
        zalo: ZaloHarness, invite: IssuedInvite, fake: FakeZaloServer, db: Database, failure: str) -> None:
    await zalo.send(invite.code)
    assert (await zalo.planner.plan_once(PLAN_AT)).pending == 1
    before = len(fake.sent("sendMessage"))
    if failure == "502":
        fake.fail_next("sendMessage", 502, times=4)
    else:
        zalo.client.timeout = 0.2
        fake.answer_late("sendMessage", 0.6, times=4)
    stats = await OutboxSender(db, {"zalo": zalo.outbound()}, zalo.clock, per_chat_interval=0,
                               sleep=no_sleep).drain()
    await asyncio.sleep(0.7)  # a late answer's call is finished by the fake
    assert (stats.sent, stats.uncertain, stats.failed) == (0, 1, 0)
    assert len(fake.sent("sendMessage")) == before + 1  # tried once: neither the client nor the outbox retried
    row = await db.fetchone("SELECT status, last_error FROM outbox")
    assert row is not None
    assert row["status"] == "uncertain"
    assert str(row["last_error"]).startswith("uncertain: Zalo sendMessage")


async def test_sends_are_paced_at_the_configured_rate(fake: FakeZaloServer) -> None:
    clock = [100.0]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    async with ZaloClient(FAKE_TOKEN, base_url=fake.base_url, messages_per_second=4, sleep=sleep,
                          monotonic=lambda: clock[0]) as client:
        for i in range(3):
            await client.send_message(CHAIR, f"Tin {i}")
        await client.get_me()  # not a send: not paced
    assert sleeps == [0.25, 0.25]
    assert len(fake.accepted("sendMessage")) == 3


async def test_a_403_on_send_message_is_blocked(zalo: ZaloHarness, invite: IssuedInvite, fake: FakeZaloServer,
                                                db: Database) -> None:
    fake.blocked_chats.add(STRANGER)
    with pytest.raises(BlockedError) as blocked:
        await zalo.outbound().send(STRANGER, [Reply("Nhắc nộp báo cáo")])
    assert isinstance(blocked.value, ZaloForbiddenError)

    # In a conversation: the person is marked unreachable on Zalo.
    await zalo.send(invite.code)
    fake.blocked_chats.add(CHAIR)
    await zalo.send("/hannop")
    row = await db.fetchone("SELECT blocked_at FROM identities WHERE channel = 'zalo' AND external_id = ?", (CHAIR,))
    assert row is not None
    assert row["blocked_at"] is not None


async def test_a_reminder_to_a_person_who_blocked_the_bot_marks_them_blocked(
        zalo: ZaloHarness, invite: IssuedInvite, fake: FakeZaloServer, db: Database) -> None:
    await zalo.send(invite.code)
    fake.blocked_chats.add(CHAIR)
    assert (await zalo.planner.plan_once(PLAN_AT)).pending == 1
    stats = await OutboxSender(db, {"zalo": zalo.outbound()}, zalo.clock, per_chat_interval=0,
                               sleep=no_sleep).drain()
    assert (stats.sent, stats.blocked) == (0, 1)
    row = await db.fetchone("SELECT blocked_at FROM identities WHERE channel = 'zalo'")
    assert row is not None
    assert row["blocked_at"] is not None


async def test_the_token_is_never_logged_nor_shown(fake: FakeZaloServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with ZaloClient(FAKE_TOKEN, base_url=fake.base_url, backoff=0.0, sleep=no_sleep) as client:
        await client.get_me()
        fake.fail_next("sendMessage", 429, times=2)
        await client.send_message(CHAIR, "Xin chào")
        assert FAKE_TOKEN not in repr(client)
    async with ZaloClient(FAKE_TOKEN + "-revoked", base_url=fake.base_url) as wrong:
        with pytest.raises(ZaloUnauthorizedError) as refused:
            await wrong.get_me()
        assert "revoked" not in str(refused.value)
    async with ZaloClient(FAKE_TOKEN, base_url="http://127.0.0.1:9", max_retries=0) as nowhere:
        with pytest.raises(TransientError) as down:
            await nowhere.get_me()
        assert FAKE_TOKEN not in str(down.value)
        assert down.value.__cause__ is None
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)  # httpx did log its requests...
    secret_part = FAKE_TOKEN.split(":")[1]
    for record in caplog.records:
        assert secret_part not in record.getMessage(), record.getMessage()  # ...without the token


# --- 6. photos ------------------------------------------------------------------------------------


async def open_at_photos(zalo: ZaloHarness, invite: IssuedInvite, fields: dict[str, FormField]) -> None:
    await zalo.send(invite.code)
    listing = await zalo.send("/baocao")
    await zalo.send(str(choice_number(listing, *REPORT_95_DOT_1)))
    await zalo.answer_until(fields, stop="photos")


async def test_photos_are_checked_before_they_are_stored(
        zalo: ZaloHarness, invite: IssuedInvite, fields: dict[str, FormField], fake: FakeZaloServer,
        zalo_config: Config) -> None:
    await zalo.send(invite.code)
    early = await zalo.photo(fake.add_photo("early.jpg"))
    assert "chưa cần tệp" in early  # no photo question open
    assert fake.photo_requests == []

    listing = await zalo.send("/baocao")
    await zalo.send(str(choice_number(listing, *REPORT_95_DOT_1)))
    await zalo.answer_until(fields, stop="photos")
    limit = int(zalo_config.uploads.max_photo_mb * 1024 * 1024)
    big = JPEG_BYTES + b"\x00" * limit
    assert "quá lớn" in await zalo.photo(fake.add_photo("big.jpg", big))  # Content-Length says so
    assert "quá lớn" in await zalo.photo(fake.add_photo("big-chunked.jpg", big, declare_length=False))
    refused = await zalo.photo(fake.add_photo("not-a-photo.jpg", b"GIF89a not what it says", "image/jpeg"))
    assert "Không nhận loại tệp này" in refused
    assert ".jpg" in refused
    missing = await zalo.photo(f"{fake.base_url}/photos/gone.jpg")  # 404 at the CDN
    assert missing.strip()
    assert "Đã nhận" not in missing
    assert await zalo.count("attachments") == 0
    assert not (zalo_config.data_dir / "uploads").exists() or not any((zalo_config.data_dir / "uploads").rglob("*.*"))
    assert "photos" not in (await zalo.form())["answers"]

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    assert "Đã nhận 1" in await zalo.photo(fake.add_photo("chart.png", png, "application/octet-stream"))
    row = await zalo.db.fetchone("SELECT mime_type, local_path FROM attachments")
    assert row is not None
    assert row["mime_type"] == "image/png"
    assert row["local_path"].endswith(".png")


async def test_a_redelivered_photo_is_fetched_and_stored_once(
        zalo: ZaloHarness, invite: IssuedInvite, fields: dict[str, FormField], fake: FakeZaloServer) -> None:
    await open_at_photos(zalo, invite, fields)
    update = image_update(CHAIR, fake.add_photo("once.jpg"))
    assert "Đã nhận 1" in await zalo.poll(update)
    response, out = await zalo.deliver(update)  # the same message again, now by webhook
    assert response.status_code == 200
    assert out == ""
    assert await zalo.count("attachments") == 1
    assert fake.photo_requests == ["once.jpg"]


# --- 7. summaries: files as signed links, the chart as a photo ----------------------------------


async def test_a_summary_comes_as_text_signed_links_and_the_chart_as_a_photo(
        zalo: ZaloHarness, db: Database, clock: FakeClock, fake: FakeZaloServer) -> None:
    department = await new_invite(db, clock, unit_code="DL", role=Role.DEPARTMENT)
    await zalo.send(department.code, user=STRANGER)
    zalo.user = STRANGER
    menu = await zalo.send("/tonghop")
    assert "Tổng hợp kỳ báo cáo nào" in menu or "Trả lời bằng số" in menu
    out = await zalo.send(str(choice_number(menu, *REPORT_95_DOT_1)))
    links = [u.rstrip(".,;:)") for u in re.findall(r"(http://127\.0\.0\.1:\d+/zalo/files/\S+)", out)]
    assert len(links) == 2, out  # the workbook and the report; the chart goes as a photo
    assert all(FAKE_TOKEN.split(":")[1] not in link for link in links)
    (photo,) = fake.accepted("sendPhoto")
    assert photo["chat_id"] == STRANGER
    assert photo["photo"].startswith(zalo.base_url + FILES_PATH)
    (fetched,) = fake.fetched  # Zalo fetched the chart from the bot's endpoint
    assert (fetched.status, fetched.content_type) == (200, "image/png")
    assert fetched.size > 100

    async with httpx.AsyncClient(timeout=5) as http:
        xlsx = next(link for link in links if ".xlsx" in link)
        got = await http.get(xlsx)
        assert got.status_code == 200
        assert got.content[:2] == b"PK"  # a zip: the workbook
        assert "attachment" in got.headers["Content-Disposition"]
        expires, signature, rest = xlsx.split(FILES_PATH + "/", 1)[1].split("/", 2)
        base = zalo.base_url + FILES_PATH
        forged = [
            f"{base}/{expires}/{signature[:-2]}xx/{rest}",  # a changed signature
            f"{base}/{int(expires) + 3600}/{signature}/{rest}",  # a later expiry under the old signature
            f"{base}/{expires}/{signature}/{rest.replace('.xlsx', '.docx')}",  # another file
            f"{base}/{expires}/{signature}/..%2F..%2Ftest.sqlite3",  # out of the folder
        ]
        for url in forged:
            assert (await http.get(url)).status_code == 403, url
        clock.advance(hours=25)
        assert (await http.get(xlsx)).status_code == 403  # expired


def test_a_link_cannot_point_outside_the_summaries_folder(tmp_path: Path, clock: FakeClock) -> None:
    root = tmp_path / "summaries"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("x")
    (root / "a.xlsx").write_bytes(b"PK")
    links = FileLinks(b"k" * 32, "https://bot.example.vn", root, clock)
    url, expires_at = links.url_for(root / "a.xlsx")
    assert url.startswith("https://bot.example.vn/zalo/files/")
    assert expires_at == clock.now() + timedelta(hours=24)
    with pytest.raises(ValueError, match="subpath"):
        links.url_for(tmp_path / "secret.txt")
    expires, signature, rest = url.split("/zalo/files/", 1)[1].split("/", 2)
    assert links.resolve(expires, signature, rest) == (root / "a.xlsx").resolve()
    assert links.resolve(expires, signature, "../secret.txt") is None
    other = FileLinks(b"o" * 32, "https://bot.example.vn", root, clock)
    assert other.resolve(expires, signature, rest) is None  # another key


# --- 8. the service: polling and webhook modes ------------------------------------------------------


async def test_the_service_polls_when_configured_so(zalo_config: Config, clock: FakeClock, db: Database,
                                                    fake: FakeZaloServer) -> None:
    settings = ZaloSettings(token=FAKE_TOKEN, mode="polling", api_base=fake.base_url, poll_timeout=1)
    conversation = Conversation(db, clock, VN, zalo_config.locales_dir)
    service = ZaloService(settings, Port(conversation, zalo_config), zalo_config)
    fake.webhook = {"url": "https://old.example/hook"}
    await service.start()
    try:
        fake.queue(text_update(STRANGER, "xin chào"))
        for _ in range(200):
            if fake.texts(STRANGER):
                break
            await _tick()
        assert "mã mời" in fake.texts(STRANGER)[0]
    finally:
        await service.stop()
    assert fake.methods()[0] == "deleteWebhook"  # getUpdates does not work while a webhook is set
    assert fake.webhook is None
    assert service.runner is None  # no public address: no web endpoint needed


async def test_the_service_sets_its_webhook_and_serves_it(zalo_config: Config, clock: FakeClock, db: Database,
                                                          fake: FakeZaloServer) -> None:
    settings = ZaloSettings(token=FAKE_TOKEN, mode="webhook", webhook_url="https://bot.example.vn/zalo/webhook",
                            secret=SECRET, listen="127.0.0.1", port=0, api_base=fake.base_url,
                            public_base_url="https://bot.example.vn")
    conversation = Conversation(db, clock, VN, zalo_config.locales_dir, files_dir=zalo_config.data_dir / "summaries")
    service = ZaloService(settings, Port(conversation, zalo_config), zalo_config)
    await service.start()
    try:
        assert fake.webhook == {"url": "https://bot.example.vn/zalo/webhook", "secret_token": SECRET,
                                "updated_at": fake.webhook["updated_at"]}
        host, port = service.addresses[0][:2]
        url = f"http://{host}:{port}/zalo/webhook"
        assert (await fake.deliver(url, text_update(STRANGER, "xin chào"), secret="nope")).status_code == 403
        assert (await fake.deliver(url, text_update(STRANGER, "xin chào"), secret=SECRET)).status_code == 200
        await service.dispatcher.join()
        assert "mã mời" in fake.texts(STRANGER)[0]
        assert isinstance(service.channel, ZaloChannel)
    finally:
        await service.stop()


async def test_two_bot_processes_with_a_shared_port_serve_zalo_webhooks_on_one_port(
        zalo_config: Config, clock: FakeClock, db: Database, fake: FakeZaloServer) -> None:
    def service_on(port: int) -> ZaloService:
        settings = ZaloSettings(token=FAKE_TOKEN, mode="webhook", webhook_url="https://bot.example.vn/zalo/webhook",
                                secret=SECRET, listen="127.0.0.1", port=port, shared_port=True,
                                api_base=fake.base_url, public_base_url="https://bot.example.vn")
        conversation = Conversation(db, clock, VN, zalo_config.locales_dir)
        return ZaloService(settings, Port(conversation, zalo_config), zalo_config)

    first = service_on(0)
    await first.start()
    port = first.addresses[0][1]
    second = service_on(port)
    try:
        await second.start()  # the same port: refused with "address already in use" without shared_port
        url = f"http://127.0.0.1:{port}/zalo/webhook"
        for _ in range(10):
            assert (await fake.deliver(url, text_update(STRANGER, "xin chào"), secret=SECRET)).status_code == 200
        await first.dispatcher.join()
        await second.dispatcher.join()
        assert len(fake.texts(STRANGER)) == 10  # every update answered once, whichever process took it
    finally:
        await second.stop()
        await first.stop()


def test_settings_refuse_a_webhook_without_https_or_a_good_secret() -> None:
    with pytest.raises(ValueError, match="https"):
        ZaloSettings(token=FAKE_TOKEN, mode="webhook", webhook_url="http://bot.example.vn/zalo/webhook", secret=SECRET)
    for secret in [None, "short", "x" * 257]:
        with pytest.raises(ValueError, match="ZALO_WEBHOOK_SECRET"):
            ZaloSettings(token=FAKE_TOKEN, mode="webhook", webhook_url="https://bot.example.vn/h", secret=secret)
    with pytest.raises(ValueError, match="token"):
        ZaloSettings(token="")
    assert ZaloSettings(token=FAKE_TOKEN, mode="webhook", webhook_url="https://b.vn", secret=SECRET).webhook_path \
        == WEBHOOK_PATH


async def _tick() -> None:
    await asyncio.sleep(0.01)


# --- 9. the same form on three channels -----------------------------------------------------------


async def fill_on_telegram(db: Database, clock: FakeClock, config: Config, fields: dict[str, FormField]) -> None:
    """Telegram's semantics straight through the conversation: buttons are presses of offered actions."""
    conversation = Conversation(db, clock, VN, config.locales_dir)
    invite = await new_invite(db, clock)
    sender = Sender(Channel.TELEGRAM, "7001001", "7001001", "Nguyễn Thị Hoa", None, "vi")
    response = await conversation.handle(sender, Command("start", invite.code))
    response = await conversation.handle(sender, Command("baocao"))
    choice = next(b for r in response.replies for b in r.choices if all(p in b.label for p in REPORT_95_DOT_1))
    response = await conversation.handle(sender, Press(response.version, choice.action))
    person = await people_store.person_by_identity(db, Channel.TELEGRAM, "7001001")
    assert person is not None

    async def press(action: str) -> Response:
        return await conversation.handle(sender, Press(response.version, action))

    for _ in range(80):
        draft = await draft_store.load(db, person.id)
        assert draft is not None
        if draft.state.get("mode") != "form":
            break
        form = draft.state["form"]
        if form["phase"] == "review":
            response = await press("submit")
            continue
        if form["phase"] == "confirm_value":
            response = await press("yes")
            continue
        answer = SCRIPT[form["current"]]
        if isinstance(answer, Skip):
            response = await press("skip")
        elif isinstance(answer, bool):
            response = await press("yes" if answer else "no")
        elif isinstance(answer, Pick):
            for value in answer.values:
                response = await press(f"t:{value}")
            response = await press("done")
        else:
            response = await conversation.handle(sender, TextInput(answer))
    assert any("BC-" in r.text for r in response.replies)


async def fill_on_zalo(db: Database, clock: FakeClock, config: Config, fields: dict[str, FormField]) -> None:
    async with FakeZaloServer() as fake:
        harness = ZaloHarness(config, clock, db, fake)
        await harness.start()
        try:
            await harness.send((await new_invite(db, clock)).code)
            await harness.send("/baocao")
            receipt = await harness.answer_until(fields)
            assert "BC-" in receipt
        finally:
            await harness.stop()
        harness.assert_healthy()


async def fill_on_terminal(db: Database, clock: FakeClock, config: Config, fields: dict[str, FormField]) -> None:
    out = RecordingOutput()
    seen = 0

    def read(_prompt: str) -> str:
        nonlocal seen
        new = "\n".join(out.lines[seen:])
        seen = len(out.lines)
        answer = text_answer(new, fields, SCRIPT)
        if answer is None:
            raise EOFError
        return answer

    conversation = Conversation(db, clock, VN, config.locales_dir)
    session = TerminalSession(Port(conversation, config), Translator("vi", config.locales_dir), read, out,
                              user="hoa")
    unit = await unit_store.by_code(db, UNIT_CODE)
    assert unit is not None
    await session.chat(unit)
    assert "Đã nhận báo cáo" in out.text


@pytest.mark.parametrize("channel", ["telegram", "zalo", "terminal"])
async def test_the_same_form_stores_the_same_answers_on_every_channel(
        channel: str, db: Database, clock: FakeClock, zalo_config: Config, fields: dict[str, FormField]) -> None:
    fill = {"telegram": fill_on_telegram, "zalo": fill_on_zalo, "terminal": fill_on_terminal}[channel]
    await fill(db, clock, zalo_config, fields)
    unit = await unit_store.by_code(db, UNIT_CODE)
    assert unit is not None
    (submission,) = (await submission_store.of_unit(db, unit.id)).values()
    assert await submission_store.latest_answers(db, submission.id) == EXPECTED_ANSWERS
    (revision,) = await submission_store.revisions(db, submission.id)
    assert revision.channel == channel


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def test_on_the_terminal_a_photo_is_sent_by_typing_where_the_file_is(
        db: Database, clock: FakeClock, zalo_config: Config, fields: dict[str, FormField], tmp_path: Path) -> None:
    """The terminal has no upload button: at a photo question the chair types the file's path (or drags the
    file in, which pastes it quoted). The file is checked like a Telegram upload and copied into the data folder."""
    png = tmp_path / "ảnh hoạt động.png"
    png.write_bytes(PNG_BYTES)
    big = tmp_path / "big.png"
    big.write_bytes(PNG_BYTES * 20)
    not_an_image = tmp_path / "ghi-chu.jpg"
    not_an_image.write_text("không phải ảnh")
    photo_lines = [str(tmp_path / "khong-co.jpg"), str(not_an_image), str(big), f"'{png}'", "xong"]
    out = RecordingOutput()
    seen, at_photos = 0, False

    def read(_prompt: str) -> str:
        nonlocal seen, at_photos
        new = "\n".join(out.lines[seen:])
        seen = len(out.lines)
        if not at_photos:
            question = current_question(new, fields)
            at_photos = question is not None and question.name == "photos"
        if at_photos and photo_lines:
            return photo_lines.pop(0)
        answer = text_answer(new, fields, SCRIPT)
        if answer is None:
            raise EOFError
        return answer

    rules = zalo_config.uploads.model_copy(update={"max_photo_mb": 0.01})  # 10 KB: big.png (20 KB) is over
    session = TerminalSession(Port(Conversation(db, clock, VN, zalo_config.locales_dir),
                                   zalo_config.model_copy(update={"uploads": rules})),
                              Translator("vi", zalo_config.locales_dir), read, out, user="hoa")
    unit = await unit_store.by_code(db, UNIT_CODE)
    assert unit is not None
    await session.chat(unit)

    text = out.text
    assert "gõ đường dẫn tới tệp, ví dụ ~/Pictures/hoat-dong.jpg" in text  # said at the photo question
    assert f"Không có tệp nào ở {tmp_path / 'khong-co.jpg'}" in text
    assert "Không nhận loại tệp này. Xin gửi tệp .jpg, .png, .webp." in text  # a text file named .jpg
    assert "Tệp quá lớn (0,02 MB); giới hạn là 0,01 MB." in text
    assert "Đã nhận 1 (tối đa 5)" in text
    assert "Đã nhận báo cáo" in text
    (submission,) = (await submission_store.of_unit(db, unit.id)).values()
    answers = await submission_store.latest_answers(db, submission.id)
    assert answers == {**EXPECTED_ANSWERS, "photos": answers["photos"]}
    (attachment_id,) = answers["photos"]
    row = await db.fetchone("SELECT * FROM attachments WHERE id = ?", (attachment_id,))
    assert row is not None
    assert (row["channel"], row["file_name"], row["mime_type"]) == ("terminal", "ảnh hoạt động.png", "image/png")
    assert row["sha256"] == hashlib.sha256(PNG_BYTES).hexdigest()
    kept = Path(row["local_path"])
    assert kept.parent == zalo_config.data_dir / "uploads" / str(unit.id)
    assert kept.read_bytes() == PNG_BYTES
    assert await db.fetchval("SELECT count(*) FROM attachments") == 1  # nothing stored for the refused files


def test_a_typed_line_is_a_path_only_when_it_reads_like_one(tmp_path: Path) -> None:
    suffixes = frozenset((*uploads.PHOTO_TYPES, *UploadsConfig().document_types))
    assert _typed_path("xong", suffixes) is None
    assert _typed_path("bỏ qua", suffixes) is None
    assert _typed_path("/huy", suffixes) is None  # a command
    assert _typed_path("  ", suffixes) is None
    assert _typed_path("/tmp/a.jpg", suffixes) == Path("/tmp/a.jpg")
    assert _typed_path("bao-cao.PDF", suffixes) == Path("bao-cao.PDF")
    assert _typed_path("~/anh.png", suffixes) == Path.home() / "anh.png"
    assert _typed_path(f'"{tmp_path}/hai từ.png"', suffixes) == tmp_path / "hai từ.png"
    assert _typed_path("/home/lan/hai\\ tu.png", suffixes) == Path("/home/lan/hai tu.png")
    # A bare file name reads as a path only with an ending the session takes (its document types, photos).
    assert _typed_path("bang-tinh.ods", suffixes) is None
    assert _typed_path("bang-tinh.ods", suffixes | {".ods"}) == Path("bang-tinh.ods")
    assert _typed_path("anh.webp", frozenset(uploads.PHOTO_TYPES)) == Path("anh.webp")


# --- review and approval (issue 15) ---------------------------------------------------------------


async def test_a_reviewer_returns_a_report_on_zalo_and_the_chair_corrects_the_flagged_question(
        zalo: ZaloHarness, invite: IssuedInvite, db: Database, clock: FakeClock, fake: FakeZaloServer) -> None:
    officer = "f0f1f2f3f4f5f6f7f8f9"
    await zalo.send(invite.code)
    chair_id = await zalo.person_id()
    assert chair_id is not None
    unit = await unit_store.by_code(db, UNIT_CODE)
    assert unit is not None
    period_id = await db.fetchval("SELECT id FROM periods WHERE campaign_id = 'daklak-95-nam-cdvn-2024' AND "
                                  "key = 'dot-1'")
    async with db.transaction() as tx:
        row = await submission_store.record(tx, period_id=period_id, unit_id=unit.id, person_id=chair_id,
                                            channel="zalo", answers={"propaganda_sessions": 12}, now=clock.now(),
                                            late=False)
    await zalo.send((await new_invite(db, clock, unit_code="DL-BMT", role=Role.OFFICER)).code, user=officer)
    screen = await zalo.send("duyệt", user=officer)  # the plain word, numbered choices
    assert "Công đoàn Công ty TNHH MTV Cà phê Buôn Ma Thuột" in screen
    asked = await zalo.send(str(choice_number(screen, "Trả lại")), user=officer)
    assert "Vì sao trả lại" in asked
    assert "Xin ghi lý do trả lại" in await zalo.send("...", user=officer)
    picking = await zalo.send("Số buổi tuyên truyền chưa đúng", user=officer)
    assert "Gõ số thứ tự" in picking
    await zalo.send("1", user=officer)
    confirm = await zalo.send("xong", user=officer)
    done = await zalo.send(str(choice_number(confirm, "Trả lại")), user=officer)
    assert "Đã trả lại báo cáo" in done
    # The chair's message goes out on Zalo, in words: there is no button, type /danop.
    sender = OutboxSender(db, {"zalo": zalo.outbound()}, clock, per_chat_interval=0, sleep=no_sleep)
    assert (await sender.drain()).sent == 1
    message = fake.texts(CHAIR)[-1]
    assert "Số buổi tuyên truyền chưa đúng" in message
    assert "/danop" in message
    listing = await zalo.send("/danop")
    assert "(bị trả lại để sửa)" in listing
    opened = await zalo.send(str(choice_number(listing, row.reference)))
    assert "trả lại. Lý do: Số buổi tuyên truyền chưa đúng" in opened  # at the flagged question, with why
    assert "Câu trả lời hiện tại: 12" in opened
