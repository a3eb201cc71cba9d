"""The form engine's entry points: start, one step of input, cancel, resume; and the answer handlers.

start, step and request_cancel are pure: they return a new state and leave the one given unchanged (the
conversation keeps the old one if saving the new one fails). resume, which only reads where the person
was, brings the given state in line with the campaign as defined now, in place."""

from __future__ import annotations

from bot.campaign_model import FieldType, FormField
from bot.dialog.form.layout import FormContext, relevant_fields
from bot.dialog.form.moves import accept, action_of, advance, go_back, reconcile, skip, yes_no_of
from bot.dialog.form.prompts import (
    changed_reply,
    confirm_cancel_reply,
    confirm_value_reply,
    pick_edit_reply,
    question_reply,
    review_reply,
)
from bot.dialog.form.review import on_pick_edit, on_review
from bot.dialog.form.state import BACK, DONE, SKIP, FormState
from bot.dialog.form.values import _read_value, constraint_problem, numbers_from_text, read_back
from bot.dialog.model import ActionInput, Button, FileInput, Input, Outcome, Reply, TextInput
from bot.parsing import ParseError, is_none_answer
from bot.vi_text import DONE_WORDS, typed_word


def start(ctx: FormContext, state: FormState) -> tuple[FormState, list[Reply]]:
    """Begin (or, for a correction, open the review of) the form."""
    state = state.copy()
    dropped = reconcile(ctx, state)  # a correction's answers were given under the campaign as it was then
    if state.revision_of is not None:
        # Questions left unanswered in the submission were skipped there: do not ask them again.
        state.skipped = [f.name for f in relevant_fields(ctx, state.answers)
                         if f.name not in state.answers and f.name not in state.recheck]
        if not dropped:
            state.phase = "review"
            return state, [review_reply(ctx, state)]
    return advance(ctx, state, [changed_reply(ctx, dropped)] if dropped else [])


def resume(ctx: FormContext, state: FormState) -> list[Reply]:
    """The reply that puts the person back where they were (after days away or a restart). Answers the
    campaign as defined now cannot hold are dropped from `state` itself, which the caller then keeps."""
    dropped = reconcile(ctx, state)
    if dropped:
        return advance(ctx, state, [changed_reply(ctx, dropped)])[1]
    if state.phase == "review":
        return [review_reply(ctx, state)]
    if state.phase == "pick_edit":
        return [pick_edit_reply(ctx, state)]
    if state.phase == "confirm_cancel":
        return [confirm_cancel_reply(ctx)]
    if state.phase == "confirm_value" and state.current:
        return [confirm_value_reply(ctx, ctx.field(state.current), state.pending)]
    if state.current:
        return [question_reply(ctx, state, ctx.field(state.current))]
    return [review_reply(ctx, state)]


def request_cancel(ctx: FormContext, state: FormState) -> tuple[FormState, list[Reply]]:
    state = state.copy()
    if state.phase != "confirm_cancel":
        state.before_cancel = state.phase
    state.phase = "confirm_cancel"
    return state, [confirm_cancel_reply(ctx)]


def step(ctx: FormContext, state: FormState, inp: Input) -> tuple[FormState, list[Reply], Outcome]:
    """One input: the new state, the replies to send, and whether to submit or cancel. `state` is not changed."""
    state = state.copy()
    outcome = Outcome()
    dropped = reconcile(ctx, state)
    if dropped:  # the input was meant for the form as it was: say what changed and ask again, in order
        state.phase, state.pending = "ask", None
        state, replies = advance(ctx, state, [changed_reply(ctx, dropped)])
        return state, replies, outcome
    match state.phase:
        case "confirm_cancel":
            replies = _on_confirm_cancel(ctx, state, inp, outcome)
        case "review":
            replies = on_review(ctx, state, inp, outcome)
        case "pick_edit":
            replies = on_pick_edit(ctx, state, inp)
        case "confirm_value":
            replies = _on_confirm_value(ctx, state, inp)
        case _:
            replies = _on_answer(ctx, state, inp)
    return state, replies, outcome


def _on_answer(ctx: FormContext, state: FormState, inp: Input) -> list[Reply]:
    t = ctx.t
    if state.current is None:
        return advance(ctx, state, [])[1]
    f = ctx.field(state.current)
    action = action_of(inp)
    if action == BACK:
        return go_back(ctx, state, f)
    if action == SKIP:
        if f.required:
            return [Reply(t("This question cannot be skipped."), nav=()), question_reply(ctx, state, f)]
        return skip(ctx, state, f)
    if f.type.is_attachment:
        return _on_attachment(ctx, state, f, inp)
    if f.type is FieldType.SELECT_MULTIPLE:
        return _on_multi(ctx, state, f, inp)
    if isinstance(inp, FileInput):
        return [Reply(t("This question needs a typed answer, not a file.")), question_reply(ctx, state, f)]
    try:
        value = _read_value(ctx, f, inp)
    except ParseError as err:
        return [Reply(err.render(t)), question_reply(ctx, state, f, short=True)]
    problem = constraint_problem(ctx, f, value, state.answers)
    if problem:
        return [Reply(problem), question_reply(ctx, state, f, short=True)]
    if read_back(f, value):
        state.pending = value
        state.phase = "confirm_value"
        return [confirm_value_reply(ctx, f, value)]
    return accept(ctx, state, f, value)


