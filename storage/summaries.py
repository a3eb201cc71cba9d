"""The rows a summary is computed from, read in a handful of queries whatever the number of units.

The scope is applied here, in the query: only units inside the requester's subtrees are read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from bot.campaign_model import Campaign
from bot.domain import UnitKind
from bot.summary.compute import to_decimal
from bot.summary.model import UnitRow
from storage.db import Database
from storage.timefmt import from_db


async def _tree(db: Database) -> dict[int, tuple[str, str, UnitKind, int | None]]:
    rows = await db.fetchall("SELECT id, code, name, kind, parent_id FROM units WHERE active = 1")
    kinds = {k.value: k for k in UnitKind}  # a dict lookup, not an Enum call per unit
    return {r["id"]: (r["code"], r["name"], kinds[r["kind"]], r["parent_id"]) for r in rows}


def _within(tree: dict[int, tuple[str, str, UnitKind, int | None]], roots: Iterable[int]) -> set[int]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for uid, (_c, _n, _k, parent) in tree.items():
        children[parent].append(uid)
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


def _upper_of(tree: dict[int, tuple[str, str, UnitKind, int | None]], uid: int,
              memo: dict[int, tuple[str, str]]) -> tuple[str, str]:
    """The upper-level union a unit belongs to (itself for an upper level); `memo` shares the walk between
    units with the same parent."""
    if uid in memo:
        return memo[uid]
    code, name, kind, parent = tree[uid]
    found = (code, name) if kind in _UPPER_KINDS or parent is None else _upper_of(tree, parent, memo)
    memo[uid] = found
    return found


async def unit_rows(db: Database, campaign: Campaign, period_id: int, scope_roots: list[int] | None) -> list[UnitRow]:
    """One row per unit expected to report in the period, within the scope (None: everything)."""
    tree = await _tree(db)
    allowed = set(tree) if scope_roots is None else _within(tree, scope_roots)
    whole = len(allowed) == len(tree)  # a province's staff in a one-province database: read contacts in one query
    if campaign.audience.within:
        root = next((uid for uid, v in tree.items() if v[0] == campaign.audience.within), None)
        allowed &= _within(tree, [root]) if root is not None else set()
    expected = [uid for uid in allowed if campaign.audience.scope.includes(tree[uid][2])]
    subs = {
        r["unit_id"]: r
        for r in await db.fetchall(
            "SELECT unit_id, reference, revision, first_submitted_at, late, latest_answers FROM submissions "
            "WHERE period_id = ?",
            (period_id,),
        )
    }
    contacts, reachable = await _contacts(db, expected, everything=whole)
    rows = []
    uppers: dict[int, tuple[str, str]] = {}
    for uid in expected:
        code, name, kind, _parent = tree[uid]
        upper_code, upper_name = _upper_of(tree, uid, uppers)
        sub = subs.get(uid)
        status = "missing" if sub is None else ("late" if sub["late"] else "on_time")
        rows.append(UnitRow(
            uid, code, name, kind, upper_code, upper_name, status,
            from_db(sub["first_submitted_at"]) if sub else None, sub["revision"] if sub else 0,
            # The latest answers are kept as one JSON object on each submission: one row per unit, no join
            # over every answer (the per-revision answers table stays the record of history).
            sub["reference"] if sub else None, json.loads(sub["latest_answers"]) if sub else {}, uid in reachable,
            tuple(contacts.get(uid, [])),
        ))
    return rows


_CONTACTS = """SELECT m.unit_id, p.full_name,
                      EXISTS (SELECT 1 FROM identities i WHERE i.person_id = p.id AND i.blocked_at IS NULL
                              AND i.channel != 'terminal') AS reachable
               FROM memberships m JOIN people p ON p.id = m.person_id
               WHERE m.role IN ('chair', 'officer') AND m.revoked_at IS NULL AND p.active = 1"""


async def _contacts(db: Database, unit_ids: list[int], *, everything: bool = False
                    ) -> tuple[dict[int, list[str]], set[int]]:
    names: dict[int, list[str]] = defaultdict(list)
    reachable: set[int] = set()
    if everything:  # the whole organisation: one query, no list of ids
        batches = [await db.fetchall(_CONTACTS)]
    else:
        batches = []
        for i in range(0, len(unit_ids), 500):
            chunk = unit_ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            batches.append(await db.fetchall(f"{_CONTACTS} AND m.unit_id IN ({marks})", chunk))
    wanted = set(unit_ids)
    for rows in batches:
        for r in rows:
            if r["unit_id"] not in wanted:
                continue
            names[r["unit_id"]].append(r["full_name"])
            if r["reachable"]:
                reachable.add(r["unit_id"])
    return names, reachable


# The active units below a unit (not itself), walked through active units only, as unit_rows sees the tree.
_BELOW = """WITH RECURSIVE below(id) AS (
                SELECT id FROM units WHERE parent_id = ? AND active = 1
                UNION SELECT u.id FROM units u JOIN below b ON u.parent_id = b.id WHERE u.active = 1
            )"""


async def subtree_sums(db: Database, period_id: int, root_id: int, fields: list[str]) -> tuple[dict[str, str], int]:
    """Sums of numeric answers over the latest submissions of the units below `root_id` (not itself),
    as exact decimal text, and how many units they come from: the upper level's report starts from them."""
    if not fields:
        return {}, 0
    # One row per submitting unit of the subtree, its latest answers as one JSON object (see unit_rows).
    rows = await db.fetchall(
        f"""{_BELOW}
            SELECT s.latest_answers FROM submissions s JOIN below b ON b.id = s.unit_id
            WHERE s.period_id = ? AND s.unit_id != ?""",
        (root_id, period_id, root_id),
    )
    wanted = list(dict.fromkeys(fields))
    sums: dict[str, Decimal] = {}
    units = 0
    for r in rows:
        answers = json.loads(r["latest_answers"])
        if not answers:  # a submission without a single answer adds nothing and is not counted
            continue
        units += 1
        for name in wanted:
            number = to_decimal(answers.get(name))
            if number is not None:
                sums[name] = sums.get(name, Decimal(0)) + number
    return {k: str(v) for k, v in sums.items()}, units
