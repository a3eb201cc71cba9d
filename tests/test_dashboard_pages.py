"""The dashboard's pages and actions (issue 16) for an officer and for the department, over the two-province
world of the authorisation matrix (tests/dashboard_world.py): Vietnamese formatting, the drill-down, a unit's
answers, revisions, history and photos, the targets, "Nhắc" for one unit and for a row, approve and return,
downloads, and CSRF."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from bot.dashboard.model import Counts
from bot.domain import Role
from bot.i18n import translator
from bot.summary.service import build_summary
from bot.uploads import kept_path
from storage import outbox, reviews
from storage import submissions as submission_store
from tests.dashboard_world import Dash, dash_fixture  # noqa: F401  (the fixture)
from tests.test_authorisation_matrix import DAKLAK_95, world  # noqa: F401  (the fixture)

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360"
                    "000002000100e221bc330000000049454e44ae426082")


def section(html: str, element_id: str) -> str:
    """The text of the element with this id, up to its closing tag (tables, lists, sections)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"', html)
    assert match, f"#{element_id} not on the page"
    tag = match.group(1)
    end = html.find(f"</{tag}>", match.end())
    return unescape(html[match.start():end])


async def person_of(dash: Dash, token: str) -> int:
    return dash.sessions.sessions[token].person_id


async def record(dash: Dash, code: str, answers: dict[str, object], province: str = "DL") -> int:
    async with dash.w.db.transaction() as tx:
        row = await submission_store.record(tx, period_id=dash.w.dot1[province], unit_id=dash.w.units[code].id,
                                            person_id=1, channel="telegram", answers=answers,
                                            now=dash.w.clock.now(), late=False)
    return row.id


async def test_home_lists_the_open_period_with_its_due_date_in_vietnamese(dash: Dash) -> None:
    token = await dash.login(dash.w.actors[("DL", Role.DEPARTMENT)])
    status, html, headers = await dash.get(token, "/home")
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    periods = section(html, "periods")
    assert f'href="/dashboard/p/{dash.w.dot1["DL"]}"' in periods
    assert 'class="period"' in periods
    assert f'/p/{dash.w.dot1["LC"]}"' not in periods  # the other province's campaign is not offered
    assert "Hạn nộp: trước 05/08/2024" in periods  # dd/mm/yyyy, the due day in Asia/Ho_Chi_Minh, as the chat says it
    assert "còn 3 ngày" in periods


async def test_a_chair_is_told_the_dashboard_is_for_officers(dash: Dash) -> None:
    token = await dash.login(dash.w.actors[("DL", Role.CHAIR)])
    status, html, _h = await dash.get(token, "/home")
    assert status == 200
    assert "dành cho cán bộ công đoàn cấp trên" in html
    assert 'id="periods"' not in html


async def test_completeness_for_the_department_one_row_per_upper_level_with_vi_rates(dash: Dash) -> None:
    w = dash.w
    await record(dash, "DL-KP-001", {"propaganda_sessions": 2})
    token = await dash.login(w.actors[("DL", Role.DEPARTMENT)])
    page = await dash.views.completeness(await person_of(dash, token), w.dot1["DL"], "vi")
    assert page is not None
    status, html, _h = await dash.get(token, f"/p/{w.dot1['DL']}")
    assert status == 200
    table = section(html, "completeness")
    rows = re.findall(r'<tr class="upper">(.*?)</tr>', table, re.S)
    assert len(rows) == len(page.uppers) >= 3
    bmt = next(r for r in rows if w.units["DL-BMT"].name in r)
    assert f'/dashboard/p/{w.dot1["DL"]}/upper/{w.units["DL-BMT"].id}' in bmt
    assert 'class="drill"' in bmt
    t = translator("vi")
    for line in page.uppers:
        assert t.percent(line.counts.rate("reported")) in table
    assert page.counts.reported == 3  # DL-BMT, DL-BMT-002 (the fixture) and DL-KP-001
    summary = await build_summary(w.db, DAKLAK_95, "dot-1", scope_roots=[w.units["DL"].id], scope_name="DL",
                                  now=w.clock.now())
    assert page.counts == Counts(summary.expected, summary.on_time, summary.late, summary.count_state("returned"),
                                 summary.count_state("approved"), summary.count_state("waiting"),
                                 summary.count_state("missing"))
    share = t.percent(page.counts.rate("reported"))
    assert "," in share
    assert share in html
    assert "Lai Châu" not in html


