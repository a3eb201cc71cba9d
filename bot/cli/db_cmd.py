"""python -m bot db migrate | backup --out FILE | copy --to URL, on the configured [storage] url (SQLite or
PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.app import open_database
from bot.cli.common import config, err, fail, out, run, translator
from bot.cli.help_text import LocalGroup, gettext
from bot.cli.progress import CommandProgress
from storage.connect import StorageUrlError, check_url, open_url, redact
from storage.copy import NOT_COPIED, CopyError, TableCopy, copy_database
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


@app.command("copy", help=gettext("Copy the configured SQLite database, while the bot runs, into an empty database "
                                  "(PostgreSQL or another SQLite file); the row counts are checked table by table."))
def copy_cmd(
    to: str = typer.Option(..., "--to", help=gettext("The target: postgresql://user@host:5432/database (the password "
                                                     "in BOT_DB_PASSWORD) or sqlite:///path/to/file.sqlite3.")),
) -> None:
    cfg = config()
    t = translator(cfg)
    if not cfg.uses_sqlite:
        fail(t("The copy command reads a SQLite database; for PostgreSQL use pg_dump."))
    if not cfg.db_path.exists():
        fail(t("There is no database at {path} yet.", path=cfg.db_path))
    try:
        check_url(to)
    except StorageUrlError as exc:
        fail(exc.render(t))

    async def go(bar: CommandProgress) -> list[TableCopy]:
        source = await open_database(cfg)
        try:
            target = await open_url(to, base_dir=cfg.base_dir)
            try:
                def shown(table: str, done: int, total: int) -> None:
                    bar.update(done, total, label=t("Copying {table}", table=table))

                # The snapshot beside the database: that disk has room for one more copy of it; /tmp may not.
                return await copy_database(source, target, on_progress=shown, scratch=cfg.db_path.parent)
            finally:
                await target.close()
        finally:
            await source.close()

    try:
        with CommandProgress(err, t, t("Copying the database")) as bar:
            copied = run(go(bar))
    except (CopyError, MigrationError, StorageUrlError) as exc:
        fail(exc.render(t))
    for table in copied:
        out.print(t("{table}: {source} rows in the source, {target} in the target", table=table.table,
                    source=t.number(table.source_rows), target=t.number(table.target_rows)), markup=False)
    out.print(t("Not copied: {tables} (they describe the processes running on the source; the target's processes "
                "write their own).", tables=", ".join(NOT_COPIED)), markup=False)
    out.print(t("Copied {rows} rows in {tables} tables into {url}; every table's row count matches.",
                rows=t.number(sum(c.target_rows for c in copied)), tables=t.number(len(copied)), url=redact(to)),
              markup=False)
