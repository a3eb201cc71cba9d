"""The review loop in the demo database (issue 15): after `fill_demo`'s submissions, reviewers (the officer of each
unit's upper level, the department for the units directly under the province) have approved some reports, returned
some with a reason and the questions concerned, and not yet looked at the others, so that the department's first
/tonghop and /duyet show every state. Decisions go through storage.reviews, as the reviewer's dialog makes them."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from bot.domain import UnitKind
from bot.review_rules import open_children
from storage import reviews
from storage import submissions as submission_store
from storage import units as unit_store
from storage.db import Database

RETURN_REASONS = (
    "Số đoàn viên mới kết nạp lớn hơn tổng số đoàn viên, đề nghị đồng chí kiểm tra lại.",
    "Số liệu kỳ này giảm mạnh so với kỳ trước, đề nghị rà soát và giải trình.",
    "Thiếu ảnh minh chứng hoạt động, đề nghị bổ sung.",
    "Số buổi tuyên truyền chưa khớp với kế hoạch đơn vị đã gửi, đề nghị kiểm tra.",
    "Số tiền chăm lo ghi theo nghìn đồng, đề nghị ghi đúng đơn vị là đồng.",
)
APPROVE_SHARE = 0.5
RETURN_SHARE = 0.15


async def review_demo(db: Database, rng: random.Random, person_of: dict[int, int], now: datetime) -> tuple[int, int]:
    """Decide on the demo's submissions: about half approved, one in seven returned, the rest waiting. Upper levels'
    own reports are decided last and approved only when the roll-up rule allows. Returns (approved, returned)."""
    units = {u.id: u for u in await unit_store.all_units(db)}
    waiting = await reviews.queue(db, list(units))
    ordered = sorted(waiting, key=lambda w: units[w.unit_id].kind is UnitKind.UPPER)
    approved = returned = 0
    for w in ordered:
        unit = units[w.unit_id]
        reviewer = person_of.get(unit.parent_id) if unit.parent_id is not None else None
        if reviewer is None:
            continue
        roll = rng.random()
        at = min(w.last_submitted_at + timedelta(days=rng.randint(1, 6), hours=rng.randint(1, 8)), now)
        if roll < APPROVE_SHARE:
            if unit.kind is UnitKind.UPPER and await open_children(db, w.submission_id):
                continue  # its units are not all approved yet: it waits, as the rule has it
            await reviews.decide(db, w.submission_id, w.revision, "approved", reviewer, None, (), at)
            approved += 1
        elif roll < APPROVE_SHARE + RETURN_SHARE and unit.kind is not UnitKind.UPPER:
            answers = await submission_store.latest_answers(db, w.submission_id)
            numbers = sorted(k for k, v in answers.items() if type(v) is int)
            fields = rng.sample(numbers, k=min(len(numbers), rng.randint(1, 2)))
            await reviews.decide(db, w.submission_id, w.revision, "returned", reviewer, rng.choice(RETURN_REASONS),
                                 fields, at)
            returned += 1
    return approved, returned
