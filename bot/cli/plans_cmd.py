"""python -m bot plans import FILE [--out campaigns/NEW.toml] [--json]"""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer

from bot.campaign_model import KEY_RE
from bot.cli.common import config, err, fail, out, translator
from bot.cli.help_text import LocalGroup, gettext
from bot.i18n import Translator
from bot.plans import worker
from bot.plans.draft import Draft, DraftItem, check_draft, draft_campaign, suggest_campaign_id, write_campaign_file
from bot.plans.extract import ZONE, Evidence, PlanProposal
from bot.plans.text import PlanError, read_plan_bytes
from bot.plans.worker import run_bounded, text_and_proposal

app = typer.Typer(cls=LocalGroup, help=gettext("Plans (kế hoạch): draft a campaign from the plan document "
                                               "itself."), no_args_is_help=True)


@app.callback(help=gettext("Plans (kế hoạch): draft a campaign from the plan document itself."))
def plans() -> None:
    # A group even with one command, so that "plans import" reads as the other command groups do.
    ...


def _say(text: str) -> None:
    out.print(text, markup=False)


def _from(t: Translator, ev: Evidence) -> str:
    return "      " + t("from line {line}: «{sentence}»", line=ev.line, sentence=ev.sentence)


def _items(t: Translator, items: tuple[DraftItem, ...]) -> list[str]:
    return ["  - " + t(i.msgid, **i.params) for i in items]


def _report(t: Translator, proposal: PlanProposal, draft: Draft) -> None:  # noqa: C901 - a straight printout: each branch only prints a part of the plan when the plan has it
    ident = proposal.identity
    if ident.title:
        _say(t("Plan: {title}", title=ident.title))
    if ident.issuer:
        _say(t("Issuer: {issuer}", issuer=ident.issuer))
    if ident.number:
        _say(t("Number: {number}", number=ident.number))
    if ident.date:
        _say(t("Place and date: {place}, {date}", place=ident.place or "—", date=t.date(ident.date)))
    elif ident.blank_day_year:
        _say(t("Place and date: {place}, day left blank in {month}/{year}", place=ident.place or "—",
               month=ident.blank_day_month, year=ident.blank_day_year))

    _say("")
    deadlines = proposal.deadlines
    if deadlines:
        _say(t("Reporting deadlines written in the plan:"))
        for d in deadlines:
            assert d.due_at
            assert d.last_day
            marks = {"inferred_year": t("[year inferred]") + " ", "proposed": t("[proposed]") + " "}
            mark = marks.get(d.confidence, "")
            _say("  • " + mark + t("{words}: due at {instant}, last day {last_day}", words=d.wording_text or "",
                                   instant=d.due_at.isoformat(), last_day=t.weekday_date(d.last_day)))
            if d.covers:
                _say("    " + t("covers {start} – {end}", start=t.date(d.covers.start), end=t.date(d.covers.end)))
            if d.recipient:
                _say("    " + t("to {recipient}", recipient=d.recipient))
            _say(_from(t, d.evidence))
    else:
        _say(t("The plan writes no reporting deadline."))
    for d in proposal.duties:
        if d.rhythm and not d.date:
            _say("  • " + t("Reporting rhythm without a date: “{words}”", words=d.rhythm_text or ""))
            _say(_from(t, d.evidence))
    for r in proposal.rounds:
        _say("  • " + t("Round {n}: {start} – {end}", n=r.number, start=t.date(r.start), end=t.date(r.end)))
        _say(_from(t, r.evidence))
    if proposal.milestones:
        _say(t("Milestones (a task to finish, not a report):"))
        for m in proposal.milestones:
            _say("  • " + m.text)
            _say(_from(t, m.evidence))

    _say("")
    _say(t("Periods of the draft campaign:"))
    for p in proposal.periods:
        _say("  • " + t("{key}: {name}, due {due} (last day {last_day})", key=p.key, name=p.name,
                        due=p.due_at.isoformat(), last_day=t.weekday_date(p.last_day)))
        if p.proposed:
            _say("    " + t("no date in the plan: the due date is a proposal to confirm"))

    _say("")
    if proposal.targets:
        _say(t("Targets (chỉ tiêu):"))
        for tg in proposal.targets:
            unit = "%" if tg.unit == "%" else ""
            scope = ", ".join(tg.scope) if tg.scope else t("the campaign's audience")
            _say("  • " + t("{key}: {measure} {comparator} {threshold}{unit}, for {scope}", key=tg.key,
                            measure=tg.measure, comparator=tg.comparator, threshold=t.number(tg.threshold),
                            unit=unit, scope=scope))
            _say(_from(t, tg.evidence))
    else:
        _say(t("No numeric target (chỉ tiêu) in the plan."))

    _say("")
    _say(t("Who reports: {kinds}", kinds=", ".join(proposal.audience.kinds)))
    if proposal.audience.reports_to:
        _say(t("Reports go to: {recipient}", recipient=proposal.audience.reports_to))
    c = proposal.contact
    parts = [x for x in (c.department, c.name, c.position, c.phone, c.email) if x]
    if parts:
        _say(t("Contact: {contact}", contact=", ".join(parts)))
    if proposal.activities:
        _say(t("Activities: {n}", n=len(proposal.activities)))
        for a in proposal.activities:
            _say("  • " + a)

    if draft.to_fill:
        _say("")
        _say(t("To fill in before the draft loads:"))
        for line in _items(t, draft.to_fill):
            _say(line)
    if draft.to_confirm:
        _say("")
        _say(t("To confirm:"))
        for line in _items(t, draft.to_confirm):
            _say(line)


