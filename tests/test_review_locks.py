"""Locks and the roll-up rule of review (issue 15, items 4 and 5): the close date locks every report unless a lock
exception is active (/mokhoa, audited; automatic for a report returned after closing); an upper level's own report
is approved only when its units' reports are approved or excused (/mien), unless the campaign switches that off."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from bot.campaigns import load_campaign_bytes
from bot.conversation import Command, Press, Response, Sender
from bot.dialog.model import TextInput
from bot.domain import Channel, Role
from bot.review_rules import open_children
from storage import campaigns as campaign_store
from storage import reviews
from storage import submissions as submission_store
from storage import units as unit_store
from tests.test_conversation import CHAIR, OFFICER, World, press_label, text_of

ROUND_1 = "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1"
DAKLAK_95 = "daklak-95-nam-cdvn-2024"
DEPT = Sender(Channel.TELEGRAM, "4001", "4001", "Hoàng Thị Lan", None, "vi")
FAR_OFFICER = Sender(Channel.TELEGRAM, "2004", "2004", "Phạm Văn Khoa", None, "vi")
ZALO_OFFICER = Sender(Channel.ZALO, "z-2005", "z-2005", "Đỗ Văn Hùng", None, "vi")


async def _submitted(world: World) -> int:
    await world.register(CHAIR, "DL-BMT-001")
    await world.register(OFFICER, "DL-BMT", Role.OFFICER)
    response = await world.answer_all(CHAIR, await world.open_report(CHAIR, ROUND_1))
    await world.conv.handle(CHAIR, Press(response.version, "submit"))
    return int(await world.db.fetchval("SELECT id FROM submissions"))


async def _after_closing(world: World, sub_id: int) -> None:
    row = await submission_store.by_id(world.db, sub_id)
    assert row is not None
    period = await campaign_store.period_by_id(world.db, row.period_id)
    assert period is not None
    world.clock.set(period.closes_at + timedelta(hours=2))


async def _record(world: World, sub_id: int) -> submission_store.SubmissionRow:
    row = await submission_store.by_id(world.db, sub_id)
    assert row is not None
    async with world.db.transaction() as tx:
        return await submission_store.record(tx, period_id=row.period_id, unit_id=row.unit_id, person_id=1,
                                             channel="telegram", answers={"propaganda_sessions": 4},
                                             now=world.clock.now(), late=True)


async def test_a_new_revision_after_closing_is_refused_unless_a_lock_exception_is_active(world: World) -> None:
    sub_id = await _submitted(world)
    await _after_closing(world, sub_id)
    with pytest.raises(reviews.ReportLockedError):
        await _record(world, sub_id)
    row = await submission_store.by_id(world.db, sub_id)
    assert row is not None
    assert row.revision == 1
    now = world.clock.now()
    await reviews.grant_lock_exception(world.db, period_id=row.period_id, unit_id=row.unit_id,
                                       until=now + timedelta(days=2), reason="Bổ sung số liệu", granted_by=None,
                                       now=now)
    assert (await _record(world, sub_id)).revision == 2
    world.clock.advance(days=3)  # the exception has run out
    with pytest.raises(reviews.ReportLockedError):
        await _record(world, sub_id)
    audited = await world.db.fetchall("SELECT action, detail FROM audit_log WHERE action = 'lock_exception'")
    assert len(audited) == 1
    assert "Bổ sung số liệu" in audited[0]["detail"]


async def test_mokhoa_lets_the_chair_correct_a_closed_report_and_is_audited(world: World) -> None:
    sub_id = await _submitted(world)
    await _after_closing(world, sub_id)
    refused = await press_label(world.conv, CHAIR, await world.conv.handle(CHAIR, TextInput("/danop")), "BC-")
    assert "khóa sổ" in text_of(refused)
    granted = await world.conv.handle(OFFICER, Command("mokhoa", "DL-BMT-001 5 đơn vị bổ sung ảnh hoạt động"))
    assert "🔓 Công đoàn Công ty TNHH MTV Cà phê Buôn Ma Thuột" in text_of(granted)
    opened = await press_label(world.conv, CHAIR, await world.conv.handle(CHAIR, TextInput("/danop")), "BC-")
    assert (await world.state(CHAIR))["mode"] == "form", text_of(opened)
    [audit] = await world.db.fetchall("SELECT actor, detail FROM audit_log WHERE action = 'lock_exception'")
    assert "đơn vị bổ sung ảnh hoạt động" in audit["detail"]


async def test_mokhoa_refuses_a_missing_reason_a_bad_day_count_and_units_outside_the_scope(world: World) -> None:
    sub_id = await _submitted(world)
    await _after_closing(world, sub_id)
    await world.register(FAR_OFFICER, "DL-KP", Role.OFFICER)
    no_reason = await world.conv.handle(OFFICER, Command("mokhoa", "DL-BMT-001 5"))
    assert "ví dụ /mokhoa" in text_of(no_reason)
    for bad in ("DL-BMT-001 0 lý do", "DL-BMT-001 bảy lý do", "DL-BMT-001 500 lý do", ""):
        assert "số ngày" in text_of(await world.conv.handle(OFFICER, Command("mokhoa", bad))), bad
    too_long = await world.conv.handle(OFFICER, Command("mokhoa", "DL-BMT-001 5 " + "x" * 1001))
    assert "1.000" in text_of(too_long)
    outside = await world.conv.handle(FAR_OFFICER, Command("mokhoa", "DL-BMT-001 5 lý do hợp lệ"))
    assert "DL-BMT-001" in text_of(outside)
    assert "🔓" not in text_of(outside)
    chair = await world.conv.handle(CHAIR, Command("mokhoa", "DL-BMT-001 5 lý do hợp lệ"))
    assert "🔓" not in text_of(chair)
    assert await reviews.lock_exceptions(world.db, (await submission_store.by_id(world.db, sub_id)).period_id) == []  # type: ignore[union-attr]


async def test_a_report_returned_after_closing_gets_a_lock_exception_for_the_configured_time(world: World) -> None:
    sub_id = await _submitted(world)
    await _after_closing(world, sub_id)
    world.conv.review = world.conv.review.model_copy(update={"return_unlock_days": 4})
    screen = await world.conv.handle(OFFICER, TextInput("/duyet"))
    await world.conv.handle(OFFICER, Press(screen.version, "rv:ret"))
    fields = await world.conv.handle(OFFICER, TextInput("Thiếu số đoàn viên mới kết nạp"))
    asked = await world.conv.handle(OFFICER, Press(fields.version, "done"))
    assert "[4 ngày]" in text_of(asked)  # the configured default is offered as the button
    confirm = await world.conv.handle(OFFICER, Press(asked.version, "rv:days"))
    await world.conv.handle(OFFICER, Press(confirm.version, "rv:send"))
    row = await submission_store.by_id(world.db, sub_id)
    assert row is not None
    assert row.review_state == "returned"
    active = await reviews.active_lock_exception(world.db, row.period_id, row.unit_id, world.clock.now())
    assert active is not None
    assert active.until == world.clock.now() + timedelta(days=4)
    assert (await _record(world, sub_id)).revision == 2  # the chair's correction goes through


async def _return_until_days(world: World, sub_id: int) -> Response:
    """The officer returns the report after closing, up to the question of how many days."""
    screen = await world.conv.handle(OFFICER, TextInput("/duyet"))
    await world.conv.handle(OFFICER, Press(screen.version, "rv:ret"))
    fields = await world.conv.handle(OFFICER, TextInput("Thiếu số đoàn viên mới kết nạp"))
    return await world.conv.handle(OFFICER, Press(fields.version, "done"))


async def test_a_return_after_closing_asks_the_days_and_the_exception_lasts_as_typed(world: World) -> None:
    sub_id = await _submitted(world)
    await _after_closing(world, sub_id)
    asked = await _return_until_days(world, sub_id)
    assert "bao nhiêu ngày" in text_of(asked)
    assert "rv:days" in [a for r in asked.replies for a in r.actions]
    confirm = await world.conv.handle(OFFICER, TextInput("3 ngày"))
    assert "3 ngày" in text_of(confirm)
    await world.conv.handle(OFFICER, Press(confirm.version, "rv:send"))
    row = await submission_store.by_id(world.db, sub_id)
    assert row is not None
    assert row.review_state == "returned"
    active = await reviews.active_lock_exception(world.db, row.period_id, row.unit_id, world.clock.now())
    assert active is not None
    assert active.until == world.clock.now() + timedelta(days=3)
    audit = await world.db.fetchval("SELECT detail FROM audit_log WHERE action = 'lock_exception'")
    assert (world.clock.now() + timedelta(days=3)).strftime("%Y-%m-%d") in audit
    world.clock.advance(days=4)  # past the three days the reviewer set: locked again
    assert await reviews.active_lock_exception(world.db, row.period_id, row.unit_id, world.clock.now()) is None


async def test_a_bad_day_count_is_asked_again_with_an_example_and_nothing_is_decided(world: World) -> None:
    sub_id = await _submitted(world)
    await _after_closing(world, sub_id)
    await _return_until_days(world, sub_id)
    for bad in ("0", "91", "ba ngày", "-2", "2,5", "12 tuần", "xong"):
        again = await world.conv.handle(OFFICER, TextInput(bad))
        assert "từ 1 đến 90, ví dụ: 5" in text_of(again), bad
        assert "rv:send" not in [a for r in again.replies for a in r.actions]
    assert (await world.state(OFFICER))["mode"] == "review_days"
    assert await _state(world, sub_id) == "submitted"
    confirm = await world.conv.handle(OFFICER, TextInput("90"))
    await world.conv.handle(OFFICER, Press(confirm.version, "rv:send"))
    row = await submission_store.by_id(world.db, sub_id)
    assert row is not None
    active = await reviews.active_lock_exception(world.db, row.period_id, row.unit_id, world.clock.now())
    assert active is not None
    assert active.until == world.clock.now() + timedelta(days=90)


async def test_on_zalo_the_typed_day_count_is_the_answer_not_a_numbered_choice(world: World) -> None:
    sub_id = await _submitted(world)
    await world.register(ZALO_OFFICER, "DL-BMT", Role.OFFICER)
    await _after_closing(world, sub_id)
    await world.conv.handle(ZALO_OFFICER, TextInput("duyet"))
    await world.conv.handle(ZALO_OFFICER, TextInput("2"))  # 2 = Trả lại
    await world.conv.handle(ZALO_OFFICER, TextInput("Thiếu ảnh hoạt động"))
    asked = await world.conv.handle(ZALO_OFFICER, TextInput("xong"))
    assert "bao nhiêu ngày" in text_of(asked)
    confirm = await world.conv.handle(ZALO_OFFICER, TextInput("2"))
    assert "2 ngày" in text_of(confirm)
    await world.conv.handle(ZALO_OFFICER, TextInput("1"))  # 1 = Trả lại
    row = await submission_store.by_id(world.db, sub_id)
    assert row is not None
    active = await reviews.active_lock_exception(world.db, row.period_id, row.unit_id, world.clock.now())
    assert active is not None
    assert active.until == world.clock.now() + timedelta(days=2)


async def test_a_return_before_closing_does_not_ask_for_days(world: World) -> None:
    sub_id = await _submitted(world)
    confirm = await _return_until_days(world, sub_id)
    actions = [a for r in confirm.replies for a in r.actions]
    assert "rv:send" in actions
    assert "rv:days" not in actions
    assert "bao nhiêu ngày" not in text_of(confirm)
    await world.conv.handle(OFFICER, Press(confirm.version, "rv:send"))
    assert await _state(world, sub_id) == "returned"
    row = await submission_store.by_id(world.db, sub_id)
    assert row is not None
    assert await reviews.lock_exceptions(world.db, row.period_id) == []


async def _state(world: World, sub_id: int) -> str:
    status = await reviews.status_of(world.db, sub_id)
    assert status is not None
    return status.state


async def test_a_return_before_closing_adds_no_lock_exception(world: World) -> None:
    sub_id = await _submitted(world)
    row = await submission_store.by_id(world.db, sub_id)
    assert row is not None
    await reviews.decide(world.db, sub_id, 1, "returned", 1, "Sai", (), world.clock.now())
    assert await reviews.lock_exceptions(world.db, row.period_id) == []


# --- roll-up -----------------------------------------------------------------------------------------------------

async def _upper_report(world: World) -> int:
    """DL-BMT's own report for round 1 (filed through storage), reviewed by the department of DL."""
    await world.register(DEPT, "DL", Role.DEPARTMENT)
    unit = await unit_store.by_code(world.db, "DL-BMT")
    assert unit is not None
    period_id = next(p.id for p in await campaign_store.periods_of(world.db, DAKLAK_95) if p.key == "dot-1")
    async with world.db.transaction() as tx:
        row = await submission_store.record(tx, period_id=period_id, unit_id=unit.id, person_id=1, channel="telegram",
                                            answers={"propaganda_sessions": 40}, now=world.clock.now(), late=False)
    return row.id