async def test_drill_down_lists_the_upper_levels_units_with_their_state_in_words(dash: Dash) -> None:
    w = dash.w
    token = await dash.login(w.actors[("DL", Role.OFFICER)])
    status, html, _h = await dash.get(token, f"/p/{w.dot1['DL']}/upper/{w.units['DL-BMT'].id}")
    assert status == 200
    rows = re.findall(r'<tr class="unit">(.*?)</tr>', section(html, "units"), re.S)
    by_code = {code: r for r in rows for code in re.findall(r"<small>(DL-[\w-]+)</small>", r)}
    assert "DL-BMT-001" in by_code
    assert "DL-BMT-002" in by_code
    assert "chưa nộp" in by_code["DL-BMT-001"]
    assert "đã nộp, chờ duyệt" in by_code["DL-BMT-002"]
    assert "08:00 02/08/2024" in by_code["DL-BMT-002"]
    assert 'class="unit"' in by_code["DL-BMT-001"]
    assert "trợ lý liên lạc được" in by_code["DL-BMT-001"]  # its chair is registered on Telegram
    assert "DL-KP-001" not in html


async def test_unit_page_shows_answers_revisions_history_and_photo(dash: Dash) -> None:
    w = dash.w
    unit = w.units["DL-BMT-003"]
    path = kept_path(dash.views.config.data_dir, unit.id, "telegram-photo1", ".png")  # type: ignore[union-attr]
    path.write_bytes(PNG)
    photo = await submission_store.add_attachment(
        w.db, person_id=1, unit_id=unit.id, period_id=w.dot1["DL"], field="photos", channel="telegram", file_id="f",
        file_unique_id="u", file_name="hoat-dong.png", mime_type="image/png", size_bytes=len(PNG), sha256="x",
        local_path=str(path), now=w.clock.now())
    sub = await record(dash, "DL-BMT-003", {"propaganda_sessions": 4, "photos": [photo]})
    officer = w.actors[("DL", Role.OFFICER)]
    token = await dash.login(officer)
    person = await person_of(dash, token)
    await reviews.decide(w.db, sub, 1, "returned", person, "Thiếu số người tham gia", ["propaganda_participants"],
                         w.clock.now())
    await record(dash, "DL-BMT-003", {"propaganda_sessions": 5, "propaganda_participants": 120, "photos": [photo]})
    status, html, _h = await dash.get(token, f"/p/{w.dot1['DL']}/unit/{unit.id}")
    assert status == 200
    answers = section(html, "answers")
    assert "Số buổi tuyên truyền" in answers
    assert "5 buổi" in answers
    assert "hoat-dong.png" in answers
    revisions = re.findall(r"<tr><td class=\"n\">(\d+)</td>", section(html, "revisions"))
    assert revisions == ["1", "2"]
    history = section(html, "history")
    assert "Thiếu số người tham gia" in history
    assert "trả lại" in history
    assert "nộp lại" in history
    assert "Số lượt người dự tuyên truyền" in history  # the question named, by its short label
    photos = section(html, "photos")
    assert f'src="/dashboard/file/{photo}"' in photos
    status, body, headers = await dash.raw(token, f"/file/{photo}")
    assert status == 200
    assert body == PNG
    assert headers["Content-Type"] == "image/png"
    assert headers["Cache-Control"] == "private, no-store"
    assert 'form class="review"' in html  # waiting again, and the officer reviews this unit


async def test_targets_show_value_threshold_and_met_in_words(dash: Dash) -> None:
    w = dash.w
    token = await dash.login(w.actors[("DL", Role.DEPARTMENT)])
    page = await dash.views.targets(await person_of(dash, token), w.dot1["DL"], "vi")
    assert page is not None
    assert page.overall
    status, html, _h = await dash.get(token, f"/p/{w.dot1['DL']}/targets")
    assert status == 200
    table = section(html, "targets")
    for line in page.overall:
        assert line.label in table
        word = "chưa xác định" if line.met is None else "chưa đạt" if not line.met else "đạt"
        assert word in table
    assert "≥" in table or "≤" in table or "=" in table


