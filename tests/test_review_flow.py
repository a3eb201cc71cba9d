"""/duyet through the Conversation (issue 15): approve, return with a reason and the questions concerned, the
chair's correction at the flagged question, the resubmission back in the queue, reopening, and every refusal."""

from __future__ import annotations

from bot.conversation import Press, Response, Sender
from bot.dialog.model import TextInput
from bot.domain import Channel, Role
from storage import outbox, reviews
from storage import submissions as submission_store
from storage.db import Write
from tests.test_conversation import CHAIR, OFFICER, World, press_label, text_of

ROUND_1 = "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1"
OFFICER_2 = Sender(Channel.TELEGRAM, "2003", "2003", "Lê Thị Mai", None, "vi")
FAR_OFFICER = Sender(Channel.TELEGRAM, "2004", "2004", "Phạm Văn Khoa", None, "vi")
ZALO_OFFICER = Sender(Channel.ZALO, "z-2005", "z-2005", "Đỗ Văn Hùng", None, "vi")


async def _submitted(world: World) -> int:
    """The chair of DL-BMT-001 files round 1 (12 sessions); the officer of DL-BMT reviews it."""
    await world.register(CHAIR, "DL-BMT-001")
    await world.register(OFFICER, "DL-BMT", Role.OFFICER)
    response = await world.answer_all(CHAIR, await world.open_report(CHAIR, ROUND_1))
    await world.conv.handle(CHAIR, Press(response.version, "submit"))
    return int(await world.db.fetchval("SELECT id FROM submissions"))


async def _press(world: World, sender: Sender, response: Response, action: str) -> Response:
    assert action in [a for r in response.replies for a in r.actions], text_of(response)
    return await world.conv.handle(sender, Press(response.version, action))


async def _state(world: World, sub_id: int) -> str:
    status = await reviews.status_of(world.db, sub_id)
    assert status is not None
    return status.state


async def test_the_reviewer_sees_the_waiting_report_and_approves_it(world: World) -> None:
    sub_id = await _submitted(world)
    screen = await world.conv.handle(OFFICER, TextInput("duyệt"))  # the plain word works as the command
    text = text_of(screen)
    assert "1 báo cáo đang chờ đồng chí duyệt" in text
    assert "Công đoàn Công ty TNHH MTV Cà phê Buôn Ma Thuột" in text
    assert "1. Số buổi tuyên truyền" in text or "Số buổi" in text
    done = await _press(world, OFFICER, screen, "rv:ok")
    assert "✅ Đã duyệt" in text_of(done)
    assert "Không còn báo cáo nào chờ đồng chí duyệt" in text_of(done)
    assert await _state(world, sub_id) == "approved"
    [event] = await reviews.history(world.db, sub_id)
    assert (event.action, event.actor_name, event.revision) == ("approved", "Trần Văn Nam", 1)


async def test_an_approved_report_refuses_the_chairs_correction_with_who_and_when(world: World) -> None:
    await _submitted(world)
    world.clock.advance(hours=2)
    await _press(world, OFFICER, await world.conv.handle(OFFICER, TextInput("/duyet")), "rv:ok")
    listing = await world.conv.handle(CHAIR, TextInput("/danop"))
    assert "(đã duyệt)" in text_of(listing)
    refused = await press_label(world.conv, CHAIR, listing, "BC-")
    assert "đã được Trần Văn Nam duyệt lúc 10:00 02/08/2024" in text_of(refused)
    assert (await world.state(CHAIR))["mode"] == "idle"


async def test_a_return_needs_a_reason_and_a_long_one_is_cut_with_a_notice(world: World) -> None:
    sub_id = await _submitted(world)
    screen = await world.conv.handle(OFFICER, TextInput("/duyet"))
    asked = await _press(world, OFFICER, screen, "rv:ret")
    assert "ví dụ" in text_of(asked)
    for empty in ("   ", "...", "—"):
        refused = await world.conv.handle(OFFICER, TextInput(empty))
        assert "Xin ghi lý do trả lại, ví dụ" in text_of(refused)
    assert await _state(world, sub_id) == "submitted"
    long_reason = "Số liệu chưa khớp. " * 100  # 1.900 characters
    fields = await world.conv.handle(OFFICER, TextInput(long_reason))
    assert "dài quá 1.000 ký tự" in text_of(fields)
    confirm = await _press(world, OFFICER, fields, "done")
    done = await _press(world, OFFICER, confirm, "rv:send")
    assert "Đã trả lại báo cáo" in text_of(done)
    event = await reviews.last_event(world.db, sub_id, "returned")
    assert event is not None
    assert event.reason == long_reason.strip()[:1000]


