"""The reporting periods and the audience a draft campaign proposes, from what the readers found.

Entry points: `propose_periods(identity, duties, rounds, window, years)`, `propose_audience(...)`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from bot.campaign_model import DueWording
from bot.plans.extract.dates import Years
from bot.plans.extract.document import Context, Document
from bot.plans.extract.folding import fold, vi
from bot.plans.extract.identity import ISSUING_COMMITTEE
from bot.plans.extract.kinds import kinds_in, simplify_kinds
from bot.plans.extract.model import (
    Audience,
    Coverage,
    Duty,
    Evidence,
    Identity,
    PeriodProposal,
    Round,
    TargetProposal,
)

# A round or rhythm without a deadline in the plan: propose "before (end of the period + this)".
PROPOSED_DAYS_AFTER_END = 10

def _fmt(d: date) -> str:
    return f"{d.day}/{d.month}/{d.year}"


def _span_name(start: date, end: date) -> str:
    return f"{start:%d/%m}–{end:%d/%m/%Y}"


def _proposed_due(end: date) -> date:
    return end + timedelta(days=PROPOSED_DAYS_AFTER_END)


class UsedKeys(set[str]):
    """The keys given so far, and for each key the next number to try: a plan with thousands of
    periods of one name stays linear (a plain set works too, but rescans the numbers)."""

    def __init__(self) -> None:
        super().__init__()
        self.next_number: dict[str, int] = {}


def unique_key(key: str, used: set[str], sep: str = "-") -> str:
    numbers = used.next_number if isinstance(used, UsedKeys) else {}
    out, n = key, numbers.get(key, 2)
    if out in used:
        out = f"{key}{sep}{n}"
    while out in used:
        n += 1
        out = f"{key}{sep}{n}"
    if out != key:
        numbers[key] = n + 1
    used.add(out)
    return out


def _dated_covers(d: Duty, by_number: dict[int, Round], window: Coverage | None, identity: Identity,
                  prev_end: date | None) -> Coverage:
    """What a duty with a date covers: its own words, its round, the activity window, else the time
    since the previous period (or since the plan's date, or the start of the year)."""
    assert d.date
    assert d.last_day
    end_default = d.last_day
    if d.covers:
        return d.covers
    if d.round and d.round in by_number:
        r = by_number[d.round]
        return Coverage(r.start, r.end, "round", r.evidence.sentence)
    if d.kind == "results" and window and window.start < d.date:
        return window
    start = prev_end + timedelta(days=1) if prev_end else (
        identity.date if identity.date and identity.date <= end_default else date(end_default.year, 1, 1))
    return Coverage(start, max(start, end_default), "inferred", d.covers_note)


def _dated_periods(identity: Identity, duties: list[Duty], rounds: list[Round], window: Coverage | None,
                   used: set[str]) -> list[PeriodProposal]:
    """One period per duty with a date written in the plan, in date order."""
    periods: list[PeriodProposal] = []
    by_number = {r.number: r for r in rounds}
    dated = sorted((d for d in duties if d.date and d.wording), key=lambda d: (d.date, d.kind != "plan"))
    prev_end: date | None = None
    for d in dated:
        assert d.date
        assert d.wording
        covers = _dated_covers(d, by_number, window, identity, prev_end)
        if d.kind == "plan":
            said = "trước" if d.wording is DueWording.BEFORE else "chậm nhất"
            when = f"{d.time:%H:%M} ngày {_fmt(d.date)}" if d.time else _fmt(d.date)  # "trước 16:30 ngày 5/3/2026"
            key, name = "ke-hoach", f"Gửi kế hoạch ({said} {when})"
        elif d.round:
            key, name = f"dot-{d.round}", f"Đợt {d.round} ({_span_name(covers.start, covers.end)})"
        else:
            key, name = "ket-qua", f"Báo cáo kết quả ({_span_name(covers.start, covers.end)})"
        periods.append(PeriodProposal(
            key=unique_key(key, used), name=name, covers=covers, due_date=d.date, wording=d.wording,
            due_source="plan", due_text=d.wording_text or _fmt(d.date), kind=d.kind, evidence=d.evidence,
            round=d.round, note=f"Kế hoạch ghi: “{d.covers_note}”." if d.covers_note else None, time=d.time,
        ))
        prev_end = covers.end
    return periods


def _rhythm_spans(d: Duty, year: int, said: str) -> list[tuple[str, str, Coverage]]:
    if d.rhythm == "half_and_year":
        return [("6-thang", "Báo cáo 6 tháng", Coverage(date(year, 1, 1), date(year, 6, 30), "rhythm", said)),
                ("nam", f"Báo cáo năm {year}", Coverage(date(year, 1, 1), date(year, 12, 31), "rhythm", said))]
    covers = d.covers or Coverage(date(year, 1, 1), date(year, 6, 30), "rhythm", said)
    return [("6-thang-dau-nam", "Báo cáo 6 tháng đầu năm", covers)]


def _rhythm_periods(duties: list[Duty], years: Years, used: set[str]) -> list[PeriodProposal]:
    """"Báo cáo 6 tháng, năm" without a date: the periods it names, with a proposed due date."""
    periods: list[PeriodProposal] = []
    for d in duties:
        if d.date or not d.rhythm:
            continue
        year = (d.covers.end.year if d.covers else None) or years.year
        if year is None:
            continue
        said = d.rhythm_text or "6 tháng"
        for key, label, covers in _rhythm_spans(d, year, said):
            due = _proposed_due(covers.end)
            periods.append(PeriodProposal(
                key=unique_key(key, used), name=f"{label} ({_span_name(covers.start, covers.end)})", covers=covers,
                due_date=due, wording=DueWording.BEFORE, due_source="department",
                due_text=f"Kế hoạch không ghi hạn (chỉ ghi “{said}”); đề xuất: trước ngày {_fmt(due)} — cần xác nhận",
                kind="results", evidence=d.evidence,
                note="Hạn nộp là đề xuất vì kế hoạch không nêu ngày.",
            ))
    return periods


def _round_periods(rounds: list[Round], used: set[str]) -> list[PeriodProposal]:
    """A plan with rounds and no reporting duty: one period per round, with a proposed due date."""
    periods: list[PeriodProposal] = []
    for r in rounds:
        due = _proposed_due(r.end)
        periods.append(PeriodProposal(
            key=unique_key(f"dot-{r.number}", used), name=f"Đợt {r.number} ({_span_name(r.start, r.end)})",
            covers=Coverage(r.start, r.end, "round", r.evidence.sentence), due_date=due,
            wording=DueWording.BEFORE,
            due_source="department",
            due_text=f"Kế hoạch không nêu hạn báo cáo; đề xuất: trước ngày {_fmt(due)} — cần xác nhận",
            kind="results", evidence=r.evidence, round=r.number,
            note="Hạn nộp là đề xuất vì kế hoạch không nêu ngày.",
        ))
    return periods


def missing_due_period(identity: Identity, window: Coverage | None, years: Years, evidence: Evidence
                       ) -> PeriodProposal | None:
    """A plan with targets or milestones but no reporting date: one results period over the plan's time,
    whose due date the department must write in ("thêm hạn nộp"); None when not even a year is known."""
    if window:
        covers = window
    else:
        year = identity.date.year if identity.date else years.year
        if year is None:
            return None
        start = identity.date if identity.date else date(year, 1, 1)
        covers = Coverage(start, date(year, 12, 31), "inferred")
    due = _proposed_due(covers.end)
    return PeriodProposal(
        key="ket-qua", name=f"Báo cáo kết quả ({_span_name(covers.start, covers.end)})", covers=covers,
        due_date=due, wording=DueWording.BEFORE, due_source="department", due_text="", kind="results",
        evidence=evidence, note="Kế hoạch không nêu hạn nộp báo cáo: phòng ban nhập hạn nộp.", due_missing=True,
    )


def propose_periods(identity: Identity, duties: list[Duty], rounds: list[Round], window: Coverage | None,
                    years: Years) -> list[PeriodProposal]:
    """The draft's reporting periods: dated duties first, then rhythms; rounds only when neither gave one."""
    used: set[str] = UsedKeys()
    periods = _dated_periods(identity, duties, rounds, window, used)
    periods += _rhythm_periods(duties, years, used)
    if not periods:
        periods = _round_periods(rounds, used)
    return sorted(periods, key=lambda p: (p.due_at, p.covers.start))


_ADDRESSEES = vi(r"\bđề\s+nghị\s+(?:các\s+)?(?P<who>[^,;.]{3,80})")
_ISSUER_BODY = vi(r"^(?:" + ISSUING_COMMITTEE + r"|thường\s+trực)\s+")


def propose_audience(doc: Document, identity: Identity, duties: list[Duty], targets: list[TargetProposal],
                     ctx: Context) -> Audience:
    kinds: set[str] = set()
    for d in duties:
        kinds.update(d.sender_kinds)
    how: Literal["plan", "addressees", "default"] = "plan"
    if not kinds:
        for s in doc.sentences:
            if m := _ADDRESSEES.search(s.folded):
                kinds.update(kinds_in(m.group("who"), ctx))
        how = "addressees" if kinds else "default"
    for t in targets:
        kinds.update(t.scope or ())
    if not kinds:
        kinds.add(ctx.grassroots_kind)
    if "upper" in kinds and not kinds & {"grassroots", "enterprise", "enterprise_state", "enterprise_private",
                                        "public_agency"}:
        # The upper level sums up what its grassroots unions did: in the bot they report to it.
        kinds.add(ctx.grassroots_kind)
    kinds.discard("province")
    recipient = next((d.recipient for d in duties if d.recipient), None)
    reports_to_from: Literal["plan", "issuer"] | None = "plan" if recipient else None
    if recipient is None and identity.issuer:
        f = fold(identity.issuer)
        m = _ISSUER_BODY.match(f)
        recipient = identity.issuer[m.end() :] if m else identity.issuer
        recipient = recipient[:1].upper() + recipient[1:]
        reports_to_from = "issuer"
    return Audience(simplify_kinds(kinds), recipient, reports_to_from, how)
