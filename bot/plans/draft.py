"""From a plan's proposals to a draft campaign file (TOML) and the list of what a person must check.

The draft is written in the shape of the hand-written campaigns in campaigns/: periods with exact
due dates and their wording, the form the targets need, the targets, the recipient and contact.
What the plan says is written as read, with the sentence it came from as a comment; what the plan
does not say is either proposed (a due date the department must confirm: `source = "department"`)
or left empty for a person to fill in, in which case the file does not load until it is filled and
`Draft.to_fill` says so, key by key.

    draft_campaign(proposal)   this module: the file, block by block (bot.plans.draft_blocks)
    propose_form(proposal)     the questions the targets need (bot.plans.questions)
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.campaign_model import KEY_RE
from bot.campaigns import CampaignFileError, load_campaign_bytes
from bot.i18n import N_
from bot.plans import draft_blocks as blocks
from bot.plans.draft_blocks import DraftItem, Heading
from bot.plans.extract import PlanProposal, fold
from bot.plans.limits import PlanError
from bot.plans.questions import FieldSpec, propose_form

__all__ = [
    "Draft",
    "DraftItem",  # bot/cli/plans_cmd.py names the items it prints
    "NoReportingDutyError",
    "check_draft",
    "draft_campaign",
    "suggest_campaign_id",
    "write_campaign_file",
]

_SPAN = re.compile(r"\s*\(\s*\d{1,2}/\d{1,2}/\d{4}\s*[-–]\s*\d{1,2}/\d{1,2}/\d{4}\s*\)")
TITLE_LIMIT = 60


class NoReportingDutyError(PlanError):
    msgid = N_(
        "{name}: no reporting duty was found in this plan (no “báo cáo … trước ngày …”, no rhythm such as "
        "“6 tháng, năm”, no rounds with dates), so there is nothing to remind anyone of. Nothing was written."
    )


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


# ================================================================ the file
def _heading(proposal: PlanProposal) -> Heading:
    ident = proposal.identity
    return Heading(
        short_title=_short_title(proposal), issuer=ident.issuer or "", reports_to=proposal.audience.reports_to or "",
        department=proposal.contact.department or proposal.audience.reports_to or ident.issuer or "",
    )


def draft_campaign(proposal: PlanProposal, *, campaign_id: str | None = None, source: str | None = None,
                   name: str = "plan") -> Draft:
    """The draft campaign file for a plan. Raises NoReportingDutyError when nothing at all was found
    (no deadline, no rhythm, no dated rounds, no target, no milestone); a plan with targets but no date
    gets a period whose due date is left for the department to write in."""
    if not proposal.periods:
        raise NoReportingDutyError(name)
    cid = campaign_id or suggest_campaign_id(proposal)
    fields, bindings = propose_form(proposal)
    h = _heading(proposal)
    to_fill: list[DraftItem] = []
    to_confirm: list[DraftItem] = []
    blocks.identity_items(proposal, h, to_fill, to_confirm)
    blocks.audience_items(proposal, h, to_fill, to_confirm)

    out: list[str] = []
    blocks.header_block(out, proposal, h, cid, source, to_fill)
    blocks.plan_block(out, proposal, h, source)
    blocks.audience_block(out, proposal, h)
    blocks.contact_block(out, proposal, h)
    blocks.periods_block(out, proposal, to_confirm)
    blocks.fields_block(out, fields, to_confirm)
    blocks.targets_block(out, proposal, bindings, to_confirm)
    for i, p in enumerate(proposal.periods):
        if p.due_missing:  # first in the list: nothing can be published without it
            to_fill.insert(0, DraftItem(f"periods[{i}].due", N_(
                "periods[{index}] {key}: add the due date (thêm hạn nộp): the plan writes no reporting date. "
                "Type for example: hạn {key} {example}"),
                {"index": i, "key": p.key, "example": p.due_date.strftime("%d/%m/%Y")}))
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