async def test_return_reaches_the_chair_who_corrects_the_flagged_question_and_it_waits_again(world: World) -> None:
    sub_id = await _submitted(world)
    screen = await world.conv.handle(OFFICER, TextInput("/duyet"))
    asked = await _press(world, OFFICER, screen, "rv:ret")
    fields = await world.conv.handle(OFFICER, TextInput("Số buổi tuyên truyền chưa đúng"))
    picked = await _press(world, OFFICER, fields, "rf:1")
    assert "✓ 1." in " ".join(b.label for r in picked.replies for b in r.choices)
    confirm = await _press(world, OFFICER, picked, "done")
    assert "Lý do: Số buổi tuyên truyền chưa đúng" in text_of(confirm)
    done = await _press(world, OFFICER, confirm, "rv:send")
    assert "Đã báo cho 1 chủ tịch" in text_of(done)
    assert asked is not None
    assert await _state(world, sub_id) == "returned"
    # The chair's message is in the outbox, on the chair's channel, with the reason and one button.
    [row] = await outbox.claim(world.db, world.clock.now(), 10)
    assert (row.kind, row.channel, row.payload["chat_id"]) == ("review", "telegram", CHAIR.chat_id)
    assert "Số buổi tuyên truyền chưa đúng" in row.payload["text"]
    [[_label, action]] = row.payload["choices"]
    # The chair presses it (a message outside any dialog: no version) and lands on the flagged question.
    opened = await world.conv.handle(CHAIR, Press(0, action))
    assert "Bị Trần Văn Nam trả lại. Lý do: Số buổi tuyên truyền chưa đúng" in text_of(opened)
    assert "Câu trả lời hiện tại: 12 buổi" in text_of(opened)
    at_review = await world.conv.handle(CHAIR, TextInput("7"))
    receipt = await _press(world, CHAIR, at_review, "submit")
    assert "Đã nhận bản sửa (lần 2)" in text_of(receipt)
    assert await _state(world, sub_id) == "submitted"
    assert [e.action for e in await reviews.history(world.db, sub_id)] == ["returned", "resubmitted"]
    # Back in the reviewer's queue, with what changed.
    again = await world.conv.handle(OFFICER, TextInput("/duyet"))
    assert "Thay đổi so với lần 1" in text_of(again)
    assert "12 buổi → 7 buổi" in text_of(again)
    assert "Lý do lần trả lại trước: Số buổi tuyên truyền chưa đúng" in text_of(again)


async def test_two_reviewers_at_once_one_wins_and_the_other_is_told(world: World) -> None:
    sub_id = await _submitted(world)
    await world.register(OFFICER_2, "DL-BMT", Role.OFFICER)
    first = await world.conv.handle(OFFICER, TextInput("/duyet"))
    second = await world.conv.handle(OFFICER_2, TextInput("/duyet"))
    await _press(world, OFFICER, first, "rv:ok")
    asked = await _press(world, OFFICER_2, second, "rv:ret")
    fields = await world.conv.handle(OFFICER_2, TextInput("Thiếu ảnh"))
    confirm = await _press(world, OFFICER_2, fields, "done")
    told = await _press(world, OFFICER_2, confirm, "rv:send")
    assert "đã có người khác duyệt hoặc trả lại" in text_of(told)
    assert asked is not None
    assert await _state(world, sub_id) == "approved"
    assert [e.actor_name for e in await reviews.history(world.db, sub_id)] == ["Trần Văn Nam"]
    assert await world.db.fetchval("SELECT count(*) FROM outbox WHERE kind = 'review'") == 0


async def test_a_decision_on_a_replaced_revision_is_refused_and_the_new_one_shown(world: World) -> None:
    sub_id = await _submitted(world)
    screen = await world.conv.handle(OFFICER, TextInput("/duyet"))
    listing = await world.conv.handle(CHAIR, TextInput("/danop"))  # the chair corrects meanwhile
    review = await press_label(world.conv, CHAIR, listing, "BC-")
    await _press(world, CHAIR, review, "submit")
    refused = await _press(world, OFFICER, screen, "rv:ok")
    assert "đã được nộp lại sau khi đồng chí mở ra" in text_of(refused)
    assert "lần 2" in text_of(refused)  # the next screen is the new revision
    assert await _state(world, sub_id) == "submitted"
    assert await reviews.history(world.db, sub_id) == []


