"""Review and approval (/duyet, issue 15): the level above approves a report or returns it with a reason.

/duyet lists the reports waiting in the reviewer's units (bot.scope.review_scope: an officer's subtree, the
department's units directly under the province), oldest first, then shows one report at a time (review_screen.py)
with Duyệt (approve), Trả lại (return: a reason, then the questions concerned, then confirm) and Bỏ qua (next).
/duyet BC-XXXXXX opens one report by its receipt number, an approved one too, to reopen it with a reason.

Every decision is re-authorised when it acts (the unit still in the reviewer's units) and is one compare-and-set
on the revision shown (storage.reviews.decide): a report decided meanwhile by someone else, or submitted again,
is refused with a word and the next one is shown. A return (and a reopening) goes to the unit's chairs through
the outbox in the same write (review_chair.py).
"""

from __future__ import annotations

from typing import Any

from bot.dialog import form
from bot.dialog.model import ActionInput, Button, Input, Reply, TextInput
from bot.ids import parse_id
from bot.scope import review_scope
from bot.vi_text import BACK_WORDS, DONE_WORDS, fold, typed_word
from storage import campaigns as campaign_store
from storage import reviews
from storage import submissions as submission_store

from . import review_excuse
from .common import Step, menu_again
from .events import Command
from .locks import MAX_UNLOCK_DAYS
from .review_decision import apply_decision
from .review_screen import ReportView, load_view, screen_text, short_label
from .state import Mode, State, Turn, menu, to_idle

APPROVE, RETURN, REOPEN, SKIP, SEND, BACK, DONE = "rv:ok", "rv:ret", "rv:reopen", "rv:skip", "rv:send", "back", "done"
DAYS = "rv:days"  # takes the configured number of days for a return after the period closed
FIELD = "rf:"  # rf:<question number> toggles a question concerned
LIST_MAX = 15  # lines of the waiting list; the rest are counted


def _data(state: State) -> dict[str, Any]:
    return dict(state.extra.get("review") or {})


def _state(mode: Mode, data: dict[str, Any]) -> State:
    return State(mode, extra={"review": data})


def _action(event: Input) -> str | None:
    return event.action if isinstance(event, ActionInput) else None


def _move(event: Input) -> str | None:
    """A pressed action, or the typed word of a move shown as a word on text channels ("quay lại", "xong")."""
    if isinstance(event, TextInput):
        word = typed_word(event.text)
        return BACK if word in BACK_WORDS else DONE if word in DONE_WORDS else None
    return _action(event)


# --- the list and one report's screen -----------------------------------------------------------------------

async def start(step: Step, cmd: Command) -> Turn:
    """/duyet: the waiting list and the first report; /duyet REFERENCE: that report."""
    t, db = step.t, step.conv.db
    scope = await review_scope(db, step.person_id)
    if not scope:
        return to_idle([Reply(t("Reviewing reports is for upper-level officers and the department. Type /danop "
                                "to see your own reports."))])
    if cmd.arg:
        sub_id = await submission_store.by_reference(db, cmd.arg.strip().upper())
        row = await submission_store.by_id(db, sub_id) if sub_id is not None else None
        if row is None or row.unit_id not in scope:  # another unit's receipt is not even confirmed to exist
            return to_idle([Reply(t("No report with receipt number {ref} is yours to review.",
                                    ref=cmd.arg.strip()[:20]))])
        return await show(step, row.id, {"skipped": []}, [])
    waiting = await reviews.queue(db, scope)
    if not waiting:
        return to_idle([Reply(t("No report is waiting for your review."))])
    return await show(step, waiting[0].submission_id, {"skipped": []}, [await _list_reply(step, waiting)])


async def _list_reply(step: Step, waiting: list[reviews.Waiting]) -> Reply:
    t, zone = step.t, step.conv.zone
    lines = [t.ngettext("{n} report is waiting for your review, oldest first:",
                        "{n} reports are waiting for your review, oldest first:", len(waiting))]
    for i, w in enumerate(waiting[:LIST_MAX], start=1):
        view = await load_view(step.conv.db, w.submission_id)
        name = f"{view.unit.name} — {view.period.name.get(t.locale)}" if view else w.reference
        late = " ⏰ " + t("(late)") if w.late else ""
        since = t("waiting since {date}", date=t.date(w.waiting_since, zone))
        lines.append(f"{i}. {name}: {since}{late}")
    if len(waiting) > LIST_MAX:
        lines.append(t("… and {n} more reports.", n=len(waiting) - LIST_MAX))
    return Reply("\n".join(lines))


