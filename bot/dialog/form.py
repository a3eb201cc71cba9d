"""The form engine: a pure step function (state, input) -> (state, replies, outcome).

It runs one campaign period's form for one unit: one question at a time, skip logic, optional
fields, constraints with their messages (cross-field ones too), back, a review of all answers where
any answer can be changed, and cancel with confirmation. It touches no database and no channel; the
conversation around it saves the state after every step and does the submitting.

Answers are kept as JSON values: int (integer, money), str (decimal and percent as exact decimal
text, select_one, text, date as ISO), bool (yes/no), list[str] (select_multiple), list[int]
(attachment ids for photo and document fields).
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from bot.campaign_model import Campaign, FieldType, FormField, Period
from bot.dialog.model import ActionInput, Button, FileInput, Input, Outcome, Reply, TextInput
from bot.domain import UnitKind
from bot.i18n import Translator
from bot.ids import parse_id
from bot.parsing import (
    ParseError,
    is_none_answer,
    parse_date,
    parse_money,
    parse_number,
    parse_percent,
    parse_yes_no,
    spell_amount,
)

SHORT_TEXT_MAX = 300
LONG_TEXT_MAX = 3000
READ_BACK_FROM = 1_000_000  # numbers this large are read back in words before they are kept
SMALL_MONEY_BELOW = 1_000  # and amounts this small: "500" typed for 500.000 đồng must not be kept silently

BACK, SKIP, DONE, YES, NO = "back", "skip", "done", "yes", "no"
SUBMIT, EDIT, CANCEL = "submit", "edit", "cancel"
BACK_WORDS = {"quay lại", "quay lai", "trở lại", "tro lai", "lùi", "back"}
SKIP_WORDS = {"bỏ qua", "bo qua", "bỏ", "skip"}
DONE_WORDS = {"xong", "done", "hết", "het"}


@dataclass(slots=True)
class FormState:
    campaign_id: str
    period_key: str
    unit_id: int
    unit_kind: str
    answers: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    stack: list[str] = field(default_factory=list)  # fields answered, in the order asked, for "back"
    current: str | None = None
    phase: str = "ask"  # ask | confirm_value | review | pick_edit | confirm_cancel
    pending: Any = None  # a value waiting for "đúng không?"
    before_cancel: str = "ask"
    revision_of: int | None = None  # correcting this submission id
    recheck: list[str] = field(default_factory=list)  # answers to ask again before the report can be sent

    def to_json(self) -> dict[str, Any]:
        # By hand rather than dataclasses.asdict: this runs on every step, and asdict deep-copies.
        answers = {k: (list(v) if isinstance(v, list) else v) for k, v in self.answers.items()}
        pending = list(self.pending) if isinstance(self.pending, list) else self.pending
        return {
            "campaign_id": self.campaign_id, "period_key": self.period_key, "unit_id": self.unit_id,
            "unit_kind": self.unit_kind, "answers": answers, "skipped": list(self.skipped),
            "stack": list(self.stack), "current": self.current, "phase": self.phase, "pending": pending,
            "before_cancel": self.before_cancel, "revision_of": self.revision_of, "recheck": list(self.recheck),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FormState:
        return cls(**data)


class FormLayout:
    """What one campaign asks in one period of one kind of unit, worked out once and shared by every
    step of every chair filling it in: the questions, and which of them apply given the answers their
    skip rules read (remembered, since a handful of yes/no answers decide it for everyone)."""

    MEMO_LIMIT = 1024  # distinct combinations of skip-rule answers remembered; real forms have a few

    def __init__(self, campaign: Campaign, period_key: str, kind: UnitKind) -> None:
        self.fields = campaign.fields_for(period_key, kind)
        self.names = frozenset(f.name for f in self.fields)
        self.by_name = {f.name: f for f in campaign.fields}
        self.relevance_inputs = frozenset(
            name for f in self.fields if f.relevant_expr is not None for name in f.relevant_expr.fields)
        self._inputs_in_order = tuple(sorted(self.relevance_inputs))
        self._memo: dict[tuple[tuple[str, Any], ...], tuple[tuple[FormField, ...], frozenset[str]]] = {}

    def relevant(self, answers: dict[str, Any]) -> tuple[tuple[FormField, ...], frozenset[str]]:
        """The questions that apply now, in order, and their names."""
        wanted = self.relevance_inputs
        key = tuple((k, _frozen(answers[k])) for k in self._inputs_in_order if k in answers)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        values = {k: expression_value(self.by_name[k], v) for k, v in answers.items() if k in wanted}
        fields = tuple(f for f in self.fields if f.relevant_expr is None or f.relevant_expr.evaluate(values))
        result = fields, frozenset(f.name for f in fields)
        if len(self._memo) >= self.MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = result
        return result


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


# Layouts live as long as their campaign object (the campaign store keeps one per file version).
_layouts: dict[tuple[int, str, str], tuple[weakref.ref[Campaign], FormLayout]] = {}


def layout_of(campaign: Campaign, period_key: str, kind: UnitKind) -> FormLayout:
    key = (id(campaign), period_key, kind.value)
    hit = _layouts.get(key)
    if hit is not None and hit[0]() is campaign:
        return hit[1]
    layout = FormLayout(campaign, period_key, kind)
    def forget(_ref: object, key: tuple[int, str, str] = key) -> None:
        _layouts.pop(key, None)

    _layouts[key] = (weakref.ref(campaign, forget), layout)
    return layout


@dataclass(frozen=True)
class FormContext:
    campaign: Campaign
    period: Period
    unit_kind: UnitKind
    t: Translator
    zone: ZoneInfo
    buttons: bool = True  # the channel shows buttons; without, moves are typed words and choices numbered

    @cached_property
    def layout(self) -> FormLayout:
        return layout_of(self.campaign, self.period.key, self.unit_kind)

    @property
    def fields(self) -> tuple[FormField, ...]:
        return self.layout.fields

    def field(self, name: str) -> FormField:
        layout = self.layout
        if name not in layout.names:
            raise KeyError(name)
        return layout.by_name[name]


# --- values -------------------------------------------------------------------------------------


def expression_value(f: FormField, value: Any) -> Any:
    """The answer as expressions see it: numbers as Decimal, dates as date."""
    if value is None:
        return None
    if f.type.is_numeric:
        return Decimal(str(value))
    if f.type is FieldType.DATE:
        return dt.date.fromisoformat(value)
    return value


def expression_answers(ctx: FormContext, answers: dict[str, Any]) -> dict[str, Any]:
    by_name = ctx.layout.by_name
    return {k: expression_value(by_name[k], v) for k, v in answers.items() if k in by_name}


def display_value(ctx: FormContext, f: FormField, value: Any) -> str:
    t = ctx.t
    if value is None:
        return t("(skipped)")
    match f.type:
        case FieldType.INTEGER | FieldType.DECIMAL:
            text = t.number(Decimal(str(value)))
            return f"{text} {f.unit.get(t.locale)}" if f.unit else text
        case FieldType.MONEY:
            return t.money(int(value))
        case FieldType.PERCENT:
            return t.percent(Decimal(str(value)))
        case FieldType.YES_NO:
            return t("Yes") if value else t("No")
        case FieldType.SELECT_ONE:
            return _choice_label(ctx, f, value)
        case FieldType.SELECT_MULTIPLE:
            return ", ".join(_choice_label(ctx, f, v) for v in value)
        case FieldType.DATE:
            return t.date(dt.date.fromisoformat(value))
        case FieldType.PHOTO:
            return t.ngettext("{n} photo", "{n} photos", len(value))
        case FieldType.DOCUMENT:
            return t.ngettext("{n} file", "{n} files", len(value))
        case _:
            return str(value)


def fits(f: FormField, value: Any) -> bool:
    """Whether a kept answer is a value the question, as defined now, could have been given: its type, its
    choices, its size. A campaign file changed under an open draft can leave answers that are not."""
    choices = {c.value for c in f.choices}
    match f.type:
        case FieldType.INTEGER | FieldType.MONEY:
            return type(value) is int
        case FieldType.DECIMAL | FieldType.PERCENT:
            return isinstance(value, str | int) and not isinstance(value, bool) and _finite(value)
        case FieldType.YES_NO:
            return isinstance(value, bool)
        case FieldType.SELECT_ONE:
            return isinstance(value, str) and value in choices
        case FieldType.SELECT_MULTIPLE:
            return (isinstance(value, list) and all(isinstance(v, str) and v in choices for v in value)
                    and len(set(value)) == len(value))
        case FieldType.DATE:
            return isinstance(value, str) and _iso_date(value)
        case FieldType.TEXT | FieldType.LONG_TEXT:
            limit = SHORT_TEXT_MAX if f.type is FieldType.TEXT else LONG_TEXT_MAX
            return isinstance(value, str) and value.strip() != "" and len(value) <= limit
        case FieldType.PHOTO | FieldType.DOCUMENT:
            return (isinstance(value, list) and 0 < len(value) <= f.max_files
                    and all(type(v) is int for v in value))
    return False


def _finite(value: str | int) -> bool:
    try:
        return Decimal(str(value)).is_finite()
    except ArithmeticError:
        return False


def _iso_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


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
    if state.pending is not None and state.current is not None and not _pending_fits(ctx.field(state.current),
                                                                                       state.pending):
        state.pending = None
        if state.phase == "confirm_value":
            state.phase = "ask"
    return dropped


def _pending_fits(f: FormField, pending: Any) -> bool:
    if f.type is FieldType.SELECT_MULTIPLE:
        return fits(f, pending) or pending == []
    return fits(f, pending)


def changed_reply(ctx: FormContext, dropped: list[FormField]) -> Reply:
    t = ctx.t
    lines = [t("The form was changed after you answered. These questions are asked again:")]
    lines += [f"• {f.label.get(t.locale)}" for f in dropped]
    return Reply("\n".join(lines))


def _choice_label(ctx: FormContext, f: FormField, value: str) -> str:
    for c in f.choices:
        if c.value == value:
            return c.label.get(ctx.t.locale)
    return value


# --- the engine ---------------------------------------------------------------------------------


def start(ctx: FormContext, state: FormState) -> tuple[FormState, list[Reply]]:
    """Begin (or, for a correction, open the review of) the form."""
    dropped = reconcile(ctx, state)  # a correction's answers were given under the campaign as it was then
    if state.revision_of is not None:
        # Questions left unanswered in the submission were skipped there: do not ask them again.
        state.skipped = [f.name for f in relevant_fields(ctx, state.answers)
                         if f.name not in state.answers and f.name not in state.recheck]
        if not dropped:
            state.phase = "review"
            return state, [review_reply(ctx, state)]
    return _advance(ctx, state, [changed_reply(ctx, dropped)] if dropped else [])


def resume(ctx: FormContext, state: FormState) -> list[Reply]:
    """The reply that puts the person back where they were (after days away or a restart)."""
    dropped = reconcile(ctx, state)
    if dropped:
        return _advance(ctx, state, [changed_reply(ctx, dropped)])[1]
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
    if state.phase != "confirm_cancel":
        state.before_cancel = state.phase
    state.phase = "confirm_cancel"
    return state, [confirm_cancel_reply(ctx)]


def step(ctx: FormContext, state: FormState, inp: Input) -> tuple[FormState, list[Reply], Outcome]:
    outcome = Outcome()
    dropped = reconcile(ctx, state)
    if dropped:  # the input was meant for the form as it was: say what changed and ask again, in order
        state.phase, state.pending = "ask", None
        state, replies = _advance(ctx, state, [changed_reply(ctx, dropped)])
        return state, replies, outcome
    match state.phase:
        case "confirm_cancel":
            replies = _on_confirm_cancel(ctx, state, inp, outcome)
        case "review":
            replies = _on_review(ctx, state, inp, outcome)
        case "pick_edit":
            replies = _on_pick_edit(ctx, state, inp)
        case "confirm_value":
            replies = _on_confirm_value(ctx, state, inp)
        case _:
            replies = _on_answer(ctx, state, inp)
    return state, replies, outcome


def relevant(ctx: FormContext, f: FormField, answers: dict[str, Any]) -> bool:
    expr = f.relevant_expr
    return expr is None or expr.evaluate(expression_answers(ctx, answers))


def relevant_fields(ctx: FormContext, answers: dict[str, Any]) -> tuple[FormField, ...]:
    return ctx.layout.relevant(answers)[0]


def progress(ctx: FormContext, state: FormState) -> tuple[int, int]:
    """(question number, questions in all) as the person sees them now. A question whose skip logic
    waits on an unanswered one is counted, so the total only ever shrinks as answers come in."""
    relevant_now = ctx.layout.relevant(state.answers)[1]
    settled = state.answers.keys() | set(state.skipped)
    names = [
        f.name for f in ctx.fields
        if f.name in relevant_now or (f.relevant_expr is not None and not f.relevant_expr.fields <= settled)
    ]
    if state.current in names:
        return names.index(state.current) + 1, len(names)
    done = sum(1 for n in names if n in state.answers or n in state.skipped)
    return done, len(names)


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


def _advance(ctx: FormContext, state: FormState, replies: list[Reply]) -> tuple[FormState, list[Reply]]:
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


def _accept(ctx: FormContext, state: FormState, f: FormField, value: Any) -> list[Reply]:
    if f.name in state.skipped:
        state.skipped.remove(f.name)
    state.answers[f.name] = value
    if f.name in state.recheck:
        state.recheck.remove(f.name)
    if f.name in state.stack:
        state.stack.remove(f.name)
    state.stack.append(f.name)
    state.pending = None
    return _advance(ctx, state, [])[1]


def _on_answer(ctx: FormContext, state: FormState, inp: Input) -> list[Reply]:
    t = ctx.t
    if state.current is None:
        return _advance(ctx, state, [])[1]
    f = ctx.field(state.current)
    action = _action_of(inp)
    if action == BACK:
        return _go_back(ctx, state, f)
    if action == SKIP:
        if f.required:
            return [Reply(t("This question cannot be skipped."), nav=()), question_reply(ctx, state, f)]
        state.answers.pop(f.name, None)
        if f.name in state.recheck:
            state.recheck.remove(f.name)
        if f.name not in state.skipped:
            state.skipped.append(f.name)
        if f.name in state.stack:
            state.stack.remove(f.name)
        state.stack.append(f.name)
        return _advance(ctx, state, [])[1]
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
    if _read_back(f, value):
        state.pending = value
        state.phase = "confirm_value"
        return [confirm_value_reply(ctx, f, value)]
    return _accept(ctx, state, f, value)


def _read_back(f: FormField, value: Any) -> bool:
    """Whether to read the number back in words before keeping it: a million or more (a zero too many is easy to
    type), or an amount of money under 1.000 đồng (someone who means 500.000 types "500")."""
    if f.type not in (FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY):
        return False
    size = abs(Decimal(str(value)))
    return size >= READ_BACK_FROM or (f.type is FieldType.MONEY and 0 < size < SMALL_MONEY_BELOW)


def _action_of(inp: Input) -> str | None:
    if isinstance(inp, ActionInput):
        return inp.action
    if isinstance(inp, TextInput):
        word = " ".join(inp.text.lower().split()).strip(".!")
        if word in BACK_WORDS:
            return BACK
        if word in SKIP_WORDS:
            return SKIP
    return None


def _go_back(ctx: FormContext, state: FormState, f: FormField | None) -> list[Reply]:
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


def _read_value(ctx: FormContext, f: FormField, inp: Input) -> Any:
    t = ctx.t
    if isinstance(inp, ActionInput):
        if f.type is FieldType.YES_NO and inp.action in (YES, NO):
            return inp.action == YES
        if f.type is FieldType.SELECT_ONE and inp.action.startswith("c:"):
            value = inp.action[2:]
            if any(c.value == value for c in f.choices):
                return value
        raise ParseError("Please choose one of the answers offered.")
    assert isinstance(inp, TextInput)
    text = inp.text.strip()
    # The question's own words may stand beside a number ("15 suất" when it asks for suất); nothing else may.
    context = [w.vi + " " + (w.en or "") for w in (f.label, f.unit) if w is not None]
    match f.type:
        case FieldType.INTEGER:
            return int(parse_number(text, integer=True, context=context))
        case FieldType.DECIMAL:
            return str(parse_number(text, context=context))
        case FieldType.MONEY:
            return parse_money(text, context=context)
        case FieldType.PERCENT:
            return str(parse_percent(text, context=context))
        case FieldType.YES_NO:
            return parse_yes_no(text)
        case FieldType.SELECT_ONE:
            return _choice_from_text(ctx, f, text)
        case FieldType.DATE:
            return parse_date(text, default_year=ctx.period.covers.end.year).isoformat()
        case FieldType.TEXT | FieldType.LONG_TEXT:
            limit = SHORT_TEXT_MAX if f.type is FieldType.TEXT else LONG_TEXT_MAX
            if not text:
                raise ParseError("Please type your answer, for example: {example}", example=t("Held 2 meetings"))
            if len(text) > limit:
                raise ParseError("Your answer is {n} characters long; please keep it under {limit}.",
                                 n=len(text), limit=limit)
            return text
    raise ParseError("Please choose one of the answers offered.")


def _choice_from_text(ctx: FormContext, f: FormField, text: str) -> str:
    folded = text.strip().lower()
    number = parse_id(folded)  # ASCII digits only ("²" would pass str.isdigit and break int())
    if number is not None and 1 <= number <= len(f.choices):
        return f.choices[number - 1].value
    for c in f.choices:
        if folded in (c.value.lower(), c.label.vi.lower(), (c.label.en or "").lower()):
            return c.value
    raise ParseError("Please answer with a number from 1 to {n}, for example 1.", n=len(f.choices))


def constraint_problem(ctx: FormContext, f: FormField, value: Any, answers: dict[str, Any]) -> str | None:
    """The field's constraint message when `value` breaks it (given the other answers), else None."""
    expr = f.constraint_expr
    if expr is None:
        return None
    by_name = ctx.layout.by_name  # only the answers the expression reads are converted
    seen = {k: expression_value(by_name[k], answers[k]) for k in expr.fields if k in answers and k in by_name}
    if expr.evaluate(seen, expression_value(f, value)):
        return None
    assert f.constraint_message is not None
    return f.constraint_message.get(ctx.t.locale)


