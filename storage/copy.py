"""Copy a running SQLite database into another database (PostgreSQL, or another SQLite file): `db copy --to URL`.

How, and why so:
- A consistent snapshot first: SQLite's online backup into a private temporary file, so the bot keeps running
  and the copy sees one instant of it. The snapshot is brought to this code's schema (migrate), and so is the
  target: the two then have the same tables and columns.
- The target must be empty: a row in any table (the migrations' own ledger aside) refuses the copy before
  anything is written, naming the table. Copying into a live database would mix two provinces' ids.
- One transaction on the target: the copy lands whole or not at all, so a failed copy can simply be re-run.
- Tables in foreign-key order, every column, ids kept; rows read with a cursor and written in batches, so memory
  stays bounded whatever the size. A column that references its own table (a unit's parent) is written after
  the table's rows, so the order of the rows does not matter.
- On PostgreSQL each identity sequence is then moved past the copied ids (setval): the next insert gets a new id.
- The row counts are compared table by table before the commit; a difference rolls the copy back.

Not copied: `leases` and `process_beats`. They describe the processes running on the source right now (who
holds the sender role, each process's last tick); copied, the new database would believe a process that never
ran on it holds the sender role until the lease ran out. The target's processes write their own. Every outbox
row is copied as it is, its claim and lease too: a message in flight at the snapshot is recovered by the new
deployment once its lease has expired, exactly as after a crash.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import N_, TranslatableError
from storage.db import Database, Transaction
from storage.migrations import migrate

COPY_BATCH = 2000
LEDGER = "schema_migrations"  # written by migrate() on each side, never copied
NOT_COPIED = ("leases", "process_beats")  # the source's live processes (see the module note)

NOT_EMPTY = N_("The target database is not empty: table {table} has rows. The copy goes only into an empty "
               "database; nothing was written.")
Progress = Callable[[str, int, int], None]  # (table, rows copied so far, rows to copy in all)


class CopyError(TranslatableError):
    """A copy that cannot be made or did not check out; nothing was written to the target."""


@dataclass(frozen=True, slots=True)
class TableCopy:
    table: str
    source_rows: int
    target_rows: int


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key's columns (rowid for a table without one)
    self_refs: tuple[str, ...]  # columns that reference the table itself
    rows: int


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def copy_database(source: Database, target: Database, *, batch: int = COPY_BATCH,
                        on_progress: Progress | None = None, scratch: Path | None = None) -> list[TableCopy]:
    """Copy `source` (SQLite, possibly in use by a running bot) into the empty `target`; return the counts."""
    if source.dialect != "sqlite":
        raise CopyError(N_("The copy reads a SQLite database; the configured database is {dialect}. "
                           "Copy a PostgreSQL database with pg_dump and pg_restore."), dialect=source.dialect)
    await refuse_non_empty(target)
    with tempfile.TemporaryDirectory(prefix="congdoan-copy-", dir=scratch) as folder:
        snapshot_path = Path(folder) / "snapshot.sqlite3"
        await source.backup_to(snapshot_path)
        snapshot = await Database.open(snapshot_path)
        try:
            await migrate(snapshot)  # a source left a migration behind is brought to this code's schema
        finally:
            await snapshot.close()
        await migrate(target)
        with closing(sqlite3.connect(snapshot_path)) as snap:
            tables = _tables_in_order(snap)
            await _same_tables(target, [t.name for t in tables])
            return await _copy_tables(snap, tables, target, batch, on_progress)


async def target_tables(db: Database) -> list[str]:
    """The tables of `db` (its own schema only on PostgreSQL)."""
    if db.dialect == "postgresql":
        rows = await db.fetchall("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                 "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")
    else:
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                                 "ESCAPE '\\' ORDER BY name")
    return [str(r[0]) for r in rows]


async def refuse_non_empty(db: Database) -> None:
    """Raise CopyError naming the first table of `db` that holds a row (the migrations' ledger aside)."""
    for table in await target_tables(db):
        if table != LEDGER and await db.fetchone(f"SELECT 1 FROM {quoted(table)} LIMIT 1") is not None:
            raise CopyError(NOT_EMPTY, table=table)


def _tables_in_order(snap: sqlite3.Connection) -> list[_Table]:
    """The snapshot's tables to copy, each after the tables it references."""
    names = [r[0] for r in snap.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                        "'sqlite\\_%' ESCAPE '\\' ORDER BY name")]
    names = [n for n in names if n != LEDGER and n not in NOT_COPIED]
    refs = {n: {(r[2], r[3]) for r in snap.execute(f"PRAGMA foreign_key_list({quoted(n)})")} for n in names}
    ordered: list[str] = []
    pending = list(names)
    while pending:
        ready = [n for n in pending if all(ref == n or ref in ordered or ref not in names for ref, _ in refs[n])]
        if not ready:  # a cycle between tables: not in this schema; say so rather than copy half
            raise CopyError(N_("The tables {tables} reference each other in a cycle; the copy cannot order them."),
                            tables=", ".join(pending))
        ordered += ready
        pending = [n for n in pending if n not in ready]
    tables = []
    for name in ordered:
        info = list(snap.execute(f"PRAGMA table_info({quoted(name)})"))
        key = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])) or ("rowid",)
        self_refs = tuple(sorted(col for ref, col in refs[name] if ref == name))
        rows = int(snap.execute(f"SELECT count(*) FROM {quoted(name)}").fetchone()[0])
        tables.append(_Table(name, tuple(r[1] for r in info), key, self_refs, rows))
    return tables