async def next_report(step: Step, data: dict[str, Any], before: list[Reply]) -> Turn:
    """The oldest waiting report not skipped in this round, read afresh (others decide meanwhile)."""
    scope = await review_scope(step.conv.db, step.person_id)
    skipped = set(data.get("skipped", []))
    for w in await reviews.queue(step.conv.db, scope):
        if w.submission_id not in skipped:
            return await show(step, w.submission_id, data, before)
    return to_idle([*before, Reply(step.t("No more reports are waiting for your review. Type /duyet to look "
                                          "again."))])


async def show(step: Step, sub_id: int, data: dict[str, Any], before: list[Reply]) -> Turn:
    t = step.t
    view = await load_view(step.conv.db, sub_id)
    if view is None:  # its campaign or period is gone: nothing to decide on
        return await next_report(step, {**data, "skipped": [*data.get("skipped", []), sub_id]}, before)
    ctx = view.context(t, step.conv.zone, step.buttons)
    state_choices = {
        "submitted": (Button(t("✅ Approve"), APPROVE), Button(t("↩️ Return"), RETURN), Button(t("⏭ Skip"), SKIP)),
        "approved": (Button(t("🔓 Reopen"), REOPEN), Button(t("⏭ Skip"), SKIP)),
        "returned": (Button(t("⏭ Skip"), SKIP),),
    }
    data = {**data, "sub": sub_id, "rev": view.sub.revision, "unit": view.unit.id}
    text, choices, columns = screen_text(view, ctx), state_choices[view.sub.review_state], 3
    if units := await review_excuse.excusable(step, view):  # the roll-up rule holds it: offer the excuse here
        text += "\n\n" + review_excuse.screen_lines(t, units)
        choices, columns = (*choices, *review_excuse.buttons(t, units)), 1
    reply = Reply(text, title=view.title(t), choices=choices, columns=columns)
    return menu(_state(Mode.REVIEW, data), reply, before=before)


async def on_review(step: Step, event: Input) -> Turn:
    data, action = _data(step.state), _action(event)
    if action == APPROVE:
        return await decide(step, "approved", None, ())
    if action in (RETURN, REOPEN):
        return _ask_reason(step, {**data, "action": "returned" if action == RETURN else "reopened"}, [])
    if action is not None and action.split(":")[:2] == ["rv", "ex"]:
        return await review_excuse.start(step, data, action, show)
    if action == SKIP:
        return await next_report(step, {**data, "skipped": [*data.get("skipped", []), data.get("sub")]}, [])
    return menu_again(step, step.t("Please choose one of the buttons under the report."))


async def on_excuse(step: Step, event: Input) -> Turn:
    return await review_excuse.on_excuse(step, event, show)


# --- returning or reopening: the reason, the questions, the confirmation --------------------------------------

def _example(step: Step) -> str:
    return step.t('for example: "The number of participants is higher than the number of members, please check '
                  'question 3."')


def _ask_reason(step: Step, data: dict[str, Any], before: list[Reply]) -> Turn:
    t = step.t
    text = (t("Why is this report returned? Type the reason the chair will read, {example}", example=_example(step))
            if data.get("action") == "returned" else
            t("Why is this approved report reopened? Type the reason, {example}", example=_example(step)))
    return menu(_state(Mode.REVIEW_REASON, data), Reply(text, nav=(Button(t("◀️ Back"), BACK),)), before=before)


async def on_reason(step: Step, event: Input) -> Turn:
    t, data = step.t, _data(step.state)
    if _move(event) == BACK:
        return await show(step, int(data.get("sub") or 0), data, [])
    text = event.text.strip() if isinstance(event, TextInput) else ""
    if not any(ch.isalnum() for ch in text):  # nothing, or only dots and dashes: no reason
        ask = (t("Please write the reason for returning it, {example}", example=_example(step))
               if data.get("action") == "returned" else
               t("Please write the reason for reopening it, {example}", example=_example(step)))
        return _ask_reason(step, data, [Reply(ask)])
    notes = []
    if len(text) > reviews.REASON_LIMIT:
        notes.append(Reply(t("The reason was longer than {n} characters; only its first {n} characters are kept:",
                             n=t.number(reviews.REASON_LIMIT)) + "\n" + text[:reviews.REASON_LIMIT]))
        text = text[:reviews.REASON_LIMIT]
    data = {**data, "reason": text, "fields": []}
    if data.get("action") != "returned":
        return await _confirm(step, data, notes)
    return await _pick_fields(step, data, notes)


async def _questions(step: Step, data: dict[str, Any]) -> tuple[ReportView | None, list[tuple[str, str]]]:
    """(name, short label) of the report's questions, numbered as on its screen."""
    view = await load_view(step.conv.db, int(data.get("sub") or 0))
    if view is None:
        return None, []
    ctx = view.context(step.t, step.conv.zone, step.buttons)
    return view, [(f.name, short_label(f, step.t.locale)) for f in form.relevant_fields(ctx, view.answers)]