def _on_multi(ctx: FormContext, state: FormState, f: FormField, inp: Input) -> list[Reply]:
    t = ctx.t
    chosen: list[str] = list(state.pending or state.answers.get(f.name) or [])
    action = _action_of(inp)
    if isinstance(inp, TextInput) and action is None:
        word = inp.text.strip().lower()
        if word in DONE_WORDS:
            action = DONE
        else:
            try:
                picked = _numbers_from_text(inp.text, len(f.choices))
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
    return _accept(ctx, state, f, values)


def _numbers_from_text(text: str, n: int) -> list[int]:
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    numbers = [parse_id(p) for p in parts]  # ASCII digits only
    if not numbers or not all(x is not None and 1 <= x <= n for x in numbers):
        raise ParseError("Please type the numbers of your answers separated by commas, for example 1,3.")
    return sorted({x for x in numbers if x is not None})


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
            return _accept(ctx, state, f, files)
        if not ctx.buttons:
            return [Reply(t('Received {n} of at most {max}. Send more, or type "done".', n=len(files),
                            max=f.max_files))]
        return [
            Reply(
                t("Received {n} of at most {max}. Send more, or choose Done.", n=len(files), max=f.max_files),
                choices=(Button(t("Done"), DONE),),
            )
        ]
    action = _action_of(inp)
    if action == DONE or (isinstance(inp, TextInput) and inp.text.strip().lower() in DONE_WORDS):
        if not files:
            if f.required:
                return [Reply(t("Please send at least one file first.")), question_reply(ctx, state, f)]
            return _on_answer(ctx, state, ActionInput(SKIP))
        return _accept(ctx, state, f, files)
    if isinstance(inp, TextInput) and not files and is_none_answer(inp.text):
        # "ko", "không có", "chưa có": no file to send, the same words that mean none on a count.
        return _on_answer(ctx, state, ActionInput(SKIP))
    kind = t("a photo") if f.type is FieldType.PHOTO else t("a file (PDF, Word, Excel or a photo)")
    return [Reply(t("Please send {kind} here as a photo or file message.", kind=kind)),
            question_reply(ctx, state, f, short=True)]


