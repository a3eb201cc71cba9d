"""The questions a draft campaign proposes: what each target needs answered, and how the target reads them.

`FieldSpec` is a proposal, not a `bot.campaign_model.FormField`: it carries the targets that asked for it
(`for_targets`, written as a comment and shown by `plans import --json`) and plain Vietnamese strings. It is
written into the draft's TOML, and that text is validated by loading it into `FormField`s (`check_draft`),
so there is one path from text to a checked form rather than a second one that builds models directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from bot.campaign_model import NAME_RE, REPORT_LABEL_MAX, Scope
from bot.plans.extract import Need, PlanProposal, TargetProposal, slug, unique_key


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: Literal["integer", "yes_no", "long_text", "document"]
    label: str
    unit: str | None = None
    required: bool = True
    constraint: str | None = None
    constraint_message: str | None = None
    relevant: str | None = None
    periods: tuple[str, ...] = ()
    scope: tuple[str, ...] | None = None
    for_targets: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "label": self.label,
                               "report_label": report_label_of(self.label)}
        for key in ("unit", "constraint", "relevant"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        out["required"] = self.required
        if self.periods:
            out["periods"] = list(self.periods)
        if self.scope:
            out["scope"] = {"kinds": list(self.scope)}
        if self.for_targets:
            out["for_targets"] = list(self.for_targets)
        return out


@dataclass(frozen=True, slots=True)
class TargetBinding:
    """How a proposed target reads the form: a condition, a ratio of two fields, or a field's total."""

    condition: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    field: str | None = None


# ================================================================ naming
def _name(hint: str, used: set[str]) -> str:
    name = slug(hint, 36, "_")
    if not name or not name[0].isalpha():
        name = f"f_{name}" if name else "cau_hoi"
    out = unique_key(name, used, sep="_")
    assert re.fullmatch(NAME_RE, out), out
    return out


# ================================================================ the form
def _expand(kinds: tuple[str, ...] | None) -> frozenset[str]:
    return frozenset(k.value for k in Scope.model_validate({"kinds": list(kinds)}).kinds) if kinds else frozenset()


def _groups(kinds: frozenset[str]) -> tuple[str, ...]:
    """Unit kinds as a scope names them: "grassroots" and "enterprise" for their whole groups."""
    rest = set(kinds)
    out: list[str] = []
    for group in ("grassroots", "enterprise"):
        members = _expand((group,))
        if members <= rest:
            out.append(group)
            rest -= members
    return (*out, *sorted(rest))


_COUNT_MESSAGE = "Nhập một số, từ 0 trở lên, ví dụ: 2"


class _Questions:
    """The questions the targets ask, one per distinct label, in asking order, with the targets that use each."""

    def __init__(self, target_periods: tuple[str, ...], used: set[str]) -> None:
        self.target_periods = target_periods
        self.used = used
        self.specs: dict[str, dict[str, Any]] = {}  # by name, in asking order
        self.by_label: dict[str, str] = {}

    def add(self, need: Need, target: TargetProposal, constraint: str | None = None,
            message: str | None = None) -> str:
        label = need.label
        if label in self.by_label:
            name = self.by_label[label]
        else:
            name = _name(need.name_hint, self.used)
            self.by_label[label] = name
            self.specs[name] = {"type": need.type, "label": label, "unit": need.unit, "constraint": constraint,
                                "constraint_message": message, "periods": self.target_periods, "scopes": [],
                                "targets": []}
        self.specs[name]["scopes"].append(target.scope)
        self.specs[name]["targets"].append(target.key)
        return name

    def bind(self, t: TargetProposal) -> TargetBinding:
        """Add the questions target `t` needs; how it reads them."""
        needs = {n.role: n for n in t.needs}
        if t.measure == "ratio" or t.per_unit_share is not None:
            den, num = needs["denominator"], needs["numerator"]
            people = den.label.startswith("Đơn vị hiện có")
            d = self.add(den, t, ". > 0" if people else ". >= 0",
                         "Nhập tổng số, lớn hơn 0, ví dụ: 35" if people else _COUNT_MESSAGE)
            n = self.add(num, t, f". >= 0 and . <= ${{{d}}}",
                         "Không được lớn hơn tổng số đã nhập ở câu trước. Ví dụ: có 35 thì nhập từ 0 đến 35")
            if t.per_unit_share is not None:
                share = (t.per_unit_share / 100).normalize()
                return TargetBinding(condition=f"${{{n}}} >= ${{{d}}} * {share:f}")
            return TargetBinding(numerator=n, denominator=d)
        if t.measure == "total":
            return TargetBinding(field=self.add(needs["total"], t, ". >= 0", _COUNT_MESSAGE))
        if "count" in needs:
            f = self.add(needs["count"], t, ". >= 0", _COUNT_MESSAGE)
            return TargetBinding(condition=f"${{{f}}} >= {t.count_at_least or 1}")
        f = self.add(needs["check"], t)
        return TargetBinding(condition=f"${{{f}}} = true")

    def fields(self, audience: frozenset[str]) -> list[FieldSpec]:
        """The questions as fields; one asked of fewer kinds of unit than the audience gets a scope."""
        fields: list[FieldSpec] = []
        for name, spec in self.specs.items():
            scopes = spec["scopes"]
            kinds: tuple[str, ...] | None = None
            if all(s is not None for s in scopes):
                union = frozenset().union(*(_expand(s) for s in scopes))
                if not audience <= union:
                    kinds = _groups(union)
            fields.append(FieldSpec(
                name=name, type=spec["type"], label=spec["label"], unit=spec["unit"], constraint=spec["constraint"],
                constraint_message=spec["constraint_message"] if spec["constraint"] else None,
                periods=spec["periods"], scope=kinds, for_targets=tuple(spec["targets"]),
            ))
        return fields


