"""An upper level's report starts from the totals of its subtree: one roll-up, used by the dialog when an
upper-level union opens its form and by the demo, so that the upper level's figures are the sums of its units."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from bot.campaign_model import FieldType, FormField
from storage import summaries as summary_store
from storage.db import Database


def rolled_up(fields: Iterable[FormField]) -> dict[str, FormField]:
    """The questions whose answers add up over a subtree: counts, money and decimals (a percentage does not)."""
    return {f.name: f for f in fields if f.type.is_numeric and f.type is not FieldType.PERCENT}


async def subtree_answers(db: Database, fields: Iterable[FormField], period_id: int,
                          unit_id: int) -> tuple[dict[str, Any], int]:
    """The sums of the subtree's latest submissions as answers of `fields` (whole numbers as int, decimals as
    exact text, as the form keeps them), and how many units they come from."""
    numeric = rolled_up(fields)
    sums, from_units = await summary_store.subtree_sums(db, period_id, unit_id, list(numeric))
    answers: dict[str, Any] = {}
    for name, text in sums.items():
        answers[name] = text if numeric[name].type is FieldType.DECIMAL else int(Decimal(text))
    return answers, from_units
