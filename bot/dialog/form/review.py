"""The review of all answers before sending: send, or pick an answer to change by its number."""

from __future__ import annotations

import re

from bot.campaign_model import FormField
from bot.dialog.form.layout import FormContext, relevant_fields
from bot.dialog.form.moves import action_of, advance, go_back
from bot.dialog.form.prompts import pick_edit_reply, question_reply, review_reply
from bot.dialog.form.state import BACK, EDIT, SUBMIT, FormState
from bot.dialog.form.values import constraint_problem, fits
from bot.dialog.model import Input, Outcome, Reply, TextInput
from bot.ids import parse_id
from bot.vi_text import EDIT_WORDS, QUESTION_WORDS, SUBMIT_WORDS, typed_word


def missing_or_invalid(ctx: FormContext, state: FormState) -> list[tuple[int, FormField, str]]:
    """Problems that stop a submission, checked against the campaign as defined now: a required answer
    missing, an answer of the wrong type or no longer among the choices, a constraint broken."""
    t = ctx.t
    problems = []
    for i, f in enumerate(relevant_fields(ctx, state.answers), start=1):
        value = state.answers.get(f.name)
        if value is None or value == []:
            if f.required or f.name in state.recheck:
                problems.append((i, f, t("an answer is needed")))
            continue
        if f.name in state.recheck or not fits(f, value):
            problems.append((i, f, t("the question was changed; please answer it again")))
            continue
        problem = constraint_problem(ctx, f, value, state.answers)
        if problem is not None:
            problems.append((i, f, problem))
    return problems


def _alternatives(words: frozenset[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# "sửa 10", "sửa câu 10", "edit 10", or the bare number: the answer with that number in the review. Matched
# on folded text, so "sua cau 10" too.
EDIT_NUMBER = re.compile(
    rf"(?:(?:{_alternatives(EDIT_WORDS)})\s*(?:{_alternatives(QUESTION_WORDS)}|no\.?|#)?\s*)?([0-9]{{1,4}})")


def _edit_number(inp: Input) -> int | None:
    if not isinstance(inp, TextInput):
        return None
    match = EDIT_NUMBER.fullmatch(typed_word(inp.text))
    return int(match.group(1)) if match else None


def on_review(ctx: FormContext, state: FormState, inp: Input, outcome: Outcome) -> list[Reply]:
    t = ctx.t
    action = action_of(inp)
    if isinstance(inp, TextInput) and action is None:
        word = typed_word(inp.text)
        action = SUBMIT if word in SUBMIT_WORDS else EDIT if word in EDIT_WORDS else None
        number = _edit_number(inp)
        if number is not None:  # the review numbers the answers: a number is one of them, never "send"
            return _open_edit(ctx, state, number)
    if action == SUBMIT:
        problems = missing_or_invalid(ctx, state)
        if problems:
            lines = [t("The report cannot be sent yet:")]
            for i, f, msg in problems:
                question = t("Question {i}", i=i)
                lines.append(f"• {question} ({f.label.get(t.locale)}): {msg}")
                if f.name not in state.recheck:  # asked again, one after the other, then the review
                    state.recheck.append(f.name)
                if f.name in state.skipped:
                    state.skipped.remove(f.name)
            return advance(ctx, state, [Reply("\n".join(lines))])[1]
        outcome.submit = True
        return []
    if action == EDIT:
        state.phase = "pick_edit"
        return [pick_edit_reply(ctx, state)]
    if action == BACK:
        state.phase = "ask"
        return go_back(ctx, state, None)
    return [Reply(t("Please choose: send the report, or change an answer.")), review_reply(ctx, state)]


def on_pick_edit(ctx: FormContext, state: FormState, inp: Input) -> list[Reply]:
    t = ctx.t
    fields = relevant_fields(ctx, state.answers)
    action = action_of(inp)
    index: int | None = None
    if action and action.startswith("e:"):
        index = parse_id(action[2:])
    elif isinstance(inp, TextInput):
        index = _edit_number(inp)
    if action == BACK:
        state.phase = "review"
        return [review_reply(ctx, state)]
    if index is None or not 1 <= index <= len(fields):
        return [Reply(t("Please type the number of the question to change, from 1 to {n}.", n=len(fields))),
                pick_edit_reply(ctx, state)]
    return _open_edit(ctx, state, index)


def _open_edit(ctx: FormContext, state: FormState, index: int) -> list[Reply]:
    """Question `index` of the review, asked again with its current answer."""
    fields = relevant_fields(ctx, state.answers)
    if not 1 <= index <= len(fields):
        return [Reply(ctx.t("Please type the number of the question to change, from 1 to {n}.", n=len(fields))),
                review_reply(ctx, state)]
    f = fields[index - 1]
    state.current = f.name
    state.phase = "ask"
    state.pending = None
    # Answering it again leads straight back to the review, since nothing else is missing.
    return [question_reply(ctx, state, f)]
