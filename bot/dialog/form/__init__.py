"""The form engine: a pure step function (state, input) -> (state, replies, outcome).

It runs one campaign period's form for one unit: one question at a time, skip logic, optional
fields, constraints with their messages (cross-field ones too), back, a review of all answers where
any answer can be changed, and cancel with confirmation. It touches no database and no channel; the
conversation around it saves the state after every step and does the submitting.

Answers are kept as JSON values: int (integer, money), str (decimal and percent as exact decimal
text, select_one, text, date as ISO), bool (yes/no), list[str] (select_multiple), list[int]
(attachment ids for photo and document fields).

The modules, each importing only those above it: state (FormState, the action names), values (reading,
showing and checking an answer), layout (FormContext, which questions apply), prompts (the replies),
moves (keep an answer, go on or back), review (send or change an answer), engine (start, step,
request_cancel, resume). step, start and request_cancel return a new state and leave their input as it
was; resume brings the state it is given in line with the campaign, in place.
"""

from __future__ import annotations

from bot.dialog.form.engine import request_cancel, resume, start, step
from bot.dialog.form.layout import FormContext, FormLayout, layout_of, progress, relevant, relevant_fields
from bot.dialog.form.moves import reconcile
from bot.dialog.form.prompts import (
    changed_reply,
    confirm_cancel_reply,
    confirm_value_reply,
    pick_edit_reply,
    question_reply,
    review_lines,
    review_reply,
    typing_hint,
)
from bot.dialog.form.review import missing_or_invalid
from bot.dialog.form.state import BACK, CANCEL, DONE, EDIT, NO, SKIP, SUBMIT, YES, FormState
from bot.dialog.form.values import (
    LONG_TEXT_MAX,
    READ_BACK_FROM,
    SHORT_TEXT_MAX,
    SMALL_MONEY_BELOW,
    _read_value,
    constraint_problem,
    display_value,
    expression_answers,
    expression_value,
    fits,
)

# Every name the conversation, the demo, render_text and the tests use: `form.step`, `from bot.dialog.form import X`.
__all__ = [
    "BACK",
    "CANCEL",
    "DONE",
    "EDIT",
    "LONG_TEXT_MAX",
    "NO",
    "READ_BACK_FROM",
    "SHORT_TEXT_MAX",
    "SKIP",
    "SMALL_MONEY_BELOW",
    "SUBMIT",
    "YES",
    "FormContext",
    "FormLayout",
    "FormState",
    "_read_value",
    "changed_reply",
    "confirm_cancel_reply",
    "confirm_value_reply",
    "constraint_problem",
    "display_value",
    "expression_answers",
    "expression_value",
    "fits",
    "layout_of",
    "missing_or_invalid",
    "pick_edit_reply",
    "progress",
    "question_reply",
    "reconcile",
    "relevant",
    "relevant_fields",
    "request_cancel",
    "resume",
    "review_lines",
    "review_reply",
    "start",
    "step",
    "typing_hint",
]
