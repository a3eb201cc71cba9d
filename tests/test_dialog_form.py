"""The form engine, step by step: every field type, skip logic, constraints, back, review, edit, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.dialog import form
from bot.dialog.form import FormContext, FormState
from bot.dialog.model import ActionInput, Button, FileInput, Reply, TextInput
from bot.domain import UnitKind
from bot.i18n import Translator
from tests.conftest import VN
from tests.form_fixture import every_type_campaign


@pytest.fixture
def ctx(repo: Path) -> FormContext:
    campaign = every_type_campaign()
    return FormContext(campaign, campaign.periods[0], UnitKind.ENTERPRISE_STATE, Translator("vi", repo / "locales"), VN)


class Runner:
    """Feeds inputs to the engine the way the conversation does, keeping the state as JSON between steps."""

    def __init__(self, ctx: FormContext) -> None:
        self.ctx = ctx
        state, self.replies = form.start(ctx, FormState("every-type", "dot-1", 1, "enterprise_state"))
        self.state_json = json.dumps(state.to_json())
        self.outcome = None

    @property
    def state(self) -> FormState:
        return FormState.from_json(json.loads(self.state_json))

    def send(self, inp: TextInput | ActionInput | FileInput) -> list[Reply]:
        state, self.replies, self.outcome = form.step(self.ctx, self.state, inp)
        self.state_json = json.dumps(state.to_json())  # what is saved must be enough to go on
        return self.replies

    def text(self, text: str) -> list[Reply]:
        return self.send(TextInput(text))

    def press(self, action: str) -> list[Reply]:
        return self.send(ActionInput(action))

    @property
    def last(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def current(self) -> str | None:
        return self.state.current


def fill_to_review(r: Runner) -> None:
    r.text("120")  # members
    r.text("60")  # participants
    r.press("skip")  # hours (optional)
    r.text("45,5%")  # share
    r.press("yes")  # gifts_given
    r.text("2 triệu")  # gifts_money -> read back
    r.press("yes")
    r.press("c:b")  # rating
    r.text("1,3")  # forms
    r.text("15/7")  # event_date
    r.text("Hội thao <CNVCLĐ> & gia đình")  # event_name
    r.text("Bữa cơm công đoàn")  # highlights
    r.press("skip")  # photos
    r.press("skip")  # report_file


def test_every_type_is_stored_as_a_plain_json_value(ctx: FormContext) -> None:
    r = Runner(ctx)
    assert r.current == "members"
    fill_to_review(r)
    state = r.state
    assert state.phase == "review"
    assert state.answers == {
        "members": 120,
        "participants": 60,
        "share": "45.5",
        "gifts_given": True,
        "gifts_money": 2000000,
        "rating": "b",
        "forms": ["meeting", "banner"],
        "event_date": "2024-07-15",  # the year comes from the period
        "event_name": "Hội thao <CNVCLĐ> & gia đình",
        "highlights": "Bữa cơm công đoàn",
    }
    assert state.skipped == ["hours", "photos", "report_file"]
    review = r.last
    assert "120 người" in review
    assert "45,5%" in review
    assert "2.000.000 đồng" in review
    assert "Loại B" in review
    assert "Hội nghị, Băng rôn" in review
    assert "15/07/2024" in review


def test_questions_are_numbered_and_offer_the_right_moves(ctx: FormContext) -> None:
    r = Runner(ctx)
    first = r.replies[-1]
    assert first.text.startswith("Câu 1/")
    assert "Đơn vị tính: người" in first.text
    assert first.nav == ()  # no back on the first question, no skip on a required one
    r.text("120")
    r.text("60")
    hours = r.replies[-1]
    assert {b.action for b in hours.nav} == {"back", "skip"}
    r.press("skip")
    r.text("50")
    yes_no = r.replies[-1]
    assert [b.action for b in yes_no.choices] == ["yes", "no"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("abc", "ví dụ"),
        ("-5", "từ 0 trở lên"),
        ("1,5", "số nguyên"),
        ("", "ví dụ"),
        ("1.2.3", "ví dụ"),
    ],
)
def test_a_bad_number_is_refused_with_an_example_and_nothing_is_stored(
    ctx: FormContext, answer: str, expected: str
) -> None:
    r = Runner(ctx)
    r.text(answer)
    assert expected in r.last
    assert r.state.answers == {}
    assert r.current == "members"
    assert r.replies[-1].text.startswith("Câu 1/")  # the question is asked again


def test_a_cross_field_constraint_shows_its_message(ctx: FormContext) -> None:
    r = Runner(ctx)
    r.text("120")
    r.text("130")
    assert "Không được lớn hơn tổng số đoàn viên" in r.last
    assert "participants" not in r.state.answers
    r.text("120")
    assert r.state.answers["participants"] == 120


def test_skip_logic_asks_the_money_only_when_gifts_were_given(ctx: FormContext) -> None:
    r = Runner(ctx)
    for answer in ("120", "60"):
        r.text(answer)
    r.press("skip")
    r.text("50")
    r.press("no")
    assert r.current == "rating"  # gifts_money skipped
    r.press("back")
    assert r.current == "gifts_given"
    assert "Câu trả lời hiện tại: Không" in r.last
    r.press("yes")
    assert r.current == "gifts_money"  # now relevant
    r.text("500k")
    assert r.state.answers["gifts_money"] == 500000


def test_an_answer_that_no_longer_applies_is_dropped(ctx: FormContext) -> None:
    r = Runner(ctx)
    fill_to_review(r)
    r.press("edit")
    r.press("e:5")  # gifts_given
    r.press("no")
    assert r.state.phase == "review"
    assert "gifts_money" not in r.state.answers


def test_a_required_question_cannot_be_skipped(ctx: FormContext) -> None:
    r = Runner(ctx)
    r.press("skip")
    assert "bắt buộc" in r.last
    assert r.current == "members"


def test_a_choice_number_out_of_range_is_answered_with_the_range(ctx: FormContext) -> None:
    r = Runner(ctx)
    for typed in ("120", "60"):
        r.text(typed)
    r.press("skip")
    for typed in ("45,5%",):
        r.text(typed)
    r.press("yes")
    r.text("2 triệu")
    r.press("yes")
    r.press("c:b")
    assert r.current == "forms"
    n = len(next(f for f in ctx.campaign.fields if f.name == "forms").choices)
    r.text(f"1,{n + 6}")
    assert f"mỗi số từ 1 đến {n}" in r.last  # says which numbers there are, not only how to type them
    assert r.current == "forms"


def test_large_numbers_are_read_back_in_words(ctx: FormContext) -> None:
    r = Runner(ctx)
    for answer in ("120", "60"):
        r.text(answer)
    r.press("skip")
    r.text("50")
    r.press("yes")
    r.text("2 củ")
    assert "hai triệu đồng — đúng không?" in r.last
    assert "gifts_money" not in r.state.answers
    r.press("no")
    assert r.current == "gifts_money"
    r.text("1tr5")
    r.text("đúng")
    assert r.state.answers["gifts_money"] == 1500000


def test_a_tiny_amount_of_money_is_read_back_too(ctx: FormContext) -> None:
    """"500" typed by someone who means 500.000 đồng must not be kept silently; 0 (none given) is not asked."""
    r = Runner(ctx)
    for answer in ("120", "60"):
        r.text(answer)
    r.press("skip")
    r.text("50")
    r.press("yes")
    r.text("500")
    assert "năm trăm đồng — đúng không?" in r.last
    r.press("no")
    r.text("500k")
    assert "gifts_money" in r.state.answers
    assert r.state.answers["gifts_money"] == 500000


def test_back_goes_to_the_previous_question_and_keeps_the_answer(ctx: FormContext) -> None:
    r = Runner(ctx)
    r.text("120")
    r.text("quay lại")
    assert r.current == "members"
    assert "Câu trả lời hiện tại: 120 người" in r.last
    r.text("100")
    assert r.current == "participants"
    assert r.state.answers["members"] == 100


def test_back_on_the_first_question_says_so(ctx: FormContext) -> None:
    r = Runner(ctx)
    r.press("back")
    assert "Đây là câu đầu tiên" in r.last


def test_review_edit_returns_to_the_review(ctx: FormContext) -> None:
    r = Runner(ctx)
    fill_to_review(r)
    r.press("edit")
    assert r.state.phase == "pick_edit"
    r.text("1")
    assert r.current == "members"
    r.text("200")
    assert r.state.phase == "review"
    assert r.state.answers["members"] == 200


def test_review_refuses_to_submit_when_an_edit_broke_a_constraint(ctx: FormContext) -> None:
    r = Runner(ctx)
    fill_to_review(r)
    r.press("edit")
    r.press("e:1")
    r.text("10")  # members now below the 60 participants
    r.press("submit")
    assert r.outcome is not None
    assert not r.outcome.submit
    assert "Chưa gửi được báo cáo" in r.last
    assert "Câu 2" in r.last


def test_submit_from_review(ctx: FormContext) -> None:
    r = Runner(ctx)
    fill_to_review(r)
    r.press("submit")
    assert r.outcome is not None
    assert r.outcome.submit


def test_cancel_asks_for_confirmation(ctx: FormContext) -> None:
    r = Runner(ctx)
    r.text("120")
    state, replies = form.request_cancel(ctx, r.state)
    r.state_json = json.dumps(state.to_json())
    assert "Hủy báo cáo này?" in replies[0].text
    r.press("no")
    assert r.current == "participants"
    assert r.state.answers == {"members": 120}
    state, _ = form.request_cancel(ctx, r.state)
    r.state_json = json.dumps(state.to_json())
    r.text("có")
    assert r.outcome is not None
    assert r.outcome.cancelled


def test_multiple_choice_by_buttons(ctx: FormContext) -> None:
    r = Runner(ctx)
    fill_to_review(r)
    r.press("edit")
    r.press("e:8")
    assert r.current == "forms"
    r.press("t:online")
    assert "✅ Mạng xã hội" in "\n".join(b.label for b in r.replies[-1].choices)
    r.press("t:meeting")  # un-tick
    r.press("done")
    assert r.state.answers["forms"] == ["online", "banner"]


def test_photos_and_documents(ctx: FormContext) -> None:
    r = Runner(ctx)
    fill_to_review(r)
    r.press("edit")
    r.press("e:12")
    assert r.current == "photos"
    r.text("đây là ảnh")
    assert "gửi ảnh hoặc tệp" in r.last
    r.send(FileInput("photo", 7, "a.jpg"))
    assert "Đã nhận 1 (tối đa 2)" in r.last
    r.send(FileInput("photo", 8, "b.jpg"))  # the second reaches the maximum: done by itself
    assert r.state.answers["photos"] == [7, 8]
    assert r.state.phase == "review"
    assert "2 ảnh" in r.last


def test_a_file_where_a_number_is_expected_is_refused(ctx: FormContext) -> None:
    r = Runner(ctx)
    r.send(FileInput("photo", 1, "x.jpg"))
    assert "cần gõ câu trả lời" in r.last
    assert r.state.answers == {}


def test_select_one_by_number_or_label(ctx: FormContext) -> None:
    r = Runner(ctx)
    for answer in ("120", "60"):
        r.text(answer)
    r.press("skip")
    r.text("50")
    r.press("no")
    r.text("loại c")
    assert r.state.answers["rating"] == "c"
    r.press("back")
    r.text("4")
    assert "từ 1 đến 3" in r.last


def test_resume_puts_the_person_back_at_the_same_question(ctx: FormContext) -> None:
    r = Runner(ctx)
    r.text("120")
    r.text("60")
    saved = json.loads(r.state_json)  # as stored in SQLite
    replies = form.resume(ctx, FormState.from_json(saved))
    assert replies[-1].text.startswith("Câu 3/")
    assert "Số giờ sinh hoạt" in replies[-1].text


def test_question_count_only_shrinks(ctx: FormContext) -> None:
    r = Runner(ctx)
    totals = []
    for step in ("120", "60"):
        totals.append(form.progress(ctx, r.state)[1])
        r.text(step)
    r.press("skip")
    r.text("50")
    totals.append(form.progress(ctx, r.state)[1])
    r.press("no")
    totals.append(form.progress(ctx, r.state)[1])
    assert totals == sorted(totals, reverse=True)
    assert totals[-1] == totals[0] - 1  # gifts_money dropped out


def test_long_text_limit(ctx: FormContext) -> None:
    r = Runner(ctx)
    fill_to_review(r)
    r.press("edit")
    r.press("e:11")
    r.text("x" * 3001)
    assert "dài 3001 ký tự" in r.last
    assert r.state.answers["highlights"] == "Bữa cơm công đoàn"


# --- a reply saved as JSON (reminder outbox rows, a dialog's saved menu) --------------------------------


def test_a_reply_round_trips_through_the_outbox_json_format() -> None:
    reply = Reply("Nhắc nộp", title="⏰", columns=2, choices=(Button("📝 Nộp ngay", "open:3:7"), Button("B", "b")))
    data = json.loads(json.dumps(reply.to_json()))
    # The format reminder rows already hold in the outbox: keep it.
    assert data == {"text": "Nhắc nộp", "title": "⏰", "columns": 2,
                    "choices": [["📝 Nộp ngay", "open:3:7"], ["B", "b"]]}
    assert Reply.from_json(data) == reply


def test_a_menu_saved_before_titles_were_kept_still_loads() -> None:
    old = {"text": "Chọn ngôn ngữ:", "columns": 2, "choices": [["Tiếng Việt", "lang:vi"], ["English", "lang:en"]]}
    assert Reply.from_json(old) == Reply("Chọn ngôn ngữ:", columns=2,
                                         choices=(Button("Tiếng Việt", "lang:vi"), Button("English", "lang:en")))
    assert Reply.from_json({"text": "x"}) == Reply("x")


class UntouchedRunner(Runner):
    """Checks, at every step, that the state handed to the engine comes back exactly as it was given."""

    def send(self, inp: TextInput | ActionInput | FileInput) -> list[Reply]:
        given = self.state
        before = given.to_json()
        state, self.replies, self.outcome = form.step(self.ctx, given, inp)
        assert given.to_json() == before, inp
        self.state_json = json.dumps(state.to_json())
        return self.replies


def test_step_leaves_the_state_it_is_given_unchanged(ctx: FormContext) -> None:
    r = UntouchedRunner(ctx)
    r.text("120")
    r.text("quay lại")  # back
    r.text("120")
    r.text("60")
    r.press("skip")
    r.text("abc")  # refused
    r.text("45,5%")
    r.press("yes")
    r.text("2 triệu")  # read back
    r.press("no")
    r.text("2 triệu")
    r.press("yes")
    r.press("c:b")
    r.press("t:online")  # a toggle keeps a pending list
    r.press("t:meeting")
    r.press("done")
    r.text("15/7")
    r.text("Hội thao")
    r.text("Bữa cơm công đoàn")
    r.send(FileInput("photo", 7, "a.jpg"))
    r.press("done")
    r.press("skip")
    assert r.state.phase == "review"
    r.press("edit")
    r.press("e:1")
    r.text("10")  # members now below the participants: submitting asks again
    r.press("submit")
    assert r.outcome is not None
    assert not r.outcome.submit
    assert r.current == "participants"
    r.text("5")
    r.press("submit")
    assert r.outcome is not None
    assert r.outcome.submit
    assert (r.state.answers["members"], r.state.answers["participants"]) == (10, 5)


def test_start_and_cancel_leave_the_state_they_are_given_unchanged(ctx: FormContext) -> None:
    fresh = FormState("every-type", "dot-1", 1, "enterprise_state")
    state, _ = form.start(ctx, fresh)
    assert fresh == FormState("every-type", "dot-1", 1, "enterprise_state")
    assert state.current == "members"
    before = state.to_json()
    cancelling, _ = form.request_cancel(ctx, state)
    assert state.to_json() == before
    assert cancelling.phase == "confirm_cancel"
    # A correction whose answer the campaign can no longer hold: the new state drops it, the given one keeps it.
    correction = FormState("every-type", "dot-1", 1, "enterprise_state", answers={"members": 5, "rating": "z"},
                           revision_of=3)
    before = correction.to_json()
    state, replies = form.start(ctx, correction)
    assert correction.to_json() == before
    assert "rating" not in state.answers
    assert "rating" in state.recheck
    assert "Xếp loại thỏa ước" in replies[0].text


def test_a_step_that_drops_an_answer_leaves_the_given_state_unchanged(ctx: FormContext) -> None:
    given = FormState("every-type", "dot-1", 1, "enterprise_state", answers={"members": 120, "rating": "z"},
                      stack=["members", "rating"], current="participants")
    before = given.to_json()
    state, replies, _ = form.step(ctx, given, TextInput("60"))
    assert given.to_json() == before
    assert "rating" not in state.answers
    assert "Xin trả lời lại" in replies[0].text
    assert "Xếp loại thỏa ước" in replies[0].text


@pytest.mark.parametrize("word", ["quay lại", "Quay lai", "QUAY LẠI.", "lùi", "Lui", "back", "quay la\u0323i"])
def test_back_is_understood_with_or_without_marks(ctx: FormContext, word: str) -> None:
    r = Runner(ctx)
    r.text("120")
    r.text(word)
    assert r.current == "members"


@pytest.mark.parametrize("word", ["bỏ qua", "Bo qua", "bỏ", "BO", "skip!"])
def test_skip_is_understood_with_or_without_marks(ctx: FormContext, word: str) -> None:
    r = Runner(ctx)
    r.text("120")
    r.text("60")
    assert r.current == "hours"
    r.text(word)
    assert r.current == "share"
    assert r.state.skipped == ["hours"]


@pytest.mark.parametrize("word", ["xong", "Xong!", "hết", "HET.", "done"])
def test_done_is_understood_with_or_without_marks(ctx: FormContext, word: str) -> None:
    r = Runner(ctx)
    fill_to_review(r)
    r.press("edit")
    r.press("e:8")
    r.press("t:online")
    r.text(word)
    assert r.state.phase == "review"
    assert r.state.answers["forms"] == ["meeting", "online", "banner"]  # in the order offered
    r.press("edit")
    r.press("e:12")
    r.send(FileInput("photo", 7, "a.jpg"))
    r.text(word)
    assert r.state.answers["photos"] == [7]


@pytest.mark.parametrize("word", ["gửi", "Gui", "NỘP", "nop.", "gửi báo cáo", "Gui bao cao", "gui ban sua", "send"])
def test_send_at_the_review_is_understood_with_or_without_marks(ctx: FormContext, word: str) -> None:
    r = Runner(ctx)
    fill_to_review(r)
    r.text(word)
    assert r.outcome is not None
    assert r.outcome.submit


@pytest.mark.parametrize("words", ["sửa 3", "Sua cau 3", "SỬA CÂU 3", "sửa số 3", "sua so 3", "edit 3", "3"])
def test_an_answer_to_change_is_named_with_or_without_marks(ctx: FormContext, words: str) -> None:
    r = Runner(ctx)
    fill_to_review(r)
    r.text(words)
    assert r.current == "hours"  # question 3 of the review
    assert r.state.phase == "ask"


@pytest.mark.parametrize("word", ["sửa", "Sua", "SỬA!", "edit"])
def test_change_at_the_review_is_understood_with_or_without_marks(ctx: FormContext, word: str) -> None:
    r = Runner(ctx)
    fill_to_review(r)
    r.text(word)
    assert r.state.phase == "pick_edit"
