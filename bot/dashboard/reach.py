"""What one dashboard request may see, read again from the database on every request (no authority is cached):
the person's scope as /tonghop and /nhacnho have it (bot.summary.service.scope_of: their officer, department and
admin memberships' subtrees), the unit tree it is cut from, and the periods of the live campaigns that reach it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.campaign_model import Campaign
from bot.scope import Children, children_index, walk
from bot.summary.service import scope_of
from storage import campaigns as campaign_store
from storage import summaries as summary_store
from storage.db import Database
from storage.summaries import UnitTree

RECENT = timedelta(days=30)  # closed periods stay on the home page this long
SOON = timedelta(days=30)  # a period not yet begun is listed once due within this


@dataclass(frozen=True, slots=True)
class Reach:
    person_id: int
    roots: list[int]
    name: str
    tree: UnitTree  # every active unit
    children: Children
    ids: set[int]  # the units in scope (the roots' subtrees)

    def ancestors(self, uid: int) -> list[int]:
        out = []
        parent = self.tree[uid][3] if uid in self.tree else None
        while parent is not None and parent in self.tree and parent not in out:
            out.append(parent)
            parent = self.tree[parent][3]
        return out


async def reach_of(db: Database, person_id: int) -> Reach | None:
    """The person's scope now; None for someone who sees no other unit (a chair, or nobody any more)."""
    scope = await scope_of(db, person_id)
    if scope is None:
        return None
    tree = await summary_store.unit_tree(db)
    children = children_index(tree)
    roots = [r for r in scope[0] or [] if r in tree]
    return Reach(person_id, roots, scope[1], tree, children, walk(children, roots))


def campaign_reaches(reach: Reach, campaign: Campaign) -> bool:
    """Whether the campaign's audience (its `within` subtree) meets the scope: bot.scope.campaign_reaches, on the
    tree already read."""
    if not campaign.audience.within:
        return True
    root = next((uid for uid, v in reach.tree.items() if v[0] == campaign.audience.within), None)
    if root is None:
        return False
    return root in reach.ids or any(root in reach.ancestors(r) for r in reach.roots)


async def live_periods(db: Database, reach: Reach) -> list[tuple[Campaign, campaign_store.PeriodRow]]:
    out = []
    for campaign in await campaign_store.live_campaigns(db):
        if campaign_reaches(reach, campaign):
            out += [(campaign, row) for row in await campaign_store.periods_of(db, campaign.id)]
    return out


async def period_in_reach(db: Database, reach: Reach, period_id: int
                          ) -> tuple[Campaign, campaign_store.PeriodRow] | None:
    """The period and its campaign, when it is a live one that reaches the scope; None otherwise (the same
    answer whether it does not exist or is another province's)."""
    row = await campaign_store.period_by_id(db, period_id)
    if row is None:
        return None
    campaign = next((c for c in await campaign_store.live_campaigns(db) if c.id == row.campaign_id), None)
    if campaign is None or not campaign_reaches(reach, campaign):
        return None
    try:
        campaign.period(row.key)
    except KeyError:
        return None
    return campaign, row


def listed(campaign: Campaign, row: campaign_store.PeriodRow, now: datetime) -> bool:
    """On the home page: open now (begun, or due soon) or closed within the last 30 days."""
    if row.closes_at <= now:
        return now - row.closes_at <= RECENT and row.key in {p.key for p in campaign.periods}
    try:
        begun = campaign.period(row.key).covers.start <= now.astimezone(campaign.zone).date()
    except KeyError:  # the campaign no longer has this period (it is being retired)
        return False
    return begun or row.due_at - now <= SOON