async def _pick_fields(step: Step, data: dict[str, Any], before: list[Reply]) -> Turn:
    t = step.t
    _view, questions = await _questions(step, data)
    chosen = set(data.get("fields", []))
    # Buttons carry the question's number; a text channel numbers its choices itself, with the same numbers.
    def label_of(i: int, name: str, label: str) -> str:
        return f"{'✓ ' if name in chosen else ''}{f'{i}. ' if step.buttons else ''}{label}"[:60]

    choices = tuple(Button(label_of(i, name, label), f"{FIELD}{i}")
                    for i, (name, label) in enumerate(questions, start=1))
    text = t("Which questions should the chair look at? Choose one or more (choose again to undo), then "
             "press Done; or press Done at once for none.")
    if not step.buttons:
        text = t('Which questions should the chair look at? Type their numbers (for example: 2, 5), then "xong"; '
                 'or type "xong" at once for none.')
    nav = (Button(t("✔️ Done"), DONE), Button(t("◀️ Back"), BACK))
    return menu(_state(Mode.REVIEW_FIELDS, data), Reply(text, choices=choices, nav=nav, columns=1), before=before)


def _numbers(text: str) -> list[int] | None:
    parts = [p for p in text.replace(",", " ").replace(";", " ").split() if p]
    if not parts or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


async def on_fields(step: Step, event: Input) -> Turn:
    t, data, action = step.t, _data(step.state), _move(event)
    if action == BACK:
        return _ask_reason(step, data, [])
    if action == DONE:
        return await _after_fields(step, data, [])
    _view, questions = await _questions(step, data)
    picked: list[int] | None = None
    if action is not None and action.startswith(FIELD):
        picked = _numbers(action[len(FIELD):])
    elif isinstance(event, TextInput):
        picked = _numbers(event.text)
    if not picked or not all(1 <= n <= len(questions) for n in picked):
        return await _pick_fields(step, data, [Reply(t("Please choose questions from 1 to {n}, or Done.",
                                                       n=len(questions)))])
    chosen = list(data.get("fields", []))
    for n in picked:
        name = questions[n - 1][0]
        chosen = [c for c in chosen if c != name] if name in chosen else [*chosen, name]
    order = [name for name, _label in questions]
    return await _pick_fields(step, {**data, "fields": sorted(chosen, key=order.index)}, [])


# --- a return after the period closed: how long the unit may correct it ------------------------------------------

async def _closed(step: Step, data: dict[str, Any]) -> bool:
    sub = await submission_store.by_id(step.conv.db, int(data.get("sub") or 0))
    row = await campaign_store.period_by_id(step.conv.db, sub.period_id) if sub else None
    return row is not None and step.conv.clock.now() >= row.closes_at


async def _after_fields(step: Step, data: dict[str, Any], before: list[Reply]) -> Turn:
    """A return after the period closed asks for how long the unit may correct it; otherwise the confirmation."""
    data = {k: v for k, v in data.items() if k != "days"}
    if data.get("action") == "returned" and await _closed(step, data):
        return _ask_days(step, data, before)
    return await _confirm(step, data, before)


def _ask_days(step: Step, data: dict[str, Any], before: list[Reply]) -> Turn:
    t, default = step.t, step.conv.review.return_unlock_days
    text = t("The period has closed, so the unit gets a lock exception to correct the report. For how many days? "
             "Type a number of days from 1 to {max}, or press [{n} days].", max=MAX_UNLOCK_DAYS, n=default)
    if not step.buttons:
        text = t("The period has closed, so the unit gets a lock exception to correct the report. For how many "
                 "days? Type a number of days from 1 to {max}, for example: {n}.", max=MAX_UNLOCK_DAYS, n=default)
    nav = (Button(t.ngettext("{n} day", "{n} days", default), DAYS), Button(t("◀️ Back"), BACK))
    return menu(_state(Mode.REVIEW_DAYS, data), Reply(text, nav=nav), before=before)


def parse_days(text: str) -> int | None:
    """A whole number of days as typed: "3", "3 ngày", "3 ngay"; None for anything else."""
    parts = fold(text).strip().rstrip(".").split()
    if not 1 <= len(parts) <= 2 or (len(parts) == 2 and parts[1] not in ("ngay", "day", "days")):
        return None
    return parse_id(parts[0])


