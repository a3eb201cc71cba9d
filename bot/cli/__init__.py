"""The command line: python -m bot [run | shell | db | units | invites | campaigns]."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from bot.campaigns import CampaignFileError
from bot.cli import campaigns_cmd, db_cmd, health_cmd, invites_cmd, plans_cmd, reminders_cmd, units_cmd
from bot.cli.common import config, err, fail, os_user, out, parse_instant, run, state, translator
from bot.cli.help_text import LocalGroup, gettext
from bot.cli.progress import CommandProgress
from bot.clock import Clock, FixedClock
from bot.org_import import UnitsFileError
from storage.db import Database

if TYPE_CHECKING:
    from bot.i18n import Translator
    from handlers.terminal import TerminalSession

app = typer.Typer(
    cls=LocalGroup,
    help=gettext("Trợ lý báo cáo Công đoàn — reminders, guided reports and summaries for trade unions."),
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cmd.app, name="db")
app.add_typer(units_cmd.app, name="units")
app.add_typer(invites_cmd.app, name="invites")
app.add_typer(campaigns_cmd.app, name="campaigns")
app.command("health", help=gettext("Whether the bot is healthy: which process sends, the outbox's depth, each "
                                   "process's last tick; exits 1 when something needs a person."))(
    health_cmd.health_cmd)
app.add_typer(reminders_cmd.app, name="reminders")
app.add_typer(plans_cmd.app, name="plans")


async def practice_instant(db: Database, now: datetime, zone: ZoneInfo) -> datetime | None:
    """None when some period is still open now; else 08:00 three days before the latest due date."""
    from storage import campaigns as campaign_store

    latest = None
    for campaign in await campaign_store.live_campaigns(db):
        for row in await campaign_store.periods_of(db, campaign.id):
            if now < row.closes_at:
                return None
            if latest is None or row.due_at > latest:
                latest = row.due_at
    if latest is None:
        return None
    day = (latest.astimezone(zone) - timedelta(days=3)).date()
    return datetime.combine(day, time(8, 0), tzinfo=zone)


def _parse_at(text: str) -> Clock:
    return FixedClock(parse_instant(text))


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    config_path: Path | None = typer.Option(None, "--config", help=gettext("config.toml to use (or BOT_CONFIG).")),
) -> None:
    state.config_path = config_path
    if ctx.invoked_subcommand is None:
        run_cmd(unit="", at="")


@app.command("run", help=gettext("Start the bot: Telegram (TELEGRAM_BOT_TOKEN) and Zalo (when enabled in the "
                                 "configuration) in one process, with the reminder clock. With neither: the "
                                 "guided dialog in the terminal, on the embedded database."))
def run_cmd(
    unit: str = typer.Option("", "--unit", help=gettext("Without a token: report for this unit in the terminal.")),
    at: str = typer.Option("", "--at", help=gettext("Pretend it is this instant (ISO-8601 with zone).")),
) -> None:
    cfg = config()
    if not cfg.has_channel:
        shell_cmd(unit=unit, at=at, as_officer="")
        return
    from handlers.serve import ChannelStartError, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines would print the token
    try:
        run(serve(cfg, state.clock))
    except ChannelStartError as exc:
        fail(exc.explain(translator(cfg)))


@app.command("shell", help=gettext("The guided reporting dialog in the terminal, on the embedded database "
                                   "(prepared on first start)."))
def shell_cmd(
    unit: str = typer.Option("", "--unit", help=gettext("The unit's code; without it, choose from a list.")),
    at: str = typer.Option("", "--at", help=gettext("Pretend it is this instant (ISO-8601 with zone).")),
    as_officer: str = typer.Option("", "--as-officer", help=gettext(
        "Review reports (/duyet) as an officer of this upper level's code, or as the department for the "
        "province's code.")),
) -> None:
    from bot.app import build_conversation, prepare
    from bot.port import Port
    from handlers.terminal import TerminalSession

    cfg = config()
    t = translator(cfg)
    clock = _parse_at(at) if at else state.clock

    async def go() -> None:
        try:
            prepared = await prepare(cfg, clock.now())
        except CampaignFileError as exc:
            fail(t("A campaign file is broken; nothing was started:") + "\n" + exc.render(t))
        except UnitsFileError as exc:
            fail(t("The sample organisation file is broken; nothing was started:") + "\n" + exc.render(t))
        db = prepared.db
        try:
            if prepared.migrations_applied:
                out.print(t("Database prepared at {path}", path=cfg.db_display), markup=False)
            if prepared.sample_units_loaded:
                out.print(t("Loaded the sample organisation: {n} units.", n=prepared.sample_units_loaded),
                          markup=False)
            session_clock = clock
            if not at:
                practice = await practice_instant(db, clock.now(), cfg.app.zone)
                if practice is not None:
                    # The terminal is for trying forms: when no plan is open today, pretend it is a day when
                    # one was, and say so.
                    session_clock = FixedClock(practice)
                    out.print(t("No reporting period is open today; to try the forms, the terminal acts as if it "
                                "were {when}. Choose another moment with --at.",
                                when=t.datetime(practice, cfg.app.zone)), markup=False)
            conversation = build_conversation(cfg, db, session_clock)
            conversation.dashboard = None  # no web server in the shell: /bangtheodoi must not hand out dead links
            session = TerminalSession(Port(conversation, cfg), t, input, lambda s: out.print(s, markup=False),
                                      user=os_user())
            await _shell_session(session, db, t, unit, as_officer)
        finally:
            await db.close()

    run(go())


async def _shell_session(session: TerminalSession, db: Database, t: Translator, unit: str, as_officer: str) -> None:
    """The reviewer's side for --as-officer; else the report of --unit, or of a unit chosen from a list."""
    from storage import units as unit_store

    if as_officer:
        upper = await unit_store.by_code(db, as_officer)
        if upper is None or not await session.review(upper):
            fail(t("{code} is not the code of an upper level or of the province; see python -m bot units list.",
                   code=as_officer))
        return
    if unit:
        chosen = await unit_store.by_code(db, unit)
        if chosen is None:
            fail(t("Unknown unit code {code}; see python -m bot units list.", code=unit))
    else:
        chosen = await session.choose_unit()
        if chosen is None:
            return
    await session.chat(chosen)


