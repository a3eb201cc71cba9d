"""A plan sent in chat: what was found, small edits, and publishing the draft as a live campaign.

Channel-neutral: the conversation calls these with the file's bytes and keeps the draft's TOML text in
the dialog state, so a restart between "here is what I found" and "publish" loses nothing.
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.campaign_model import TIME_EXAMPLE, Comparator, read_time_of_day
from bot.i18n import Translator
from bot.parsing import ParseError, parse_date, parse_number, parse_percent
from bot.plans import worker
from bot.plans.draft import Draft, check_draft, draft_campaign, write_campaign_file
from bot.plans.extract import PlanProposal, extract_plan
from bot.plans.extract.model import ZONE, PeriodProposal
from bot.plans.limits import MAX_PLAN_BYTES
from bot.plans.text import plan_text_from_bytes
from bot.plans.worker import run_bounded, text_and_proposal

__all__ = ["MAX_PLAN_BYTES", "PlanDraft", "apply_edit", "problems_of", "publish", "read_plan", "read_plan_off_loop",
           "review_text"]
EDIT_DUE = re.compile(r"^\s*(?:hạn|han|due)\s+(?P<key>[a-z0-9-]+)\s+(?P<date>\S+)"
                      r"(?:\s+(?:lúc\s+|luc\s+|at\s+)?(?P<time>\S.*?))?\s*$", re.IGNORECASE)
EDIT_TARGET = re.compile(r"^\s*(?:chỉ tiêu|chi tieu|target)\s+(?P<key>[a-z0-9-]+)\s+(?P<value>\S+)\s*$",
                         re.IGNORECASE)


# Plans read at once: each may take a core and a few hundred MB; more staff sending plans wait their turn
# (in the worker thread, never on the event loop).
_READERS = threading.BoundedSemaphore(2)


@dataclass(frozen=True, slots=True)
class PlanDraft:
    proposal: PlanProposal
    draft: Draft


def read_plan(data: bytes, name: str) -> PlanDraft:
    """Raise a PlanError (with a message for the person) when the file is no readable plan."""
    text = plan_text_from_bytes(data, name)
    proposal = extract_plan(text.text)
    return PlanDraft(proposal, draft_campaign(proposal, source=name, name=name))


async def read_plan_off_loop(data: bytes, name: str) -> tuple[PlanDraft, list[str]]:
    """read_plan and the draft's problems, off the event loop: every other person's dialog must keep
    answering meanwhile. Text is bounded by the limits in bot.plans.text and a linear extractor, and is read
    in a worker thread; a PDF or .docx is read in a process killed at a time limit (bot.plans.worker), since
    one hostile page can keep pypdf busy for minutes and python-docx is slow on every element."""
    def work() -> tuple[PlanDraft, list[str]]:
        with _READERS:
            if data.startswith((b"%PDF", b"PK\x03\x04")):
                _, proposal = run_bounded(text_and_proposal, data, name, name=name, seconds=worker.READ_SECONDS)
                found = PlanDraft(proposal, draft_campaign(proposal, source=name, name=name))
            else:
                found = read_plan(data, name)
            return found, problems_of(found.draft.toml, found.draft.campaign_id)

    return await asyncio.to_thread(work)


def review_text(t: Translator, found: PlanDraft, problems: list[str]) -> str:
    p, d = found.proposal, found.draft
    lines = []
    if p.identity.title:
        lines.append(t("Plan: {title}", title=p.identity.title))
    if p.identity.number:
        lines.append(t("Number: {number}", number=p.identity.number))
    unsure = unsure_lines(t, p)
    if unsure:  # what the importer inferred or proposed comes first: it is what a person must check
        lines += ["", t("Check first: inferred or proposed by the importer, not written in the plan:"), *unsure]
    lines += ["", t("Periods of the draft campaign:")]
    lines += [_period_line(t, period) for period in p.periods]
    if p.milestones:
        lines += ["", t("Milestones (a task to finish, not a report):")]
        lines += ["• " + t("{words} — line {line}", words=m.text, line=m.evidence.line) for m in p.milestones]
    if p.targets:
        lines += ["", t("Targets (chỉ tiêu):")]
        for tg in p.targets:
            threshold = t.percent(tg.threshold) if tg.unit == "%" else t.number(tg.threshold)
            lines.append(f"• {tg.key}: {Comparator(tg.comparator).sign} {threshold}")
    if d.to_fill or problems:
        lines += ["", t("To fill in before the draft loads:")]
        lines += ["• " + t(i.msgid, **i.params) for i in d.to_fill] + [f"• {x}" for x in problems]
    if d.to_confirm:
        lines += ["", t("To confirm:")]
        lines += ["• " + t(i.msgid, **i.params) for i in d.to_confirm]
    lines += ["", t("To change a value, type for example: hạn dot-1 10/8/2024, or: chỉ tiêu {key} 50",
                    key=p.targets[0].key if p.targets else "dn-hoat-dong-50")]
    return "\n".join(lines)


def _period_line(t: Translator, period: PeriodProposal) -> str:
    head = f"• {period.key}: {period.name} — "
    if period.due_missing:
        return head + t("no due date: add it (thêm hạn nộp)")
    if period.time is not None:  # "trước 17h00 ngày D": the time of day is the deadline, not the day before
        line = head + t("due before {date}", date=t.due_weekday_date(period.due_at, ZONE))
    else:
        line = head + t("last day {day}", day=t.weekday_date(period.last_day))
    if period.due_source == "department":
        line += " (" + t("no date in the plan: the due date is a proposal to confirm") + ")"
    return line


def unsure_lines(t: Translator, p: PlanProposal) -> list[str]:
    """Deadlines and rounds whose year the reader inferred, and dates it proposed, each marked, with its line."""
    marks = {"inferred_year": t("[year inferred]"), "proposed": t("[proposed]")}
    out: list[str] = []
    for d in p.deadlines:
        if d.confidence != "stated" and d.last_day:
            said = t("{words}: last day {day} — line {line}", words=d.wording_text or "",
                     day=t.weekday_date(d.last_day), line=d.evidence.line)
            out.append(f"• {marks[d.confidence]} {said}")
    for r in p.rounds:
        if r.confidence != "stated":
            out.append(f"• {marks[r.confidence]} " + t("{words}: {start} – {end} — line {line}", words=r.name or "",
                                                       start=t.date(r.start), end=t.date(r.end), line=r.evidence.line))
    for period in p.periods:
        if period.proposed and not period.due_missing:
            out.append(f"• {marks['proposed']} " + t("{words}: last day {day} — line {line}", words=period.name,
                                                     day=t.weekday_date(period.last_day), line=period.evidence.line))
    return out


def problems_of(toml: str, campaign_id: str) -> list[str]:
    return check_draft(Draft(campaign_id, toml, (), (), ()))


def _block_edit(toml: str, key: str, line_re: re.Pattern[str], replacement: str) -> str | None:
    """Replace the first line matching `line_re` after the line `key = "<key>"`."""
    lines = toml.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f'key = "{key}"':
            for j in range(i + 1, min(i + 40, len(lines))):
                if lines[j].startswith("[[") or lines[j].startswith("["):
                    break
                if line_re.search(lines[j]):
                    lines[j] = line_re.sub(replacement, lines[j], count=1)
                    return "\n".join(lines) + "\n"
            return None
    return None


def _with_time(toml: str, key: str, typed: str) -> str:
    """The period's due at the time of day typed after its date ("hạn dot-1 10/4/2026 17:00")."""
    at = read_time_of_day(typed)
    if at is None:
        raise ParseError("{value} is not a time of day: type hours and minutes, for example {example}.",
                         value=typed, example=f"hạn dot-1 10/4/2026 {TIME_EXAMPLE}")
    written = f'time = "{at:%H:%M}"'
    # The draft writes the time last in the due's inline table: replace it there, or add it there.
    edited = _block_edit(toml, key, re.compile(r', time = "[^"]*" \}\s*$'), f", {written} }}")
    if edited is None:
        edited = _block_edit(toml, key, re.compile(r"^(due = \{.*?)\s*\}\s*$"), f"\\1, {written} }}")
    assert edited is not None  # the date was just written on that due line
    return edited


