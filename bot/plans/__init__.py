"""Draft a campaign from the plan document (kế hoạch) itself.

    read_plan_file(path) / plan_text_from_bytes(data, name)  -> PlanText      (bot.plans.text)
    extract_plan(text)                                       -> PlanProposal  (bot.plans.extract)
    draft_campaign(proposal, campaign_id=..., source=...)    -> Draft         (bot.plans.draft)
    check_draft(draft)                                       -> problems, [] when the draft loads

Channel-neutral: no network, no model; a chat adapter sends the file's bytes to
plan_text_from_bytes and shows the proposal and the draft's to_fill / to_confirm lists.
"""

from bot.plans.draft import Draft, DraftItem, NoReportingDutyError, check_draft, draft_campaign
from bot.plans.extract import PlanProposal, extract_plan
from bot.plans.questions import propose_form
from bot.plans.text import PlanError, PlanText, plan_text_from_bytes, read_plan_file

__all__ = [
    "Draft",
    "DraftItem",
    "NoReportingDutyError",
    "PlanError",
    "PlanProposal",
    "PlanText",
    "check_draft",
    "draft_campaign",
    "extract_plan",
    "plan_text_from_bytes",
    "propose_form",
    "read_plan_file",
]
