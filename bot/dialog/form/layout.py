"""What one campaign asks one kind of unit in one period, and which questions apply given the answers."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from bot.campaign_model import Campaign, FormField, Period
from bot.dialog.form.state import FormState
from bot.dialog.form.values import expression_answers, expression_value
from bot.domain import UnitKind
from bot.i18n import Translator


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

    def forget(_ref: weakref.ref[Campaign]) -> None:
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
