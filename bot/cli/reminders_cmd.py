"""python -m bot reminders preview --at ISO-INSTANT | run-once"""

from __future__ import annotations

import typer

from bot.cli.common import config, err, fail, migrated_database, out, parse_instant, run, state, translator
from bot.cli.help_text import LocalGroup, gettext
from bot.cli.progress import CommandProgress
from bot.dialog.model import Reply
from scheduler.progress import WaveProgress
from scheduler.service import ReminderPlanner

app = typer.Typer(cls=LocalGroup, help=gettext("Deadline reminders: preview and run."), no_args_is_help=True)


@app.command("preview", help=gettext("What would be sent at that instant; nothing is sent or recorded."))
def preview_cmd(
    at: str = typer.Option("", "--at", help=gettext("The instant to plan for (ISO-8601 with zone); default now.")),
    full: bool = typer.Option(False, "--full", help=gettext("Print each message in full.")),
) -> None:
    cfg = config()
    t = translator(cfg)
    now = parse_instant(at) if at else state.clock.now()

    async def go() -> list:
        async with migrated_database(cfg) as db:
            planner = ReminderPlanner(db, cfg.reminders, cfg.app.zone, cfg.locales_dir, review=cfg.review)
            return await planner.preview(now)

    planned = [p for p in run(go()) if p.status == "pending"]
    out.print(t("Reminders due at {when}: {n}", when=t.datetime(now, cfg.app.zone), n=len(planned)), markup=False)
    for p in planned:
        item = p.item
        reply = Reply.from_json(item.payload)
        first = reply.text.splitlines()[0] if reply.text else ""
        out.print(f"{item.key}\t{item.channel}:{item.chat_id}\t{reply.title}\t{first}", markup=False)
        if full:
            out.print(reply.text + "\n", markup=False)


@app.command("run-once", help=gettext("Plan the reminders due now and send them through the configured channels."))
def run_once_cmd() -> None:
    cfg = config()
    t = translator(cfg)
    if not cfg.has_channel:
        fail(t("Sending needs a channel: TELEGRAM_BOT_TOKEN, or [zalo] enabled = true with ZALO_BOT_TOKEN; use "
               "'reminders preview' to see what would be sent."), 2)
    from handlers.serve import send_reminders_once

    with CommandProgress(err, t, t("Sending reminders")) as bar:
        def shown(progress: WaveProgress) -> None:
            bar.update(progress.done, progress.total)

        result, stats = run(send_reminders_once(cfg, state.clock, on_progress=shown))
    if stats.sender_elsewhere is not None:
        out.print(t("Planned {planned} new reminders; nothing sent here: the running bot process {owner} sends them "
                    "(one sender per bot token).", planned=result.pending, owner=stats.sender_elsewhere),
                  markup=False)
        return
    out.print(t("Planned {planned} new reminders; sent {sent}, skipped {skipped}, failed {failed}, to retry "
                "{retried}.", planned=result.pending, sent=stats.sent, skipped=stats.skipped,
                failed=stats.failed + stats.blocked, retried=stats.retried), markup=False)