def _on_multi(ctx: FormContext, state: FormState, f: FormField, inp: Input) -> list[Reply]:
    t = ctx.t
    chosen: list[str] = list(state.pending or state.answers.get(f.name) or [])
    action = action_of(inp)
    if isinstance(inp, TextInput) and action is None:
        if typed_word(inp.text) in DONE_WORDS:
            action = DONE
        else:
            try:
                picked = numbers_from_text(inp.text, len(f.choices))
            except ParseError as err:
                return [Reply(err.render(t)), question_reply(ctx, state, f, short=True)]
            return _accept_multi(ctx, state, f, [f.choices[i - 1].value for i in picked])
    if action == DONE:
        return _accept_multi(ctx, state, f, chosen)
    if action and action.startswith("t:"):
        value = action[2:]
        if any(c.value == value for c in f.choices):
            chosen = [v for v in chosen if v != value] if value in chosen else [*chosen, value]
            state.pending = [c.value for c in f.choices if c.value in chosen]
            return [question_reply(ctx, state, f)]
    return [Reply(t("Please choose one of the answers offered.")), question_reply(ctx, state, f)]


def _accept_multi(ctx: FormContext, state: FormState, f: FormField, values: list[str]) -> list[Reply]:
    if not values and f.required:
        state.pending = None
        return [Reply(ctx.t("Please choose at least one answer.")), question_reply(ctx, state, f)]
    problem = constraint_problem(ctx, f, values, state.answers)
    if problem:
        return [Reply(problem), question_reply(ctx, state, f, short=True)]
    return accept(ctx, state, f, values)


def _on_attachment(ctx: FormContext, state: FormState, f: FormField, inp: Input) -> list[Reply]:
    t = ctx.t
    files: list[int] = list(state.pending or state.answers.get(f.name) or [])
    if isinstance(inp, FileInput):
        wanted = "photo" if f.type is FieldType.PHOTO else "document"
        if inp.kind != wanted and not (wanted == "document" and inp.kind == "photo"):
            return [Reply(t("Please send a photo for this question.")), question_reply(ctx, state, f, short=True)]
        files.append(inp.attachment_id)
        state.pending = files
        if len(files) >= f.max_files:
            return accept(ctx, state, f, files)
        if not ctx.buttons:
            return [Reply(t('Received {n} of at most {max}. Send more, or type "done".', n=len(files),
                            max=f.max_files))]
        return [
            Reply(
                t("Received {n} of at most {max}. Send more, or choose Done.", n=len(files), max=f.max_files),
                choices=(Button(t("Done"), DONE),),
            )
        ]
    action = action_of(inp)
    if action == DONE or (isinstance(inp, TextInput) and typed_word(inp.text) in DONE_WORDS):
        if not files:
            if f.required:
                return [Reply(t("Please send at least one file first.")), question_reply(ctx, state, f)]
            return _on_answer(ctx, state, ActionInput(SKIP))
        return accept(ctx, state, f, files)
    if isinstance(inp, TextInput) and not files and is_none_answer(inp.text):
        # "ko", "không có", "chưa có": no file to send, the same words that mean none on a count.
        return _on_answer(ctx, state, ActionInput(SKIP))
    kind = t("a photo") if f.type is FieldType.PHOTO else t("a file (PDF, Word, Excel or a photo)")
    return [Reply(t("Please send {kind} here as a photo or file message.", kind=kind)),
            question_reply(ctx, state, f, short=True)]


def _on_confirm_value(ctx: FormContext, state: FormState, inp: Input) -> list[Reply]:
    assert state.current is not None
    f = ctx.field(state.current)
    answer = yes_no_of(inp)
    if answer is True:
        return accept(ctx, state, f, state.pending)
    if answer is False:
        state.pending = None
        state.phase = "ask"
        return [Reply(ctx.t("All right, please type it again.")), question_reply(ctx, state, f, short=True)]
    if isinstance(inp, TextInput):
        # A new number instead of yes/no: take it as a fresh answer.
        state.phase = "ask"
        state.pending = None
        return _on_answer(ctx, state, inp)
    return [confirm_value_reply(ctx, f, state.pending)]


def _on_confirm_cancel(ctx: FormContext, state: FormState, inp: Input, outcome: Outcome) -> list[Reply]:
    answer = yes_no_of(inp)
    if answer is True:
        outcome.cancelled = True
        return []
    if answer is False:
        state.phase = state.before_cancel
        return [Reply(ctx.t("Good, let us continue.")), *resume(ctx, state)]
    return [confirm_cancel_reply(ctx)]