@app.command("import", help=gettext("Read a plan and draft its campaign: rounds, due instants, targets, "
                                    "recipient, each with its sentence."))
def import_cmd(
    file: Path = typer.Argument(..., help=gettext("The plan: .docx, a PDF with text, or .txt.")),
    out_path: Path | None = typer.Option(None, "--out", help=gettext("Write the draft campaign here, e.g. "
                                                                     "campaigns/NEW.toml.")),
    as_json: bool = typer.Option(False, "--json", help=gettext("Print what was found as JSON.")),
    force: bool = typer.Option(False, "--force", help=gettext("Overwrite the --out file if it exists.")),
) -> None:
    cfg = config()
    t = translator(cfg)
    campaign_id = None
    if out_path is not None:
        campaign_id = out_path.stem
        if out_path.suffix != ".toml" or not re.fullmatch(KEY_RE, campaign_id):
            fail(t("--out {path}: the file name is the campaign id: lower-case letters, digits and '-', at most 40 "
                   "characters, ending in .toml, e.g. campaigns/thang-cong-nhan-2024.toml", path=out_path))
        if out_path.exists() and not force:
            fail(t("{path} already exists; choose another --out or add --force.", path=out_path))
    try:
        # In a process killed at a time limit: a hostile PDF must not hold the terminal for minutes.
        plan, proposal = run_bounded(text_and_proposal, read_plan_bytes(file), file.name, name=file.name,
                                     seconds=worker.READ_SECONDS)
        draft = draft_campaign(proposal, campaign_id=campaign_id, source=file.name, name=file.name)
    except PlanError as exc:
        fail(exc.render(t))
    problems = check_draft(draft)
    if out_path is not None:
        write_campaign_file(out_path, draft.toml)

    if as_json:
        data = {
            "file": file.name,
            "kind": plan.kind,
            "timezone": str(ZONE),
            **proposal.to_json(),
            "form": [f.to_json() for f in draft.fields],
            "draft": {**draft.to_json(), "path": str(out_path) if out_path else None, "loads": not problems,
                      "problems": problems},
            # Why the campaign cannot be published yet: what to write in first, then what campaigns check says.
            "publishable": not problems and not draft.to_fill,
            "not_publishable_because": [t(i.msgid, **i.params) for i in draft.to_fill] + problems,
        }
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return

    _report(t, proposal, draft)
    _say("")
    if out_path is not None:
        _say(t("Draft written to {path}.", path=out_path))
    else:
        _say(t("Nothing written. To write the draft: --out campaigns/{id}.toml",
               id=campaign_id or suggest_campaign_id(proposal)))
    if problems:
        err.print(t("The draft does not load yet (campaigns check):"), markup=False)
        for p in problems:
            err.print("  - " + p, markup=False)
    else:
        _say(t("The draft passes campaigns check."))