async def test_outside_the_subtree_nothing_is_listed_opened_or_decided(world: World) -> None:
    sub_id = await _submitted(world)
    await world.register(FAR_OFFICER, "DL-KP", Role.OFFICER)
    assert "Không có báo cáo nào chờ đồng chí duyệt" in text_of(await world.conv.handle(FAR_OFFICER,
                                                                                         TextInput("/duyet")))
    ref = await world.db.fetchval("SELECT reference FROM submissions")
    opened = await world.conv.handle(FAR_OFFICER, TextInput(f"/duyet {ref}"))
    assert "Cà phê Buôn Ma Thuột" not in text_of(opened)
    # A chair does not review, not even their own unit.
    assert "dành cho cán bộ công đoàn cấp trên" in text_of(await world.conv.handle(CHAIR, TextInput("/duyet")))
    # A reviewer whose membership is revoked while the screen is open decides nothing.
    screen = await world.conv.handle(OFFICER, TextInput("/duyet"))
    await world.db.write([Write("UPDATE memberships SET revoked_at = 'x' WHERE role = 'officer'")])
    refused = await _press(world, OFFICER, screen, "rv:ok")
    assert "không còn duyệt báo cáo của đơn vị này" in text_of(refused)
    assert await _state(world, sub_id) == "submitted"


async def test_reopening_an_approved_report_lets_the_chair_correct_it(world: World) -> None:
    sub_id = await _submitted(world)
    await _press(world, OFFICER, await world.conv.handle(OFFICER, TextInput("/duyet")), "rv:ok")
    ref = await world.db.fetchval("SELECT reference FROM submissions")
    screen = await world.conv.handle(OFFICER, TextInput(f"/duyet {ref}"))
    assert "Đã được Trần Văn Nam duyệt" in text_of(screen)
    asked = await _press(world, OFFICER, screen, "rv:reopen")
    confirm = await world.conv.handle(OFFICER, TextInput("Cần bổ sung ảnh"))
    assert "Mở lại báo cáo đã duyệt" in text_of(confirm)
    done = await _press(world, OFFICER, confirm, "rv:send")
    assert "Đã mở lại" in text_of(done)
    assert asked is not None
    assert await _state(world, sub_id) == "submitted"
    listing = await world.conv.handle(CHAIR, TextInput("/danop"))
    review = await press_label(world.conv, CHAIR, listing, "BC-")
    receipt = await _press(world, CHAIR, review, "submit")
    assert "Đã nhận bản sửa (lần 2)" in text_of(receipt)
    revisions = await submission_store.revisions(world.db, sub_id)
    assert len(revisions) == 2


async def test_a_value_far_from_the_previous_period_is_flagged(world: World) -> None:
    await world.register(OFFICER, "DL-BMT", Role.OFFICER)
    unit_id = await world.db.fetchval("SELECT id FROM units WHERE code = 'DL-BMT-001'")
    rows = {r["key"]: r["id"] for r in await world.db.fetchall("SELECT id, key FROM periods WHERE campaign_id = "
                                                                 "'daklak-95-nam-cdvn-2024'")}
    person = await world.db.fetchval("SELECT person_id FROM identities WHERE external_id = ?", (OFFICER.external_id,))
    for key, sessions, participants in (("dot-1", 10, 200), ("dot-2", 31, 210)):
        async with world.db.transaction() as tx:
            await submission_store.record(tx, period_id=rows[key], unit_id=unit_id, person_id=person,
                                          channel="telegram", now=world.clock.now(), late=False,
                                          answers={"propaganda_sessions": sessions,
                                                   "propaganda_participants": participants})
    first = await world.conv.handle(OFFICER, TextInput("/duyet"))  # round 1: no earlier period to compare with
    assert "Đợt 1" in first.replies[-1].title  # type: ignore[operator]
    assert "chênh lệch nhiều" not in text_of(first)
    second = text_of(await _press(world, OFFICER, first, "rv:skip"))
    assert "chênh lệch nhiều so với kỳ trước (10 buổi)" in second  # 31 > 3 × 10
    assert second.count("chênh lệch nhiều") == 1  # 210 participants is near last period's 200


async def test_the_reviewer_side_works_with_numbered_text_on_zalo(world: World) -> None:
    sub_id = await _submitted(world)
    await world.register(ZALO_OFFICER, "DL-BMT", Role.OFFICER)
    screen = await world.conv.handle(ZALO_OFFICER, TextInput("duyet"))
    assert "1. ✅ Duyệt" in text_of(screen) or "✅ Duyệt" in [b.label for b in screen.replies[-1].choices]
    asked = await world.conv.handle(ZALO_OFFICER, TextInput("2"))  # 2 = Trả lại
    assert "Vì sao trả lại báo cáo này" in text_of(asked)
    fields = await world.conv.handle(ZALO_OFFICER, TextInput("Sai số liệu mục 1"))
    assert "Gõ số thứ tự" in text_of(fields)
    picked = await world.conv.handle(ZALO_OFFICER, TextInput("1, 2"))
    confirm = await world.conv.handle(ZALO_OFFICER, TextInput("xong"))
    assert "Các mục: " in text_of(confirm)
    assert picked is not None
    done = await world.conv.handle(ZALO_OFFICER, TextInput("1"))  # 1 = Trả lại
    assert "Đã trả lại báo cáo" in text_of(done)
    event = await reviews.last_event(world.db, sub_id, "returned")
    assert event is not None
    assert (event.reason, len(event.fields)) == ("Sai số liệu mục 1", 2)


