"""The administrator's command line: summaries where they are expected, in the configured language, quickly."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.common import state
from bot.cli.help_text import LANGUAGE_ENV, cli_language
from bot.clock import FixedClock

DAKLAK_95 = "daklak-95-nam-cdvn-2024"
# Libraries that cost more to import than the whole command line; only the commands that use them load them.
HEAVY = ("openpyxl", "xlsxwriter", "matplotlib", "numpy", "docx", "docxtpl", "pypdf", "holidays", "telegram",
         "aiohttp", "httpx", "PIL", "lxml")


@pytest.fixture
def at_night_utc(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """18:30 UTC on 2 August is 01:30 on 3 August in Việt Nam: a UTC stamp would name the wrong day."""
    now = datetime(2024, 8, 2, 18, 30, tzinfo=UTC)
    monkeypatch.setattr(state, "clock", FixedClock(now))
    return now


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_", "ZALO_"))}
    return {**env, **extra}


def test_summary_text_without_out_is_printed_and_no_file_is_written(
    config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at_night_utc: datetime
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    result = CliRunner().invoke(app, ["--config", str(config_path), "summary", DAKLAK_95, "dot-1"])
    assert result.exit_code == 0, result.output
    assert "Kỷ niệm 95 năm CĐVN" in result.output
    assert "TIẾN ĐỘ: 0/39 đơn vị đã nộp" in result.output
    assert "số liệu tính đến 01:30 03/08/2024" in result.output
    assert list(work.iterdir()) == []


def test_summary_files_are_named_in_the_campaigns_local_time(
    config_path: Path, tmp_path: Path, at_night_utc: datetime
) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["--config", str(config_path), "summary", DAKLAK_95, "dot-1",
                                      "--format", "text", "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"tong-hop_{DAKLAK_95}_dot-1_20240803-0130.txt", f"tong-hop_{DAKLAK_95}_dot-1_20240803-0130.xlsx"]
    assert "TIẾN ĐỘ" not in result.output  # with --out the text is in its file, and the output names the files
    assert "20240803-0130.txt" in result.output


def test_summary_other_formats_without_out_go_to_the_current_folder_beside_the_printed_text(
    config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at_night_utc: datetime
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["--config", str(config_path), "summary", DAKLAK_95, "dot-1",
                                      "--format", "xlsx", "--format", "text"])
    assert result.exit_code == 0, result.output
    assert "TIẾN ĐỘ" in result.output
    assert sorted(p.name for p in tmp_path.glob("tong-hop_*")) == [f"tong-hop_{DAKLAK_95}_dot-1_20240803-0130.xlsx"]


def _help(repo: Path, *args: str, **env: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "bot", *args, "--help"], cwd=repo, env=_clean_env(**env),
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_help_is_in_vietnamese_by_default(repo: Path) -> None:
    text = _help(repo)
    assert "Cách dùng:" in text
    assert "Tùy chọn" in text
    assert "Hiện hướng dẫn này rồi thoát." in text
    assert "Cơ sở dữ liệu: nâng cấp và sao lưu." in text
    for english in ("Usage:", "Options", "Show this message", "The database: migrations"):
        assert english not in text


def test_a_subcommands_help_is_in_vietnamese_too(repo: Path) -> None:
    text = _help(repo, "summary")
    assert "Cách dùng:" in text
    assert "Mã đợt, ví dụ dot-1." in text
    assert "[bắt buộc]" in text
    assert "Hiện hướng dẫn này rồi thoát." in text
    assert "Period key" not in text


def test_help_follows_the_configured_language(repo: Path, tmp_path: Path) -> None:
    by_env = _help(repo, **{LANGUAGE_ENV: "en"})
    assert "Usage:" in by_env
    assert "The database: migrations and backups." in by_env
    config = tmp_path / "config.toml"
    config.write_text('[app]\nlanguage = "en"\n', encoding="utf-8")
    by_file = _help(repo, "--config", str(config), "db")
    assert "Apply the pending migrations" in by_file


@pytest.mark.parametrize(
    ("argv", "environ", "files", "expected"),
    [
        ([], {}, {}, "vi"),
        ([], {"BOT__APP__LANGUAGE": "en"}, {}, "en"),
        (["--config", "{dir}/a.toml"], {}, {"a.toml": '[app]\nlanguage = "en"\n'}, "en"),
        (["--config={dir}/a.toml"], {}, {"a.toml": '[app]\nlanguage = "en"\n'}, "en"),
        ([], {"BOT_CONFIG": "{dir}/b.toml"}, {"b.toml": '[app]\nlanguage = "en"\n'}, "en"),
        ([], {"BOT_CONFIG": "{dir}/b.toml", "BOT__APP__LANGUAGE": "vi"}, {"b.toml": '[app]\nlanguage = "en"\n'},
         "vi"),
        (["--config", "{dir}/broken.toml"], {}, {"broken.toml": "[app\n"}, "vi"),
        (["--config", "{dir}/missing.toml"], {}, {}, "vi"),
    ],
)
def test_the_help_language_is_read_from_the_environment_then_the_config_file(
    tmp_path: Path, argv: list[str], environ: dict[str, str], files: dict[str, str], expected: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    argv = [a.format(dir=tmp_path) for a in argv]
    environ = {k: v.format(dir=tmp_path) for k, v in environ.items()}
    environ.setdefault("BOT_CONFIG", str(tmp_path / "none.toml"))
    assert cli_language(argv, environ) == expected


def test_the_command_line_does_not_import_heavy_libraries_for_help(repo: Path) -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "bot", "--help"], cwd=repo, env=_clean_env(),
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    loaded = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert not loaded, f"imported for --help: {loaded}"


def test_loading_the_command_line_imports_no_heavy_library(repo: Path) -> None:
    code = f"import sys, bot.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, env=_clean_env(), capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_a_role_that_does_not_fit_the_unit_is_refused_in_the_configured_language(config_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["--config", str(config_path), "db", "migrate"]).exit_code == 0
    loaded = runner.invoke(app, ["--config", str(config_path), "units", "import",
                                 str(Path(__file__).resolve().parent.parent / "bot/data/sample_units.csv")])
    assert loaded.exit_code == 0, loaded.output
    result = runner.invoke(app, ["--config", str(config_path), "invites", "create", "--unit", "DL-BMT-001",
                                 "--role", "department"])
    assert result.exit_code == 1
    assert "Vai trò department không hợp với DL-BMT-001" in result.output
    assert "does not fit" not in result.output
