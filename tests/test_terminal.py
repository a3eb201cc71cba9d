"""The main command without a token: a prepared embedded database and a unit's deadlines in the terminal."""

from __future__ import annotations

import getpass
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import prepare
from bot.cli import app
from bot.cli.common import actor, os_user
from bot.config import Config
from bot.conversation import Conversation
from bot.deadlines import Status, deadlines_for_unit
from bot.i18n import Translator, translator
from bot.port import Port
from handlers.terminal import TerminalSession
from storage import campaigns as campaign_store
from storage import units as unit_store
from storage.db import Database
from storage.timefmt import to_db
from tests.conftest import VN
from tests.fakes import FakeClock, RecordingOutput, ScriptedInput

DAKLAK_95 = "daklak-95-nam-cdvn-2024"


def terminal(
    db: Database, config: Config, clock: FakeClock, read: ScriptedInput, out: RecordingOutput
) -> TerminalSession:
    conversation = Conversation(db, clock, VN, config.locales_dir)
    return TerminalSession(Port(conversation, config), Translator("vi", config.locales_dir), read, out,
                           user="tester")


async def submit(db: Database, unit_code: str, campaign_id: str, period_key: str, clock: FakeClock) -> None:
    """A stored submission, as the dialog will write it."""
    unit = await unit_store.by_code(db, unit_code)
    assert unit is not None
    period_id = await db.fetchval("SELECT id FROM periods WHERE campaign_id = ? AND key = ?", (campaign_id, period_key))
    stamp = to_db(clock.now())
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO submissions(period_id, unit_id, reference, first_submitted_at, last_submitted_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (period_id, unit.id, "BC-7Q2K", stamp, stamp),
        )


async def test_first_start_prepares_the_database_once(config: Config, clock: FakeClock) -> None:
    first = await prepare(config, clock.now())
    try:
        assert first.migrations_applied
        assert first.sample_units_loaded >= 34
        assert len(first.campaigns_loaded) == 5
    finally:
        await first.db.close()
    second = await prepare(config, clock.now())
    try:
        assert second.migrations_applied == []
        assert second.sample_units_loaded == 0  # never loaded over an existing organisation
        assert second.campaigns_loaded == []  # unchanged files are not reloaded
    finally:
        await second.db.close()


async def test_an_upper_unit_sees_its_deadlines_with_days_left(config: Config, clock: FakeClock) -> None:
    prepared = await prepare(config, clock.now())
    db = prepared.db
    try:
        unit = await unit_store.by_code(db, "DL-BMT")
        assert unit is not None
        items = await deadlines_for_unit(db, unit, clock.now())
        dot1 = next(d for d in items if d.campaign.id == DAKLAK_95 and d.period.key == "dot-1")
        assert dot1.status is Status.OPEN
        assert dot1.days == 3  # 2, 3 and 4 August are left before "trước ngày 5/8/2024"

        out = RecordingOutput()
        session = terminal(db, config, clock, ScriptedInput([]), out)
        await session.show_unit(unit)
        assert "Đơn vị: Liên đoàn Lao động thành phố Buôn Ma Thuột (DL-BMT)" in out.text
        assert "hạn trước Thứ Hai, 05/08/2024 — còn 3 ngày" in out.text

        await submit(db, "DL-BMT", DAKLAK_95, "dot-1", clock)
        out2 = RecordingOutput()
        await terminal(db, config, clock, ScriptedInput([]), out2).show_unit(unit)
        assert "đã nộp lúc 08:00 02/08/2024, số biên nhận BC-7Q2K" in out2.text

        clock.advance(days=10)  # 12 August: a unit that has not reported is 7 days late
        other = await unit_store.by_code(db, "DL-KP")
        assert other is not None
        late = next(
            d
            for d in await deadlines_for_unit(db, other, clock.now())
            if d.campaign.id == DAKLAK_95 and d.period.key == "dot-1"
        )
        assert (late.status, late.days) == (Status.OVERDUE, 8)  # 5/8 is the first day late
        out3 = RecordingOutput()
        await terminal(db, config, clock, ScriptedInput([]), out3).show_unit(other)
        assert "quá hạn 8 ngày — vẫn nhận đến hết 03/09/2024" in out3.text
    finally:
        await db.close()