async def test_a_count_of_people_above_the_units_member_count_is_flagged(world: World) -> None:
    await world.register(OFFICER, "DL-BMT", Role.OFFICER)
    unit_id = await world.db.fetchval("SELECT id FROM units WHERE code = 'DL-BMT-001'")
    period_id = await world.db.fetchval("SELECT id FROM periods WHERE campaign_id = "
                                        "'binhdinh-cdvc-thang-cong-nhan-2021' AND key = 'ket-qua'")
    person = await world.db.fetchval("SELECT person_id FROM identities WHERE external_id = ?", (OFFICER.external_id,))
    async with world.db.transaction() as tx:
        await submission_store.record(tx, period_id=period_id, unit_id=unit_id, person_id=person, channel="telegram",
                                      now=world.clock.now(), late=False,
                                      answers={"members_total": 40, "contest_participants": 45, "initiatives": 60})
    text = text_of(await world.conv.handle(OFFICER, TextInput("/duyet")))
    assert "lớn hơn số đoàn viên của đơn vị (40)" in text  # 45 contestants of 40 members
    assert text.count("lớn hơn số đoàn viên") == 1  # initiatives count ideas, not people


async def test_a_correction_sent_after_the_report_was_approved_meanwhile_is_refused_and_nothing_stored(
        world: World) -> None:
    sub_id = await _submitted(world)
    listing = await world.conv.handle(CHAIR, TextInput("/danop"))
    review = await press_label(world.conv, CHAIR, listing, "BC-")  # the correction is open...
    world.clock.advance(minutes=5)
    await _press(world, OFFICER, await world.conv.handle(OFFICER, TextInput("/duyet")), "rv:ok")  # ...approved
    refused = await _press(world, CHAIR, review, "submit")
    assert "đã được Trần Văn Nam duyệt lúc 08:05 02/08/2024" in text_of(refused)
    assert "Đã nhận" not in text_of(refused)
    assert len(await submission_store.revisions(world.db, sub_id)) == 1
    assert (await world.state(CHAIR))["mode"] == "idle"
    again = await world.conv.handle(CHAIR, TextInput("/danop"))  # the chair's dialog goes on normally
    assert "(đã duyệt)" in text_of(again)


async def test_the_returned_reports_button_opens_nothing_for_someone_else(world: World) -> None:
    sub_id = await _submitted(world)
    other_chair = Sender(Channel.TELEGRAM, "1009", "1009", "Hồ Văn Tư", None, "vi")
    await world.register(other_chair, "DL-BMT-002")
    refused = await world.conv.handle(other_chair, Press(0, f"fix:{sub_id}"))
    assert "không sửa được báo cáo này" in text_of(refused)
    assert "Cà phê Buôn Ma Thuột" not in text_of(refused)
    assert (await world.state(other_chair))["mode"] == "idle"
    forged = await world.conv.handle(other_chair, Press(0, "fix:abc"))
    assert "không sửa được báo cáo này" in text_of(forged)


async def test_a_refused_reason_or_choice_keeps_the_back_and_done_moves(world: World) -> None:
    await _submitted(world)
    asked = await _press(world, OFFICER, await world.conv.handle(OFFICER, TextInput("/duyet")), "rv:ret")
    refused = await world.conv.handle(OFFICER, TextInput("..."))
    assert "Xin ghi lý do trả lại" in text_of(refused)
    assert "back" in [a for r in refused.replies for a in r.actions]
    fields = await world.conv.handle(OFFICER, TextInput("Thiếu ảnh hoạt động"))
    wrong = await world.conv.handle(OFFICER, TextInput("99"))
    assert "Xin chọn câu hỏi từ 1 đến" in text_of(wrong)
    assert {"done", "back", "rf:1"} <= {a for r in wrong.replies for a in r.actions}
    assert asked is not None
    assert fields is not None


async def test_typed_back_words_go_back_on_text_channels(world: World) -> None:
    await _submitted(world)
    await world.register(ZALO_OFFICER, "DL-BMT", Role.OFFICER)
    await world.conv.handle(ZALO_OFFICER, TextInput("/duyet"))
    asked = await world.conv.handle(ZALO_OFFICER, TextInput("2"))
    assert "Vì sao trả lại" in text_of(asked)
    back = await world.conv.handle(ZALO_OFFICER, TextInput("quay lại"))
    assert "Nội dung báo cáo:" in text_of(back)  # the report's screen again, nothing decided
    assert (await world.state(ZALO_OFFICER))["mode"] == "review"