async def _children(world: World) -> list[int]:
    unit = await unit_store.by_code(world.db, "DL-BMT")
    assert unit is not None
    return [u.id for u in await unit_store.subtree(world.db, unit.id) if u.parent_id == unit.id]


async def test_an_upper_levels_report_is_approved_only_when_its_units_are_approved_or_excused(world: World) -> None:
    sub_id = await _upper_report(world)
    period_id = (await submission_store.by_id(world.db, sub_id)).period_id  # type: ignore[union-attr]
    children = await _children(world)
    assert len(children) >= 3
    screen = await world.conv.handle(DEPT, TextInput("/duyet"))
    assert "Liên đoàn Lao động thành phố Buôn Ma Thuột" in text_of(screen)
    held = await world.conv.handle(DEPT, Press(screen.version, "rv:ok"))
    assert "Còn chưa xong (" in text_of(held)
    assert "DL-BMT-001" in text_of(held)
    assert "/mien" in text_of(held)
    assert (await reviews.status_of(world.db, sub_id)).state == "submitted"  # type: ignore[union-attr]
    # Every unit but one reports and is approved; the last one is excused by the department.
    for uid in children[:-1]:
        async with world.db.transaction() as tx:
            row = await submission_store.record(tx, period_id=period_id, unit_id=uid, person_id=1,
                                                channel="telegram", answers={"propaganda_sessions": 2},
                                                now=world.clock.now(), late=False)
        await reviews.decide(world.db, row.id, 1, "approved", 1, None, (), world.clock.now())
    last = await unit_store.by_id(world.db, children[-1])
    assert last is not None
    still = await world.conv.handle(DEPT, Press(held.version, "rv:ok"))
    assert f"({last.code})" in text_of(still)
    assert "Còn chưa xong (1)" in text_of(still)
    excused = await world.conv.handle(DEPT, Command("mien", f"{last.code} đơn vị đã giải thể từ tháng 6"))
    assert "được miễn" in text_of(excused)
    screen = await world.conv.handle(DEPT, TextInput("/duyet"))
    done = await world.conv.handle(DEPT, Press(screen.version, "rv:ok"))
    assert "✅ Đã duyệt" in text_of(done)
    assert (await reviews.status_of(world.db, sub_id)).state == "approved"  # type: ignore[union-attr]
    assert (await reviews.excuses(world.db, period_id))[last.id].reason == "đơn vị đã giải thể từ tháng 6"
    assert await world.db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'review_excuse'") == 1


