"""The replies the form sends: a question with its choices and typing hint, the read-back of a large
number, the review of all answers, and the questions asked around them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from bot.campaign_model import FieldType, FormField
from bot.dialog.form.layout import FormContext, progress, relevant_fields
from bot.dialog.form.state import BACK, DONE, EDIT, NO, SKIP, SUBMIT, YES, FormState
from bot.dialog.form.values import _read_value, constraint_problem, display_value, fits
from bot.dialog.model import Button, Reply, TextInput
from bot.parsing import ParseError, spell_amount


def changed_reply(ctx: FormContext, dropped: list[FormField]) -> Reply:
    t = ctx.t
    lines = [t("The form was changed after you answered. These questions are asked again:")]
    lines += [f"• {f.label.get(t.locale)}" for f in dropped]
    return Reply("\n".join(lines))


def question_reply(ctx: FormContext, state: FormState, f: FormField, *, short: bool = False) -> Reply:
    """Question `f` with its number, hint, current answer and choices; `short` when it is asked again."""
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
    choices, columns = _choices(ctx, state, f, lines, short=short)
    nav = [Button(t("◀️ Back"), BACK)] if any(n != f.name for n in state.stack) else []
    if not f.required:
        nav.append(Button(t("Skip ⏭"), SKIP))
    return Reply("\n".join(lines), choices=choices, nav=tuple(nav), columns=columns)


def _choices(ctx: FormContext, state: FormState, f: FormField, lines: list[str], *,
             short: bool) -> tuple[tuple[Button, ...], int]:
    """The answers a question offers (and how many fit on a row); what to type instead goes into `lines`."""
    t = ctx.t
    match f.type:
        case FieldType.YES_NO:
            return (Button(t("Yes"), YES), Button(t("No"), NO)), 2
        case FieldType.SELECT_ONE:
            return tuple(Button(c.label.get(t.locale), f"c:{c.value}") for c in f.choices), 1
        case FieldType.SELECT_MULTIPLE if not ctx.buttons:
            # No toggles to tick: the options are listed and their numbers typed at once ("1,3").
            lines += [f"  {i}. {c.label.get(t.locale)}" for i, c in enumerate(f.choices, start=1)]
            lines.append(t("Type the numbers of every answer that applies, separated by commas, for example 1,3."))
        case FieldType.SELECT_MULTIPLE:
            chosen = set(state.pending or state.answers.get(f.name) or [])
            marks = [("✅ " if c.value in chosen else "▫️ ") + c.label.get(t.locale) for c in f.choices]
            toggles = [Button(mark, f"t:{c.value}") for mark, c in zip(marks, f.choices, strict=True)]
            lines.append(t("Choose every answer that applies, then Done; or type their numbers, e.g. 1,3."))
            return (*toggles, Button(t("Done"), DONE)), 1
        case FieldType.PHOTO:
            lines.append(t("Send the photos here (at most {n}).", n=f.max_files))
            return (_done_move(ctx, lines) if state.pending else ()), 1
        case FieldType.DOCUMENT:
            lines.append(t("Send the file here: PDF, Word, Excel or a photo."))
            return (_done_move(ctx, lines) if state.pending else ()), 1
        case FieldType.LONG_TEXT | FieldType.TEXT:
            pass
        case _:
            if not short:
                lines.append(typing_hint(ctx, state, f))
    return (), 1


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
    number = next((e for e in _NUMBER_EXAMPLES if takes(e)), None)
    if number is None:
        return t("Type a number.")
    if number != "0" and takes("0"):
        return t("Type a number, for example {example}. Type 0 if none.", example=number)
    if takes("1" if f.type is FieldType.INTEGER else "0,5"):
        return t("Type a number greater than 0, for example {example}.", example=number)
    return t("Type a number, for example {example}.", example=number)


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
