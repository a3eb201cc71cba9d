"""Demo data: people for the sample units and believable submissions, so that reminders and summaries
can be tried without any real user.

Deterministic (a fixed seed): the same database every time. The people have made-up Telegram chat ids;
a real bot token would find no such chats, so this is for the demo database only.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.campaign_model import FieldType, FormField
from bot.deadlines import campaigns_for_unit
from bot.demo_review import review_demo
from bot.dialog import form
from bot.dialog.form import FormContext
from bot.dialog.model import TextInput
from bot.domain import Channel, Role, Unit, UnitKind
from bot.i18n import Translator
from bot.parsing import ParseError
from bot.summary.rollup import subtree_answers
from storage import campaigns as campaign_store
from storage import people as people_store
from storage import submissions as submission_store
from storage import units as unit_store
from storage.db import Database

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "H'"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Quốc", "Thu"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Hoa", "Hùng", "Lan", "Long", "Mai", "Nam", "Phúc", "Quyên", "Sơn", "Thảo",
         "Trang", "Tuấn", "Vân", "Yến", "Niê", "Khoa"]
NARRATIVES = [
    "Phối hợp chuyên môn tổ chức “Bữa cơm công đoàn” cho toàn thể người lao động, được đoàn viên hưởng ứng.",
    "Tổ chức hội thao, văn nghệ chào mừng kỷ niệm; thăm hỏi kịp thời đoàn viên ốm đau, hoàn cảnh khó khăn.",
    "Mô hình “Tủ sách công đoàn” tại phân xưởng giúp người lao động đọc sách giờ nghỉ trưa.",
    "Đối thoại định kỳ với người sử dụng lao động, giải quyết kiến nghị về bữa ăn ca và nhà vệ sinh.",
    "Tuyên truyền qua nhóm Zalo của công đoàn, mỗi tuần một tin về chính sách pháp luật lao động.",
    "Vận động đoàn viên tham gia cuộc thi trực tuyến, tỷ lệ tham gia cao hơn năm trước.",
]
TEXTS = ["Sân bóng chuyền cơ quan", "Nhà ăn ca công nhân", "Hội thao công nhân viên chức", "Tủ sách công đoàn"]
DEMO_CHAT_BASE = 7_000_000_000
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DemoResult:
    people: int
    submissions: int
    revisions: int
    late: int
    missing: int
    approved: int = 0  # review (bot/demo_review.py)
    returned: int = 0


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _candidates(rng: random.Random, f: FormField, answers: dict[str, Any], members: int) -> list[Any]:  # noqa: C901 - one case per field type
    """Values for one question, the believable pick first and then plainer ones; the first that the form engine
    accepts is kept (see answer_problem)."""
    match f.type:
        case FieldType.INTEGER:
            refs = [answers[r] for r in (f.constraint_expr.fields if f.constraint_expr else ())
                    if type(answers.get(r)) is int]
            if f.name.endswith(("members_total", "members")):
                first = members
            elif refs:  # "at most ${other}": a share of the smallest bound
                first = rng.randint(0, min(refs))
            else:
                unit = f.unit.vi if f.unit is not None else ""
                if "người" in unit or "lượt" in unit or "participants" in f.name:  # attendances, recipients
                    choices = [0, 8, 15, 24, 40, 65, 120, 210]
                elif "đoàn viên" in unit:  # members admitted, recommended: a few per union
                    choices = [0, 1, 2, 3, 5, 8, 12, 20]
                else:  # sessions, works, dialogues ...
                    choices = [0, 1, 1, 2, 2, 3, 4, 5, 6, 8, 10]
                first = rng.choice(choices)
            return [first, *([min(refs)] if refs else []), 1, 2, 5, 0, 12, 40]
        case FieldType.DECIMAL:
            return [str(rng.choice([Decimal("1.5"), 2, Decimal("2.5"), 4])), "1", "0"]
        case FieldType.MONEY:
            return [rng.choice([0, 500_000, 1_500_000, 3_000_000, 12_000_000, 25_000_000]), 2_000_000, 0]
        case FieldType.PERCENT:
            return [str(rng.choice([10, 25, 45, 60, 80, 100])), "50", "0", "100"]
        case FieldType.YES_NO:
            first = rng.random() < 0.75
            return [first, not first]
        case FieldType.SELECT_ONE:
            values = [c.value for c in f.choices]
            return [rng.choice(values), *values]
        case FieldType.SELECT_MULTIPLE:
            k = rng.randint(1, len(f.choices))
            picked = set(rng.sample([c.value for c in f.choices], k))
            return [[c.value for c in f.choices if c.value in picked], [f.choices[0].value]]
        case FieldType.TEXT:
            return [rng.choice(TEXTS)]
        case FieldType.LONG_TEXT:
            return [rng.choice(NARRATIVES)]
        case FieldType.DATE:
            return []  # see _date_candidates: they need the period
    return []


def _date_candidates(rng: random.Random, ctx: FormContext) -> list[Any]:
    start, end = ctx.period.covers.start, ctx.period.covers.end
    span = (end - start).days
    return [(start + timedelta(days=rng.randint(0, max(span, 0)))).isoformat(), start.isoformat(), end.isoformat()]


def typed(f: FormField, value: Any) -> str:
    """The answer as a person would type it in the dialog (Vietnamese style: 2,5 and 05/08/2024)."""
    match f.type:
        case FieldType.DECIMAL | FieldType.PERCENT:
            return str(value).replace(".", ",")
        case FieldType.YES_NO:
            return "có" if value else "không"
        case FieldType.SELECT_ONE:
            values = [c.value for c in f.choices]
            return str(values.index(value) + 1) if value in values else str(value)
        case FieldType.DATE:
            return date.fromisoformat(value).strftime("%d/%m/%Y")
    return str(value)


def answer_problem(ctx: FormContext, f: FormField, value: Any, answers: dict[str, Any]) -> str | None:
    """Why the form engine would not store `value` for `f` (given the other answers), or None: the answer, typed
    as a person would, must read back as itself through the engine's own reader, and pass the constraint."""
    if f.type.is_attachment:
        ok = isinstance(value, list) and 1 <= len(value) <= f.max_files
        return None if ok else f"{f.name}: {value!r} is not 1..{f.max_files} files"
    if f.type is FieldType.SELECT_MULTIPLE:
        known = {c.value for c in f.choices}
        if not (isinstance(value, list) and value and set(value) <= known and len(set(value)) == len(value)):
            return f"{f.name}: {value!r} is not a choice of {sorted(known)}"
    else:
        try:
            read = form._read_value(ctx, f, TextInput(typed(f, value)))  # the dialog's own reader
        except ParseError as err:
            return f"{f.name}: {value!r} is refused: {err.render(ctx.t)}"
        same = Decimal(str(read)) == Decimal(str(value)) if f.type in (FieldType.DECIMAL, FieldType.PERCENT) \
            else read == value  # "3.0" (a sum of decimals) is the 3 a person types
        if not same or type(read) is not type(value):
            return f"{f.name}: {value!r} would be read as {read!r}"
    return form.constraint_problem(ctx, f, value, answers)


