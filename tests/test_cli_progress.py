"""Long commands show their progress: a rich bar on a terminal, a few plain lines otherwise (CI, a pipe), on
standard error so the output itself stays clean; the words come from the catalogs, Vietnamese first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import (
    CliRunner,
    Result,  # typer carries its own click: no separate click to import
)

from bot.cli import app
from bot.clock import Clock
from bot.config import Config
from scheduler.progress import ProgressListener, WaveProgress
from scheduler.sender import SendStats
from scheduler.service import PlanResult

DAKLAK_95 = "daklak-95-nam-cdvn-2024"
TERMINAL = {"TTY_COMPATIBLE": "1"}  # rich then treats the captured stream as a terminal
PIPE = {"TTY_COMPATIBLE": "0"}
PLAIN = re.compile(r"^(.+): (\d+)/(\d+) \(([\d,]+)%\)$")


def _cli(config_path: Path, *args: str, env: dict[str, str]) -> Result:
    result = CliRunner(env=env).invoke(app, ["--config", str(config_path), *args])
    assert result.exit_code == 0, result.output
    return result


def _plain_lines(result: Result) -> list[tuple[str, int, int, str]]:
    matches = [PLAIN.match(line) for line in result.stderr.splitlines()]
    return [(m[1], int(m[2]), int(m[3]), m[4]) for m in matches if m]


def _import_sample(config_path: Path, repo: Path, env: dict[str, str]) -> Result:
    return _cli(config_path, "units", "import", str(repo / "bot" / "data" / "sample_units.csv"), env=env)


def test_units_import_without_a_terminal_prints_each_stage_in_vietnamese(config_path: Path, repo: Path) -> None:
    result = _import_sample(config_path, repo, PIPE)
    lines = _plain_lines(result)
    assert [(done, total) for _label, done, total, _pct in lines] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert lines[0][0].startswith("Đang đọc ")
    assert lines[1][0] == "Đang kiểm tra 40 dòng"
    assert lines[2][0] == "Đang lưu 40 đơn vị"
    assert [pct for *_rest, pct in lines] == ["0", "33,3", "66,7", "100"]  # Vietnamese decimal comma
    assert "\x1b" not in result.stderr
    assert result.stdout.strip().startswith("Đã nhập:")  # the result alone on standard output


def test_units_import_on_a_terminal_draws_a_bar_instead_of_lines(config_path: Path, repo: Path) -> None:
    result = _import_sample(config_path, repo, TERMINAL)
    assert _plain_lines(result) == []
    assert "━" in result.stderr  # the bar
    assert "3/3" in result.stderr
    assert "Đang lưu 40 đơn vị" in result.stderr


def test_invites_export_without_a_terminal_prints_a_line_per_tenth_not_per_invite(
    config_path: Path, repo: Path, tmp_path: Path
) -> None:
    _import_sample(config_path, repo, PIPE)
    result = _cli(config_path, "invites", "export", "--out", str(tmp_path / "moi.xlsx"), env=PIPE)
    creating = [(done, total) for label, done, total, _ in _plain_lines(result) if label == "Đang tạo lời mời"]
    assert creating[-1] == (36, 36)
    assert len(creating) <= 11  # 36 invites, at most one line each tenth (and the start)
    assert [done for done, _ in creating] == sorted(done for done, _ in creating)
    assert ("Đang ghi bảng tính", 1, 1, "100") in _plain_lines(result)
    assert "36" in result.stdout


def test_invites_export_on_a_terminal_draws_a_bar(config_path: Path, repo: Path, tmp_path: Path) -> None:
    _import_sample(config_path, repo, PIPE)
    result = _cli(config_path, "invites", "export", "--out", str(tmp_path / "moi.xlsx"), env=TERMINAL)
    assert _plain_lines(result) == []
    assert "36/36" in result.stderr
    assert "━" in result.stderr


def test_summary_progress_stays_off_the_printed_text(config_path: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the workbook goes to the current folder
    result = _cli(config_path, "summary", DAKLAK_95, "dot-1", "--format", "text", "--format", "xlsx", env=PIPE)
    lines = _plain_lines(result)
    assert [label for label, *_ in lines] == ["Đang đọc các báo cáo đã nộp", "Đang soạn bản tổng hợp",
                                              "Đang ghi tệp xlsx", "Đang ghi tệp xlsx"]
    assert lines[-1][1:3] == (3, 3)
    assert "Kỷ niệm 95 năm CĐVN" in result.stdout
    assert "Đang" not in result.stdout  # the text can be piped to a file without progress in it


def test_summary_on_a_terminal_draws_a_bar(config_path: Path) -> None:
    result = _cli(config_path, "summary", DAKLAK_95, "dot-1", env=TERMINAL)
    assert _plain_lines(result) == []
    assert "━" in result.stderr
    assert "2/2" in result.stderr


@pytest.fixture
def fake_wave(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """run-once without a messenger: the wave reports 120 outcomes to the command line's listener."""
    import handlers.serve

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:test-token-not-used")
    total = 120
    calls: list[int] = []

    async def send_reminders_once(cfg: Config, clock: Clock, on_progress: ProgressListener | None = None,
                                  ) -> tuple[PlanResult, SendStats]:
        assert on_progress is not None
        for done in range(1, total + 1):
            on_progress(WaveProgress(done, 0, 0, 0, 0, total, 29.0, None))
            calls.append(done)
        return PlanResult(total, 0, []), SendStats(sent=total)

    monkeypatch.setattr(handlers.serve, "send_reminders_once", send_reminders_once)
    return calls


def test_run_once_without_a_terminal_prints_the_wave_in_tenths(config_path: Path, fake_wave: list[int]) -> None:
    result = _cli(config_path, "reminders", "run-once", env=PIPE)
    lines = _plain_lines(result)
    assert len(fake_wave) == 120
    # The first outcome says the wave has begun; then one line each tenth, not one per message.
    assert [(label, done) for label, done, _total, _pct in lines] == [("Đang gửi nhắc hạn", n)
                                                                      for n in (1, *range(12, 121, 12))]
    assert "120" in result.stdout


def test_run_once_speaks_the_configured_language(config_path: Path, fake_wave: list[int]) -> None:
    result = _cli(config_path, "reminders", "run-once", env={**PIPE, "BOT__APP__LANGUAGE": "en"})
    assert ("Sending reminders", 120, 120, "100") in _plain_lines(result)


def test_run_once_on_a_terminal_draws_a_bar(config_path: Path, fake_wave: list[int]) -> None:
    result = _cli(config_path, "reminders", "run-once", env=TERMINAL)
    assert _plain_lines(result) == []
    assert "120/120" in result.stderr
