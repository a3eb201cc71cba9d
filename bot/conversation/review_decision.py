"""A reviewer's decision on one report, whatever the channel (issue 15's chat review and issue 16's dashboard):
re-authorised when it acts, held back by the roll-up rule, the chair's message queued in the same write, and one
compare-and-set on the revision the reviewer saw. The caller words the outcome for its channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot import review_rules
from bot.i18n import Translator
from bot.scope import review_scope
from storage import reviews

from . import review_chair
from .common import Services
from .review_screen import ReportView, load_view

# done: decided; not_yours: the unit is not (or no longer) in the reviewer's units, or the report is gone;
# held: the roll-up rule holds an approval back; replaced: submitted again since it was shown; already: someone
# else decided first.
OutcomeKind = Literal["done", "not_yours", "held", "replaced", "already"]


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: OutcomeKind
    view: ReportView | None = None
    told: int = 0  # chairs the return (or reopening) was queued to
    note: str = ""  # held: why (in the reviewer's language); replaced, already: the conflict's message


async def apply_decision(conv: Services, t: Translator, person_id: int, submission_id: int, revision: int,
                         action: str, reason: str | None, fields: Sequence[str], *, unlock_days: int,
                         unit_id: int | None = None) -> Outcome:
    """Approve ("approved"), return ("returned") or reopen ("reopened") the report's `revision`. `unit_id`: the unit
    the reviewer was shown (the chat keeps it in its state); the decision is refused when the report's unit differs.
    Nothing is written unless the outcome is "done"."""
    view = await load_view(conv.db, submission_id)
    if view is None or (unit_id is not None and view.unit.id != unit_id) \
            or view.unit.id not in await review_scope(conv.db, person_id):
        return Outcome("not_yours", view)
    now = conv.clock.now()
    if action == "approved" and (held := await review_rules.approval_refusal(conv.db, t, submission_id)) is not None:
        return Outcome("held", view, note=held)
    messages = [] if action == "approved" else await review_chair.chair_messages(
        conv, view, action, reason or "", list(fields), person_id, now)
    try:
        await reviews.decide(conv.db, submission_id, revision, action, person_id, reason, fields, now,
                             extra=[m for m, _ in messages], unlock_for=timedelta(days=unlock_days))
    except reviews.RevisionReplacedError as exc:
        return Outcome("replaced", view, note=exc.render(t))
    except reviews.AlreadyDecidedError as exc:
        return Outcome("already", view, note=exc.render(t))
    return Outcome("done", view, told=len(messages))