async def test_campaigns_reach_only_the_kinds_they_name(config: Config, clock: FakeClock) -> None:
    prepared = await prepare(config, clock.now())
    db = prepared.db
    try:
        agency = await unit_store.by_code(db, "DL-CDVC-001")  # a public agency's union
        assert agency is not None
        seen = {d.campaign.id for d in await deadlines_for_unit(db, agency, clock.now())}
        assert "binhdinh-cdvc-thang-cong-nhan-2021" not in seen  # Bình Định's plan: another province
        # The same plan addressed to Đắk Lắk reaches the public agency's union: CĐCS HCSN report in it.
        binhdinh = await campaign_store.campaign(db, "binhdinh-cdvc-thang-cong-nhan-2021")
        assert binhdinh is not None
        assert binhdinh.audience.within == "BDI"
        rebound = binhdinh.model_copy(update={"audience": binhdinh.audience.model_copy(update={"within": "DL"})})
        await campaign_store.sync_campaigns(db, [(rebound, "rebound", "binhdinh.toml")], actor="test",
                                            now=clock.now())
        seen = {d.campaign.id for d in await deadlines_for_unit(db, agency, clock.now())}
        assert "binhdinh-cdvc-thang-cong-nhan-2021" in seen
        grassroots = await unit_store.by_code(db, "DL-BMT-001")  # an enterprise's union: not in that plan
        assert grassroots is not None
        assert "binhdinh-cdvc-thang-cong-nhan-2021" not in {
            d.campaign.id for d in await deadlines_for_unit(db, grassroots, clock.now())}
        province = await unit_store.by_code(db, "DL")
        assert province is not None
        assert await deadlines_for_unit(db, province, clock.now()) == []  # the province receives, it does not report
    finally:
        await db.close()


async def test_a_wrong_choice_is_explained_with_an_example(config: Config, clock: FakeClock) -> None:
    prepared = await prepare(config, clock.now())
    try:
        out, answers = RecordingOutput(), ScriptedInput(["999", "xyz", "Krông Pắc", "Ea Kly"])
        session = terminal(prepared.db, config, clock, answers, out)
        chosen = await session.choose_unit()
        assert out.text.count("Vui lòng gõ một số từ 1 đến") == 2
        assert "ví dụ: 1 hoặc DL-BMT" in out.text
        assert chosen is not None
        assert "Có nhiều đơn vị trùng" in out.text  # "Krông Pắc" is in several names: they are listed
        assert chosen.code == "DL-KP-010"  # part of a name finds the one unit that has it
    finally:
        await prepared.db.close()


def test_the_main_command_without_a_token_runs_in_the_terminal(config_path: Path, repo: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_"))}
    env["BOT_CONFIG"] = str(config_path)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--unit", "DL-KP", "--at", "2024-08-02T08:00:00+07:00"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Đã nạp tổ chức mẫu" in proc.stdout
    assert "Đồng chí muốn nộp báo cáo nào cho Liên đoàn Lao động huyện Krông Pắc?" in proc.stdout
    assert (
        "Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1 (01/01–31/07/2024) (hạn trước 05/08/2024)" in proc.stdout
    )
    assert "Các câu trả lời đã được lưu" in proc.stdout  # end of input: the draft is kept
    # Without a terminal on stdin the session ends cleanly instead of hanging.
    proc = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Gõ số thứ tự hoặc mã đơn vị" in proc.stdout


def test_db_commands_migrate_twice_and_back_up(config_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["--config", str(config_path), "db", "migrate"])
    assert first.exit_code == 0, first.output
    assert "0001_initial_schema" in first.output
    second = runner.invoke(app, ["--config", str(config_path), "db", "migrate"])
    assert second.exit_code == 0
    assert "không có gì để áp dụng" in second.output
    target = tmp_path / "copy.sqlite3"
    backup = runner.invoke(app, ["--config", str(config_path), "db", "backup", "--out", str(target)])
    assert backup.exit_code == 0, backup.output
    assert target.exists()
    again = runner.invoke(app, ["--config", str(config_path), "db", "backup", "--out", str(target)])
    assert again.exit_code == 1  # never overwrites an earlier backup


def test_a_bad_config_stops_the_command_and_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[storage]\npath = "db.sqlite3"\nbusy_timeout = 5\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["--config", str(bad), "db", "migrate"])
    assert result.exit_code == 2
    assert "[storage] busy_timeout: unknown key" in result.output
    assert not (tmp_path / "db.sqlite3").exists()  # nothing was created


