"""The shape of a campaign: one plan (kế hoạch) made runnable.

Campaign files (campaigns/*.toml) are validated into these frozen models. The form vocabulary
follows XLSForm where it fits: type, name, label, hint, required, constraint + constraint_message,
relevant (skip logic), choices.
"""

from __future__ import annotations

import datetime as dt
import enum
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

# The deadline's own model and its instant live in bot/campaign_due.py; named here too, where readers look for them.
from bot.campaign_due import TIME_EXAMPLE as TIME_EXAMPLE
from bot.campaign_due import Due as Due
from bot.campaign_due import DueWording as DueWording
from bot.campaign_due import Model as _Model
from bot.campaign_due import due_instant as due_instant
from bot.campaign_due import last_day as last_day
from bot.campaign_due import read_time_of_day as read_time_of_day
from bot.clock import check_zone
from bot.domain import UNIT_KIND_GROUPS, UnitKind, parse_unit_kind
from bot.expressions import Expression, ExpressionError, compile_expression

NAME_RE = r"^[a-z][a-z0-9_]{0,39}$"
KEY_RE = r"^[a-z0-9][a-z0-9-]{0,39}$"
DEFAULT_CLOSE_AFTER_DAYS = 30
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
REPORT_LABEL_MAX = 60  # an indicator's name must fit a table row or a line of a báo cáo


class Text(_Model):
    """A user-facing text in Vietnamese and (optionally) English."""

    vi: str = Field(min_length=1)
    en: str | None = None

    def get(self, locale: str) -> str:
        return self.en if locale == "en" and self.en else self.vi


class FieldType(enum.StrEnum):
    INTEGER = "integer"
    DECIMAL = "decimal"
    MONEY = "money"  # whole đồng
    PERCENT = "percent"
    YES_NO = "yes_no"
    SELECT_ONE = "select_one"
    SELECT_MULTIPLE = "select_multiple"
    TEXT = "text"  # short text, one line
    LONG_TEXT = "long_text"
    DATE = "date"
    PHOTO = "photo"
    DOCUMENT = "document"

    @property
    def is_numeric(self) -> bool:
        return self in (FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY, FieldType.PERCENT)

    @property
    def is_attachment(self) -> bool:
        return self in (FieldType.PHOTO, FieldType.DOCUMENT)


class Choice(_Model):
    value: str = Field(pattern=r"^[a-z0-9_]{1,20}$")
    label: Text


class FormField(_Model):
    name: str = Field(pattern=NAME_RE)
    type: FieldType
    label: Text  # the question the dialog asks
    report_label: Text | None = None  # the indicator's short name in every output ("Số đoàn viên mới kết nạp")
    hint: Text | None = None
    unit: Text | None = None  # what the number counts: người, tin bài, đồng ...
    required: bool = True
    constraint: str | None = None
    constraint_message: Text | None = None
    relevant: str | None = None
    choices: tuple[Choice, ...] = ()
    periods: tuple[str, ...] = ()  # empty: asked in every period
    scope: Scope | None = None  # only units of these kinds are asked; None: every reporting unit
    max_files: int = Field(default=1, ge=1, le=10)

    @field_validator("report_label")
    @classmethod
    def _short_label(cls, value: Text | None) -> Text | None:
        for text in (value.vi, value.en) if value is not None else ():
            if text is not None and (len(text) > REPORT_LABEL_MAX or text.rstrip().endswith("?")):
                raise ValueError(f"{text!r}: a short name for reports, at most {REPORT_LABEL_MAX} characters and "
                                 'not a question (no "?"), e.g. "Số đoàn viên mới kết nạp"')
        return value

    @model_validator(mode="after")
    def _check(self) -> FormField:
        selects = (FieldType.SELECT_ONE, FieldType.SELECT_MULTIPLE)
        if self.type in selects and len(self.choices) < 2:
            raise ValueError(f"a {self.type} field needs at least two choices")
        if self.type not in selects and self.choices:
            raise ValueError(f"choices are only for select fields, not {self.type}")
        values = [c.value for c in self.choices]
        if len(set(values)) != len(values):
            raise ValueError("choice values must be unique")
        if self.constraint and not self.constraint_message:
            raise ValueError("a constraint needs a constraint_message telling the user what is expected")
        for attr in ("constraint", "relevant"):
            text = getattr(self, attr)
            if text:
                try:
                    compile_expression(text)
                except ExpressionError as exc:
                    raise ValueError(f"{attr}: {exc}") from None
        return self

    @property
    def constraint_expr(self) -> Expression | None:
        return compile_expression(self.constraint) if self.constraint else None

    @property
    def relevant_expr(self) -> Expression | None:
        return compile_expression(self.relevant) if self.relevant else None

    def indicator(self, locale: str) -> str:
        """The field's name in a summary, a workbook or a báo cáo: its report label; without one, the question
        without its question mark (the dialog keeps asking the question)."""
        if self.report_label is not None:
            return self.report_label.get(locale)
        return self.label.get(locale).strip().rstrip("?").rstrip()

    def asked_in(self, period_key: str) -> bool:
        return not self.periods or period_key in self.periods

    def asked_of(self, kind: UnitKind) -> bool:
        return self.scope is None or self.scope.includes(kind)