def flash_codes(location: str) -> list[str]:
    return parse_qs(urlsplit(location).query).get("done", [""])[0].split(",")


async def test_remind_one_unit_queues_its_chair_as_nhacnho_does(dash: Dash) -> None:
    w = dash.w
    token = await dash.login(w.actors[("DL", Role.OFFICER)])
    target = w.units["DL-BMT-001"]
    status, location, _b = await dash.post(token, f"/p/{w.dot1['DL']}/remind",
                                           {"unit": str(target.id), "back": "upper",
                                            "back_id": str(w.units["DL-BMT"].id)})
    assert status == 303
    assert location.startswith(f"/dashboard/p/{w.dot1['DL']}/upper/{w.units['DL-BMT'].id}?")
    assert flash_codes(location) == ["reminded"]
    rows = await outbox.all_rows(w.db)
    assert rows
    assert {r.unit_id for r in rows} == {target.id}
    assert {r.kind for r in rows} == {"manual"}
    assert all(":manual-" in r.key for r in rows)  # /nhacnho's slot, named after the minute of the request
    # The same minute again: /nhacnho's slot adds nothing (the limit), and the page says 0 were queued.
    status, location, _b = await dash.post(token, f"/p/{w.dot1['DL']}/remind", {"unit": str(target.id)})
    assert status == 303
    assert len(await outbox.all_rows(w.db)) == len(rows)
    status, html, _h = await dash.get(token, location.removeprefix("/dashboard"))
    assert "Đã xếp 0 tin nhắc cho 1 đơn vị chưa nộp" in section(html, "flash")


async def test_remind_a_row_reaches_every_missing_unit_of_that_upper_level_only(dash: Dash) -> None:
    w = dash.w
    token = await dash.login(w.actors[("DL", Role.DEPARTMENT)])
    bmt = w.units["DL-BMT"]
    status, location, _b = await dash.post(token, f"/p/{w.dot1['DL']}/remind", {"upper": str(bmt.id)})
    assert status == 303
    assert flash_codes(location)[0] == "reminded"
    reminded = {r.unit_id for r in await outbox.all_rows(w.db)}
    page = await dash.views.drill_down(await person_of(dash, token), w.dot1["DL"], bmt.id, "vi")
    assert page is not None
    missing = {u.unit_id for u in page.units if u.state == "missing"}
    assert reminded
    assert reminded <= missing
    assert w.units["DL-BMT-001"].id in reminded  # its chair is registered
    assert w.units["DL-KP-001"].id not in reminded  # another row
    status, html, _h = await dash.get(token, location.removeprefix("/dashboard"))
    assert 'id="flash"' in html


async def test_return_with_a_reason_queues_the_chairs_message_and_approve_approves(dash: Dash) -> None:
    w = dash.w
    token = await dash.login(w.actors[("DL", Role.OFFICER)])
    g2 = w.units["DL-BMT-002"]
    sub = (await submission_store.of_unit(w.db, g2.id))[w.dot1["DL"]]
    status, html, _h = await dash.get(token, "/review")
    queued = section(html, "queue")
    assert g2.name in queued
    assert 'class="queued' in queued
    assert 'class="decide"' in queued
    assert 'maxlength="1000"' in queued  # the box stops at the limit: a written reason is never cut afterwards
    # No reason: refused with a message, nothing decided.
    status, location, _b = await dash.post(token, f"/review/{sub.id}", {"revision": "1", "action": "return",
                                                                        "reason": "  ... "})
    assert status == 303
    assert flash_codes(location) == ["reason"]
    assert (await reviews.status_of(w.db, sub.id)).state == "submitted"  # type: ignore[union-attr]
    status, html, _h = await dash.get(token, location.removeprefix("/dashboard"))
    assert "Xin ghi lý do trả lại, ví dụ" in section(html, "flash")
    status, location, _b = await dash.post(token, f"/review/{sub.id}", {"revision": "1", "action": "return",
                                                                        "reason": "Số liệu câu 1 chưa khớp"})
    assert status == 303
    assert flash_codes(location) == ["returned"]
    assert (await reviews.status_of(w.db, sub.id)).state == "returned"  # type: ignore[union-attr]
    review_rows = [r for r in await outbox.all_rows(w.db) if r.kind == "review"]
    assert review_rows
    assert {r.unit_id for r in review_rows} == {g2.id}
    assert "Số liệu câu 1 chưa khớp" in str(review_rows[0].payload)
    # The chair corrects it; the officer approves the new revision from the unit page.
    await record(dash, "DL-BMT-002", {"propaganda_sessions": 6})
    status, location, _b = await dash.post(token, f"/review/{sub.id}", {"revision": "2", "action": "approve",
                                                                        "back": "unit"})
    assert status == 303
    assert flash_codes(location) == ["approved"]
    assert location.startswith(f"/dashboard/p/{w.dot1['DL']}/unit/{g2.id}?")
    assert (await reviews.status_of(w.db, sub.id)).state == "approved"  # type: ignore[union-attr]