def test_without_an_open_period_the_terminal_practises_at_a_time_when_one_was(config_path: Path, repo: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_"))}
    env["BOT_CONFIG"] = str(config_path)
    proc = subprocess.run([sys.executable, "-m", "bot", "shell", "--unit", "DL-BMT-001"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=60, check=False, input="1\n")
    assert proc.returncode == 0, proc.stderr
    assert "Hôm nay không có đợt báo cáo nào đang mở" in proc.stdout  # today is long after the seed plans
    assert "Câu 1/" in proc.stdout  # and the dialog can still be tried


def test_a_bad_config_is_headed_in_the_default_language(tmp_path: Path) -> None:
    """No configuration means no language from it: the heading is in the default one (Vietnamese)."""
    result = CliRunner().invoke(app, ["--config", str(tmp_path / "missing.toml"), "db", "migrate"])
    assert result.exit_code == 2
    assert result.output.startswith(translator()("Configuration error:") + "\n")
    # The problem itself reads in the default language too, through the catalog (bot.errors).
    assert translator()("{path}: configuration file not found (use --config or {variable})",
                        path=tmp_path / "missing.toml", variable="BOT_CONFIG") in result.output.replace("\n", "")


def test_reminders_run_once_without_any_channel_names_both(
    config_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith(("BOT__", "TELEGRAM_", "ZALO_")):
            monkeypatch.delenv(name)
    result = CliRunner().invoke(app, ["--config", str(config_path), "reminders", "run-once"])
    assert result.exit_code == 2
    assert result.output.strip() == Translator("vi", config.locales_dir)(
        "Sending needs a channel: TELEGRAM_BOT_TOKEN, or [zalo] enabled = true with ZALO_BOT_TOKEN; use "
        "'reminders preview' to see what would be sent.")


def test_campaigns_load_names_the_periods_a_file_no_longer_has(config_path: Path, repo: Path, tmp_path: Path) -> None:
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    source = (repo / "campaigns" / f"{DAKLAK_95}.toml").read_text(encoding="utf-8")
    (campaigns / f"{DAKLAK_95}.toml").write_text(source, encoding="utf-8")
    text = config_path.read_text(encoding="utf-8")
    text = re.sub(r'campaigns_dir = ".*"', f'campaigns_dir = "{campaigns.as_posix()}"', text)
    config_path.write_text(text, encoding="utf-8")
    args = ["--config", str(config_path), "campaigns", "load"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert f"{DAKLAK_95}/dot-2" not in first.output
    # The plan is cut to one period: the second is retired, and the administrator is told which.
    without = re.sub(r'\[\[periods\]\]\nkey = "dot-2".*?(?=\n# -)', "", source, flags=re.DOTALL)
    assert 'key = "dot-2"' not in without
    (campaigns / f"{DAKLAK_95}.toml").write_text(without, encoding="utf-8")
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert f"{DAKLAK_95}/dot-2" in second.output
    assert f"{DAKLAK_95}/dot-1" not in second.output


def test_without_an_os_user_name_the_cli_and_the_terminal_still_name_someone(
    db: Database, config: Config, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_user() -> str:
        raise OSError("no user name")

    monkeypatch.setattr(getpass, "getuser", no_user)
    assert actor() == "cli"
    conversation = Conversation(db, clock, VN, config.locales_dir)
    # As the command line starts it: with the OS user's name, when there is one.
    session = TerminalSession(Port(conversation, config), Translator("vi", config.locales_dir), ScriptedInput([]),
                              RecordingOutput(), user=os_user())
    assert session.user == "terminal"
    monkeypatch.setattr(getpass, "getuser", lambda: "hoa")
    assert actor() == "cli:hoa"
    session = TerminalSession(Port(conversation, config), Translator("vi", config.locales_dir), ScriptedInput([]),
                              RecordingOutput(), user=os_user())
    assert session.user == "hoa"


async def test_the_terminal_reviews_as_an_officer_with_numbered_choices(config: Config, clock: FakeClock) -> None:
    prepared = await prepare(config, clock.now())
    try:
        await submit(prepared.db, "DL-BMT-001", DAKLAK_95, "dot-1", clock)
        # 2 = Trả lại, the reason, no question, 1 = Trả lại (confirm).
        out, answers = RecordingOutput(), ScriptedInput(["2", "Thiếu số liệu tuyên truyền", "xong", "1"])
        bmt = await unit_store.by_code(prepared.db, "DL-BMT")
        assert bmt is not None
        assert await terminal(prepared.db, config, clock, answers, out).review(bmt)
        assert "1 báo cáo đang chờ đồng chí duyệt" in out.text
        assert "1. ✅ Duyệt" in out.text
        assert "Đã trả lại báo cáo cho Công đoàn Công ty TNHH MTV Cà phê Buôn Ma Thuột" in out.text
        state = await prepared.db.fetchval("SELECT review_state FROM submissions WHERE reference = 'BC-7Q2K'")
        assert state == "returned"
        grassroots = await unit_store.by_code(prepared.db, "DL-BMT-001")
        assert grassroots is not None
        assert not await terminal(prepared.db, config, clock, ScriptedInput([]), RecordingOutput()).review(grassroots)
    finally:
        await prepared.db.close()


def test_shell_as_officer_refuses_a_grassroots_union(config_path: Path) -> None:
    result = CliRunner().invoke(app, ["--config", str(config_path), "shell", "--as-officer", "DL-BMT-001"],
                                input="")
    assert result.exit_code == 1
    assert "DL-BMT-001" in result.output


def test_the_shell_hands_out_no_dashboard_link_it_does_not_serve(config_path: Path) -> None:
    """With the dashboard switched on, an officer in the terminal still gets no sign-in link: no web server runs in
    the shell, so the link would lead nowhere; the answer says where the dashboard is served."""
    with config_path.open("a", encoding="utf-8") as f:
        f.write('\n[web]\npublic_base_url = "http://127.0.0.1:8444"\n\n[dashboard]\nenabled = true\n')
    result = CliRunner().invoke(app, ["--config", str(config_path), "shell", "--unit", "DL-BMT"],
                                input="/bangtheodoi\n")
    assert result.exit_code == 0, result.output
    assert "python -m bot run" in result.output
    assert "/dashboard/login/" not in result.output
