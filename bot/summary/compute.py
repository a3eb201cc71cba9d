"""Submissions -> Summary, a pure function: completeness, per-upper breakdown, totals of every numeric
field, each target's value against its threshold, narrative highlights."""

from __future__ import annotations

import dataclasses
import operator
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.campaign_model import Campaign, Comparator, FieldType, FormField, Measure, Period, Target
from bot.domain import UnitKind
from bot.expressions import compile_expression
from bot.summary.model import FieldTotal, Narrative, Summary, TargetResult, UnitRow, UpperBreakdown

NARRATIVES_PER_UPPER = 3
TWO_PLACES = Decimal("0.01")


def to_decimal(value: Any) -> Decimal | None:
    """An answer as a number, or None when it is not one (a yes/no, text, NaN or infinity: none can be added up,
    compared or written to a cell)."""
    if type(value) is int:  # the common case (counts, money): no detour through text
        return Decimal(value)
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        return None
    return d if d.is_finite() else None


def _expr_answers(numeric: frozenset[str], wanted: frozenset[str], answers: dict[str, Any]) -> dict[str, Any]:
    """The answers an expression reads, numbers as Decimal (only those: thousands of units are evaluated)."""
    return {name: (to_decimal(answers[name]) if name in numeric else answers[name])
            for name in wanted if name in answers}


def answer_columns(rows: list[UnitRow], names: list[str]) -> dict[str, list[Any]]:
    """The answers of the named fields, in one pass over the units (not one pass per field)."""
    columns: dict[str, list[Any]] = {name: [] for name in names}
    appenders = {name: column.append for name, column in columns.items()}
    for u in rows:
        for name, value in u.answers.items():
            add = appenders.get(name)
            if add is not None and value is not None:
                add(value)
    return columns


def field_total(f: FormField, values: list[Any]) -> FieldTotal:
    """The total of one question over its answers (None left out, see answer_columns)."""
    if f.type.is_numeric and values and set(map(type, values)) == {int}:  # bool is not int here
        # Counts and money are whole numbers: add them as ints, convert once.
        total_int = sum(values)
        count = len(values)
        return FieldTotal(f, count, Decimal(total_int), (Decimal(total_int) / count).quantize(TWO_PLACES),
                          Decimal(min(values)), Decimal(max(values)))
    if f.type.is_numeric:
        numbers = [n for n in (to_decimal(v) for v in values) if n is not None]
        if not numbers:
            return FieldTotal(f, 0)
        total = sum(numbers, Decimal(0))
        return FieldTotal(f, len(numbers), total, (total / len(numbers)).quantize(TWO_PLACES), min(numbers),
                          max(numbers))
    if f.type is FieldType.YES_NO:
        return FieldTotal(f, len(values), yes=sum(1 for v in values if v is True))
    if f.type is FieldType.SELECT_ONE:
        return FieldTotal(f, len(values), choices=dict(Counter(values)))
    if f.type is FieldType.SELECT_MULTIPLE:
        return FieldTotal(f, len(values), choices=dict(Counter(c for v in values for c in v)))
    return FieldTotal(f, len(values))


# Comparator.holds builds its answer table on every call; thousands of units compare with these instead.
_COMPARE: dict[Comparator, Callable[[Any, Any], bool]] = {
    Comparator.GE: operator.ge, Comparator.GT: operator.gt, Comparator.LE: operator.le, Comparator.LT: operator.lt,
    Comparator.EQ: operator.eq,
}


def _units_meeting_condition(campaign: Campaign, condition: str, reported: list[UnitRow]) -> int:
    """How many units' answers satisfy the condition. Units with the same answers to the fields it reads (most:
    counts and yes/no take few values) share one evaluation; answers that cannot be a key are evaluated alone."""
    expr = compile_expression(condition)
    numeric = frozenset(f.name for f in campaign.fields if f.type.is_numeric)
    names = sorted(expr.fields)
    seen: dict[tuple[Any, ...], bool] = {}
    meeting = 0
    for u in reported:
        answers = u.answers
        values = tuple([answers.get(n) for n in names])
        key = (values, tuple(map(type, values)))  # 1 == True == Decimal(1): the type keeps them apart
        try:
            holds = seen.get(key)
        except TypeError:  # a list (several choices): not hashable
            holds = expr.evaluate(_expr_answers(numeric, expr.fields, answers))
        else:
            if holds is None:
                holds = seen[key] = expr.evaluate(_expr_answers(numeric, expr.fields, answers))
        meeting += holds
    return meeting


def _ratio(target: Target, reported: list[UnitRow]) -> tuple[Decimal | None, int]:
    """sum(numerator) / sum(denominator) x 100 over the units that gave both, and how many units meet the
    threshold on their own figures."""
    assert target.numerator is not None
    assert target.denominator is not None
    compare, threshold = _COMPARE[target.comparator], target.threshold
    num = den = Decimal(0)
    meeting = 0
    for u in reported:
        n, d = to_decimal(u.answers.get(target.numerator)), to_decimal(u.answers.get(target.denominator))
        if n is None or d is None:
            continue
        num += n
        den += d
        if d > 0 and compare(n * 100 / d, threshold):
            meeting += 1
    return ((num * 100 / den).quantize(TWO_PLACES) if den > 0 else None), meeting


def _total(target: Target, reported: list[UnitRow]) -> tuple[Decimal | None, int]:
    """The sum of the field over the units that answered it, and how many units meet the threshold alone."""
    assert target.field is not None
    compare, threshold, name = _COMPARE[target.comparator], target.threshold, target.field
    present = [n for n in (to_decimal(u.answers.get(name)) for u in reported) if n is not None]
    meeting = sum(1 for n in present if compare(n, threshold))
    return (sum(present, Decimal(0)) if present else None), meeting