async def test_only_the_department_excuses_and_a_reason_is_required(world: World) -> None:
    await _upper_report(world)
    await world.register(OFFICER, "DL-BMT", Role.OFFICER)
    officer = await world.conv.handle(OFFICER, Command("mien", "DL-BMT-001 lý do"))
    assert "Chỉ Ban mới miễn" in text_of(officer)
    no_reason: Response = await world.conv.handle(DEPT, Command("mien", "DL-BMT-001"))
    assert "ví dụ /mien" in text_of(no_reason)
    assert await world.db.fetchval("SELECT count(*) FROM review_excuses") == 0


async def test_a_campaign_can_switch_the_roll_up_rule_off(world: World) -> None:
    sub_id = await _upper_report(world)
    assert len(await open_children(world.db, sub_id)) >= 3
    path = world.config.campaigns_dir / f"{DAKLAK_95}.toml"
    raw = (path.read_text(encoding="utf-8") + "\n[review]\nrequire_children_approved = false\n").encode()
    campaign = load_campaign_bytes(raw, path)
    assert campaign.review.require_children_approved is False
    await campaign_store.sync_campaigns(world.db, [(campaign, hashlib.sha256(raw).hexdigest(), path.name)],
                                        actor="test", now=world.clock.now())
    assert await open_children(world.db, sub_id) == []
    screen = await world.conv.handle(DEPT, TextInput("/duyet"))
    done = await world.conv.handle(DEPT, Press(screen.version, "rv:ok"))
    assert "✅ Đã duyệt" in text_of(done)


