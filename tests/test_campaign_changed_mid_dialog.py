"""A campaign file changed and loaded while a report is open: every answer is checked again against the
definition in force (type, choices, required, constraint) before anything is stored, and the ones that no
longer fit are asked again with a word on why."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from bot.campaign_model import Campaign
from bot.conversation import Press
from bot.dialog import form
from bot.dialog.form import FormContext, FormState
from bot.dialog.model import ActionInput, TextInput
from bot.domain import UnitKind
from bot.i18n import Translator
from storage import campaigns as campaign_store
from storage import submissions as submission_store
from tests.conftest import VN
from tests.form_fixture import EVERY_TYPE
from tests.test_conversation import (
    CHAIR,
    World,
    text_of,
)

DAKLAK_95 = "daklak-95-nam-cdvn-2024"
REPORT = "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1"


async def reload_changed(world: World, change: Any) -> Campaign:
    """The campaign edited and stored as `campaigns load` stores a changed file (a new sha256)."""
    campaign = await campaign_store.campaign(world.db, DAKLAK_95)
    assert campaign is not None
    data = json.loads(campaign.model_dump_json())
    change({f["name"]: f for f in data["fields"]})
    changed = Campaign.model_validate(data)
    await campaign_store.sync_campaigns(world.db, [(changed, "sha-of-the-edited-file", f"{DAKLAK_95}.toml")],
                                        actor="test", now=world.clock.now())
    return changed


def edit_the_plan(fields: dict[str, dict[str, Any]]) -> None:
    # An integer question became a single choice; a choice that was picked is gone; a limit was raised.
    fields["dialogues"].update(type="select_one", unit=None, constraint=None, constraint_message=None, hint=None,
                               choices=[{"value": "none", "label": {"vi": "Chưa tổ chức"}},
                                        {"value": "some", "label": {"vi": "Đã tổ chức"}}])
    forms = fields["propaganda_forms"]
    forms["choices"] = [c for c in forms["choices"] if c["value"] != "meeting"]
    fields["care_activities"].update(constraint=". >= 100",
                                     constraint_message={"vi": "Ít nhất 100 hoạt động, ví dụ: 120"})


async def test_answers_that_no_longer_fit_the_reloaded_campaign_are_asked_again_not_stored(world: World) -> None:
    await world.register(CHAIR, "DL-BMT-001")
    response = await world.conv.handle(CHAIR, TextInput("báo cáo"))
    response = await world.conv.handle(CHAIR, Press(response.version, next(
        b.action for r in response.replies for b in r.choices if REPORT in b.label)))
    review = await world.answer_all(CHAIR, response)
    answers = (await world.state(CHAIR))["form"]["answers"]
    assert answers["dialogues"] == 12
    assert "meeting" in answers["propaganda_forms"]
    changed = await reload_changed(world, edit_the_plan)

    sent = await world.conv.handle(CHAIR, Press(review.version, "submit"))
    assert await world.db.fetchval("SELECT count(*) FROM submissions") == 0
    text = text_of(sent)
    assert "Biểu mẫu đã được sửa sau khi đồng chí trả lời" in text
    assert "• Đơn vị đã tuyên truyền bằng những hình thức nào?" in text
    assert "• Số cuộc đối thoại tại nơi làm việc đã tổ chức?" in text
    assert (await world.current_field(CHAIR)).name == "propaganda_forms"  # type: ignore[union-attr]
    assert "dialogues" not in (await world.state(CHAIR))["form"]["answers"]

    await world.conv.handle(CHAIR, TextInput("1,2"))  # the options as they are now
    asked = await world.current_field(CHAIR)
    assert asked is not None
    assert asked.name == "dialogues"
    back_at_review = await world.conv.handle(CHAIR, TextInput("Đã tổ chức"))
    assert "kiểm tra lại báo cáo" in text_of(back_at_review)

    # The raised limit is found when sending: that answer is asked again, with the rule.
    refused = await world.conv.handle(CHAIR, Press(back_at_review.version, "submit"))
    assert "Chưa gửi được báo cáo" in text_of(refused)
    assert "Ít nhất 100 hoạt động" in text_of(refused)
    assert (await world.current_field(CHAIR)).name == "care_activities"  # type: ignore[union-attr]
    assert await world.db.fetchval("SELECT count(*) FROM submissions") == 0
    review = await world.conv.handle(CHAIR, TextInput("120"))
    receipt = await world.conv.handle(CHAIR, Press(review.version, "submit"))
    assert "Đã nhận báo cáo" in text_of(receipt)

    (row,) = await world.db.fetchall("SELECT id FROM submissions")
    stored = await submission_store.latest_answers(world.db, row["id"])
    assert stored["dialogues"] == "some"
    assert stored["propaganda_forms"] == ["regular", "social"]
    assert stored["care_activities"] == 120
    ctx = FormContext(changed, changed.period("dot-1"), UnitKind.ENTERPRISE_STATE,
                      Translator("vi", world.config.locales_dir), VN)
    by_name = {f.name: f for f in changed.fields}
    for name, value in stored.items():  # nothing stored breaks the definition in force
        assert form.fits(by_name[name], value), name
        assert form.constraint_problem(ctx, by_name[name], value, stored) is None, name


# --- the engine on its own ------------------------------------------------------------------------------


def every_type(edit: Any = None) -> Campaign:
    data = tomllib.loads(EVERY_TYPE)
    if edit is not None:
        edit({f["name"]: f for f in data["fields"]}, data)
    return Campaign.model_validate(data)


def context(campaign: Campaign, repo: Path) -> FormContext:
    return FormContext(campaign, campaign.periods[0], UnitKind.ENTERPRISE_STATE, Translator("vi", repo / "locales"),
                       VN)


def filled(repo: Path) -> FormState:
    """The every-type form answered to its review, as JSON-saved state."""
    ctx = context(every_type(), repo)
    state, _ = form.start(ctx, FormState("every-type", "dot-1", 1, "enterprise_state"))
    for inp in (TextInput("120"), TextInput("60"), ActionInput("skip"), TextInput("45%"), ActionInput("yes"),
                TextInput("500 nghìn"), ActionInput("c:b"), TextInput("1,3"), TextInput("15/7"), TextInput("Hội thao"),
                ActionInput("skip"), ActionInput("skip"), ActionInput("skip")):
        state, _replies, _ = form.step(ctx, state, inp)
    assert state.phase == "review"
    return FormState.from_json(json.loads(json.dumps(state.to_json())))


def test_a_skipped_question_that_became_required_is_asked_when_sending(repo: Path) -> None:
    def require_hours(fields: dict[str, Any], _data: dict[str, Any]) -> None:
        fields["hours"]["required"] = True

    ctx = context(every_type(require_hours), repo)
    state, replies, outcome = form.step(ctx, filled(repo), ActionInput("submit"))
    assert not outcome.submit
    assert state.current == "hours"
    assert "cần có câu trả lời" in "\n".join(r.text for r in replies)
    state, replies, outcome = form.step(ctx, state, ActionInput("skip"))
    assert state.current == "hours"  # required now: it cannot be skipped
    state, replies, outcome = form.step(ctx, state, TextInput("2,5"))
    assert state.phase == "review"
    state, _, outcome = form.step(ctx, state, ActionInput("submit"))
    assert outcome.submit
    assert state.answers["hours"] == "2.5"


def test_an_answer_to_a_question_the_campaign_dropped_is_not_kept(repo: Path) -> None:
    def drop_event_name(_fields: dict[str, Any], data: dict[str, Any]) -> None:
        data["fields"] = [f for f in data["fields"] if f["name"] != "event_name"]

    ctx = context(every_type(drop_event_name), repo)
    state, _, outcome = form.step(ctx, filled(repo), ActionInput("submit"))
    assert outcome.submit
    assert "event_name" not in state.answers


def test_a_changed_type_of_a_skip_rule_input_is_asked_again_without_failing(repo: Path) -> None:
    """gifts_given (yes/no) decides whether gifts_money is asked; as a choice now, True no longer fits."""
    def yes_no_to_choice(fields: dict[str, Any], _data: dict[str, Any]) -> None:
        fields["gifts_given"].update(type="select_one", choices=[{"value": "co", "label": {"vi": "Có"}},
                                                                 {"value": "khong", "label": {"vi": "Không"}}])
        fields["gifts_money"]["relevant"] = "${gifts_given} = 'co'"

    ctx = context(every_type(yes_no_to_choice), repo)
    saved = filled(repo)
    replies = form.resume(ctx, FormState.from_json(saved.to_json()))
    assert "Biểu mẫu đã được sửa" in replies[0].text
    state, replies, _ = form.step(ctx, saved, ActionInput("submit"))
    assert state.current == "gifts_given"
    state, replies, _ = form.step(ctx, state, ActionInput("c:co"))
    assert state.current == "gifts_money"  # the question it opens is asked again too, its answer now in doubt
    state, replies, _ = form.step(ctx, state, TextInput("500 nghìn"))
    assert state.phase == "review"
    state, _, outcome = form.step(ctx, state, ActionInput("submit"))
    assert outcome.submit
    assert state.answers["gifts_given"] == "co"
    assert state.answers["gifts_money"] == 500_000


def test_a_stored_report_read_under_a_changed_campaign_is_shown_not_failed(repo: Path) -> None:
    """/danop on a closed period shows the answers as stored, whatever the campaign became since."""
    def date_to_number(fields: dict[str, Any], _data: dict[str, Any]) -> None:
        fields["event_date"]["type"] = "integer"

    ctx = context(every_type(date_to_number), repo)
    lines = form.review_lines(ctx, filled(repo).answers)
    assert "9. Ngày tổ chức hoạt động chính?\n    → 2024-07-15" in lines


def test_a_correction_opened_under_a_changed_campaign_asks_only_what_no_longer_fits(repo: Path) -> None:
    def drop_choice_b(fields: dict[str, Any], _data: dict[str, Any]) -> None:
        fields["rating"]["choices"] = [c for c in fields["rating"]["choices"] if c["value"] != "b"]

    ctx = context(every_type(drop_choice_b), repo)
    submitted = filled(repo).answers  # rating "b", as stored with the first revision
    state, replies = form.start(ctx, FormState("every-type", "dot-1", 1, "enterprise_state", answers=dict(submitted),
                                               revision_of=7))
    assert "Biểu mẫu đã được sửa" in replies[0].text
    assert state.current == "rating"
    state, replies, _ = form.step(ctx, state, ActionInput("c:c"))
    assert state.phase == "review"  # the questions skipped in the submission are not asked again
    assert "Gửi bản sửa" in replies[-1].choices[0].label
    state, _, outcome = form.step(ctx, state, ActionInput("submit"))
    assert outcome.submit
    assert state.answers["rating"] == "c"