class Covers(_Model):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _order(self) -> Covers:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Period(_Model):
    key: str = Field(pattern=KEY_RE)
    name: Text
    covers: Covers
    due: Due
    close_after_days: int = Field(default=DEFAULT_CLOSE_AFTER_DAYS, ge=0, le=366)
    note: str | None = None

    def due_at(self, zone: ZoneInfo) -> datetime:
        return due_instant(self.due.date, self.due.wording, zone, self.due.time)

    def closes_at(self, zone: ZoneInfo) -> datetime:
        return self.due_at(zone) + timedelta(days=self.close_after_days)


class Comparator(enum.StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    EQ = "="

    @property
    def sign(self) -> str:
        """The comparator as a person reads it in a summary or a chat: '≥', not ">="."""
        return {
            Comparator.GE: "≥",
            Comparator.GT: ">",
            Comparator.LE: "≤",
            Comparator.LT: "<",
            Comparator.EQ: "=",
        }[self]

    def holds(self, value: Decimal, threshold: Decimal) -> bool:
        return {
            Comparator.GE: value >= threshold,
            Comparator.GT: value > threshold,
            Comparator.LE: value <= threshold,
            Comparator.LT: value < threshold,
            Comparator.EQ: value == threshold,
        }[self]


class Measure(enum.StrEnum):
    # % of the units in scope whose answers satisfy `condition`
    SHARE_OF_UNITS = "share_of_units"
    # sum(numerator) / sum(denominator) x 100 over the units in scope
    RATIO = "ratio"
    # sum of `field` over the units in scope (e.g. news items of the district itself)
    TOTAL = "total"


class Scope(_Model):
    """Which units a target or an audience covers."""

    kinds: tuple[UnitKind, ...]

    @field_validator("kinds", mode="before")
    @classmethod
    def _expand(cls, value: object) -> object:
        if not isinstance(value, (list, tuple)):
            return value
        out: list[UnitKind] = []
        for item in value:
            if isinstance(item, str) and item in UNIT_KIND_GROUPS:
                out.extend(sorted(UNIT_KIND_GROUPS[item]))
            elif isinstance(item, str):
                try:
                    out.append(parse_unit_kind(item))
                except ValueError:
                    known = ", ".join([*UnitKind, *UNIT_KIND_GROUPS])
                    raise ValueError(f"unknown unit kind {item!r}; expected one of {known}") from None
            else:
                out.append(item)
        return tuple(dict.fromkeys(out))

    def includes(self, kind: UnitKind) -> bool:
        return kind in self.kinds


class Target(_Model):
    key: str = Field(pattern=KEY_RE)
    text: str = Field(min_length=1)  # the chỉ tiêu as the plan words it
    label: Text
    measure: Measure
    comparator: Comparator = Comparator.GE
    threshold: Decimal
    unit: Literal["%", "count"] = "%"
    scope: Scope | None = None  # None: the campaign's audience
    condition: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    field: str | None = None
    periods: tuple[str, ...] = ()  # empty: every period

    @model_validator(mode="after")
    def _check(self) -> Target:
        need = {
            Measure.SHARE_OF_UNITS: ("condition",),
            Measure.RATIO: ("numerator", "denominator"),
            Measure.TOTAL: ("field",),
        }[self.measure]
        for attr in need:
            if not getattr(self, attr):
                raise ValueError(f"measure {self.measure} needs {attr}")
        if self.measure is Measure.TOTAL and self.unit != "count":
            raise ValueError('a total is a count: set unit = "count"')
        if self.measure is not Measure.TOTAL and self.unit != "%":
            raise ValueError(f'measure {self.measure} gives a percentage: set unit = "%"')
        if self.condition:
            try:
                compile_expression(self.condition)
            except ExpressionError as exc:
                raise ValueError(f"condition: {exc}") from None
        return self

    @property
    def fields_used(self) -> frozenset[str]:
        if self.condition:
            return compile_expression(self.condition).fields
        return frozenset(f for f in (self.numerator, self.denominator, self.field) if f)


class Audience(_Model):
    scope: Scope
    within: str | None = None  # a unit code: only its subtree reports; None: the whole organisation
    reports_to: str = Field(min_length=1)  # as the plan says: "LĐLĐ tỉnh (qua Ban Tuyên giáo – Nữ công)"
    note: str | None = None


class PlanRef(_Model):
    issuer: str = Field(min_length=1)
    parent_issuer: str | None = None
    number: str | None = None  # "26/KH-LĐLĐ"
    date: dt.date | None = None
    place: str | None = None
    title: str = Field(min_length=1)
    source: str | None = None  # the seed file it was written from
    basis: tuple[str, ...] = ()  # documents the plan implements


class Contact(_Model):
    department: str = Field(min_length=1)
    name: str | None = None
    position: str | None = None
    phone: str | None = None
    email: str | None = None


class ReminderOverrides(_Model):
    days_before: tuple[int, ...] | None = None
    days_after: tuple[int, ...] | None = None
    send_time: time | None = None


class ReviewRules(_Model):
    """[review] of a campaign file (issue 15)."""

    # An upper level's own report is approved only once all its units' reports are approved or excused.
    require_children_approved: bool = True


class Campaign(_Model):
    id: str = Field(pattern=KEY_RE)
    title: Text
    timezone: str = DEFAULT_TIMEZONE
    plan: PlanRef
    audience: Audience
    contact: Contact
    periods: tuple[Period, ...] = Field(min_length=1)
    fields: tuple[FormField, ...] = Field(min_length=1)
    targets: tuple[Target, ...] = ()
    activities: tuple[str, ...] = ()
    reminders: ReminderOverrides | None = None
    review: ReviewRules = ReviewRules()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)

    @model_validator(mode="after")
    def _cross_check(self) -> Campaign:
        problems = [*self._field_problems(), *self._target_problems()]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _field_problems(self) -> list[str]:
        """Unique keys and names; every reference of a field to a period or another field resolves (and a
        relevance rule only looks back)."""
        problems: list[str] = []
        period_keys = [p.key for p in self.periods]
        if len(set(period_keys)) != len(period_keys):
            problems.append("periods: keys must be unique")
        names = [f.name for f in self.fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            problems.append(f"fields: duplicate names {', '.join(dupes)}")
        for i, f in enumerate(self.fields):
            for key in f.periods:
                if key not in period_keys:
                    problems.append(f"fields[{i}] {f.name}: unknown period {key!r}")
            for attr in ("constraint_expr", "relevant_expr"):
                expr = getattr(f, attr)
                if expr is None:
                    continue
                for ref in expr.fields:
                    if ref not in names:
                        problems.append(f"fields[{i}] {f.name}: {attr[:-5]} refers to unknown field ${{{ref}}}")
                    elif attr == "relevant_expr" and names.index(ref) >= i:
                        problems.append(f"fields[{i}] {f.name}: relevant refers to ${{{ref}}}, which is asked later")
        return problems

    def _target_problems(self) -> list[str]:
        """Unique keys; a target counts known fields, numeric ones for a ratio or total, asked of every kind of
        unit it covers, in known periods."""
        problems: list[str] = []
        period_keys = [p.key for p in self.periods]
        by_name = {f.name: f for f in self.fields}
        target_keys = [t.key for t in self.targets]
        if len(set(target_keys)) != len(target_keys):
            problems.append("targets: keys must be unique")
        for i, t in enumerate(self.targets):
            for ref in t.fields_used:
                if ref not in by_name:
                    problems.append(f"targets[{i}] {t.key}: refers to unknown field {ref!r}")
                elif t.measure in (Measure.RATIO, Measure.TOTAL) and not by_name[ref].type.is_numeric:
                    problems.append(f"targets[{i}] {t.key}: field {ref!r} is not numeric")
                else:
                    scope = t.scope or self.audience.scope
                    unasked = [k.value for k in scope.kinds if not by_name[ref].asked_of(k)]
                    if unasked:
                        problems.append(
                            f"targets[{i}] {t.key}: field {ref!r} is not asked of {', '.join(unasked)}, "
                            "which the target covers"
                        )
            for key in t.periods:
                if key not in period_keys:
                    problems.append(f"targets[{i}] {t.key}: unknown period {key!r}")
        return problems

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def period(self, key: str) -> Period:
        for p in self.periods:
            if p.key == key:
                return p
        raise KeyError(key)

    def fields_for(self, period_key: str, kind: UnitKind | None = None) -> tuple[FormField, ...]:
        """The questions of a period, for a unit of `kind` (None: every question of the period)."""
        return tuple(f for f in self.fields if f.asked_in(period_key) and (kind is None or f.asked_of(kind)))

    def target_scope(self, target: Target) -> Scope:
        return target.scope or self.audience.scope


# FormField refers to Scope, defined further down.
FormField.model_rebuild()