async def _same_tables(target: Database, names: Sequence[str]) -> None:
    missing = sorted(set(names) - set(await target_tables(target)))
    if missing:
        raise CopyError(N_("The target database has no table {table} after its migrations; is it another "
                           "application's database?"), table=", ".join(missing))


def _batches(snap: sqlite3.Connection, sql: str, size: int) -> Iterator[list[tuple[Any, ...]]]:
    cursor = snap.execute(sql)
    while rows := cursor.fetchmany(size):
        yield [tuple(r) for r in rows]


async def _copy_tables(snap: sqlite3.Connection, tables: list[_Table], target: Database, batch: int,
                       on_progress: Progress | None) -> list[TableCopy]:
    total = sum(t.rows for t in tables)
    done = 0
    result: list[TableCopy] = []
    async with target.transaction() as tx:
        await refuse_non_empty_in(tx, [t.name for t in tables])  # nothing slipped in since the first look
        for table in tables:
            for rows in _table_rows(snap, table, batch):
                await tx.executemany(_insert(table), rows)
                done += len(rows)
                if on_progress is not None:
                    on_progress(table.name, done, total)
            await _link_self_references(snap, tx, table, batch)
            if target.dialect == "postgresql":
                await _move_sequences(tx, table.name)
            copied = int(await tx.fetchval(f"SELECT count(*) FROM {quoted(table.name)}"))
            if copied != table.rows:
                raise CopyError(N_("Table {table}: {source} rows in the source but {target} in the target; the copy "
                                   "was rolled back."), table=table.name, source=table.rows, target=copied)
            result.append(TableCopy(table.name, table.rows, copied))
    return result


async def refuse_non_empty_in(tx: Transaction, names: Sequence[str]) -> None:
    for name in (*names, *NOT_COPIED):
        if await tx.fetchone(f"SELECT 1 FROM {quoted(name)} LIMIT 1") is not None:
            raise CopyError(NOT_EMPTY, table=name)


def _table_rows(snap: sqlite3.Connection, table: _Table, batch: int) -> Iterator[list[tuple[Any, ...]]]:
    """The table's rows in key order, a self-reference written as NULL (set afterwards)."""
    columns = ", ".join("NULL" if c in table.self_refs else quoted(c) for c in table.columns)
    order = ", ".join(quoted(k) if k != "rowid" else k for k in table.key)
    return _batches(snap, f"SELECT {columns} FROM {quoted(table.name)} ORDER BY {order}", batch)


def _insert(table: _Table) -> str:
    marks = ", ".join("?" for _ in table.columns)
    return f"INSERT INTO {quoted(table.name)} ({', '.join(map(quoted, table.columns))}) VALUES ({marks})"


async def _link_self_references(snap: sqlite3.Connection, tx: Transaction, table: _Table, batch: int) -> None:
    """Set the self-referencing columns once every row of the table is there."""
    # A table without a primary key is matched on every other column.
    key = tuple(c for c in table.columns if c not in table.self_refs) if table.key == ("rowid",) else table.key
    for column in table.self_refs:
        select = (f"SELECT {quoted(column)}, {', '.join(map(quoted, key))} FROM {quoted(table.name)} "
                  f"WHERE {quoted(column)} IS NOT NULL")
        update = (f"UPDATE {quoted(table.name)} SET {quoted(column)} = ? WHERE "
                  + " AND ".join(f"{quoted(k)} = ?" for k in key))
        for rows in _batches(snap, select, batch):
            await tx.executemany(update, rows)


async def _move_sequences(tx: Transaction, table: str) -> None:
    """PostgreSQL: each identity column's sequence past the largest copied id, so the next insert gets a new one."""
    columns = await tx.fetchall("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                "current_schema() AND table_name = ? AND is_identity = 'YES'", (table,))
    for row in columns:
        column = str(row[0])
        largest = await tx.fetchval(f"SELECT max({quoted(column)}) FROM {quoted(table)}")
        if largest is not None:
            await tx.fetchall("SELECT setval(pg_get_serial_sequence(?, ?), ?)", (quoted(table), column, int(largest)))
