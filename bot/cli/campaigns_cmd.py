"""python -m bot campaigns check [--json] | load"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from bot.campaign_model import Campaign
from bot.campaigns import audience_warnings, campaign_to_json, load_campaign_dir
from bot.cli.common import actor, config, err, fail, migrated_database, out, run, state, translator
from bot.cli.help_text import LocalGroup, gettext
from bot.config import Config
from bot.i18n import Translator
from bot.org_import import check_units, read_units_file
from storage import campaigns as campaign_store
from storage import units as unit_store

app = typer.Typer(cls=LocalGroup, help=gettext("Campaigns: the plans (kế hoạch) made runnable."), no_args_is_help=True)


@app.command("check", help=gettext("Validate every campaign file; a broken one is reported with its path, key "
                                   "and problem."))
def check_cmd(
    as_json: bool = typer.Option(False, "--json", help=gettext("Print the parsed campaigns as JSON.")),
) -> None:
    cfg = config()
    t = translator(cfg)
    loaded, problems = load_campaign_dir(cfg.campaigns_dir)
    for problem in problems:
        err.print(problem.render(t), markup=False)
    _warn_about_audiences(cfg, t, [c.campaign for c in loaded])
    for item in loaded:
        unlabelled = [f.name for f in item.campaign.fields if f.report_label is None]
        if unlabelled:  # a note, not an error: the summaries fall back to the question without its "?"
            err.print(t("{path}: no report_label for {fields}; summaries will name them by their question.",
                        path=item.path, fields=", ".join(unlabelled)), markup=False)
    if as_json:
        print(json.dumps([campaign_to_json(c.campaign) for c in loaded], ensure_ascii=False, indent=2))
    else:
        table = Table(title=t("Campaigns in {path}", path=cfg.campaigns_dir), show_lines=False)
        table.add_column(t("Campaign"), overflow="fold")
        table.add_column(t("Periods: due before"), no_wrap=True)
        table.add_column(t("Fields"), justify="right")
        table.add_column(t("Targets"), justify="right")
        for item in loaded:
            c = item.campaign
            dues = "\n".join(
                f"{p.key}: {t.due_date(p.due_at(c.zone), c.zone)}" + (" *" if p.due.source == "department" else "")
                for p in c.periods
            )
            table.add_row(f"{c.id}\n{c.title.get(t.locale)}", dues, str(len(c.fields)), str(len(c.targets)))
        out.print(table)
        out.print(t("* due date set by the department: the plan states none."), markup=False)
    if problems:
        raise typer.Exit(1)


def _warn_about_audiences(cfg: Config, t: Translator, campaigns: list[Campaign]) -> None:
    """A campaign that would reach every province of the database, or nobody, is named (not refused)."""
    for warning in audience_warnings(campaigns, _organisation(cfg)):
        if warning.within is None:
            err.print(t("Warning: {id} has no [audience] within, and the organisation has {n} roots ({roots}): "
                        "every one of them would receive it. Set within to the issuing unit's code.",
                        id=warning.campaign_id, n=len(warning.roots), roots=", ".join(warning.roots)), markup=False)
        else:
            err.print(t("Warning: {id} is for the units under {code}, which the organisation does not have: "
                        "nobody receives it.", id=warning.campaign_id, code=warning.within), markup=False)


def _organisation(cfg: Config) -> list[tuple[str, str | None]]:
    """The units (code, parent code) the campaigns are checked against: the database's, or, before the first
    start, the sample organisation that start-up would load."""
    if not cfg.uses_sqlite or cfg.db_path.exists():
        async def read() -> list[tuple[str, str | None]]:
            async with migrated_database(cfg) as db:
                return [(u.code, u.parent_code) for u in await unit_store.all_units(db)]

        units = run(read())
        if units:
            return units
    path = cfg.resolve(cfg.app.sample_units)
    if not path.is_file():
        return []
    rows, problems = check_units(read_units_file(path), [])
    return [] if problems else [(r.code, r.parent_code) for r in rows]


@app.command("load", help=gettext("Store the campaign files in the database (new or changed ones only); any "
                                  "broken file: nothing."))
def load_cmd() -> None:
    cfg = config()
    t = translator(cfg)
    loaded, problems = load_campaign_dir(cfg.campaigns_dir)
    if problems:
        for problem in problems:
            err.print(problem.render(t), markup=False)
        fail(t("Nothing was loaded: fix the files above first."))

    async def go() -> campaign_store.SyncResult:
        async with migrated_database(cfg) as db:
            return await campaign_store.sync_campaigns(
                db, [(c.campaign, c.sha256, c.path.name) for c in loaded], actor=actor(), now=state.clock.now()
            )

    result = run(go())
    _warn_about_audiences(cfg, t, [c.campaign for c in loaded])
    out.print(
        t(
            "Campaigns: {created} new, {updated} updated, {unchanged} unchanged.",
            created=len(result.created),
            updated=len(result.updated),
            unchanged=len(result.unchanged),
        ),
        markup=False,
    )
    if result.retired:
        out.print(t("Periods no longer in their file, now retired (their reports are kept; no more reminders): "
                    "{periods}", periods=", ".join(result.retired)), markup=False)
