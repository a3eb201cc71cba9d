"""python -m bot units import FILE | list [--tree]"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text
from rich.tree import Tree

from bot.cli.common import actor, config, err, fail, migrated_database, out, run, state, translator
from bot.cli.help_text import LocalGroup, gettext
from bot.cli.progress import CommandProgress
from bot.domain import Unit
from bot.org_import import UnitsFileError, check_units, read_units_file
from storage import units as unit_store

app = typer.Typer(cls=LocalGroup, help=gettext("The organisation tree: import and list units."), no_args_is_help=True)


@app.command("import", help=gettext("Create or update units from a file; a file with any problem is refused whole."))
def import_cmd(
    file: Path = typer.Argument(..., help=gettext("CSV (UTF-8) or XLSX with code,name,kind,parent_code")),
) -> None:
    cfg = config()
    t = translator(cfg)

    async def go(bar: CommandProgress) -> unit_store.ImportResult:
        async with migrated_database(cfg) as db:
            bar.step(t("Reading {path}", path=file))
            records = read_units_file(file)
            bar.step(t("Checking {n} rows", n=t.number(len(records))))
            rows, problems = check_units(records, await unit_store.all_units(db))
            if problems:
                raise UnitsFileError(file, problems)
            bar.step(t("Saving {n} units", n=t.number(len(rows))))
            return await unit_store.apply_import(db, rows, actor=actor(), now=state.clock.now())

    try:
        with CommandProgress(err, t, t("Importing units"), total=3) as bar:
            result = run(go(bar))
    except UnitsFileError as exc:
        lines = [t("{path}: refused, nothing was imported.", path=exc.path)]
        lines += [f"  - {p.render(t)}" for p in exc.problems]
        fail("\n".join(lines))
    out.print(
        t(
            "Imported: {created} new, {updated} updated, {unchanged} unchanged.",
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
        ),
        markup=False,
    )


def _label(unit: Unit) -> Text:
    # Text, not a markup string: a unit name may contain "[" and must print as written.
    return Text(f"{unit.code}  {unit.name}  ({unit.kind.value})")


@app.command("list", help=gettext("List the units of the organisation."))
def list_cmd(tree: bool = typer.Option(False, "--tree", help=gettext("Show the hierarchy."))) -> None:
    cfg = config()
    t = translator(cfg)

    async def go() -> list[Unit]:
        async with migrated_database(cfg) as db:
            return await unit_store.all_units(db)

    units = run(go())
    if not units:
        out.print(t("No units yet: import a file with python -m bot units import FILE."), markup=False)
        return
    if not tree:
        for unit in units:
            typer.echo(f"{unit.code}\t{unit.kind.value}\t{unit.parent_code or '-'}\t{unit.name}")
        return
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ids = {u.id for u in units}
    roots = [u for u in units if u.parent_id is None or u.parent_id not in ids]
    for root in roots:
        node = Tree(_label(root))
        stack = [(root, node)]
        while stack:
            unit, branch = stack.pop()
            for child in children.get(unit.id, []):
                stack.append((child, branch.add(_label(child))))
        out.print(node)
