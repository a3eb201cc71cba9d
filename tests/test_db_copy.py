"""`python -m bot db copy --to URL`: a running province's SQLite database moved, whole and checked, into an empty
PostgreSQL (or SQLite) database: the same rows table by table, ids kept, sequences moved past them, a non-empty
target refused untouched, and the summary's workbook identical on both sides."""

from __future__ import annotations

import itertools
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bot.app import prepare
from bot.cli import app
from bot.cli.common import state
from bot.clock import FixedClock
from bot.config import Config
from bot.demo import fill_demo
from storage.connect import open_url
from storage.copy import LEDGER, NOT_COPIED, CopyError, copy_database, target_tables
from storage.db import Database
from tests.conftest import VN, _require

NOW = datetime(2024, 8, 20, 9, 0, tzinfo=VN)
DAKLAK_95 = "daklak-95-nam-cdvn-2024"
TARGETS = ("sqlite", "postgresql")


@pytest.fixture(params=TARGETS)
async def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty target database: a new SQLite file, or a new PostgreSQL database (skips with its
    reason when there is no server, except under CI=true)."""
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'target' / 'copy.sqlite3').as_posix()}"
        return
    async with _require(request.getfixturevalue("postgres")).empty_database_url() as url:
        yield url


@pytest.fixture
async def demo_source(config: Config) -> Path:
    """The configured SQLite database filled as `python -m bot demo` fills it."""
    prepared = await prepare(config, NOW)
    try:
        await fill_demo(prepared.db, NOW, config.locales_dir)
    finally:
        await prepared.db.close()
    return config.db_path


async def _all_rows(db: Database, table: str) -> list[tuple[Any, ...]]:
    """Every row of `table` in a fixed order (all columns, in the order of the first one's names)."""
    first = await db.fetchone(f'SELECT * FROM "{table}" LIMIT 1')
    if first is None:
        return []
    names = ", ".join(f'"{n}"' for n in dict(first))
    rows = [tuple(r) for r in await db.fetchall(f'SELECT {names} FROM "{table}"')]
    return sorted(rows, key=lambda r: tuple((v is not None, v) for v in r))  # NULLs sort alike on both


async def _copy(source_path: Path, url: str, **options: Any) -> tuple[list[Any], Database, Database]:
    source = await Database.open(source_path)
    target = await open_url(url)
    try:
        return await copy_database(source, target, **options), source, target
    except BaseException:
        await source.close()
        await target.close()
        raise


async def test_the_demo_database_is_copied_with_identical_rows_table_by_table(demo_source: Path,
                                                                             target_url: str) -> None:
    copied, source, target = await _copy(demo_source, target_url)
    try:
        tables = [t for t in await target_tables(source) if t != LEDGER and t not in NOT_COPIED]
        assert sorted(c.table for c in copied) == sorted(tables)
        for table in tables:
            rows = await _all_rows(source, table)
            assert await _all_rows(target, table) == rows, table
            count = next(c for c in copied if c.table == table)
            assert count.source_rows == count.target_rows == len(rows)
        counts = {c.table: c.target_rows for c in copied}
        # every revision, not only the latest
        assert counts["submission_revisions"] > counts["submissions"] > 0
        assert counts["units"] > 0
        assert counts["answers"] > 0
        # the migrations' ledger is the target's own: the same steps, applied there
        assert [r[0] for r in await target.fetchall(f"SELECT name FROM {LEDGER} ORDER BY name")] == \
            [r[0] for r in await source.fetchall(f"SELECT name FROM {LEDGER} ORDER BY name")]
    finally:
        await source.close()
        await target.close()


async def test_after_the_copy_a_new_row_gets_an_id_past_the_copied_ones(demo_source: Path, target_url: str) -> None:
    """On PostgreSQL the identity sequences are moved past the copied ids: without that the first insert after
    the copy collides with copied id 1."""
    _copied, source, target = await _copy(demo_source, target_url)
    try:
        for table, insert, params in (
            ("audit_log", "INSERT INTO audit_log(at, actor, action, entity) VALUES (?, ?, ?, ?)",
             ("2024-08-20T02:00:00+00:00", "test", "after-copy", "unit")),
            ("units", "INSERT INTO units(code, name, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
             ("NEW-AFTER-COPY", "Công đoàn mới", "enterprise_private", "2024-08-20T02:00:00+00:00",
              "2024-08-20T02:00:00+00:00")),
        ):
            largest = await target.fetchval(f"SELECT max(id) FROM {table}")
            assert largest is not None
            assert largest > 0
            async with target.transaction() as tx:
                new_id = await tx.execute(insert, params)
            assert new_id > largest
    finally:
        await source.close()
        await target.close()


@pytest.mark.parametrize("table", ["audit_log", "units", "leases", "processed_updates"])
async def test_a_non_empty_target_is_refused_naming_the_table_and_left_unchanged(
        demo_source: Path, target_url: str, table: str) -> None:
    target = await open_url(target_url)
    try:
        from storage.migrations import migrate

        await migrate(target)
        row = {
            "audit_log": ("INSERT INTO audit_log(at, actor, action, entity) VALUES (?, ?, ?, ?)",
                          ("2024-01-01T00:00:00+00:00", "someone", "x", "y")),
            "units": ("INSERT INTO units(code, name, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                      ("OTHER-1", "Tỉnh khác", "province", "2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00+00:00")),
            "leases": ("INSERT INTO leases(name, owner, expires_at, acquired_at) VALUES (?, ?, ?, ?)",
                       ("sender", "other-host", "2099-01-01T00:00:00+00:00", "2024-01-01T00:00:00+00:00")),
            "processed_updates": ("INSERT INTO processed_updates(channel, update_key, at) VALUES (?, ?, ?)",
                                  ("telegram", "1", "2024-01-01T00:00:00+00:00")),
        }[table]
        async with target.transaction() as tx:
            await tx.execute(*row)
        before = {t: await _all_rows(target, t) for t in await target_tables(target)}
    finally:
        await target.close()
    with pytest.raises(CopyError) as refused:
        await _copy(demo_source, target_url)
    assert refused.value.params["table"] == table
    target = await open_url(target_url)
    try:
        assert {t: await _all_rows(target, t) for t in await target_tables(target)} == before
    finally:
        await target.close()


async def test_rows_are_read_and_written_in_batches(demo_source: Path, target_url: str) -> None:
    """Bounded memory: no batch is larger than asked, whatever the table's size, and the result is the same."""
    steps: list[tuple[str, int, int]] = []
    copied, source, target = await _copy(demo_source, target_url, batch=7,
                                         on_progress=lambda table, done, total: steps.append((table, done, total)))
    try:
        total = sum(c.source_rows for c in copied)
        assert total > 7 * 10
        done = [0] + [d for _, d, _ in steps]
        assert max(b - a for a, b in itertools.pairwise(done)) <= 7
        assert done[-1] == total
        assert {t for t, _, _ in steps} == {c.table for c in copied if c.source_rows}
        for c in copied:
            assert await _all_rows(target, c.table) == await _all_rows(source, c.table)
    finally:
        await source.close()
        await target.close()


async def test_a_parent_unit_with_a_larger_id_than_its_child_is_copied(tmp_path: Path, target_url: str) -> None:
    """A self-reference (a unit's parent) does not depend on the order of ids: the copy writes it afterwards."""
    path = tmp_path / "source.sqlite3"
    source = await Database.open(path)
    try:
        from storage.migrations import migrate

        await migrate(source)
        at = "2024-01-01T00:00:00+00:00"
        async with source.transaction() as tx:
            await tx.execute("INSERT INTO units(id, code, name, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                             (9, "P", "Tỉnh", "province", at, at))
            await tx.execute("INSERT INTO units(id, code, name, kind, parent_id, created_at, updated_at) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", (3, "C", "Cơ sở", "enterprise_private", 9, at, at))
            await tx.execute("UPDATE units SET parent_id = ? WHERE id = ?", (3, 9))  # even a cycle of two
        expected = await _all_rows(source, "units")
    finally:
        await source.close()
    _copied, source, target = await _copy(path, target_url)
    try:
        assert await _all_rows(target, "units") == expected
    finally:
        await source.close()
        await target.close()


@pytest.mark.sqlite_only("opens a second SQLite connection that holds a write transaction on the source file")
async def test_the_copy_reads_a_snapshot_while_the_bot_writes(demo_source: Path, tmp_path: Path) -> None:
    """A running bot's uncommitted transaction neither blocks the copy nor ends up in it."""
    bot = await Database.open(demo_source)
    try:
        before = await bot.fetchval("SELECT count(*) FROM audit_log")
        async with bot.transaction() as tx:
            await tx.execute("INSERT INTO audit_log(at, actor, action, entity) VALUES (?, ?, ?, ?)",
                             ("2024-08-20T02:00:00+00:00", "bot", "in-flight", "unit"))
            copied, source, target = await _copy(demo_source, f"sqlite:///{tmp_path / 'copy.sqlite3'}")
            await source.close()
            await target.close()
    finally:
        await bot.close()
    assert next(c for c in copied if c.table == "audit_log").target_rows == before


# --- the command line ------------------------------------------------------------------------------------------


def _config_for(url: str, config_path: Path, tmp_path: Path) -> Path:
    """The test configuration with its [storage] on `url`."""
    text = config_path.read_text(encoding="utf-8").replace('path = "data/test.sqlite3"', f'url = "{url}"')
    path = tmp_path / "target-config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _cells(path: Path) -> Iterator[tuple[str, str, Any]]:
    book = load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                yield sheet.title, cell.coordinate, cell.value


def test_db_copy_then_summary_gives_identical_workbooks_cell_by_cell(
        config_path: Path, demo_source: Path, target_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "clock", FixedClock(NOW))
    monkeypatch.delenv("BOT_DB_PASSWORD", raising=False)
    runner = CliRunner()
    copied = runner.invoke(app, ["--config", str(config_path), "db", "copy", "--to", target_url])
    assert copied.exit_code == 0, copied.output
    assert "submission_revisions:" in copied.output
    assert "số dòng của mọi bảng đều khớp" in copied.output  # the closing line, in the default language
    books = []
    for name, cfg in (("source", config_path), ("target", _config_for(target_url, config_path, tmp_path))):
        out = tmp_path / name
        made = runner.invoke(app, ["--config", str(cfg), "summary", DAKLAK_95, "dot-1", "--format", "xlsx",
                                   "--out", str(out)])
        assert made.exit_code == 0, made.output
        (book,) = out.glob("*.xlsx")
        books.append(list(_cells(book)))
    source_cells, target_cells = books
    assert len(source_cells) > 100
    assert target_cells == source_cells


def test_db_copy_refuses_a_non_empty_target_in_the_configured_language(
        config_path: Path, demo_source: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'twice.sqlite3'}"
    assert runner.invoke(app, ["--config", str(config_path), "db", "copy", "--to", url]).exit_code == 0
    again = runner.invoke(app, ["--config", str(config_path), "db", "copy", "--to", url])
    assert again.exit_code == 1
    assert "Cơ sở dữ liệu đích không trống: bảng" in again.output


def test_db_copy_refuses_a_password_in_the_target_url(config_path: Path, demo_source: Path) -> None:
    result = CliRunner().invoke(app, ["--config", str(config_path), "db", "copy", "--to",
                                      "postgresql://bot:hunter2@127.0.0.1:5432/congdoan"])
    assert result.exit_code == 1
    assert "BOT_DB_PASSWORD" in result.output
    assert "hunter2" not in result.output


@pytest.mark.slow
async def test_a_table_of_120_000_rows_is_copied_in_bounded_memory(tmp_path: Path, target_url: str) -> None:
    """The rows are never all in memory: the copy's peak is a small part of what the table's rows weigh."""
    path = tmp_path / "big.sqlite3"
    source = await Database.open(path)
    rows = 120_000
    try:
        from storage.migrations import migrate

        await migrate(source)
        detail = "x" * 300
        async with source.transaction() as tx:
            await tx.executemany("INSERT INTO audit_log(at, actor, action, entity, entity_id, detail) "
                                 "VALUES (?, ?, ?, ?, ?, ?)",
                                 (("2024-08-20T02:00:00+00:00", "bot", "step", "unit", str(i), f"{detail}{i}")
                                  for i in range(rows)))
    finally:
        await source.close()
    weight = rows * (len(detail) + 100)  # the rows' text alone, held at once: about 48 MB
    tracemalloc.start()
    try:
        copied, source, target = await _copy(path, target_url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    try:
        assert next(c for c in copied if c.table == "audit_log").target_rows == rows
        assert await target.fetchval("SELECT count(*) FROM audit_log") == rows
        assert peak < weight / 4, f"peak {peak:,} bytes for {weight:,} bytes of rows"
    finally:
        await source.close()
        await target.close()