def propose_form(proposal: PlanProposal) -> tuple[list[FieldSpec], dict[str, TargetBinding]]:
    """The questions each target needs (counts, yes/no, the denominators of percentages), plus a
    free-text field for good models and effective practices, and the plan file where units send one."""
    plan_keys = tuple(p.key for p in proposal.periods if p.kind == "plan")
    target_periods = proposal.target_periods
    used: set[str] = set()
    questions = _Questions(target_periods, used)
    bindings = {t.key: questions.bind(t) for t in proposal.targets}

    fields: list[FieldSpec] = []
    if plan_keys:
        built = _name("da xay dung ke hoach", used)
        fields.append(FieldSpec(built, "yes_no", "Đơn vị đã xây dựng kế hoạch chưa?", periods=plan_keys))
        fields.append(FieldSpec(_name("file ke hoach", used), "document", "Gửi file kế hoạch của đơn vị",
                                required=False, relevant=f"${{{built}}} = true", periods=plan_keys))
    fields += questions.fields(_expand(proposal.audience.kinds))
    fields.append(FieldSpec(_name("mo hinh hay cach lam hieu qua", used), "long_text",
                            "Mô hình hay, cách làm hiệu quả của đơn vị (nếu có)?", required=False,
                            periods=target_periods))
    fields.append(FieldSpec(_name("file bao cao", used), "document", "Gửi file báo cáo của đơn vị (nếu có)",
                            required=False, periods=target_periods))
    return fields, bindings


# How a proposed question reads as an indicator's name: (question pattern, label pattern).
_LABEL_RULES = [
    (re.compile(r"^Đơn vị hiện có bao nhiêu (.+)$"), r"Tổng số \1"),
    (re.compile(r"^Đơn vị (?:có|đã \w+) bao nhiêu (.+)$"), r"Số \1"),
    (re.compile(r"^Trong (?:số )?đó, (?:số )?(.+)$"), r"Số \1"),
    (re.compile(r"^Bao nhiêu (.+?) của đơn vị (.+)$"), r"Số \1 \2"),
    (re.compile(r"^Đơn vị đã (.+) chưa$"), r"Đã \1"),
    (re.compile(r"^Đơn vị có (.+) không$"), r"Có \1"),
    (re.compile(r"^Gửi (.+?)(?: của đơn vị)?$"), r"\1"),
]


def report_label_of(question: str) -> str:
    """A proposed question as a short indicator name for the summaries: "Đơn vị có bao nhiêu hoạt động
    chăm lo?" -> "Số hoạt động chăm lo"; at most REPORT_LABEL_MAX characters, never a question."""
    text = " ".join(question.split())
    text = re.sub(r"\s*\(nếu có\)", "", text).rstrip(" ?:")
    for pattern, replacement in _LABEL_RULES:
        if pattern.match(text):
            text = pattern.sub(replacement, text, count=1)
            break
    text = text[:1].upper() + text[1:]
    if len(text) > REPORT_LABEL_MAX:
        text = text[: REPORT_LABEL_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
    return text or question[:REPORT_LABEL_MAX].rstrip(" ?")