def _on_confirm_value(ctx: FormContext, state: FormState, inp: Input) -> list[Reply]:
    assert state.current is not None
    f = ctx.field(state.current)
    answer = _yes_no_of(inp)
    if answer is True:
        return _accept(ctx, state, f, state.pending)
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


def _yes_no_of(inp: Input) -> bool | None:
    if isinstance(inp, ActionInput):
        return {YES: True, NO: False}.get(inp.action)
    if isinstance(inp, TextInput):
        try:
            return parse_yes_no(inp.text)
        except ParseError:
            return None
    return None


def _on_confirm_cancel(ctx: FormContext, state: FormState, inp: Input, outcome: Outcome) -> list[Reply]:
    answer = _yes_no_of(inp)
    if answer is True:
        outcome.cancelled = True
        return []
    if answer is False:
        state.phase = state.before_cancel
        return [Reply(ctx.t("Good, let us continue.")), *resume(ctx, state)]
    return [confirm_cancel_reply(ctx)]


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


REVIEW_WORDS = {"gửi": SUBMIT, "gui": SUBMIT, "nộp": SUBMIT, "nop": SUBMIT, "submit": SUBMIT, "send": SUBMIT,
                "gửi báo cáo": SUBMIT, "gui bao cao": SUBMIT, "gửi bản sửa": SUBMIT, "gui ban sua": SUBMIT,
                "sửa": EDIT, "sua": EDIT, "edit": EDIT, "change": EDIT}
