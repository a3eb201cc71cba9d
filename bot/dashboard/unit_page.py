"""One unit's page for a period: its latest answers under the short labels the review screen and the workbook use
(with the review screen's flags), each revision (number, when, who), the review history, and its photos and files
(served by the dashboard only while the unit is in the reader's scope)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from bot.campaign_model import Campaign, FieldType
from bot.conversation.common import Services
from bot.conversation.review_screen import ReportView, flags, load_view, short_label, shown_value
from bot.dialog import form
from bot.dialog.form import FormContext
from bot.i18n import Translator
from bot.scope import review_scope
from storage import campaigns as campaign_store
from storage import dashboard_queries as queries
from storage import reviews
from storage import submissions as submission_store
from storage.db import Database

from .model import AnswerLine, FileRef, HistoryLine, PeriodItem, RevisionLine, StoredFile, UnitLine, UnitPage
from .reach import Reach

_FILES = frozenset({FieldType.PHOTO, FieldType.DOCUMENT})


def _answers(view: ReportView, ctx: FormContext) -> list[AnswerLine]:
    out = []
    for i, f in enumerate(form.relevant_fields(ctx, view.answers), start=1):
        value = view.answers.get(f.name)
        label = short_label(f, ctx.t.locale)
        if f.type in _FILES:
            ids = [v for v in value or [] if isinstance(v, int) and not isinstance(v, bool)]
            refs = tuple(FileRef(a, view.files.get(a, f"#{a}"), f.type is FieldType.PHOTO) for a in ids)
            out.append(AnswerLine(i, f.name, label, ", ".join(r.name for r in refs) or ctx.t("(skipped)"), files=refs))
            continue
        out.append(AnswerLine(i, f.name, label, shown_value(view, ctx, f, value), tuple(flags(view, ctx, f, value))))
    return out


async def build(services: Services, reach: Reach, person_id: int, campaign: Campaign,
                row: campaign_store.PeriodRow, unit: UnitLine, upper_code: str, t: Translator, may_remind: bool,
                period: PeriodItem) -> UnitPage:
    db = services.db
    upper_id = next((uid for uid, v in reach.tree.items() if v[0] == upper_code), None)
    sub = (await submission_store.of_unit(db, unit.unit_id)).get(row.id)
    view = await load_view(db, sub.id) if sub is not None else None
    if sub is None or view is None:
        return UnitPage(period, unit, upper_id if upper_id in reach.ids else None, None, None, [], [], [], [], False,
                        may_remind)
    ctx = view.context(t, services.zone, True)
    answers = _answers(view, ctx)
    revisions = await submission_store.revisions(db, sub.id)
    events = await reviews.history(db, sub.id)
    names = await queries.names_of(db, [r.submitted_by for r in revisions])
    labels = {f.name: short_label(f, t.locale) for f in campaign.fields}
    return UnitPage(
        period, unit, upper_id if upper_id in reach.ids else None, sub.id, sub.reference, answers,
        [RevisionLine(r.revision, r.submitted_at, names.get(r.submitted_by or 0, "?"), r.channel, r.late)
         for r in revisions],
        [HistoryLine(e.revision, e.action, e.state_after, e.at, e.actor_name or "?", e.reason,
                     tuple(labels.get(n, n) for n in e.fields)) for e in events],
        [ref for a in answers for ref in a.files if ref.is_photo],
        sub.review_state == "submitted" and unit.unit_id in await review_scope(db, person_id),
        may_remind)


async def stored_file(db: Database, reach: Reach, upload_id: int, uploads_root: Path | None) -> StoredFile | None:
    """The kept file, when its unit is in the scope and it is still on disk (under the uploads folder, when the
    folder is known)."""
    kept = await queries.kept_file(db, upload_id)
    if kept is None or kept.unit_id is None or kept.unit_id not in reach.ids or not kept.local_path:
        return None
    path = Path(kept.local_path)
    if uploads_root is not None and not path.resolve().is_relative_to(uploads_root.resolve()):
        return None
    if not path.is_file():
        return None
    mime = kept.mime_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return StoredFile(path, kept.file_name or path.name, mime)
