"""In the dialog, an answer with something the reader does not understand is asked again with an example;
nothing shortened is kept ("l5" was stored as 5, "=1+1" as 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dialog.form import FormContext
from bot.domain import UnitKind
from bot.i18n import Translator
from tests.conftest import VN
from tests.form_fixture import every_type_campaign
from tests.test_dialog_form import Runner


@pytest.fixture
def runner(repo: Path) -> Runner:
    campaign = every_type_campaign()
    return Runner(FormContext(campaign, campaign.periods[0], UnitKind.ENTERPRISE_STATE,
                              Translator("vi", repo / "locales"), VN))


@pytest.mark.parametrize("typed", ["l5", "5O", "1O0", "=1+1", "=SUM(A1)", "<b>7</b>", "12a", "#5", "5-"])
def test_a_count_with_a_letter_or_formula_is_asked_again_not_stored(runner: Runner, typed: str) -> None:
    assert runner.current == "members"
    runner.text(typed)
    assert "Xin gõ một con số, ví dụ: 15." in runner.last
    assert runner.current == "members"
    assert runner.state.answers == {}
    runner.text("15 người")  # what was meant, typed plainly, is taken
    assert runner.state.answers == {"members": 15}


@pytest.mark.parametrize("typed", ["2 triệu rưỡi x", "2tr l", "=2000000", "2.000.000đ/tháng"])
def test_an_amount_with_something_not_understood_is_asked_again_not_stored(runner: Runner, typed: str) -> None:
    for step in ("120", "60"):
        runner.text(step)
    runner.press("skip")  # hours
    runner.text("45,5%")  # share
    runner.press("yes")  # gifts_given
    assert runner.current == "gifts_money"
    runner.text(typed)
    assert "Xin gõ số tiền (đồng), ví dụ: 2.000.000 hoặc 2 triệu." in runner.last
    assert "gifts_money" not in runner.state.answers
    assert runner.state.phase == "ask"  # not read back either: nothing was understood
