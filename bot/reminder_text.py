"""The words of a reminder and of an escalation, rendered once when planned (so a preview shows exactly
what will be sent) and kept in the outbox as a plain reply."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.campaign_model import Campaign, Period
from bot.deadlines import days_left_or_late
from bot.dialog.model import Button, Reply
from bot.i18n import Translator

OPEN_ACTION = "open"  # "open:<period_id>:<unit_id>" — re-authorised by the conversation when pressed


def _when(t: Translator, due_at: datetime, at: datetime, zone: ZoneInfo) -> str:
    days = days_left_or_late(due_at, at, zone)
    if at >= due_at:
        return t.ngettext("{n} day late", "{n} days late", days)
    if days == 1:
        return t("today is the last day")
    return t.ngettext("{n} day left", "{n} days left", days)


def reminder_reply(t: Translator, *, campaign: Campaign, period: Period, period_id: int, unit_id: int,
                   unit_name: str, due_at: datetime, at: datetime, zone: ZoneInfo, draft: tuple[int, int] | None,
                   buttons: bool) -> Reply:
    overdue = at >= due_at
    lines = [
        t("Unit: {unit}", unit=unit_name),
        t("Campaign: {campaign}", campaign=campaign.title.get(t.locale)),
        t("Period: {period}", period=period.name.get(t.locale)),
        t("Due before {due} — {when}", due=t.due_weekday_date(due_at, zone), when=_when(t, due_at, at, zone)),
    ]
    if draft is not None:
        lines.append(t("You stopped at question {i}/{n}.", i=draft[0], n=draft[1]))
    lines.append(t("Reports go to: {who}", who=campaign.audience.reports_to))
    if not buttons:
        lines.append(t("Type /baocao to report now."))
    title = t("⚠️ Report overdue") if overdue else t("⏰ Report reminder")
    choices = (Button(t("📝 Report now"), f"{OPEN_ACTION}:{period_id}:{unit_id}"),) if buttons else ()
    return Reply("\n".join(lines), title=title, choices=choices)


def escalation_reply(t: Translator, *, campaign: Campaign, period: Period, due_at: datetime, at: datetime,
                     zone: ZoneInfo, late_units: list[tuple[str, bool]]) -> Reply:
    """late_units: (unit name, reachable) pairs."""
    lines = [
        t("Campaign: {campaign}", campaign=campaign.title.get(t.locale)),
        t("Period: {period}", period=period.name.get(t.locale)),
        t("Due before {due} — {when}", due=t.due_weekday_date(due_at, zone), when=_when(t, due_at, at, zone)),
        t.ngettext("{n} unit under you has not reported:", "{n} units under you have not reported:",
                   len(late_units)),
    ]
    for name, reachable in late_units[:40]:
        lines.append(f"• {name}" + ("" if reachable else " — " + t("cannot be reached by the bot")))
    if len(late_units) > 40:
        lines.append(t("… and {n} more.", n=len(late_units) - 40))
    lines.append(t("Type /nhacnho to remind them now."))
    return Reply("\n".join(lines), title=t("📋 Units that have not reported"))