def form_problems(ctx: FormContext, answers: dict[str, Any]) -> list[str]:
    """Everything the form engine would object to in a stored set of answers: an answer to a question that is not
    asked (skip logic, another period or unit kind), a required answer missing, an answer that breaks its rules."""
    asked = ctx.layout.relevant(answers)[1]
    problems = [f"{name}: not asked" for name in answers if name not in asked]
    for f in form.relevant_fields(ctx, answers):
        value = answers.get(f.name)
        if value is None:
            if f.required and not f.type.is_attachment:
                problems.append(f"{f.name}: an answer is needed")
            continue
        problem = answer_problem(ctx, f, value, answers)
        if problem is not None:
            problems.append(problem)
    return problems


def _keeps_relevant(ctx: FormContext, answers: dict[str, Any], fixed: dict[str, Any]) -> bool:
    """Whether every rolled-up figure above zero is still asked, as far as the answers so far decide."""
    for name, value in fixed.items():
        f = ctx.layout.by_name.get(name)
        expr = f.relevant_expr if f is not None else None
        if f is None or expr is None or not value or not expr.fields <= answers.keys():
            continue
        if not form.relevant(ctx, f, answers):
            return False
    return True


def believable_answers(rng: random.Random, ctx: FormContext,
                       fixed: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Answers a dialog could have stored: each one read by the form engine's reader and checked against its
    constraint and skip logic. `fixed` answers (an upper level's sums of its units) are kept as they are, and the
    other answers are chosen so that they stay asked. None when the form admits no such answers (the unit is then
    left without a report rather than given one the form would refuse)."""
    fixed = fixed or {}
    answers: dict[str, Any] = {}
    members = rng.choice([18, 25, 40, 65, 120, 240, 560])
    for f in ctx.fields:
        if f.type.is_attachment or not form.relevant(ctx, f, answers):
            continue
        if f.name in fixed:
            candidates = [fixed[f.name]]
        elif not f.required and rng.random() < 0.3:
            continue
        else:
            candidates = _date_candidates(rng, ctx) if f.type is FieldType.DATE else \
                _candidates(rng, f, answers, members)
        for value in candidates:
            if answer_problem(ctx, f, value, answers) is None and \
                    _keeps_relevant(ctx, {**answers, f.name: value}, fixed):
                answers[f.name] = value
                break
        else:
            if f.required or f.name in fixed:
                log.warning("demo: no acceptable answer for %s/%s among %r", ctx.campaign.id, f.name, candidates)
                return None
    problems = form_problems(ctx, answers)
    if problems:  # never store what a dialog would refuse
        log.warning("demo: answers for %s/%s refused: %s", ctx.campaign.id, ctx.period.key, "; ".join(problems))
        return None
    return answers


def _revised(rng: random.Random, ctx: FormContext, answers: dict[str, Any]) -> dict[str, Any] | None:
    """A believable correction: one count raised a little, if the form still accepts it."""
    counts = [f for f in ctx.fields if f.type is FieldType.INTEGER and type(answers.get(f.name)) is int]
    rng.shuffle(counts)
    for f in counts:
        revised = {**answers, f.name: answers[f.name] + rng.randint(1, 5)}
        if not form_problems(ctx, revised):
            return revised
    return None


async def _ensure_person(db: Database, unit: Unit, role: Role, index: int, rng: random.Random, now: datetime) -> int:
    external = f"demo-{unit.code}-{role.value}"
    return await people_store.ensure_local_member(
        db, channel=Channel.TELEGRAM, external_id=external, display_name=_name(rng), unit=unit, role=role,
        locale="vi", now=now, chat_id=str(DEMO_CHAT_BASE + index),
    )


# A 1x1 PNG: the demo's "activity photos" are files like any upload, kept in the data folder.
DEMO_PHOTO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


async def _demo_photo(db: Database, uploads: Path, person_id: int, unit_id: int, period_id: int, field: str,
                      now: datetime, n: int) -> int:
    uploads.mkdir(parents=True, exist_ok=True)
    path = uploads / f"demo-{unit_id}-{period_id}-{n}.png"
    path.write_bytes(DEMO_PHOTO)
    return await submission_store.add_attachment(
        db, person_id=person_id, unit_id=unit_id, period_id=period_id, field=field, channel=Channel.TELEGRAM.value,
        file_id=None, file_unique_id=None, file_name=path.name, mime_type="image/png", size_bytes=len(DEMO_PHOTO),
        sha256=hashlib.sha256(DEMO_PHOTO).hexdigest(), local_path=str(path), now=now,
    )


def _depth(unit: Unit, by_id: dict[int, Unit]) -> int:
    depth, parent = 0, unit.parent_id
    while parent is not None and parent in by_id and depth < len(by_id):
        depth, parent = depth + 1, by_id[parent].parent_id
    return depth


async def _add_photos(db: Database, rng: random.Random, ctx: FormContext, answers: dict[str, Any], uploads: Path | None,
                      person_id: int, unit_id: int, period_id: int, submitted_at: datetime) -> None:
    """About one report in six gets one to three photos for its first relevant photo question (none without
    `uploads`)."""
    if uploads is None:
        return
    photo_fields = [f for f in ctx.fields if f.type is FieldType.PHOTO and form.relevant(ctx, f, answers)]
    if photo_fields and rng.random() < 0.17:
        count = rng.randint(1, min(3, photo_fields[0].max_files))
        answers[photo_fields[0].name] = [
            await _demo_photo(db, uploads, person_id, unit_id, period_id, photo_fields[0].name, submitted_at, n)
            for n in range(count)
        ]


async def fill_demo(db: Database, now: datetime, locales_dir: Any, seed: int = 2024,
                    uploads: Path | None = None) -> DemoResult:
    """People for every unit and, for every period already due, submissions from most expected units:
    about 70% on time, 15% late, 15% missing; one in ten revised; about one in six with photos (when
    `uploads` is given).

    Every answer is one the form engine accepts. Grassroots unions report first; an upper-level union then
    reports as the dialog has it do: its figures start from the sums of its units' latest reports (the same
    roll-up), so that in a summary, where its report stands for its subtree, the totals agree with its units."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    t = Translator("vi", locales_dir)
    units = await unit_store.all_units(db)
    people = 0
    person_of: dict[int, int] = {}
    for index, unit in enumerate(units, start=1):
        role = {UnitKind.PROVINCE: Role.DEPARTMENT, UnitKind.UPPER: Role.OFFICER}.get(unit.kind, Role.CHAIR)
        person_of[unit.id] = await _ensure_person(db, unit, role, index, rng, now)
        people += 1
    by_id = {u.id: u for u in units}
    # Units below first (deepest first), so that an upper level finds its units' reports to add up.
    reporting = sorted((u for u in units if u.kind is not UnitKind.PROVINCE),
                       key=lambda u: (u.kind is UnitKind.UPPER, -_depth(u, by_id)))
    last_sent: dict[tuple[int, int], datetime] = {}  # (period id, unit id) -> its latest submission
    submissions = revisions = late = missing = 0
    for unit in reporting:
        person_id = person_of[unit.id]
        already = await submission_store.of_unit(db, unit.id)
        for campaign in await campaigns_for_unit(db, unit):
            for row in await campaign_store.periods_of(db, campaign.id):
                if row.due_at > now or row.id in already:
                    continue
                roll = rng.random()
                if roll < 0.15:
                    missing += 1
                    continue
                submitted_at = row.due_at + timedelta(days=rng.randint(0, 9), hours=rng.randint(8, 16)) \
                    if roll < 0.30 else row.due_at - timedelta(days=rng.randint(1, 8), hours=rng.randint(1, 14))
                ctx = FormContext(campaign, campaign.period(row.key), unit.kind, t, campaign.zone)
                fixed: dict[str, Any] = {}
                if unit.kind is UnitKind.UPPER:
                    fixed, from_units = await subtree_answers(db, ctx.fields, row.id, unit.id)
                    if from_units:  # it adds up its units' reports once they are in
                        subtree = {u.id for u in await unit_store.subtree(db, unit.id)}
                        below = [when for (pid, uid), when in last_sent.items() if pid == row.id and uid in subtree]
                        if below:
                            submitted_at = max(submitted_at, max(below) + timedelta(hours=rng.randint(2, 20)))
                is_late = submitted_at >= row.due_at
                answers = believable_answers(rng, ctx, fixed)
                if answers is None:
                    missing += 1
                    continue
                await _add_photos(db, rng, ctx, answers, uploads, person_id, unit.id, row.id, submitted_at)
                async with db.transaction() as tx:
                    await submission_store.record(tx, period_id=row.id, unit_id=unit.id, person_id=person_id,
                                                  channel=Channel.TELEGRAM.value, answers=answers, now=submitted_at,
                                                  late=is_late)
                last_sent[(row.id, unit.id)] = submitted_at
                submissions += 1
                late += int(is_late)
                # An upper level's figures are its units' sums: a correction there would break them.
                revised = _revised(rng, ctx, answers) if unit.kind is not UnitKind.UPPER and rng.random() < 0.1 \
                    else None
                if revised is not None:
                    async with db.transaction() as tx:
                        await submission_store.record(tx, period_id=row.id, unit_id=unit.id, person_id=person_id,
                                                      channel=Channel.TELEGRAM.value, answers=revised,
                                                      now=submitted_at + timedelta(days=2), late=is_late)
                    last_sent[(row.id, unit.id)] = submitted_at + timedelta(days=2)
                    revisions += 1
    # A separate generator: the review draws do not change which reports the seed gives.
    approved, returned = await review_demo(db, random.Random(seed + 15), person_of, now)  # noqa: S311 - demo data
    return DemoResult(people, submissions, revisions, late, missing, approved, returned)