# "sửa 10", "sửa câu 10", "edit 10", or the bare number: the answer with that number in the review.
EDIT_NUMBER = re.compile(r"(?:(?:sửa|sua|edit|change)\s*(?:câu|cau|số|so|question|no\.?|#)?\s*)?([0-9]{1,4})")


def _edit_number(inp: Input) -> int | None:
    if not isinstance(inp, TextInput):
        return None
    match = EDIT_NUMBER.fullmatch(" ".join(inp.text.lower().split()).strip(".!"))
    return int(match.group(1)) if match else None


def _on_review(ctx: FormContext, state: FormState, inp: Input, outcome: Outcome) -> list[Reply]:
    t = ctx.t
    action = _action_of(inp)
    if isinstance(inp, TextInput) and action is None:
        action = REVIEW_WORDS.get(" ".join(inp.text.lower().split()).strip(".!"))
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
            return _advance(ctx, state, [Reply("\n".join(lines))])[1]
        outcome.submit = True
        return []
    if action == EDIT:
        state.phase = "pick_edit"
        return [pick_edit_reply(ctx, state)]
    if action == BACK:
        state.phase = "ask"
        return _go_back(ctx, state, None)
    return [Reply(t("Please choose: send the report, or change an answer.")), review_reply(ctx, state)]


