"""An upper level's report starts from the totals of its subtree: one roll-up, used by the dialog when an
upper-level union opens its form and by the demo, so that the upper level's figures are the sums of its units."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from bot.campaign_model import FieldType, FormField
from bot.summary.compute import to_decimal
from storage import summaries as summary_store
from storage.db import Database


def rolled_up(fields: Iterable[FormField]) -> dict[str, FormField]:
    """The questions whose answers add up over a subtree: counts, money and decimals (a percentage does not)."""
    return {f.name: f for f in fields if f.type.is_numeric and f.type is not FieldType.PERCENT}


async def subtree_sums(db: Database, period_id: int, root_id: int, fields: list[str]) -> tuple[dict[str, str], int]:
    """Sums of numeric answers over the latest submissions of the units below `root_id` (not itself),
    as exact decimal text, and how many units they come from: the upper level's report starts from them."""
    if not fields:
        return {}, 0
    wanted = list(dict.fromkeys(fields))
    sums: dict[str, Decimal] = {}
    units = 0
    for answers in await summary_store.subtree_latest_answers(db, period_id, root_id):
        if not answers:  # a submission without a single answer adds nothing and is not counted
            continue
        units += 1
        for name in wanted:
            number = to_decimal(answers.get(name))
            if number is not None:
                sums[name] = sums.get(name, Decimal(0)) + number
    return {k: str(v) for k, v in sums.items()}, units


async def subtree_answers(db: Database, fields: Iterable[FormField], period_id: int,
                          unit_id: int) -> tuple[dict[str, Any], int]:
    """The sums of the subtree's latest submissions as answers of `fields` (whole numbers as int, decimals as
    exact text, as the form keeps them), and how many units they come from."""
    numeric = rolled_up(fields)
    sums, from_units = await subtree_sums(db, period_id, unit_id, list(numeric))
    answers: dict[str, Any] = {}
    for name, text in sums.items():
        answers[name] = text if numeric[name].type is FieldType.DECIMAL else int(Decimal(text))
    return answers, from_units
