"""python -m bot db migrate | backup --out FILE, on the configured [storage] url (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.app import open_database
from bot.cli.common import config, fail, out, run, translator
from bot.cli.help_text import LocalGroup, gettext
from storage.connect import StorageUrlError
from storage.migrations import MigrationError, migrate

app = typer.Typer(cls=LocalGroup, help=gettext("The database: migrations and backups."), no_args_is_help=True)


@app.command("migrate", help=gettext("Apply the pending migrations (none pending: nothing happens)."))
def migrate_cmd() -> None:
    cfg = config()
    t = translator(cfg)

    async def go() -> list[str]:
        db = await open_database(cfg)
        try:
            return await migrate(db)
        finally:
            await db.close()

    try:
        applied = run(go())
    except (MigrationError, StorageUrlError) as exc:
        fail(exc.render(t))
    if applied:
        for name in applied:
            out.print(t("Applied migration {name}", name=name), markup=False)
    else:
        out.print(t("The database is up to date; nothing to apply."), markup=False)


@app.command("backup", help=gettext("A consistent copy of the database, taken with SQLite's online backup (safe "
                                    "while the bot runs)."))
def backup_cmd(out_file: Path = typer.Option(..., "--out", help=gettext("Where to write the copy."))) -> None:
    cfg = config()
    t = translator(cfg)
    if not cfg.uses_sqlite:
        fail(t("The backup command copies a SQLite database; for PostgreSQL use pg_dump."))
    if out_file.exists():
        fail(t("{path} already exists; choose a new file name.", path=out_file))
    if not cfg.db_path.exists():
        fail(t("There is no database at {path} yet.", path=cfg.db_path))

    async def go() -> None:
        db = await open_database(cfg)
        try:
            await db.backup_to(out_file)
        finally:
            await db.close()

    run(go())
    out.print(t("Backup written to {path}", path=out_file), markup=False)
