"""A hint never contradicts the rule: whatever a question offers as an example, or as "type 0 if none", the
question then takes. Checked on every field of every campaign: the seeds, the test fixture, the benchmark's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bench.dialog import CAMPAIGN_TOML
from bot.campaign_model import Campaign, FieldType, FormField, Period
from bot.dialog import form
from bot.dialog.form import FormContext, FormState
from bot.dialog.model import TextInput
from bot.domain import UnitKind
from bot.i18n import Translator
from bot.parsing import ParseError
from tests.conftest import REPO, VN
from tests.form_fixture import EVERY_TYPE

TYPED_KINDS = (FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY, FieldType.PERCENT, FieldType.DATE)


def _campaigns() -> list[Campaign]:
    sources = [p.read_text(encoding="utf-8") for p in sorted((REPO / "campaigns").glob("*.toml"))]
    return [Campaign.model_validate(tomllib.loads(s)) for s in (*sources, EVERY_TYPE, CAMPAIGN_TOML)]


CASES = [
    pytest.param(c, p, f, id=f"{c.id}/{p.key}/{f.name}")
    for c in _campaigns()
    for p in c.periods
    for f in c.fields
    if f.type in TYPED_KINDS and f.asked_in(p.key)
]


def _earlier_answers(ctx: FormContext, f: FormField, size: int) -> dict[str, Any]:
    """Answers to the questions before `f` that keep their own rules, so cross-field rules ("at most the
    members") have their numbers: about `size` for counts, so a small unit is tried as well as a large one."""
    period = ctx.period
    answers: dict[str, Any] = {}
    for other in ctx.campaign.fields:
        if other.name == f.name:
            break
        if other.choices:
            first = other.choices[0].value
            answers[other.name] = [first] if other.type is FieldType.SELECT_MULTIPLE else first
            continue
        candidates: list[Any] = {
            FieldType.INTEGER: [size, max(size // 4, 1), 1, 0],
            FieldType.DECIMAL: [str(size), "1", "0"],
            FieldType.MONEY: [size * 1_000_000, 1_000_000, 0],
            FieldType.PERCENT: ["50", "0"],
            FieldType.YES_NO: [True, False],
            FieldType.DATE: [period.covers.end.isoformat(), period.covers.start.isoformat()],
        }.get(other.type, [[1]] if other.type.is_attachment else ["Hội thao"])
        fitting = [v for v in candidates if form.constraint_problem(ctx, other, v, answers) is None]
        if fitting:
            answers[other.name] = fitting[0]
    return answers


# "ví dụ: 15", "ví dụ 3.000.000 hoặc 3 triệu", "e.g. 35", "for example 2.000.000 or 2 triệu" ... up to the end
# of the sentence; each alternative that starts with a digit is a value offered.
_EXAMPLES = re.compile(r"(?:ví dụ|for example|e\.g\.)[: ]+(.+?)(?:\.\s|\.$|$)", re.IGNORECASE | re.MULTILINE)
_NONE = re.compile(r"(?:không có thì (?:gõ|nhập) (\S+?)\.?(?:\s|$))|(?:(?:type|enter) (\S+) if none)", re.IGNORECASE)


def offered_values(text: str) -> list[str]:
    values = [m[1] or m[2] for m in _NONE.finditer(text)]
    for m in _EXAMPLES.finditer(text):
        for part in re.split(r" hoặc | or ", m[1]):
            part = part.strip().strip("“”\"'")
            if part[:1].isdigit():
                values.append(part)
    return values


def test_offered_values_are_found_in_hints() -> None:
    assert offered_values("Gõ một con số, ví dụ: 15. Không có thì gõ 0.") == ["0", "15"]
    assert offered_values("E.g. 12,500,000 or 12.5 million") == ["12,500,000", "12.5 million"]
    assert offered_values("Ví dụ: khám sức khỏe, hỗ trợ. Không có thì nhập 0.") == ["0"]
    assert offered_values("Type a number greater than 0, for example 15.") == ["15"]


@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize("size", [120, 2])
@pytest.mark.parametrize(("campaign", "period", "f"), CASES)
def test_every_value_a_question_offers_is_taken(
    campaign: Campaign, period: Period, f: FormField, size: int, locale: str
) -> None:
    kind = next(k for k in UnitKind if f.asked_of(k))
    ctx = FormContext(campaign, period, kind, Translator(locale, REPO / "locales"), VN)
    state = FormState(campaign.id, period.key, 1, kind.value, answers=_earlier_answers(ctx, f, size))
    state.current = f.name
    shown = [form.question_reply(ctx, state, f).text]
    if f.constraint_message and f.constraint_expr is not None and not f.constraint_expr.fields:
        shown.append(f.constraint_message.get(locale))  # an example in the rule's own message counts too
    offered = [v for text in shown for v in offered_values(text)]
    if f.type is not FieldType.DATE and not f.hint:
        assert offered, shown  # the generic hint always offers an example
    for value in offered:
        try:
            answer = form._read_value(ctx, f, TextInput(value))
        except ParseError as err:
            pytest.fail(f"{f.name}: {value!r} is offered but not understood ({err}):\n" + "\n".join(shown))
        problem = form.constraint_problem(ctx, f, answer, state.answers)
        assert problem is None, f"{f.name}: {value!r} is offered but refused: {problem}\n" + "\n".join(shown)


def test_a_count_that_must_be_above_zero_does_not_offer_zero(repo: Path) -> None:
    campaign = Campaign.model_validate(tomllib.loads((repo / "campaigns/daklak-95-nam-cdvn-2024.toml").read_text()))
    period = campaign.periods[0]
    f = next(f for f in campaign.fields if f.name == "union_meal_people")
    assert f.constraint == ". > 0"
    ctx = FormContext(campaign, period, UnitKind.ENTERPRISE_STATE, Translator("vi", repo / "locales"), VN)
    state = FormState(campaign.id, period.key, 1, "enterprise_state", answers={"union_meal_held": True})
    state.current = f.name
    text = form.question_reply(ctx, state, f).text
    assert "Không có thì gõ 0" not in text
    assert "Gõ một con số lớn hơn 0, ví dụ: 15." in text


def test_the_example_fits_a_cross_field_limit(repo: Path) -> None:
    # "At most the number of members": with 3 members the example is not 15.
    campaign = Campaign.model_validate(tomllib.loads(EVERY_TYPE))
    period = campaign.periods[0]
    f = next(f for f in campaign.fields if f.name == "participants")
    ctx = FormContext(campaign, period, UnitKind.ENTERPRISE_STATE, Translator("vi", repo / "locales"), VN)
    state = FormState(campaign.id, period.key, 1, "enterprise_state", answers={"members": 3})
    state.current = f.name
    assert "ví dụ: 3. Không có thì gõ 0." in form.question_reply(ctx, state, f).text
