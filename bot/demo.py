"""Demo data: people for the sample units and believable submissions, so that reminders and summaries
can be tried without any real user.

Deterministic (a fixed seed): the same database every time. The people have made-up Telegram chat ids;
a real bot token would find no such chats, so this is for the demo database only.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.campaign_model import FieldType, FormField
from bot.deadlines import campaigns_for_unit
from bot.dialog import form
from bot.dialog.form import FormContext, FormState
from bot.domain import Channel, Role, Unit, UnitKind
from bot.i18n import Translator
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


@dataclass(frozen=True, slots=True)
class DemoResult:
    people: int
    submissions: int
    revisions: int
    late: int
    missing: int


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _value(rng: random.Random, f: FormField) -> Any:
    match f.type:
        case FieldType.INTEGER:
            people = f.unit is not None and any(w in f.unit.vi for w in ("người", "đoàn viên", "lượt"))
            if people or "participants" in f.name:
                return rng.choice([0, 8, 15, 24, 40, 65, 120, 210])
            return rng.choice([0, 1, 1, 2, 2, 3, 4, 5, 6, 8, 10])
        case FieldType.DECIMAL:
            return str(rng.choice([1.5, 2, 2.5, 4]))
        case FieldType.MONEY:
            return rng.choice([0, 500_000, 1_500_000, 3_000_000, 12_000_000, 25_000_000])
        case FieldType.PERCENT:
            return str(rng.choice([10, 25, 45, 60, 80, 100]))
        case FieldType.YES_NO:
            return rng.random() < 0.75
        case FieldType.SELECT_ONE:
            return rng.choice(f.choices).value
        case FieldType.SELECT_MULTIPLE:
            k = rng.randint(1, len(f.choices))
            picked = set(rng.sample([c.value for c in f.choices], k))
            return [c.value for c in f.choices if c.value in picked]
        case FieldType.TEXT:
            return rng.choice(TEXTS)
        case FieldType.LONG_TEXT:
            return rng.choice(NARRATIVES)
        case FieldType.DATE:
            return None  # filled from the period below
    return None


def believable_answers(rng: random.Random, ctx: FormContext) -> dict[str, Any]:
    """Answers that pass the form's own constraints and skip logic (checked by the form engine)."""
    state = FormState(ctx.campaign.id, ctx.period.key, 0, ctx.unit_kind.value)
    members = rng.choice([18, 25, 40, 65, 120, 240, 560])
    for f in ctx.campaign.fields_for(ctx.period.key, ctx.unit_kind):
        if not form.relevant(ctx, f, state.answers) or f.type.is_attachment:
            continue
        if not f.required and rng.random() < 0.3:
            continue
        value = _value(rng, f)
        if f.type is FieldType.DATE:
            span = (ctx.period.covers.end - ctx.period.covers.start).days
            value = (ctx.period.covers.start + timedelta(days=rng.randint(0, max(span, 0)))).isoformat()
        if f.type is FieldType.INTEGER and f.name.endswith(("members_total", "members")):
            value = members
        if f.type is FieldType.INTEGER and f.constraint_expr and f.constraint_expr.fields:
            refs = [state.answers.get(r) for r in f.constraint_expr.fields]
            numbers = [int(r) for r in refs if isinstance(r, int)]
            if numbers:
                value = rng.randint(0, min(numbers))
        state.answers[f.name] = value
        if form.constraint_problem(ctx, f, value, state.answers) is not None:
            state.answers[f.name] = 0 if f.type.is_numeric else value
    # Drop anything the engine would refuse, so the stored answers are exactly what a dialog could store.
    for _index, f, _msg in form.missing_or_invalid(ctx, state):
        if f.type.is_numeric:
            state.answers[f.name] = 0
    return state.answers


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


async def fill_demo(db: Database, now: datetime, locales_dir: Any, seed: int = 2024,
                    uploads: Path | None = None) -> DemoResult:
    """People for every unit and, for every period already due, submissions from most expected units:
    about 70% on time, 15% late, 15% missing; one in ten revised; about one in six with photos (when
    `uploads` is given)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    t = Translator("vi", locales_dir)
    units = await unit_store.all_units(db)
    people = 0
    person_of: dict[int, int] = {}
    for index, unit in enumerate(units, start=1):
        role = {UnitKind.PROVINCE: Role.DEPARTMENT, UnitKind.UPPER: Role.OFFICER}.get(unit.kind, Role.CHAIR)
        person_of[unit.id] = await _ensure_person(db, unit, role, index, rng, now)
        people += 1
    submissions = revisions = late = missing = 0
    for unit in units:
        if unit.kind is UnitKind.PROVINCE:
            continue
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
                is_late = roll < 0.30
                submitted_at = row.due_at + timedelta(days=rng.randint(0, 9), hours=rng.randint(8, 16)) if is_late \
                    else row.due_at - timedelta(days=rng.randint(1, 8), hours=rng.randint(1, 14))
                ctx = FormContext(campaign, campaign.period(row.key), unit.kind, t, campaign.zone)
                answers = believable_answers(rng, ctx)
                photo_fields = [f for f in ctx.fields if f.type is FieldType.PHOTO]
                if uploads is not None and photo_fields and rng.random() < 0.17:
                    count = rng.randint(1, min(3, photo_fields[0].max_files))
                    answers[photo_fields[0].name] = [
                        await _demo_photo(db, uploads, person_id, unit.id, row.id, photo_fields[0].name,
                                          submitted_at, n) for n in range(count)
                    ]
                async with db.transaction() as tx:
                    await submission_store.record(tx, period_id=row.id, unit_id=unit.id, person_id=person_id,
                                                  channel=Channel.TELEGRAM.value, answers=answers, now=submitted_at,
                                                  late=is_late)
                submissions += 1
                late += int(is_late)
                if rng.random() < 0.1:
                    revised = dict(answers)
                    for f in ctx.campaign.fields_for(row.key, unit.kind):
                        if f.type is FieldType.INTEGER and f.name in revised and not f.constraint_expr:
                            revised[f.name] = int(revised[f.name]) + rng.randint(1, 5)
                            break
                    async with db.transaction() as tx:
                        await submission_store.record(tx, period_id=row.id, unit_id=unit.id, person_id=person_id,
                                                      channel=Channel.TELEGRAM.value, answers=revised,
                                                      now=submitted_at + timedelta(days=2), late=is_late)
                    revisions += 1
    return DemoResult(people, submissions, revisions, late, missing)
