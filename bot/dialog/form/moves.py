"""Moving through the form: bringing a draft in line with the campaign, keeping an answer, going on to
the next question or back to the last one. These change the state they are given: the step works on a
copy (bot.dialog.form.engine)."""

from __future__ import annotations

from typing import Any

from bot.campaign_model import FormField
from bot.dialog.form.layout import FormContext, relevant_fields
from bot.dialog.form.prompts import question_reply, review_reply
from bot.dialog.form.state import BACK, NO, SKIP, YES, FormState
from bot.dialog.form.values import fits, pending_fits
from bot.dialog.model import ActionInput, Input, Reply, TextInput
from bot.parsing import ParseError, parse_yes_no
from bot.vi_text import BACK_WORDS, SKIP_WORDS, typed_word


def reconcile(ctx: FormContext, state: FormState) -> list[FormField]:
    """Bring a draft in line with the campaign as defined now. Answers to questions it no longer asks are
    dropped; answers its questions can no longer hold (a type or a choice changed) are dropped and the
    questions are asked again; the fields of the latter are returned, to tell the person."""
    layout = ctx.layout
    dropped = []
    for name in list(state.answers):
        if name not in layout.names:
            del state.answers[name]
        elif not fits(layout.by_name[name], state.answers[name]):
            del state.answers[name]
            dropped.append(layout.by_name[name])
            if name not in state.recheck:
                state.recheck.append(name)
    state.skipped = [n for n in state.skipped if n in layout.names]
    state.stack = [n for n in state.stack if n in layout.names]
    state.recheck = [n for n in state.recheck if n in layout.names]
    if state.current is not None and state.current not in layout.names:
        state.current, state.pending, state.phase = None, None, "ask"  # its question is gone: on to the next
    if state.pending is not None and state.current is not None and not pending_fits(ctx.field(state.current),
                                                                                       state.pending):
        state.pending = None
        if state.phase == "confirm_value":
            state.phase = "ask"
    return dropped


def _next_field(ctx: FormContext, state: FormState) -> FormField | None:
    for f in relevant_fields(ctx, state.answers):
        if f.name in state.recheck or (f.name not in state.answers and f.name not in state.skipped):
            return f
    return None


def _prune(ctx: FormContext, state: FormState) -> None:
    """Answers to questions that no longer apply are dropped, so nothing irrelevant is stored."""
    keep = ctx.layout.relevant(state.answers)[1]
    for name in list(state.answers):
        if name not in keep:
            del state.answers[name]
    state.skipped = [n for n in state.skipped if n in keep]
    state.stack = [n for n in state.stack if n in keep]
    state.recheck = [n for n in state.recheck if n in keep]


def advance(ctx: FormContext, state: FormState, replies: list[Reply]) -> tuple[FormState, list[Reply]]:
    _prune(ctx, state)
    nxt = _next_field(ctx, state)
    if nxt is None:
        state.current = None
        state.phase = "review"
        replies.append(review_reply(ctx, state))
    else:
        state.current = nxt.name
        state.phase = "ask"
        replies.append(question_reply(ctx, state, nxt))
    return state, replies


def accept(ctx: FormContext, state: FormState, f: FormField, value: Any) -> list[Reply]:
    if f.name in state.skipped:
        state.skipped.remove(f.name)
    state.answers[f.name] = value
    if f.name in state.recheck:
        state.recheck.remove(f.name)
    if f.name in state.stack:
        state.stack.remove(f.name)
    state.stack.append(f.name)
    state.pending = None
    return advance(ctx, state, [])[1]


def skip(ctx: FormContext, state: FormState, f: FormField) -> list[Reply]:
    """Skip an optional question: its answer is dropped and "back" can return to it."""
    state.answers.pop(f.name, None)
    if f.name in state.recheck:
        state.recheck.remove(f.name)
    if f.name not in state.skipped:
        state.skipped.append(f.name)
    if f.name in state.stack:
        state.stack.remove(f.name)
    state.stack.append(f.name)
    return advance(ctx, state, [])[1]


def action_of(inp: Input) -> str | None:
    """The move an input makes: a button's action, or back/skip typed as a word."""
    if isinstance(inp, ActionInput):
        return inp.action
    if isinstance(inp, TextInput):
        word = typed_word(inp.text)  # "Quay lai.", "bỏ qua": matched without marks or case
        if word in BACK_WORDS:
            return BACK
        if word in SKIP_WORDS:
            return SKIP
    return None


def go_back(ctx: FormContext, state: FormState, f: FormField | None) -> list[Reply]:
    t = ctx.t
    previous = [n for n in state.stack if f is None or n != f.name]
    if not previous:
        replies = [Reply(t("This is the first question."))]
        if f is not None:
            replies.append(question_reply(ctx, state, f))
        return replies
    state.current = previous[-1]
    state.phase = "ask"
    return [question_reply(ctx, state, ctx.field(state.current))]


def yes_no_of(inp: Input) -> bool | None:
    if isinstance(inp, ActionInput):
        return {YES: True, NO: False}.get(inp.action)
    if isinstance(inp, TextInput):
        try:
            return parse_yes_no(inp.text)
        except ParseError:
            return None
    return None
