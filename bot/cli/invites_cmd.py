"""python -m bot invites create --unit CODE --role ROLE [--expires 14d] | export --out FILE.xlsx"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer

from bot.cli.common import actor, config, err, fail, migrated_database, out, run, state, translator
from bot.cli.help_text import LocalGroup, gettext
from bot.cli.progress import CommandProgress
from bot.config import Config
from bot.domain import Role
from bot.i18n import Translator
from bot.invites import IssuedInvite, RoleMismatchError, check_role_fits, issue_invite, parse_duration
from bot.spreadsheet import write_invites_xlsx
from storage import people as people_store
from storage import units as unit_store

app = typer.Typer(cls=LocalGroup, help=gettext("Invite links that bind a person to a unit and role."),
                  no_args_is_help=True)


def _lifetime(cfg: Config, t: Translator, expires: str) -> timedelta:
    """--expires as a duration, or the configured default; a clear refusal otherwise."""
    try:
        return parse_duration(expires) if expires else timedelta(days=cfg.invites.default_expiry_days)
    except ValueError:
        fail(t("--expires {value}: expected a duration such as 14d, 36h or 2w.", value=expires))


@app.command("create", help=gettext("Create one single-use invite and print its code and Telegram link."))
def create_cmd(
    unit: str = typer.Option(..., "--unit", help=gettext("The unit's code, e.g. DL-BMT-001")),
    role: Role = typer.Option(..., "--role", help=gettext("chair, officer, department or admin")),
    expires: str = typer.Option("", "--expires", help=gettext("How long the link works: 14d, 36h, 2w")),
) -> None:
    cfg = config()
    t = translator(cfg)
    lifetime = _lifetime(cfg, t, expires)

    async def go() -> IssuedInvite | None:
        async with migrated_database(cfg) as db:
            target = await unit_store.by_code(db, unit)
            if target is None:
                return None
            check_role_fits(target, role)
            return await issue_invite(
                db,
                unit=target,
                role=role,
                lifetime=lifetime,
                created_by=actor(),
                now=state.clock.now(),
                bot_username=cfg.telegram.username,
            )

    try:
        issued = run(go())
    except RoleMismatchError as exc:
        fail(t("The role {role} does not fit {code}, a unit of kind {kind}: a chair belongs to a grassroots union, "
               "an officer to an upper-level union, the department to the province.", role=exc.role.value,
               code=exc.unit.code, kind=exc.unit.kind.value))
    if issued is None:
        fail(t("Unknown unit code {code}; see python -m bot units list.", code=unit))
    zone = cfg.app.zone
    out.print(
        t("Invite for {role} of {unit} ({code})", role=issued.role.value, unit=issued.unit.name, code=issued.unit.code),
        markup=False,
    )
    out.print(t("Code: {code}", code=issued.code), markup=False)
    out.print(t("Link: {link}", link=issued.link), markup=False)
    out.print(t("Valid until {when}; it works once.", when=t.datetime(issued.expires_at, zone)), markup=False)


@app.command("export", help=gettext("One fresh chair invite per grassroots unit that has no chair yet, as a "
                                    "workbook to send out."))
def export_cmd(
    out_file: Path = typer.Option(..., "--out", help=gettext("The .xlsx file to write")),
    expires: str = typer.Option("", "--expires", help=gettext("How long the links work: 14d, 36h, 2w")),
) -> None:
    cfg = config()
    t = translator(cfg)
    if out_file.suffix.lower() != ".xlsx":
        fail(t("--out must name an .xlsx file."))
    lifetime = _lifetime(cfg, t, expires)

    async def go(bar: CommandProgress) -> list[IssuedInvite]:
        async with migrated_database(cfg) as db:
            now = state.clock.now()
            issued: list[IssuedInvite] = []
            targets = await people_store.grassroots_without_chair(db)
            bar.update(0, len(targets))
            for target in targets:
                issued.append(
                    await issue_invite(
                        db,
                        unit=target,
                        role=Role.CHAIR,
                        lifetime=lifetime,
                        created_by=actor(),
                        now=now,
                        bot_username=cfg.telegram.username,
                    )
                )
                bar.update(len(issued))
            return issued

    with CommandProgress(err, t, t("Creating invites")) as bar:
        issued = run(go(bar))
    if not issued:
        out.print(t("Every grassroots unit has a chair; no invite was created."), markup=False)
        return
    with CommandProgress(err, t, t("Writing the workbook"), total=1):
        write_invites_xlsx(out_file, issued, t, cfg.app.zone)
    out.print(t("{n} invites written to {path}", n=len(issued), path=out_file), markup=False)
