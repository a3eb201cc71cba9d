"""python -m bot health [--json]: who sends, how deep the outbox is, when each process last ticked; exit 1 when
something needs a person (scheduler/health.py says what counts)."""

from __future__ import annotations

import json
from datetime import datetime

import typer

from bot.cli.common import config, migrated_database, out, run, state, translator
from bot.cli.help_text import gettext
from bot.i18n import Translator


def _ago(t: Translator, now: datetime, then: datetime) -> str:
    seconds = max(int((now - then).total_seconds()), 0)
    if seconds < 120:
        return t("{n} seconds ago", n=t.number(seconds))
    if seconds < 2 * 3600:
        return t("{n} minutes ago", n=t.number(seconds // 60))
    return t("{n} hours ago", n=t.number(seconds // 3600))


def health_cmd(
    as_json: bool = typer.Option(False, "--json", help=gettext("Print the figures as JSON (for a monitor).")),
) -> None:
    from scheduler.health import NO_PROCESS, NO_SENDER, STUCK, Health, check

    cfg = config()
    t = translator(cfg)
    now = state.clock.now()

    async def go() -> Health:
        async with migrated_database(cfg) as db:
            return await check(db, now)

    health = run(go())
    if as_json:
        out.print(json.dumps({
            "ok": health.ok, "problems": list(health.problems), "now": now.isoformat(),
            "sender": None if health.sender is None else {
                "owner": health.sender.owner, "expires_at": health.sender.expires_at.isoformat()},
            "outbox": {"due": health.depth.due, "later": health.depth.later, "sending": health.depth.sending,
                       "oldest_due": health.depth.oldest_due.isoformat() if health.depth.oldest_due else None},
            "processes": [{"owner": p.owner, "started_at": p.started_at.isoformat(),
                           "last_tick_at": p.last_tick_at.isoformat(), "alive": p.alive, "sends": p.sends}
                          for p in health.processes],
        }, ensure_ascii=False), markup=False)
        raise typer.Exit(0 if health.ok else 1)
    zone = cfg.app.zone
    say = lambda text: out.print(text, markup=False)  # noqa: E731 - one line each, no rich markup
    if health.sender is None:
        say(t("Sender: no process holds the sender role now."))
    else:
        say(t("Sender: {owner} (role held until {until}).", owner=health.sender.owner,
              until=t.datetime(health.sender.expires_at, zone)))
    oldest = (t("the oldest due since {when}", when=t.datetime(health.depth.oldest_due, zone))
              if health.depth.oldest_due else t("none due"))
    say(t("Outbox: {due} due now, {later} waiting for their moment, {sending} being sent; {oldest}.",
          due=t.number(health.depth.due), later=t.number(health.depth.later),
          sending=t.number(health.depth.sending), oldest=oldest))
    if not health.processes:
        say(t("Processes: none has ticked in the last day."))
    for p in health.processes:
        words = t("sends") if p.sends else t("plans only")
        if not p.alive:
            words = t("silent")
        say(t("Process {owner}: started {started}, last tick {ago} ({state}).", owner=p.owner,
              started=t.datetime(p.started_at, zone), ago=_ago(t, now, p.last_tick_at), state=words))
    problems = {
        NO_PROCESS: t("No bot process has ticked in the last 3 minutes: is the bot running?"),
        NO_SENDER: t("Messages are due and no process holds the sender role: they are not being sent."),
        STUCK: t("A due message has waited more than 10 minutes: the sender does not get through "
                 "(see the bot's log)."),
    }
    for key in health.problems:
        say(t("Problem: {what}", what=problems[key]))
    say(t("Healthy.") if health.ok else t("Not healthy."))
    raise typer.Exit(0 if health.ok else 1)
