"""A unit's deadlines as a plain-text message, the same on every channel (adapters escape it)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.campaign_model import last_day
from bot.deadlines import Deadline, Status
from bot.domain import Unit
from bot.i18n import Translator


def accepted_until(t: Translator, closes_at: datetime, zone: ZoneInfo) -> str:
    """"still accepted until" the end of the day before a midnight close, or until the time of day it closes."""
    if closes_at.astimezone(zone).time() == time(0, 0):
        return t("still accepted until {date}", date=t.date(last_day(closes_at), zone))
    return t("still accepted until {when}", when=t.due_date(closes_at, zone))


def deadline_line(t: Translator, d: Deadline, zone: ZoneInfo) -> str:
    name = d.period.name.get(t.locale)
    due = t.due_weekday_date(d.due_at, zone)
    if d.status is Status.SUBMITTED and d.submission is not None:
        when = t.datetime(d.submission.last_submitted_at, zone)
        state = t("submitted {when}, receipt {ref}", when=when, ref=d.submission.reference)
        if d.submission.late:
            state += " " + t("(late)")
    elif d.status is Status.OPEN:
        state = t.ngettext("{n} day left", "{n} days left", d.days)
    elif d.status is Status.OVERDUE:
        state = (
            t.ngettext("{n} day late", "{n} days late", d.days)
            + " — "
            + accepted_until(t, d.closes_at, zone)
        )
    else:
        state = t("closed on {date}, not submitted", date=t.date(d.closes_at, zone))
    return t("{period}: due before {due} — {state}", period=name, due=due, state=state)


def deadlines_text(t: Translator, unit: Unit, deadlines: list[Deadline], zone: ZoneInfo) -> str:
    lines = [t("Unit: {name} ({code})", name=unit.name, code=unit.code)]
    if not deadlines:
        lines.append(t("No campaign asks this unit to report at the moment."))
        return "\n".join(lines)
    groups: dict[str, list[Deadline]] = {}
    for d in deadlines:  # keeps the order of each campaign's most urgent period
        groups.setdefault(d.campaign.id, []).append(d)
    for items in groups.values():
        campaign = items[0].campaign
        lines.append("")
        lines.append(f"📋 {campaign.title.get(t.locale)}")
        lines.append("   " + t("Recipient: {who}", who=campaign.audience.reports_to))
        lines.extend("   • " + deadline_line(t, d, zone) for d in items)
    return "\n".join(lines)
