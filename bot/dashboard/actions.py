"""What the dashboard does for a person: "Nhắc" (the rules, limits and slots of /nhacnho, through
staff.remind_now), the review queue and a decision (the chat's rules, through review_decision.apply_decision),
and the downloads (build_summary within the scope, written off the event loop as /tonghop does)."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from bot.campaign_model import Campaign
from bot.conversation.common import Services
from bot.conversation.review_decision import apply_decision
from bot.conversation.staff import remind_now
from bot.i18n import Translator
from bot.scope import review_scope, upper_of, walk
from bot.summary import files as summary_files
from bot.summary.service import build_summary
from storage import campaigns as campaign_store
from storage import reviews
from storage import submissions as submission_store
from storage import summaries as summary_store

from .model import DecisionResult, Queue, QueueItem, RemindResult, StoredFile
from .reach import Reach

DOWNLOADS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "png": "image/png",
}
QUEUE_SHOWN = 200  # the oldest reports of a long queue; the page says how many wait in all
ACTIONS = {"approve": "approved", "return": "returned"}
REASON_LIMIT = reviews.REASON_LIMIT  # a longer reason is cut, and the reviewer told


async def queue(services: Services, person_id: int, locale: str) -> Queue:
    """The reports waiting for the person's review (bot.scope.review_scope), oldest wait first."""
    db = services.db
    scope = await review_scope(db, person_id)
    if not scope:
        return Queue([], 0, False)
    waiting = await reviews.queue(db, scope)
    tree = await summary_store.unit_tree(db)
    titles: dict[int, str | None] = {}
    long_ago = services.clock.now() - timedelta(days=services.review.waiting_days)
    items = []
    for w in waiting:
        if w.period_id not in titles:
            titles[w.period_id] = await _title(services, w.period_id, locale)
        title = titles[w.period_id]
        if title is None or w.unit_id not in tree:  # its campaign or period is gone: nothing to decide on
            continue
        code, name, _kind, _parent = tree[w.unit_id]
        items.append(QueueItem(w.submission_id, w.revision, w.period_id, w.unit_id, code, name, title, w.reference,
                               w.late, w.waiting_since, w.waiting_since < long_ago))
    return Queue(items[:QUEUE_SHOWN], len(items), True)


async def _title(services: Services, period_id: int, locale: str) -> str | None:
    row = await campaign_store.period_by_id(services.db, period_id)
    campaign = await campaign_store.campaign(services.db, row.campaign_id) if row else None
    if row is None or campaign is None:
        return None
    try:
        return f"{campaign.title.get(locale)} — {campaign.period(row.key).name.get(locale)}"
    except KeyError:
        return None


def _row_units(reach: Reach, upper_id: int) -> set[int]:
    """The units of one completeness row: those in scope whose upper level is `upper_id`."""
    memo: dict[int, tuple[str, str]] = {}
    code = reach.tree[upper_id][0]
    return {uid for uid in walk(reach.children, [upper_id]) & reach.ids
            if upper_of(reach.tree, uid, memo)[0] == code}


async def remind(services: Services, reach: Reach, row: campaign_store.PeriodRow, unit_id: int | None,
                 upper_id: int | None) -> RemindResult | None:
    """Remind one unit, or the late units of one upper level's row; None when the unit or row is outside the
    scope (the caller answers "not found")."""
    if (unit_id is None) == (upper_id is None):
        return None
    target = unit_id if unit_id is not None else upper_id
    if target not in reach.ids:
        return None
    chosen = {unit_id} if unit_id is not None else _row_units(reach, target)
    if services.reminders is None:
        return RemindResult("off")
    if services.clock.now() >= row.closes_at:
        return RemindResult("closed")
    sent = await remind_now(services, reach.person_id, row.id, chosen)
    if sent is None:
        return None
    late, queued = sent
    unreachable = sum(1 for u in late if not any(p.channel for p in u.recipients))
    return RemindResult("done", len(late), queued, unreachable)


async def decide(services: Services, person_id: int, submission_id: int, revision: int, action: str, reason: str,
                 t: Translator, fields: Sequence[str] = ()) -> DecisionResult | None:
    """Approve or return the report's `revision`; None when the report does not exist or is not the person's to
    review (the caller answers "not found"). A return needs a reason (kept to reviews.REASON_LIMIT characters,
    and the result says it was cut) and may name the questions the chair should look at (`fields`: question
    names of the campaign; others are ignored), as the chat's return does."""
    sub = await submission_store.by_id(services.db, submission_id)
    if sub is None or sub.unit_id not in await review_scope(services.db, person_id):
        return None
    decision = ACTIONS.get(action)
    if decision is None:
        return DecisionResult("invalid", action, period_id=sub.period_id, unit_id=sub.unit_id)
    text = reason.strip()
    cut = False
    if decision == "returned":
        if not any(ch.isalnum() for ch in text):
            return DecisionResult("reason", decision, period_id=sub.period_id, unit_id=sub.unit_id)
        cut = len(text) > REASON_LIMIT
        text = text[:REASON_LIMIT]
    named = await _questions(services, sub.period_id, fields) if decision == "returned" else []
    outcome = await apply_decision(services, t, person_id, submission_id, revision, decision,
                                   text if decision == "returned" else None, named,
                                   unlock_days=services.review.return_unlock_days, unit_id=sub.unit_id)
    if outcome.kind == "not_yours":
        return None
    name = outcome.view.unit.name if outcome.view else ""
    return DecisionResult(outcome.kind, decision, name, outcome.told, outcome.note, cut, sub.period_id, sub.unit_id)


async def _questions(services: Services, period_id: int, fields: Sequence[str]) -> list[str]:
    """The named questions that are the campaign's, in the campaign's order, each once."""
    if not fields:
        return []
    row = await campaign_store.period_by_id(services.db, period_id)
    campaign = await campaign_store.campaign(services.db, row.campaign_id) if row else None
    wanted = set(fields)
    return [f.name for f in campaign.fields if f.name in wanted] if campaign else []


async def download(services: Services, reach: Reach, campaign: Campaign, row: campaign_store.PeriodRow, fmt: str,
                   t: Translator) -> StoredFile:
    """The summary of the period within the scope as a workbook, a Word report or a chart."""
    summary = await build_summary(services.db, campaign.id, row.key, scope_roots=reach.roots, scope_name=reach.name,
                                  now=services.clock.now(), waiting_days=services.review.waiting_days)
    base = services.files_dir if services.files_dir is not None else Path(tempfile.gettempdir()) / "dashboard"
    out_dir = base / f"person-{reach.person_id}"
    path = await asyncio.to_thread(summary_files.write, summary, fmt, out_dir, t, services.zone)
    return StoredFile(path, path.name, DOWNLOADS[fmt])
