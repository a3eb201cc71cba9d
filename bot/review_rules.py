"""The roll-up rule of review (issue 15): an upper level's own report, which stands for its units in the totals, is
approved only once every unit below it that reports in the campaign has its report approved or excused
(storage.reviews.excuse). A campaign switches the rule off with `[review] require_children_approved = false`."""

from __future__ import annotations

from bot.domain import Unit, UnitKind
from bot.i18n import Translator
from storage import campaigns as campaign_store
from storage import reviews
from storage import submissions as submission_store
from storage import units as unit_store
from storage.db import Database

NAMED_IN_REFUSAL = 15  # the refusal names this many units still open, then says how many more


async def open_children(db: Database, submission_id: int) -> list[Unit]:
    """The units directly below the report's upper level whose reports for the period hold its approval back:
    not approved and not excused (none for a grassroots report, or when the campaign turned the rule off)."""
    sub = await submission_store.by_id(db, submission_id)
    unit = await unit_store.by_id(db, sub.unit_id) if sub else None
    period = await campaign_store.period_by_id(db, sub.period_id) if sub else None
    campaign = await campaign_store.campaign(db, period.campaign_id) if period else None
    if sub is None or unit is None or period is None or campaign is None or unit.kind is not UnitKind.UPPER \
            or not campaign.review.require_children_approved:
        return []
    children = [u for u in await unit_store.subtree(db, unit.id)
                if u.parent_id == unit.id and campaign.audience.scope.includes(u.kind)]
    states = await reviews.states_of(db, period.id, [u.id for u in children])
    excused = await reviews.excuses(db, period.id)
    return [u for u in children if states.get(u.id) != "approved" and u.id not in excused]


async def approval_refusal(db: Database, t: Translator, submission_id: int) -> str | None:
    """Why the report cannot be approved yet (the units still open, and how to excuse one), or None."""
    waiting = await open_children(db, submission_id)
    if not waiting:
        return None
    names = [f"{u.name} ({u.code})" for u in waiting[:NAMED_IN_REFUSAL]]
    more = len(waiting) - len(names)
    listed = "; ".join(names) + ("; " + t("and {n} more", n=more) if more > 0 else "")
    return t("This upper level's report can be approved only when the reports of all its units are approved or "
             "excused. Still open ({n}): {units}. To excuse a unit, the department types /mien followed by the "
             "unit code and the reason, e.g. /mien {code} đơn vị giải thể từ tháng 6.",
             n=len(waiting), units=listed, code=waiting[0].code)