async def test_the_plain_words_open_the_lock_commands_with_their_example(world: World) -> None:
    await world.register(OFFICER, "DL-BMT", Role.OFFICER)
    await world.register(DEPT, "DL", Role.DEPARTMENT)
    assert "ví dụ /mokhoa" in text_of(await world.conv.handle(OFFICER, TextInput("Mở khoá")))
    assert "ví dụ /mien" in text_of(await world.conv.handle(DEPT, TextInput("miễn báo cáo")))


async def test_a_unit_that_never_reported_files_a_closed_period_while_its_lock_exception_lasts(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    await world.register(OFFICER, "DL-BMT", Role.OFFICER)
    period = next(p for p in await campaign_store.periods_of(world.db, DAKLAK_95) if p.key == "dot-1")
    world.clock.set(period.closes_at + timedelta(days=1))
    before = await world.conv.handle(CHAIR, Command("baocao"))
    assert ROUND_1 not in " ".join(b.label for r in before.replies for b in r.choices)
    granted = await world.conv.handle(OFFICER, Command("mokhoa", "DL-BMT-001 3 đơn vị mới có chủ tịch"))
    assert "🔓" in text_of(granted)
    response = await world.answer_all(CHAIR, await world.open_report(CHAIR, ROUND_1))
    receipt = await world.conv.handle(CHAIR, Press(response.version, "submit"))
    assert "BC-" in text_of(receipt)
    assert await world.db.fetchval("SELECT count(*) FROM submissions WHERE period_id = ?", (period.id,)) == 1


# --- the excuse offered on the review screen ------------------------------------------------------------------------

async def _approve_all_but(world: World, sub_id: int, keep_open: int) -> list[int]:
    """Every unit below DL-BMT but the last `keep_open` files and is approved; returns the ids left open."""
    period_id = (await submission_store.by_id(world.db, sub_id)).period_id  # type: ignore[union-attr]
    children = await _children(world)
    assert len(children) > keep_open
    for uid in children[:-keep_open]:
        async with world.db.transaction() as tx:
            row = await submission_store.record(tx, period_id=period_id, unit_id=uid, person_id=1,
                                                channel="telegram", answers={"propaganda_sessions": 2},
                                                now=world.clock.now(), late=False)
        await reviews.decide(world.db, row.id, 1, "approved", 1, None, (), world.clock.now())
    return children[-keep_open:]


def _actions(response: Response) -> list[str]:
    return [a for r in response.replies for a in r.actions]


async def test_the_department_excuses_open_units_from_the_screen_and_then_approves(world: World) -> None:
    sub_id = await _upper_report(world)
    period_id = (await submission_store.by_id(world.db, sub_id)).period_id  # type: ignore[union-attr]
    first, second = await _approve_all_but(world, sub_id, 2)
    names = {uid: (await unit_store.by_id(world.db, uid)).name for uid in (first, second)}  # type: ignore[union-attr]
    screen = await world.conv.handle(DEPT, TextInput("/duyet"))
    assert "chưa được duyệt hoặc miễn (2)" in text_of(screen)
    assert names[first] in text_of(screen)
    assert {f"rv:ex:{first}", f"rv:ex:{second}"} <= set(_actions(screen))
    asked = await world.conv.handle(DEPT, Press(screen.version, f"rv:ex:{first}"))
    assert "ví dụ" in text_of(asked)
    assert names[first] in text_of(asked)
    for empty in ("...", "—", " - "):
        again = await world.conv.handle(DEPT, TextInput(empty))
        assert "ví dụ: đơn vị giải thể" in text_of(again), empty  # asked again, with the example
    assert "Xin đồng chí ghi lý do, ví dụ" in text_of(again)
    assert await reviews.excuses(world.db, period_id) == {}
    shown = await world.conv.handle(DEPT, TextInput("đơn vị sáp nhập từ tháng 5"))
    assert "được miễn" in text_of(shown)
    assert "chưa được duyệt hoặc miễn (1)" in text_of(shown)  # the screen again, one unit still open
    assert f"rv:ex:{first}" not in _actions(shown)
    asked = await world.conv.handle(DEPT, Press(shown.version, f"rv:ex:{second}"))
    shown = await world.conv.handle(DEPT, TextInput("đơn vị giải thể"))
    assert "chưa được duyệt hoặc miễn" not in text_of(shown)
    assert not [a for a in _actions(shown) if a.startswith("rv:ex")]
    done = await world.conv.handle(DEPT, Press(shown.version, "rv:ok"))
    assert "✅ Đã duyệt" in text_of(done)
    assert (await reviews.status_of(world.db, sub_id)).state == "approved"  # type: ignore[union-attr]
    excused = await reviews.excuses(world.db, period_id)
    assert (excused[first].reason, excused[second].reason) == ("đơn vị sáp nhập từ tháng 5", "đơn vị giải thể")
    assert await world.db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'review_excuse'") == 2


async def test_many_open_units_are_excused_through_a_pick_by_code(world: World) -> None:
    sub_id = await _upper_report(world)
    period_id = (await submission_store.by_id(world.db, sub_id)).period_id  # type: ignore[union-attr]
    children = await _children(world)
    screen = await world.conv.handle(DEPT, TextInput("/duyet"))
    assert len(children) > 3  # too many for a button each: one "Miễn báo cáo…", then a pick
    assert [a for a in _actions(screen) if a.startswith("rv:ex")] == ["rv:ex"]
    assert f"chưa được duyệt hoặc miễn ({len(children)})" in text_of(screen)
    pick = await world.conv.handle(DEPT, Press(screen.version, "rv:ex"))
    assert len([a for a in _actions(pick) if a.startswith("rv:ex:")]) == len(children)
    unknown = await world.conv.handle(DEPT, TextInput("XX-KHONG-CO"))
    assert "gõ mã đơn vị, ví dụ" in text_of(unknown)
    target = await unit_store.by_id(world.db, children[0])
    assert target is not None
    asked = await world.conv.handle(DEPT, TextInput(target.code.lower()))  # the code, in any case
    assert target.name in text_of(asked)
    shown = await world.conv.handle(DEPT, TextInput("không hoạt động"))
    assert "được miễn" in text_of(shown)
    assert list(await reviews.excuses(world.db, period_id)) == [target.id]


async def test_a_reviewer_who_is_not_the_department_is_not_offered_the_excuse(world: World) -> None:
    sub_id = await _upper_report(world)
    await world.register(FAR_OFFICER, "DL", Role.OFFICER)  # reviews DL-BMT's report, but may not excuse
    await _approve_all_but(world, sub_id, 1)
    screen = await world.conv.handle(FAR_OFFICER, TextInput("/duyet"))
    assert "Liên đoàn Lao động thành phố Buôn Ma Thuột" in text_of(screen)
    assert not [a for a in _actions(screen) if a.startswith("rv:ex")]
    assert "chưa được duyệt hoặc miễn" not in text_of(screen)
    child = (await _children(world))[-1]
    forged = await world.conv.handle(FAR_OFFICER, Press(screen.version, f"rv:ex:{child}"))
    assert "ví dụ" not in text_of(forged)
    assert await world.db.fetchval("SELECT count(*) FROM review_excuses") == 0