@app.command("demo", help=gettext("Fill the database with demo people and believable submissions (for trying "
                                  "reminders and summaries)."))
def demo_cmd() -> None:
    from bot.app import prepare
    from bot.demo import DemoResult, fill_demo

    cfg = config()
    t = translator(cfg)

    async def go() -> DemoResult:
        prepared = await prepare(cfg, state.clock.now())
        try:
            return await fill_demo(prepared.db, state.clock.now(), cfg.locales_dir,
                                   uploads=cfg.data_dir / "uploads" / "demo")
        finally:
            await prepared.db.close()

    result = run(go())
    out.print(t("Demo data: {people} people, {subs} submissions ({late} late, {rev} revised), {missing} missing.",
                people=result.people, subs=result.submissions, late=result.late, rev=result.revisions,
                missing=result.missing), markup=False)
    out.print(t("Review: {approved} approved, {returned} returned with a reason, the others waiting for /duyet.",
                approved=result.approved, returned=result.returned), markup=False)


@app.command("summary", help=gettext("A summary of one campaign period: completeness, totals, targets, missing "
                                     "units, highlights."))
def summary_cmd(
    campaign: str = typer.Argument(..., help=gettext("Campaign id, as 'campaigns check --json' names it.")),
    period: str = typer.Argument(..., help=gettext("Period key, e.g. dot-1.")),
    scope: str = typer.Option("", "--scope", help=gettext("A unit code: only its subtree (default: everything).")),
    fmt: list[str] = typer.Option(["text"], "--format", help=gettext("text, xlsx, docx or png (repeatable).")),
    out_dir: Path | None = typer.Option(None, "--out", help=gettext("Folder for the files (default: the current "
                                                                    "folder; the text is then printed instead).")),
    approved_only: bool = typer.Option(False, "--approved-only", help=gettext(
        "Add up approved reports only (the counts by review state still show every report).")),
) -> None:
    from bot.app import prepare
    from bot.summary import files
    from bot.summary.service import SummaryNotFoundError, build_summary, scope_for_code
    from bot.summary.text import summary_text

    cfg = config()
    t = translator(cfg)
    for f in fmt:
        if f not in files.FORMATS:
            fail(t("--format {value}: expected text, xlsx, docx or png.", value=f))
    now = state.clock.now()
    # Without --out the text is read on the screen; only the other formats are files (in the current folder).
    on_screen = out_dir is None and "text" in fmt
    to_files = [f for f in fmt if not (on_screen and f == "text")]

    async def go(bar: CommandProgress) -> tuple[str | None, list[Path]]:
        prepared = await prepare(cfg, now)
        try:
            bar.step(t("Reading the answers"))
            roots, name = await scope_for_code(prepared.db, scope or None)
            summary = await build_summary(prepared.db, campaign, period, scope_roots=roots, scope_name=name, now=now,
                                          approved_only=approved_only, waiting_days=cfg.review.waiting_days)
        finally:
            await prepared.db.close()
        text = None
        if on_screen:
            bar.step(t("Writing the text"))
            text = summary_text(summary, t, cfg.app.zone)
        written = []
        for f in to_files:
            bar.step(t("Writing the {format} file", format=f))
            written.append(files.write(summary, f, out_dir or Path("."), t, cfg.app.zone))
        return text, written

    try:
        with CommandProgress(err, t, t("Summary"), total=1 + int(on_screen) + len(to_files)) as bar:
            text, written = run(go(bar))
    except SummaryNotFoundError as exc:
        fail(t("Not found: {what}. See python -m bot campaigns check --json for campaign and period names.",
               what=exc.render(t)))
    if text is not None:
        typer.echo(text)  # plain: unit names and answers are shown as written, never read as markup
    for path in written:
        out.print(t("Written: {path}", path=path), markup=False)