def _on_pick_edit(ctx: FormContext, state: FormState, inp: Input) -> list[Reply]:
    t = ctx.t
    fields = relevant_fields(ctx, state.answers)
    action = _action_of(inp)
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


# --- replies ------------------------------------------------------------------------------------


def question_reply(ctx: FormContext, state: FormState, f: FormField, *, short: bool = False) -> Reply:
    t = ctx.t
    number, total = progress(ctx, state)
    lines = [t("Question {i}/{n}", i=number, n=total) + ": " + f.label.get(t.locale)]
    if not short:
        if f.hint:
            lines.append(f.hint.get(t.locale))
        if f.unit and f.type.is_numeric:
            lines.append(t("Counted in: {unit}", unit=f.unit.get(t.locale)))
    old = state.answers.get(f.name)
    if old is not None and not f.type.is_attachment:
        lines.append(t("Current answer: {value}", value=display_value(ctx, f, old)))
    choices: tuple[Button, ...] = ()
    columns = 1
    match f.type:
        case FieldType.YES_NO:
            choices = (Button(t("Yes"), YES), Button(t("No"), NO))
            columns = 2
        case FieldType.SELECT_ONE:
            choices = tuple(Button(c.label.get(t.locale), f"c:{c.value}") for c in f.choices)
        case FieldType.SELECT_MULTIPLE if not ctx.buttons:
            # No toggles to tick: the options are listed and their numbers typed at once ("1,3").
            lines += [f"  {i}. {c.label.get(t.locale)}" for i, c in enumerate(f.choices, start=1)]
            lines.append(t("Type the numbers of every answer that applies, separated by commas, for example 1,3."))
        case FieldType.SELECT_MULTIPLE:
            chosen = set(state.pending or state.answers.get(f.name) or [])
            marks = [("✅ " if c.value in chosen else "▫️ ") + c.label.get(t.locale) for c in f.choices]
            toggles = [Button(mark, f"t:{c.value}") for mark, c in zip(marks, f.choices, strict=True)]
            choices = (*toggles, Button(t("Done"), DONE))
            lines.append(t("Choose every answer that applies, then Done; or type their numbers, e.g. 1,3."))
        case FieldType.PHOTO:
            lines.append(t("Send the photos here (at most {n}).", n=f.max_files))
            choices = _done_move(ctx, lines) if state.pending else ()
        case FieldType.DOCUMENT:
            lines.append(t("Send the file here: PDF, Word, Excel or a photo."))
            choices = _done_move(ctx, lines) if state.pending else ()
        case FieldType.LONG_TEXT | FieldType.TEXT:
            pass
        case _:
            if not short:
                lines.append(typing_hint(ctx, state, f))
    nav = [Button(t("◀️ Back"), BACK)] if any(n != f.name for n in state.stack) else []
    if not f.required:
        nav.append(Button(t("Skip ⏭"), SKIP))
    return Reply("\n".join(lines), choices=choices, nav=tuple(nav), columns=columns)