async def test_a_decision_on_a_replaced_revision_or_one_already_decided_is_refused(dash: Dash) -> None:
    w = dash.w
    token = await dash.login(w.actors[("DL", Role.OFFICER)])
    sub = (await submission_store.of_unit(w.db, w.units["DL-BMT-002"].id))[w.dot1["DL"]]
    await record(dash, "DL-BMT-002", {"propaganda_sessions": 7})  # revision 2 while the page showed 1
    status, location, _b = await dash.post(token, f"/review/{sub.id}", {"revision": "1", "action": "approve"})
    assert status == 303
    assert flash_codes(location) == ["replaced"]
    assert (await reviews.status_of(w.db, sub.id)).state == "submitted"  # type: ignore[union-attr]
    status, location, _b = await dash.post(token, f"/review/{sub.id}", {"revision": "2", "action": "approve"})
    assert flash_codes(location) == ["approved"]
    status, location, _b = await dash.post(token, f"/review/{sub.id}", {"revision": "2", "action": "return",
                                                                        "reason": "muộn quá"})
    assert status == 303
    assert flash_codes(location) == ["already"]
    assert (await reviews.status_of(w.db, sub.id)).state == "approved"  # type: ignore[union-attr]


async def test_downloads_are_attachments_kept_private(dash: Dash) -> None:
    w = dash.w
    token = await dash.login(w.actors[("DL", Role.OFFICER)])
    magic = {"xlsx": b"PK", "docx": b"PK", "png": b"\x89PNG"}
    for fmt, start in magic.items():
        status, body, headers = await dash.raw(token, f"/p/{w.dot1['DL']}/download/{fmt}")
        assert status == 200, fmt
        assert body.startswith(start), fmt
        assert headers["Content-Disposition"].startswith("attachment; filename=")
        assert f'.{fmt}"' in \
            headers["Content-Disposition"]
        assert headers["Cache-Control"] == "private, no-store"
    status, _b, _h = await dash.raw(token, f"/p/{w.dot1['DL']}/download/csv")
    assert status == 404


async def test_every_action_without_the_csrf_token_is_refused_and_does_nothing(dash: Dash) -> None:
    w = dash.w
    token = await dash.login(w.actors[("DL", Role.OFFICER)])
    sub = (await submission_store.of_unit(w.db, w.units["DL-BMT-002"].id))[w.dot1["DL"]]
    status, _l, body = await dash.post(token, f"/p/{w.dot1['DL']}/remind", {"unit": str(w.units["DL-BMT-001"].id)},
                                       csrf=False)
    assert status == 403
    assert "refused" in body
    status, _l, _b = await dash.post(token, f"/review/{sub.id}", {"revision": "1", "action": "approve",
                                                                  "csrf": "forged"}, csrf=False)
    assert status == 403
    assert await outbox.all_rows(w.db) == []
    assert (await reviews.status_of(w.db, sub.id)).state == "submitted"  # type: ignore[union-attr]


