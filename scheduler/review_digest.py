"""The reviewers' daily digest (issue 15): one message a day to each reviewer with reports waiting for their review
longer than [review] waiting_days, and to the department with the reports anywhere below it waiting longer than
escalate_days. Planned at digest_time (moved out of quiet hours like a reminder) under one outbox key per person per
day, so a restart or a second process never sends it twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.campaign_model import Text
from bot.config import RemindersConfig, ReviewConfig
from bot.dialog.model import Reply
from bot.domain import Role, Unit
from bot.i18n import Translator
from bot.scope import review_scope
from scheduler.policy import Policy, allowed_moment
from storage import campaigns as campaign_store
from storage import outbox, reviews
from storage import people as people_store
from storage import reminders as reminder_store
from storage import units as unit_store
from storage.db import Database
from storage.outbox import OutboxItem

LISTED = 12  # reports named in one digest; the rest are counted, /duyet shows them all


def digest_key(person_id: int, day: date) -> str:
    return f"rd:{person_id}:{day:%Y%m%d}"


@dataclass(frozen=True, slots=True)
class Late:
    unit: Unit
    period: Text
    days: int  # whole days waiting


def _policy(cfg: RemindersConfig, zone: ZoneInfo) -> Policy:
    return Policy((), (), cfg.send_time, cfg.quiet_start, cfg.quiet_end, cfg.skip_sundays, cfg.skip_holidays,
                  timedelta(hours=cfg.grace_hours), 0, zone)


def digest_moment(day: date, review: ReviewConfig, cfg: RemindersConfig, zone: ZoneInfo) -> datetime:
    return allowed_moment(datetime.combine(day, review.digest_time, tzinfo=zone), _policy(cfg, zone))


def due_day(now: datetime, review: ReviewConfig, cfg: RemindersConfig, zone: ZoneInfo) -> tuple[date, datetime] | None:
    """(the day, its digest's moment) whose digest is due at `now`: a digest time in quiet hours moves to the next
    morning, so yesterday's may be the one due."""
    today = now.astimezone(zone).date()
    for day in (today, today - timedelta(days=1)):
        at = digest_moment(day, review, cfg, zone)
        if at <= now <= at + timedelta(hours=cfg.grace_hours):
            return day, at
    return None


async def _waiting(db: Database) -> list[tuple[reviews.Waiting, Text]]:
    """Reports of live campaigns waiting for review, oldest first, with their period's name."""
    names: dict[int, Text] = {}
    for campaign in await campaign_store.live_campaigns(db):
        for row in await campaign_store.periods_of(db, campaign.id):
            names[row.id] = campaign.period(row.key).name
    units = [u.id for u in await unit_store.all_units(db)]
    return [(w, names[w.period_id]) for w in await reviews.queue(db, units, names) if w.period_id in names]


async def digest_items(db: Database, review: ReviewConfig, cfg: RemindersConfig, zone: ZoneInfo,
                       t_of: Callable[[str], Translator], now: datetime) -> list[OutboxItem]:
    """The digests of the day whose moment has come (for `grace` after it) not yet in the outbox."""
    due = due_day(now, review, cfg, zone)
    if not review.digest or due is None:
        return []
    day, at = due
    readers = [p for p, _roots, _name in await reminder_store.summary_readers(db)
               if p.channel is not None and p.chat_id is not None]
    known = await outbox.existing_keys(db, [digest_key(p.person_id, day) for p in readers])
    readers = [p for p in readers if digest_key(p.person_id, day) not in known]
    if not readers:
        return []
    waiting = await _waiting(db)
    units = {u.id: u for u in await unit_store.all_units(db)}
    out: list[OutboxItem] = []
    for person in readers:
        mine, escalated = await _for_person(db, person.person_id, waiting, units, review, at)
        if not mine and not escalated:
            continue
        assert person.channel is not None
        assert person.chat_id is not None
        text = digest_text(t_of(person.locale), mine, escalated, review)
        out.append(OutboxItem(digest_key(person.person_id, day), "review_digest", person.person_id, None, None,
                              person.channel, person.chat_id, at, Reply(text).to_json()))
    return out


async def _for_person(db: Database, person_id: int, waiting: list[tuple[reviews.Waiting, Text]],
                      units: dict[int, Unit], review: ReviewConfig, at: datetime) -> tuple[list[Late], list[Late]]:
    """(the reports this person reviews waiting past waiting_days at the digest's moment `at`; for the department,
    those below it reviewed by others waiting past escalate_days)."""
    scope = await review_scope(db, person_id)
    below: set[int] = set()
    for v in await people_store.memberships_of(db, person_id):
        if v.membership.role in (Role.DEPARTMENT, Role.ADMIN):
            below.update(u.id for u in await unit_store.subtree(db, v.unit.id) if u.id != v.unit.id)
    mine, escalated = [], []
    for w, period_name in waiting:
        days = (at - w.waiting_since).days
        late = Late(units[w.unit_id], period_name, days) if w.unit_id in units else None
        if late is None:
            continue
        if w.unit_id in scope and days >= review.waiting_days:
            mine.append(late)
        elif w.unit_id in below and days >= review.escalate_days:
            escalated.append(late)
    return mine, escalated


def _lines(t: Translator, items: list[Late]) -> list[str]:
    lines = [f"• {x.unit.name} — {x.period.get(t.locale)} — " + t("waiting {n} days", n=t.number(x.days))
             for x in items[:LISTED]]
    if len(items) > LISTED:
        lines.append(t("… and {n} more", n=t.number(len(items) - LISTED)))
    return lines


def digest_text(t: Translator, mine: list[Late], escalated: list[Late], review: ReviewConfig) -> str:
    lines: list[str] = []
    if mine:
        lines += [t("📋 {n} reports have been waiting for your review for more than {days} days:",
                    n=t.number(len(mine)), days=review.waiting_days), *_lines(t, mine)]
    if escalated:
        if lines:
            lines.append("")
        lines += [t("⚠️ {n} reports below you have been waiting for review for more than {days} days:",
                    n=t.number(len(escalated)), days=review.escalate_days), *_lines(t, escalated)]
    lines += ["", t("Type /duyet to review them.")]
    return "\n".join(lines)