def _done_move(ctx: FormContext, lines: list[str]) -> tuple[Button, ...]:
    """"Done" after sending files: a button, or on a channel without buttons the word to type."""
    if ctx.buttons:
        return (Button(ctx.t("Done"), DONE),)
    lines.append(ctx.t('Type "done" when you have sent them all.'))
    return ()


# Examples a hint may offer, most natural first; the first one the field's rules take is shown.
_NUMBER_EXAMPLES = ("15", "5", "3", "2", "1", "10", "100", "1.000", "0")
_MONEY_EXAMPLES = (("2.000.000", "2 triệu"), ("500.000", "500 nghìn"), ("200.000", "200 nghìn"),
                   ("50.000.000", "50 triệu"), ("10.000", "10 nghìn"))


def _takes(ctx: FormContext, state: FormState, f: FormField, text: str) -> bool:
    """Whether typing `text` now would be taken: read by the field's reader and within its constraint."""
    try:
        value = _read_value(ctx, f, TextInput(text))
    except ParseError:
        return False
    return constraint_problem(ctx, f, value, state.answers) is None


def typing_hint(ctx: FormContext, state: FormState, f: FormField) -> str:
    """How to type a number, amount or date, with an example the field's rules take given the answers so far,
    and "type 0 if none" only where 0 is taken: a hint never offers what the question then refuses."""
    t = ctx.t

    def takes(text: str) -> bool:
        return _takes(ctx, state, f, text)

    if f.type is FieldType.MONEY:
        for example, short in _MONEY_EXAMPLES:
            if takes(example) and takes(short):
                return t("Type the amount in đồng, for example {example} or {example_short}.",
                         example=example, example_short=short)
        return t("Type the amount in đồng.")
    if f.type is FieldType.DATE:
        covers = ctx.period.covers
        for day in (dt.date(covers.end.year, 8, 5), covers.end, covers.start):
            long, short = day.strftime("%d/%m/%Y"), f"{day.day}/{day.month}"
            if day.year == covers.end.year and takes(long) and takes(short):
                return t("Type a date as day/month, for example {example} or {example_short}.",
                         example=long, example_short=short)
        return t("Type a date as day/month/year.")
    example = next((e for e in _NUMBER_EXAMPLES if takes(e)), "")
    if not example:
        return t("Type a number.")
    if example != "0" and takes("0"):
        return t("Type a number, for example {example}. Type 0 if none.", example=example)
    if takes("1" if f.type is FieldType.INTEGER else "0,5"):
        return t("Type a number greater than 0, for example {example}.", example=example)
    return t("Type a number, for example {example}.", example=example)