async def on_days(step: Step, event: Input) -> Turn:
    t, data, action = step.t, _data(step.state), _move(event)
    if action == BACK:
        return await _pick_fields(step, data, [])
    days = step.conv.review.return_unlock_days if action == DAYS else (
        parse_days(event.text) if isinstance(event, TextInput) else None)
    if days is None or not 1 <= days <= MAX_UNLOCK_DAYS:
        return _ask_days(step, data, [Reply(t("Please type a whole number of days from 1 to {max}, for example: 5.",
                                              max=MAX_UNLOCK_DAYS))])
    return await _confirm(step, {**data, "days": days}, [])


async def _confirm(step: Step, data: dict[str, Any], before: list[Reply]) -> Turn:
    t = step.t
    view, questions = await _questions(step, data)
    labels = dict(questions)
    unit = view.unit.name if view else "?"
    if data.get("action") == "returned":
        lines = [t("Return the report of {unit} to its chair?", unit=unit), t("Reason: {reason}",
                                                                              reason=data.get("reason", ""))]
        if data.get("fields"):
            lines.append(t("Questions: {names}", names="; ".join(labels.get(n, n) for n in data["fields"])))
        if data.get("days"):
            lines.append(t.ngettext("The unit may correct it for {n} day after the period closed.",
                                    "The unit may correct it for {n} days after the period closed.", data["days"]))
        send = t("↩️ Return it")
    else:
        lines = [t("Reopen the approved report of {unit}? Its chair may then correct it.", unit=unit),
                 t("Reason: {reason}", reason=data.get("reason", ""))]
        send = t("🔓 Reopen it")
    choices = (Button(send, SEND), Button(t("✏️ Change the reason"), RETURN))
    return menu(_state(Mode.REVIEW_CONFIRM, data), Reply("\n".join(lines), choices=choices,
                                                         nav=(Button(t("◀️ Back"), BACK),)), before=before)


async def on_confirm(step: Step, event: Input) -> Turn:
    data, action = _data(step.state), _move(event)
    if action == SEND:
        return await decide(step, str(data.get("action")), data.get("reason"), data.get("fields", []))
    if action == RETURN:
        return _ask_reason(step, data, [])
    if action == BACK:
        return await show(step, int(data.get("sub") or 0), data, [])
    return await _confirm(step, data, [Reply(step.t("Please choose one of the buttons."))])


# --- the decision --------------------------------------------------------------------------------------------

async def decide(step: Step, action: str, reason: str | None, fields: list[str] | tuple[str, ...]) -> Turn:
    """Apply the decision to the revision shown, if the reviewer still reviews that unit and nobody else decided
    first; then the next report."""
    t, data = step.t, _data(step.state)
    sub_id, revision, unit_id = int(data.get("sub") or 0), int(data.get("rev") or 0), data.get("unit")
    done = {**data, "skipped": [*data.get("skipped", []), sub_id]}  # not shown again in this round
    outcome = None if not isinstance(unit_id, int) else await apply_decision(
        step.conv, t, step.person_id, sub_id, revision, action, reason, fields,
        unlock_days=_unlock_days(step, data), unit_id=unit_id)
    if outcome is None or outcome.kind == "not_yours" or outcome.view is None:
        return await next_report(step, done, [Reply(t("You no longer review the reports of this unit; nothing was "
                                                      "decided."))])
    if outcome.kind == "held":
        return await show(step, sub_id, data, [Reply(outcome.note)])  # the roll-up rule (R2): units below still open
    if outcome.kind == "replaced":
        return await next_report(step, data, [Reply(outcome.note + " " + t("Nothing was decided; it is back in "
                                                                           "the list with its new answers."))])
    if outcome.kind == "already":
        return await next_report(step, done, [Reply(outcome.note + " " + t("Nothing was decided."))])
    return await next_report(step, done, [_done_reply(step, outcome.view, action, outcome.told)])


def _unlock_days(step: Step, data: dict[str, Any]) -> int:
    """The days the reviewer chose for a return after closing; the configured default when not asked (the period
    closed while the return was being written)."""
    days = data.get("days")
    return days if isinstance(days, int) and 1 <= days <= MAX_UNLOCK_DAYS else step.conv.review.return_unlock_days


def _done_reply(step: Step, view: ReportView, action: str, told: int) -> Reply:
    t = step.t
    if action == "approved":
        return Reply(t("✅ Approved: {unit} — {period}.", unit=view.unit.name, period=view.period.name.get(t.locale)))
    text = (t("↩️ Returned to {unit}.", unit=view.unit.name) if action == "returned"
            else t("🔓 Reopened: {unit} may correct the report.", unit=view.unit.name))
    if told:
        text += " " + t.ngettext("Its chair has been told.", "Its {n} chairs have been told.", told)
    else:
        text += " " + t("No chair of this unit can be reached by the bot: please tell them another way.")
    return Reply(text)


__all__ = ["on_confirm", "on_days", "on_excuse", "on_fields", "on_reason", "on_review", "start"]
