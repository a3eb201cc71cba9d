"""From a plan's proposals to a draft campaign file (TOML) and the list of what a person must check.

The draft is written in the shape of the hand-written campaigns in campaigns/: periods with exact
due dates and their wording, the form the targets need, the targets, the recipient and contact.
What the plan says is written as read, with the sentence it came from as a comment; what the plan
does not say is either proposed (a due date the department must confirm: `source = "department"`)
or left empty for a person to fill in, in which case the file does not load until it is filled and
`Draft.to_fill` says so, key by key.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from bot.campaign_model import KEY_RE, NAME_RE, REPORT_LABEL_MAX, Scope
from bot.campaigns import CampaignFileError, load_campaign_bytes
from bot.i18n import N_
from bot.plans.extract import ZONE, Need, PlanProposal, TargetProposal, fold, slug, unique_key
from bot.plans.text import PlanError

_SPAN = re.compile(r"\s*\(\s*\d{1,2}/\d{1,2}/\d{4}\s*[-–]\s*\d{1,2}/\d{1,2}/\d{4}\s*\)")
TITLE_LIMIT = 60
COMMENT_LIMIT = 300


class NoReportingDutyError(PlanError):
    msgid = N_(
        "{name}: no reporting duty was found in this plan (no “báo cáo … trước ngày …”, no rhythm such as "
        "“6 tháng, năm”, no rounds with dates), so there is nothing to remind anyone of. Nothing was written."
    )


@dataclass(frozen=True, slots=True)
class DraftItem:
    """One thing a person must fill in or confirm. `msgid` is English, `params` its placeholders."""

    key: str
    msgid: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "message": self.msgid.format(**self.params), "params": self.params}


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


@dataclass(frozen=True, slots=True)
class Draft:
    campaign_id: str
    toml: str
    fields: tuple[FieldSpec, ...]
    to_fill: tuple[DraftItem, ...]  # the file does not load until these are written in
    to_confirm: tuple[DraftItem, ...]  # proposals in the file a person should check

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.campaign_id,
            "to_fill": [i.to_json() for i in self.to_fill],
            "to_confirm": [i.to_json() for i in self.to_confirm],
        }


# ================================================================ naming
def _name(hint: str, used: set[str]) -> str:
    name = slug(hint, 36, "_")
    if not name or not name[0].isalpha():
        name = f"f_{name}" if name else "cau_hoi"
    out = unique_key(name, used, sep="_")
    assert re.fullmatch(NAME_RE, out), out
    return out


def suggest_campaign_id(proposal: PlanProposal) -> str:
    """A campaign id from the plan: its number and year, else the words of its title."""
    ident = proposal.identity
    year = ident.year or (proposal.periods[0].due_date.year if proposal.periods else None)
    words = re.findall(r"[a-z0-9]+", fold(_short_title(proposal) or ""))
    stop = {"ke", "hoach", "to", "chuc", "cac", "va", "ve", "nam", "trong", "cua", "thuc", "hien"}
    base = "-".join(w for w in words if w not in stop and not w.isdigit())[:30].strip("-") or "ke-hoach"
    if ident.number:
        base = "kh-" + "-".join(re.findall(r"[a-z0-9]+", fold(ident.number)))[:20] + "-" + base
    out = f"{base[:34].strip('-')}-{year}" if year else base[:40]
    out = re.sub(r"-+", "-", out).strip("-")
    assert re.fullmatch(KEY_RE, out), out
    return out


def _short_title(proposal: PlanProposal) -> str | None:
    title = proposal.identity.title
    if not title:
        return None
    title = _SPAN.sub("", title)
    title = re.sub(r"^Kế hoạch\s+", "", title).strip()
    title = title[:1].upper() + title[1:]
    if len(title) > TITLE_LIMIT:
        title = title[: TITLE_LIMIT - 1].rsplit(" ", 1)[0].rstrip(",;:–- ") + "…"
    return title


# ================================================================ the form
def _expand(kinds: tuple[str, ...] | None) -> frozenset[str]:
    return frozenset(k.value for k in Scope.model_validate({"kinds": kinds}).kinds) if kinds else frozenset()


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


def propose_form(proposal: PlanProposal) -> tuple[list[FieldSpec], dict[str, TargetBinding]]:
    """The questions each target needs (counts, yes/no, the denominators of percentages), plus a
    free-text field for good models and effective practices, and the plan file where units send one."""
    plan_keys = tuple(p.key for p in proposal.periods if p.kind == "plan")
    target_periods = proposal.target_periods
    audience = _expand(proposal.audience.kinds)

    used: set[str] = set()
    specs: dict[str, dict[str, Any]] = {}  # by name, in asking order
    by_label: dict[str, str] = {}

    def add(need: Need, target: TargetProposal, constraint: str | None = None, message: str | None = None) -> str:
        label = need.label
        if label in by_label:
            name = by_label[label]
        else:
            name = _name(need.name_hint, used)
            by_label[label] = name
            specs[name] = {"type": need.type, "label": label, "unit": need.unit, "constraint": constraint,
                           "constraint_message": message, "periods": target_periods, "scopes": [], "targets": []}
        specs[name]["scopes"].append(target.scope)
        specs[name]["targets"].append(target.key)
        return name

    count_msg = "Nhập một số, từ 0 trở lên, ví dụ: 2"
    bindings: dict[str, TargetBinding] = {}
    for t in proposal.targets:
        needs = {n.role: n for n in t.needs}
        if t.measure == "ratio" or t.per_unit_share is not None:
            den, num = needs["denominator"], needs["numerator"]
            people = den.label.startswith("Đơn vị hiện có")
            d = add(den, t, ". > 0" if people else ". >= 0",
                    "Nhập tổng số, lớn hơn 0, ví dụ: 35" if people else count_msg)
            n = add(num, t, f". >= 0 and . <= ${{{d}}}",
                    "Không được lớn hơn tổng số đã nhập ở câu trước. Ví dụ: có 35 thì nhập từ 0 đến 35")
            if t.per_unit_share is not None:
                share = (t.per_unit_share / 100).normalize()
                bindings[t.key] = TargetBinding(condition=f"${{{n}}} >= ${{{d}}} * {share:f}")
            else:
                bindings[t.key] = TargetBinding(numerator=n, denominator=d)
        elif t.measure == "total":
            f = add(needs["total"], t, ". >= 0", count_msg)
            bindings[t.key] = TargetBinding(field=f)
        elif "count" in needs:
            f = add(needs["count"], t, ". >= 0", count_msg)
            bindings[t.key] = TargetBinding(condition=f"${{{f}}} >= {t.count_at_least or 1}")
        else:
            f = add(needs["check"], t)
            bindings[t.key] = TargetBinding(condition=f"${{{f}}} = true")

    fields: list[FieldSpec] = []
    if plan_keys:
        built = _name("da xay dung ke hoach", used)
        fields.append(FieldSpec(built, "yes_no", "Đơn vị đã xây dựng kế hoạch chưa?", periods=plan_keys))
        fields.append(FieldSpec(_name("file ke hoach", used), "document", "Gửi file kế hoạch của đơn vị",
                                required=False, relevant=f"${{{built}}} = true", periods=plan_keys))
    for name, spec in specs.items():
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


# ================================================================ TOML
def _s(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _v(value: Any) -> str:
    if isinstance(value, str):
        return _s(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_v(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_v(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def _comment(text: str, prefix: str = "# ") -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > COMMENT_LIMIT:
        text = text[: COMMENT_LIMIT - 1] + "…"
    return prefix + text


def _from(sentence: str, line: int) -> str:
    return _comment(f"from line {line}: «{sentence}»")


def _scope_note(kinds: tuple[str, ...]) -> str:
    return ", ".join(kinds)


def draft_campaign(proposal: PlanProposal, *, campaign_id: str | None = None, source: str | None = None,
                   name: str = "plan") -> Draft:
    """The draft campaign file for a plan. Raises NoReportingDutyError when the plan gives no one
    anything to report (no deadline, no rhythm, no dated rounds)."""
    if not proposal.periods:
        raise NoReportingDutyError(name)
    ident = proposal.identity
    cid = campaign_id or suggest_campaign_id(proposal)
    fields, bindings = propose_form(proposal)
    to_fill: list[DraftItem] = []
    to_confirm: list[DraftItem] = []
    out: list[str] = []
    w = out.append

    short_title = _short_title(proposal)
    issuer = ident.issuer or ""
    reports_to = proposal.audience.reports_to or ""
    contact = proposal.contact
    department = contact.department or proposal.audience.reports_to or ident.issuer or ""

    if not issuer:
        to_fill.append(DraftItem("plan.issuer", N_("plan.issuer: who issued the plan was not found; write it in.")))
    elif ident.issuer_from == "preamble":
        to_confirm.append(DraftItem("plan.issuer", N_(
            "plan.issuer: “{value}” was read from the plan's opening sentences; check the full name."), {
            "value": issuer}))
    if not short_title:
        to_fill.append(DraftItem("title", N_("title and plan.title: the plan's title was not found; write it in.")))
    if ident.blank_day_year and not ident.date:
        to_confirm.append(DraftItem("plan.date", N_(
            "plan.date: the plan leaves the day blank (“ngày … tháng {month} năm {year}”); add the date when known."),
            {"month": ident.blank_day_month, "year": ident.blank_day_year}))
    if not reports_to:
        to_fill.append(DraftItem("audience.reports_to", N_(
            "audience.reports_to: the plan names no one to report to; write in the recipient.")))
    elif proposal.audience.reports_to_from == "issuer":
        to_confirm.append(DraftItem("audience.reports_to", N_(
            "audience.reports_to: the plan names no recipient; proposed “{value}”, the issuer."),
            {"value": reports_to}))
    if not department:
        to_fill.append(DraftItem("contact.department", N_(
            "contact.department: no contact was found in the plan; write in the department to contact.")))
    elif not contact.department:
        to_confirm.append(DraftItem("contact.department", N_(
            "contact.department: the plan names no contact; proposed “{value}”."), {"value": department}))
    if proposal.audience.how != "plan":
        to_confirm.append(DraftItem("audience.scope", N_(
            "audience.scope: the plan does not say who reports; proposed {kinds}. Check who must report."),
            {"kinds": _scope_note(proposal.audience.kinds)}))

    # ------------------------------------------------------------ header
    w(_comment(f"DRAFT read from the plan {source or ''} by `python -m bot plans import`.".replace("  ", " ")))
    w("# Check every value against the plan: a “from” comment quotes the sentence it was read from.")
    if to_fill:
        w("# TO FILL IN before this file loads:")
        out.extend(_comment(i.msgid.format(**i.params), "#   - ") for i in to_fill)
    w("")
    w(f"id = {_s(cid)}")
    w(f"title = {_v({'vi': short_title or ''})}")
    w(f"timezone = {_s(str(ZONE))}")  # the zone the proposal's due instants are in
    if proposal.activities:
        w("")
        w("activities = [")
        out.extend(f"  {_s(a)}," for a in proposal.activities)
        w("]")

    # ------------------------------------------------------------ plan
    w("")
    w("[plan]")
    if "issuer" in ident.evidence:
        w(_from(ident.evidence["issuer"].sentence, ident.evidence["issuer"].line))
    w(f"issuer = {_s(issuer)}" + ("  # TO FILL IN" if not issuer else ""))
    if ident.parent_issuer:
        w(f"parent_issuer = {_s(ident.parent_issuer)}")
    if ident.number:
        w(f"number = {_s(ident.number)}")
    if ident.date:
        w(f"date = {_v(ident.date)}")
    elif ident.blank_day_year:
        w(_comment(f"date: the plan leaves the day blank (tháng {ident.blank_day_month} năm {ident.blank_day_year})"))
    if ident.place:
        w(f"place = {_s(ident.place)}")
    w(f"title = {_s(ident.title or '')}" + ("  # TO FILL IN" if not ident.title else ""))
    if source:
        w(f"source = {_s(source)}")
    if ident.basis:
        w("basis = [")
        out.extend(f"  {_s(b)}," for b in ident.basis)
        w("]")

    # ------------------------------------------------------------ audience and contact
    w("")
    w("[audience]")
    senders = [d for d in proposal.duties if d.sender_text]
    if senders:
        w(_comment(f"who reports, read from: «{senders[0].sender_text}»"))
    w(f"scope = {_v({'kinds': list(proposal.audience.kinds)})}")
    recipient_from = next((d for d in proposal.duties if d.recipient), None)
    if recipient_from:
        w(_from(recipient_from.evidence.sentence, recipient_from.evidence.line))
    w(f"reports_to = {_s(reports_to)}" + ("  # TO FILL IN" if not reports_to else ""))

    w("")
    w("[contact]")
    if contact.evidence:
        w(_from(contact.evidence.sentence, contact.evidence.line))
    w(f"department = {_s(department)}" + ("  # TO FILL IN" if not department else ""))
    for key in ("name", "position", "phone", "email"):
        value = getattr(contact, key)
        if value:
            w(f"{key} = {_s(value)}")

    # ------------------------------------------------------------ periods
    for i, p in enumerate(proposal.periods):
        w("")
        w(_from(p.evidence.sentence, p.evidence.line))
        if p.proposed:
            w("# PROPOSED due date: the plan gives none. Confirm or change it.")
            to_confirm.append(DraftItem(f"periods[{i}].due", N_(
                "periods[{index}] {key}: the plan gives no date; proposed due before {date}. Confirm or change it."),
                {"index": i, "key": p.key, "date": p.due_date.strftime("%d/%m/%Y")}))
        if p.covers.how == "inferred":
            w("# PROPOSED coverage: the plan does not say what this report covers.")
            to_confirm.append(DraftItem(f"periods[{i}].covers", N_(
                "periods[{index}] {key}: the plan does not say what this report covers; proposed {start} – {end}."),
                {"index": i, "key": p.key, "start": p.covers.start.strftime("%d/%m/%Y"),
                 "end": p.covers.end.strftime("%d/%m/%Y")}))
        w("[[periods]]")
        w(f"key = {_s(p.key)}")
        w(f"name = {_v({'vi': p.name})}")
        w(f"covers = {_v({'start': p.covers.start, 'end': p.covers.end})}")
        w(f"due = {_v({'date': p.due_date, 'wording': p.wording, 'text': p.due_text, 'source': p.due_source})}")
        notes = [n for n in (p.note, f"Kỳ báo cáo đọc từ: “{p.covers.text}”." if p.covers.text else None) if n]
        if notes:
            w(f"note = {_s(' '.join(notes))}")

    # ------------------------------------------------------------ fields
    w("")
    w("# ---------------------------------------------------------------- form (proposed)")
    for f in fields:
        w("")
        if f.for_targets:
            w(_comment("for the targets: " + ", ".join(f.for_targets)))
        w("[[fields]]")
        w(f"name = {_s(f.name)}")
        if f.scope:
            w(f"scope = {_v({'kinds': list(f.scope)})}")
        w(f"type = {_s(f.type)}")
        w(f"label = {_v({'vi': f.label})}")
        w(f"report_label = {_v({'vi': report_label_of(f.label)})}")
        if f.unit:
            w(f"unit = {_v({'vi': f.unit})}")
        if not f.required:
            w("required = false")
        if f.periods:
            w(f"periods = {_v(list(f.periods))}")
        if f.relevant:
            w(f"relevant = {_s(f.relevant)}")
        if f.constraint:
            w(f"constraint = {_s(f.constraint)}")
            w(f"constraint_message = {_v({'vi': f.constraint_message or ''})}")
    to_confirm.append(DraftItem("fields", N_(
        "fields: only the questions the targets need were proposed ({n}); add questions for the plan's "
        "activities if the department wants their figures."), {"n": len(fields)}))

    # ------------------------------------------------------------ targets
    if proposal.targets:
        w("")
        w("# ---------------------------------------------------------------- targets")
    else:
        to_confirm.append(DraftItem("targets", N_("targets: the plan states no numeric target (chỉ tiêu).")))
    target_periods = proposal.target_periods
    for i, t in enumerate(proposal.targets):
        b = bindings[t.key]
        w("")
        w(_from(t.evidence.sentence, t.evidence.line))
        if t.companion_of:
            w(_comment(f"the same words read per unit: every unit reaching {t.per_unit_share:f}%; "
                       f"keep this, {t.companion_of}, or both"))
            to_confirm.append(DraftItem(f"targets[{i}]", N_(
                "targets[{index}] {key}: “{text}” can be read over all members or per unit; both were proposed "
                "({key} and {other}). Delete the one you do not want."),
                {"index": i, "key": t.key, "other": t.companion_of, "text": t.text}))
        if t.unclear:
            to_confirm.append(DraftItem(f"targets[{i}]", N_(
                "targets[{index}] {key}: what counts as done in “{text}” was not clear; check its questions."),
                {"index": i, "key": t.key, "text": t.text}))
        w("[[targets]]")
        w(f"key = {_s(t.key)}")
        w(f"text = {_s(t.text)}")
        label = t.text if len(t.text) <= 80 else t.text[:79].rsplit(" ", 1)[0] + "…"
        w(f"label = {_v({'vi': label})}")
        w(f"measure = {_s(t.measure)}")
        for key in ("condition", "numerator", "denominator", "field"):
            value = getattr(b, key)
            if value:
                w(f"{key} = {_s(value)}")
        w(f"comparator = {_s(t.comparator)}")
        w(f"threshold = {_v(t.threshold)}")
        w(f"unit = {_s(t.unit)}")
        if t.scope:
            w(f"scope = {_v({'kinds': list(t.scope)})}")
        if target_periods:
            w(f"periods = {_v(list(target_periods))}")

    return Draft(campaign_id=cid, toml="\n".join(out) + "\n", fields=tuple(fields), to_fill=tuple(to_fill),
                 to_confirm=tuple(to_confirm))


def check_draft(draft: Draft) -> list[str]:
    """What `campaigns check` would say about the draft: [] when it loads."""
    try:
        load_campaign_bytes(draft.toml.encode("utf-8"), Path(f"{draft.campaign_id}.toml"))
    except CampaignFileError as exc:
        return [f"{p.key}: {p.message}" if p.key else p.message for p in exc.problems]
    return []


def write_campaign_file(path: Path, text: str) -> None:
    """Write the whole file or nothing: a half-written campaign would stop the next start-up."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