def apply_edit(toml: str, text: str, default_year: int) -> str:
    """One edit typed in chat; raise ParseError with an example when it is not understood."""
    due = EDIT_DUE.match(text)
    if due:
        day: date = parse_date(due.group("date"), default_year)
        edited = _block_edit(toml, due.group("key"), re.compile(r"date = \d{4}-\d{2}-\d{2}"),
                             f"date = {day.isoformat()}")
        if edited is None:
            raise ParseError("There is no period {key} in the draft.", key=due.group("key"))
        if due.group("time"):
            edited = _with_time(edited, due.group("key"), due.group("time"))
        # A period the plan gave no date (thêm hạn nộp): the typed date is also the due's words.
        worded = _block_edit(edited, due.group("key"), re.compile(r'text = ""'),
                             f'text = "trước ngày {day.strftime("%d/%m/%Y")} (phòng ban nhập)"')
        return worded or edited
    target = EDIT_TARGET.match(text)
    if target:
        typed = target.group("value")  # "90%" for a share: the sign belongs to percentages only
        value = parse_percent(typed) if typed.endswith("%") else parse_number(typed)
        edited = _block_edit(toml, target.group("key"), re.compile(r"^threshold = .*$"), f"threshold = {value}")
        if edited is None:
            raise ParseError("There is no target {key} in the draft.", key=target.group("key"))
        return edited
    raise ParseError("To change a value, type for example: {example}", example="hạn dot-1 10/8/2024")


def publish(toml: str, campaign_id: str, campaigns_dir: Path) -> Path:
    """Write the campaign file (never over an existing one); the caller loads it into the database."""
    path = campaigns_dir / f"{campaign_id}.toml"
    if path.exists():
        raise FileExistsError(path)
    write_campaign_file(path, toml)
    return path