async def test_english_is_available(dash: Dash) -> None:
    w = dash.w
    token = await dash.login(w.actors[("DL", Role.OFFICER)], "en")
    status, html, _h = await dash.get(token, f"/p/{w.dot1['DL']}")
    assert status == 200
    assert 'lang="en"' in html
    assert "By upper level" in html
    assert "Not submitted" in html


async def test_a_flash_shows_only_known_messages_and_numbers(dash: Dash) -> None:
    w = dash.w
    token = await dash.login(w.actors[("DL", Role.OFFICER)])
    status, html, _h = await dash.get(token, "/home?done=reminded,<script>x</script>&n=12345&m=abc")
    assert status == 200
    flash = section(html, "flash")
    assert "Đã xếp 12.345 tin nhắc cho 0 đơn vị" in flash
    assert "<script>" not in html.split("<main>")[1]


async def test_a_return_from_the_unit_page_names_the_questions_for_the_chair(dash: Dash) -> None:
    w = dash.w
    token = await dash.login(w.actors[("DL", Role.OFFICER)])
    g2 = w.units["DL-BMT-002"]
    sub = (await submission_store.of_unit(w.db, g2.id))[w.dot1["DL"]]
    _status, html, _h = await dash.get(token, f"/p/{w.dot1['DL']}/unit/{g2.id}")
    assert 'name="field" value="propaganda_sessions"' in html
    response = await dash.client.post(
        f"/dashboard/review/{sub.id}", headers={"Cookie": f"cd_session={token}"}, allow_redirects=False,
        data=[("csrf", dash.sessions.csrf_of(token)), ("revision", "1"), ("action", "return"),
              ("reason", "Xem lại số buổi"), ("field", "propaganda_sessions"), ("field", "no_such_question")])
    assert response.status == 303
    event = await reviews.last_event(w.db, sub.id, "returned")
    assert event is not None
    assert event.fields == ("propaganda_sessions",)  # an unknown name is dropped
    (message,) = [r for r in await outbox.all_rows(w.db) if r.kind == "review"]
    assert "Số buổi tuyên truyền" in str(message.payload)


async def test_every_page_renders_for_an_officer_and_for_the_department(dash: Dash) -> None:
    w = dash.w
    period = w.dot1["DL"]
    for role, upper, unit in ((Role.OFFICER, "DL-BMT", "DL-BMT-002"), (Role.DEPARTMENT, "DL-KP", "DL-BMT")):
        token = await dash.login(w.actors[("DL", role)])
        for path, element in (("/home", "periods"), (f"/p/{period}", "completeness"),
                              (f"/p/{period}/upper/{w.units[upper].id}", "units"),
                              (f"/p/{period}/unit/{w.units[unit].id}", "answers"),
                              (f"/p/{period}/targets", "targets"), ("/review", "queue")):
            status, html, headers = await dash.get(token, path)
            assert status == 200, (role, path)
            assert 'lang="vi"' in html
            assert headers["Cache-Control"] == "no-store"
            section(html, element)
            if path != "/review":
                assert re.search(r"\b05/08/2024\b", html), (role, path)  # the due date, dd/mm/yyyy


async def test_large_counts_are_grouped_the_vietnamese_way(dash: Dash) -> None:
    """12.345 and 81,2%: the page's figures through the num and pct filters (the world is too small for them)."""
    from bot.dashboard.model import CompletenessPage, PeriodItem, UpperLine

    w = dash.w
    counts = Counts(12_345, 9_000, 1_024, 7, 3_000, 7_024, 2_314)
    item = PeriodItem(1, "Chiến dịch", "Đợt 1", w.clock.now(), w.clock.now(), True, 3, 0)
    page = CompletenessPage(item, "Tỉnh", counts, [UpperLine(5, "U", "Huyện A", counts)], False)

    async def completeness(_person: int, _period: int, _locale: str) -> CompletenessPage:
        return page

    dash.views.completeness = completeness  # type: ignore[method-assign]
    token = await dash.login(w.actors[("DL", Role.DEPARTMENT)])
    _status, html, _h = await dash.get(token, "/p/1")
    assert "12.345" in html
    assert "81,2%" in html  # (9.000 + 1.024) / 12.345
    assert "12345" not in html.replace('value="', "")
