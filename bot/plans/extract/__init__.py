"""Read a plan's (kế hoạch) Vietnamese text and propose what a campaign needs.

`extract_plan(text)` cuts the text into sentences (`document`) and runs one reader per thing a campaign
needs; each reader is its own module with one entry point:

    identity.read_identity     issuer, number, date, place, title, basis
    duties.read_duties         deadlines ("trước ngày D") and rhythms ("6 tháng, năm")
    rounds.read_rounds         rounds ("Đợt 1 (từ ... đến ...)"); rounds.read_activity_window
    targets.read_targets       targets (chỉ tiêu) and the questions that measure them
    contact.read_contact       contact person or department; contact.read_channels, contact.read_activities
    periods.propose_periods    the draft's reporting periods; periods.propose_audience

Pure functions from text to proposals: no network, no model, no clock. Every proposal carries the
sentence it was read from (`Evidence`), so a person can check it before publishing.

How the text is read
--------------------
* Matching runs on a *folded* copy of the text: lower case, tone marks and hats removed, đ -> d
  ("Đợt" -> "dot", "chậm nhất" -> "cham nhat"). Folding maps each character to exactly one
  character, so a match in the folded text is sliced from the original at the same offsets. It makes
  the rules indifferent to "Đợt"/"đợt", "hoà"/"hòa", and to text typed without accents.
  Patterns are written in Vietnamese and folded the same way (`folding.vi`).
* Dates that are never deadlines are blanked out of the folded text before anything else:
  anniversary ranges ("28/7/1929 - 28/7/2024") and dates of cited documents ("Kế hoạch số
  17/KH-TLĐ, ngày 05/02/2024").
* A reporting duty is a sentence with a report verb (báo cáo, gửi, nộp) and either a deadline
  ("trước ngày D", "chậm nhất ngày D", "đến hết ngày D") or a rhythm ("6 tháng, năm",
  "6 tháng đầu năm"). A date written d/m takes its year from the plan's own date.
* Targets (chỉ tiêu) are clauses with a threshold: "N%" or "ít nhất NN <việc>" / "có NN <việc>".
  Outside a section titled "chỉ tiêu" a clause counts only if it names the units it binds
  ("Mỗi CĐCS ...", "Liên đoàn Lao động huyện có ít nhất ..."), so tasks that merely repeat a
  target, or "Chương trình 01 triệu sáng kiến", are not taken for targets.
"""

from __future__ import annotations

from bot.plans.extract.contact import read_activities, read_channels, read_contact
from bot.plans.extract.dates import Years
from bot.plans.extract.document import Context, Document
from bot.plans.extract.duties import read_duties, read_milestones
from bot.plans.extract.folding import fold, slug
from bot.plans.extract.identity import read_identity
from bot.plans.extract.kinds import CDVC
from bot.plans.extract.model import (
    ZONE,
    Audience,
    Channel,
    ContactProposal,
    Coverage,
    Duty,
    Evidence,
    Identity,
    Milestone,
    Need,
    PeriodProposal,
    PlanProposal,
    Round,
    TargetProposal,
)
from bot.plans.extract.periods import (
    PROPOSED_DAYS_AFTER_END,
    UsedKeys,
    missing_due_period,
    propose_audience,
    propose_periods,
    unique_key,
)
from bot.plans.extract.rounds import read_activity_window, read_rounds
from bot.plans.extract.targets import read_targets

__all__ = [
    "PROPOSED_DAYS_AFTER_END",
    "ZONE",
    "Audience",
    "Channel",
    "ContactProposal",
    "Coverage",
    "Duty",
    "Evidence",
    "Identity",
    "Milestone",
    "Need",
    "PeriodProposal",
    "PlanProposal",
    "Round",
    "TargetProposal",
    "UsedKeys",
    "extract_plan",
    "fold",
    "slug",
    "unique_key",
]


def extract_plan(text: str) -> PlanProposal:
    """Everything the plan's text says that a campaign needs, each with its sentence."""
    doc = Document(text)
    identity = read_identity(doc)
    years = Years(identity, doc.folded)
    grassroots_kind = "public_agency" if identity.issuer and CDVC.search(fold(identity.issuer)) else "grassroots"
    ctx = Context(grassroots_kind=grassroots_kind, years=years)
    duties = read_duties(doc, ctx)
    rounds = read_rounds(doc, ctx)
    window = read_activity_window(doc, ctx)
    targets = read_targets(doc, ctx)
    channels = read_channels(doc)
    periods = propose_periods(identity, duties, rounds, window, years)
    audience = propose_audience(doc, identity, duties, targets, ctx)
    contact = read_contact(doc, duties, channels)
    milestones = read_milestones(doc, ctx)
    found = [*(t.evidence for t in targets), *(m.evidence for m in milestones)]
    if not periods and found and (missing := missing_due_period(identity, window, years, found[0])):
        periods = [missing]  # a draft all the same: the department adds the date (issue 17)
    return PlanProposal(
        identity=identity, duties=tuple(duties), rounds=tuple(rounds), activity_window=window,
        periods=tuple(periods), targets=tuple(targets), audience=audience, contact=contact,
        channels=tuple(channels), activities=tuple(read_activities(doc)), milestones=tuple(milestones),
    )
