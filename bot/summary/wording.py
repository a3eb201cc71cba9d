"""The words every summary format shares (a target's value, threshold and verdict; what a total is counted in),
written once so the chat text, the workbook, the báo cáo and the chart cannot drift apart. Light on purpose:
the chart and the báo cáo import it without pulling in XlsxWriter."""

from __future__ import annotations

from decimal import Decimal

from bot.campaign_model import FieldType, FormField
from bot.i18n import Translator
from bot.summary.model import FieldTotal, TargetResult


def _target_figure(t: Translator, r: TargetResult, value: Decimal) -> str:
    return t.percent(value) if r.target.unit == "%" else t.number(value)


def target_value(t: Translator, r: TargetResult, missing: str = "—") -> str:
    """The target's value; `missing` when nothing could be computed yet."""
    return missing if r.value is None else _target_figure(t, r, r.value)


def target_threshold(t: Translator, r: TargetResult) -> str:
    """'≥ 50%'."""
    return f"{r.target.comparator.sign} {_target_figure(t, r, r.target.threshold)}"


def verdict(t: Translator, r: TargetResult) -> str:
    if r.met is None:
        return t("Not enough data")
    return t("Met") if r.met else t("Not met")


def unit_label(t: Translator, f: FormField) -> str:
    """What a numeric total is counted in: đồng for money, % for a percentage, else the question's own unit."""
    if f.type is FieldType.MONEY:
        return t("VND")
    if f.type is FieldType.PERCENT:
        return "%"
    return f.unit.get(t.locale) if f.unit else ""


def total_value(t: Translator, x: FieldTotal) -> str:
    """A numeric total as text: the sum, but the average of a percentage (a sum of shares means nothing)."""
    if x.sum is None:
        return "—"
    if x.field.type is FieldType.PERCENT:
        return t("average {value}", value=t.percent(x.average or 0))
    return t.number(x.sum)