def confirm_value_reply(ctx: FormContext, f: FormField, value: Any) -> Reply:
    t = ctx.t
    words = spell_amount(Decimal(str(value)), t.locale)
    shown = display_value(ctx, f, value)
    if f.type is FieldType.MONEY:
        currency = t("VND")
        words = f"{words} {currency}"
    if not ctx.buttons:  # a number typed here is the amount again, so "yes" is a word, not "1"
        return Reply(t('{shown}: {words} — is that right? Type "yes" to keep it, or type the amount again.',
                       shown=shown, words=words))
    return Reply(
        t("{shown}: {words} — is that right?", shown=shown, words=words),
        choices=(Button(t("Yes, correct"), YES), Button(t("No, retype"), NO)),
        columns=2,
    )


def confirm_cancel_reply(ctx: FormContext) -> Reply:
    t = ctx.t
    return Reply(
        t("Cancel this report? The answers typed so far will be deleted."),
        choices=(Button(t("Yes, cancel"), YES), Button(t("No, continue"), NO)),
        columns=2,
    )


def review_lines(ctx: FormContext, answers: dict[str, Any]) -> list[str]:
    t = ctx.t
    lines = []
    # A stored report read under a campaign changed since: an answer that no longer fits is shown as it is.
    fitting = {k: v for k, v in answers.items() if k in ctx.layout.names and fits(ctx.layout.by_name[k], v)}
    for i, f in enumerate(relevant_fields(ctx, fitting), start=1):
        value = answers.get(f.name)
        shown = display_value(ctx, f, value) if value is None or f.name in fitting else str(value)
        lines.append(f"{i}. {f.label.get(t.locale)}\n    → {shown}")
    return lines


