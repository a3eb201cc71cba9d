"""Who sees what: every role is bound to the subtree of the unit its membership names.

Officers, department staff and admins alike see the units below their membership's unit (a person with
several memberships: the union of those subtrees). Nobody sees "everything" through a chat: two provinces
may share one database.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable

from bot.campaign_model import Campaign
from bot.domain import Role, Unit, UnitKind
from storage import people as people_store
from storage import units as unit_store
from storage.db import Database
from storage.summaries import UnitTree

# Roles that look at other units (summaries, reminders on request); chairs see only their own reports.
SEEING_ROLES = frozenset({Role.OFFICER, Role.DEPARTMENT, Role.ADMIN})
STAFF_ROLES = frozenset({Role.DEPARTMENT, Role.ADMIN})

async def scope_units(db: Database, person_id: int) -> list[Unit]:
    """The units whose subtrees this person may look at (summaries, reminders), deduplicated."""
    views = await people_store.memberships_of(db, person_id)
    return list({v.unit.id: v.unit for v in views if v.membership.role in SEEING_ROLES}.values())


async def staff_units(db: Database, person_id: int) -> list[Unit]:
    """The units where this person is department staff or an administrator (they may publish plans)."""
    views = await people_store.memberships_of(db, person_id)
    return list({v.unit.id: v.unit for v in views if v.membership.role in STAFF_ROLES}.values())


Children = dict[int | None, list[int]]  # parent id -> the ids of its units


def children_index(tree: UnitTree) -> Children:
    """Who is below whom, built once: the pushed summary walks one subtree per reader over the same tree."""
    children: Children = defaultdict(list)
    for uid, (_c, _n, _k, parent) in tree.items():
        children[parent].append(uid)
    return children


def within(tree: UnitTree, roots: Iterable[int]) -> set[int]:
    """The units of `tree` in the subtrees of `roots` (the roots included), walked in memory: a summary reads the
    whole tree in one query and needs the scope of thousands of units."""
    return walk(children_index(tree), roots)


def walk(children: Children, roots: Iterable[int]) -> set[int]:
    """The subtrees of `roots` (the roots included): work in the size of the subtrees, not of the tree."""
    out: set[int] = set()
    stack = list(roots)
    while stack:
        uid = stack.pop()
        if uid in out:
            continue
        out.add(uid)
        stack.extend(children.get(uid, []))
    return out


_UPPER_KINDS = frozenset({UnitKind.UPPER, UnitKind.PROVINCE})


def upper_of(tree: UnitTree, uid: int, memo: dict[int, tuple[str, str]]) -> tuple[str, str]:
    """The (code, name) of the upper-level union a unit belongs to (itself for an upper level); `memo` shares the
    walk between units with the same parent."""
    if uid in memo:
        return memo[uid]
    code, name, kind, parent = tree[uid]
    found = (code, name) if kind in _UPPER_KINDS or parent is None else upper_of(tree, parent, memo)
    memo[uid] = found
    return found


async def subtree_ids(db: Database, roots: list[int]) -> set[int]:
    out: set[int] = set()
    for root in roots:
        if root not in out:
            out.update(u.id for u in await unit_store.subtree(db, root))
    return out


async def root_of(db: Database, unit: Unit) -> Unit:
    """The top of the unit's tree: its province (the organisation's root)."""
    above = await unit_store.ancestors(db, unit.id)
    return above[-1] if above else unit


async def campaign_reaches(db: Database, campaign: Campaign, scope: set[int]) -> bool:
    """Whether any unit of `scope` may be in the campaign's audience (its `within` subtree, if it has one):
    a campaign of another province is neither offered nor named in a menu."""
    if not campaign.audience.within:
        return True
    root = await unit_store.by_code(db, campaign.audience.within)
    if root is None:
        return False
    if root.id in scope:
        return True
    return bool(scope & await subtree_ids(db, [root.id]))


_AUDIENCE = re.compile(r"^\[audience\][ \t]*(?:#.*)?$", re.MULTILINE)
_TABLE = re.compile(r"^\[", re.MULTILINE)
_WITHIN = re.compile(r"^within[ \t]*=.*$\n?", re.MULTILINE)


def bind_within(toml: str, code: str) -> str:
    """The campaign text with `[audience] within = code` (any `within` already there is replaced): a plan
    published from chat reaches only the publisher's own province."""
    head = _AUDIENCE.search(toml)
    line = f"within = {json.dumps(code, ensure_ascii=False)}  # only units under this one report\n"
    if head is None:
        return toml.rstrip("\n") + f"\n\n[audience]\n{line}"
    start = head.end() + 1
    nxt = _TABLE.search(toml, start)
    end = nxt.start() if nxt else len(toml)
    body = _WITHIN.sub("", toml[start:end])
    return toml[:start] + line + body + toml[end:]


async def review_scope(db: Database, person_id: int) -> set[int]:
    """The units whose reports this person reviews (issue 15): an officer, the units below their upper level; the
    department (or an admin), the units directly under their unit (the province). Never their own unit. The
    same memberships as a summary's scope (scope_units), so a reviewer sees nothing /tonghop would not show."""
    out: set[int] = set()
    for v in await people_store.memberships_of(db, person_id):
        role = v.membership.role
        if role not in SEEING_ROLES:
            continue
        below = [u for u in await unit_store.subtree(db, v.unit.id) if u.id != v.unit.id]
        out.update(u.id for u in below if role is Role.OFFICER or u.parent_id == v.unit.id)
    return out