def target_result(campaign: Campaign, target: Target, units: list[UnitRow]) -> TargetResult:
    kinds = frozenset(campaign.target_scope(target).kinds)
    in_scope = [u for u in units if u.kind in kinds]
    reported = [u for u in in_scope if u.status != "missing"]
    value: Decimal | None = None
    meeting: int | None = None
    if target.measure is Measure.SHARE_OF_UNITS:
        assert target.condition is not None
        meeting = _units_meeting_condition(campaign, target.condition, reported)
        # Units that have not reported have not shown the target is met: they count in the denominator.
        value = (Decimal(meeting) * 100 / len(in_scope)).quantize(TWO_PLACES) if in_scope else None
    elif target.measure is Measure.RATIO:
        value, meeting = _ratio(target, reported)
    else:
        value, meeting = _total(target, reported)
    met = None if value is None else target.comparator.holds(value, target.threshold)
    return TargetResult(target, value, met, meeting, len(in_scope), len(reported))


def rollup_rows(reported: list[UnitRow]) -> list[UnitRow]:
    """The rows whose figures make the totals: an upper-level union that has filed its own (rolled-up)
    report stands for its whole subtree, so its grassroots unions are not counted a second time."""
    covered = {u.code for u in reported if u.kind is UnitKind.UPPER}
    return [u for u in reported if u.kind is UnitKind.UPPER or u.upper_code not in covered]


def _breakdown(code: str, rows: list[UnitRow], waited_since: datetime | None) -> UpperBreakdown:
    """An upper level's counts; `waited_since`: a report waiting for review since before then has waited long."""
    statuses = Counter([r.status for r in rows if r.counts_as_reported])
    states = Counter([r.state for r in rows])
    waiting_long = 0 if waited_since is None else sum(
        1 for r in rows if r.state == "waiting" and r.review_since is not None and r.review_since < waited_since)
    return UpperBreakdown(code, rows[0].upper_name, len(rows), statuses["on_time"], statuses["late"],
                          states["returned"], states["approved"], waiting_long)


def _narratives(rows: list[UnitRow], long_fields: list[str]) -> list[Narrative]:
    """The first few long answers of an upper level's units, in order; the rest are not read."""
    out: list[Narrative] = []
    if not long_fields:
        return out
    for u in rows:
        for name in long_fields:
            text = u.answers.get(name)
            if isinstance(text, str) and text.strip():
                out.append(Narrative(u.name, u.upper_name, text.strip()))
                if len(out) == NARRATIVES_PER_UPPER:
                    return out
    return out


def _by_upper(units: list[UnitRow], waited_since: datetime | None = None
              ) -> tuple[list[UnitRow], dict[str, list[UnitRow]], list[UpperBreakdown]]:
    """The units in the order summaries list them, grouped by upper level, and each upper level's counts."""
    units = sorted(units, key=lambda u: (u.upper_code, u.code))
    by_upper: dict[str, list[UnitRow]] = {}
    for u in units:
        by_upper.setdefault(u.upper_code, []).append(u)
    uppers = [_breakdown(code, rows, waited_since) for code, rows in sorted(by_upper.items())]
    return units, by_upper, uppers


def compute_completeness(*, campaign: Campaign, period: Period, period_id: int, due_at: datetime,
                         closes_at: datetime, as_of: datetime, scope_name: str, units: list[UnitRow],
                         waiting_days: int = 3) -> Summary:
    """Who has reported, by upper level, without totals, targets or narratives: all that the pushed
    completeness text (text.completeness_text) reads, for hundreds of readers per tick."""
    ordered, _groups, uppers = _by_upper(units, as_of - timedelta(days=waiting_days))
    return Summary(campaign, period, period_id, due_at, closes_at, as_of, scope_name, ordered, uppers, [], [], [],
                   waiting_days=waiting_days)


def approved_figures(units: list[UnitRow]) -> list[UnitRow]:
    """The rows as a summary "from approved reports only" adds them up: any other report is left out of the
    figures (its row stays in the lists and the counts by state)."""
    return [u if u.state in ("approved", "missing") else dataclasses.replace(u, status="missing", answers={})
            for u in units]


def compute_summary(
    *,
    campaign: Campaign,
    period: Period,
    period_id: int,
    due_at: datetime,
    closes_at: datetime,
    as_of: datetime,
    scope_name: str,
    units: list[UnitRow],
    approved_only: bool = False,
    waiting_days: int = 3,
) -> Summary:
    units, _groups, uppers = _by_upper(units, as_of - timedelta(days=waiting_days))
    figures = approved_figures(units) if approved_only else units
    reported = [u for u in figures if u.status != "missing"]
    fields = campaign.fields_for(period.key)
    counted = rollup_rows(reported)
    summed = [f for f in fields
              if f.type.is_numeric or f.type in (FieldType.YES_NO, FieldType.SELECT_ONE, FieldType.SELECT_MULTIPLE)]
    columns = answer_columns(counted, [f.name for f in summed])
    totals = [field_total(f, columns[f.name]) for f in summed]
    targets = [target_result(campaign, t, figures) for t in campaign.targets
               if not t.periods or period.key in t.periods]
    long_fields = [f.name for f in fields if f.type is FieldType.LONG_TEXT]
    figures_by_upper: dict[str, list[UnitRow]] = {}
    for u in figures:
        figures_by_upper.setdefault(u.upper_code, []).append(u)
    narratives = [n for code in sorted(figures_by_upper) for n in _narratives(figures_by_upper[code], long_fields)]
    return Summary(campaign, period, period_id, due_at, closes_at, as_of, scope_name, units, uppers, totals, targets,
                   narratives, approved_only, waiting_days)