def review_reply(ctx: FormContext, state: FormState) -> Reply:
    t = ctx.t
    head = t("Please check your report before sending:")
    if state.revision_of is not None:
        head = t("Your report as submitted. Change an answer, then send the correction:")
    text = "\n".join([head, "", *review_lines(ctx, state.answers)])
    title = f"{ctx.campaign.title.get(t.locale)} — {ctx.period.name.get(t.locale)}"
    if not ctx.buttons:  # the answers are numbered: sending and changing are words, never a number
        send = (t('To send the correction, type "send".') if state.revision_of is not None
                else t('To send the report, type "send".'))
        change = t('To change an answer, type "edit" and its number, for example: edit 3.')
        return Reply("\n".join([text, "", send, change]), title=title)
    send = t("📤 Send the correction") if state.revision_of is not None else t("📤 Send the report")
    return Reply(
        text,
        title=title,
        choices=(Button(send, SUBMIT), Button(t("✏️ Change an answer"), EDIT)),
        columns=1,
    )


def pick_edit_reply(ctx: FormContext, state: FormState) -> Reply:
    t = ctx.t
    fields = relevant_fields(ctx, state.answers)
    return Reply(
        t("Which question do you want to change? Choose its number (see the list above)."),
        choices=tuple(Button(str(i), f"e:{i}") for i in range(1, len(fields) + 1)),
        nav=(Button(t("◀️ Back"), BACK),),
        columns=6,
    )
