"""Answers as the form keeps them: read from what was typed or pressed, shown back, checked against the
question's type, choices and constraint."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.campaign_model import FieldType, FormField
from bot.dialog.form.state import NO, YES
from bot.dialog.model import ActionInput, Input, TextInput
from bot.ids import parse_id
from bot.parsing import ParseError, parse_date, parse_money, parse_number, parse_percent, parse_yes_no

if TYPE_CHECKING:
    from bot.dialog.form.layout import FormContext

SHORT_TEXT_MAX = 300
LONG_TEXT_MAX = 3000
READ_BACK_FROM = 1_000_000  # numbers this large are read back in words before they are kept
SMALL_MONEY_BELOW = 1_000  # and amounts this small: "500" typed for 500.000 đồng must not be kept silently


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


def pending_fits(f: FormField, pending: Any) -> bool:
    if f.type is FieldType.SELECT_MULTIPLE:
        return fits(f, pending) or pending == []
    return fits(f, pending)


def _choice_label(ctx: FormContext, f: FormField, value: str) -> str:
    for c in f.choices:
        if c.value == value:
            return c.label.get(ctx.t.locale)
    return value


def read_back(f: FormField, value: Any) -> bool:
    """Whether to read the number back in words before keeping it: a million or more (a zero too many is easy to
    type), or an amount of money under 1.000 đồng (someone who means 500.000 types "500")."""
    if f.type not in (FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY):
        return False
    size = abs(Decimal(str(value)))
    return size >= READ_BACK_FROM or (f.type is FieldType.MONEY and 0 < size < SMALL_MONEY_BELOW)


def _read_value(ctx: FormContext, f: FormField, inp: Input) -> Any:
    """The answer `inp` gives to `f`, as the form keeps it; ParseError says what is expected instead."""
    if isinstance(inp, ActionInput):
        return _read_press(f, inp.action)
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
            return _read_text(ctx, f, text)
    raise ParseError("Please choose one of the answers offered.")


def _read_press(f: FormField, action: str) -> Any:
    """A button pressed for a yes/no or single-choice question: only one the question offers is taken."""
    if f.type is FieldType.YES_NO and action in (YES, NO):
        return action == YES
    if f.type is FieldType.SELECT_ONE and action.startswith("c:"):
        value = action[2:]
        if any(c.value == value for c in f.choices):
            return value
    raise ParseError("Please choose one of the answers offered.")


def _read_text(ctx: FormContext, f: FormField, text: str) -> str:
    """A text answer, kept as typed: refused when empty or too long, never shortened."""
    limit = SHORT_TEXT_MAX if f.type is FieldType.TEXT else LONG_TEXT_MAX
    if not text:
        raise ParseError("Please type your answer, for example: {example}", example=ctx.t("Held 2 meetings"))
    if len(text) > limit:
        raise ParseError("Your answer is {n} characters long; please keep it under {limit}.", n=len(text), limit=limit)
    return text


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


def numbers_from_text(text: str, n: int) -> list[int]:
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    numbers = [parse_id(p) for p in parts]  # ASCII digits only
    if not numbers or not all(x is not None and 1 <= x <= n for x in numbers):
        raise ParseError("Please type the numbers of your answers, each from 1 to {n}, separated by commas, for "
                         "example 1,3.", n=n)
    return sorted({x for x in numbers if x is not None})
