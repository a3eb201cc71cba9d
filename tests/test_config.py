from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_committed_config_loads_with_its_defaults(repo: Path) -> None:
    cfg = load_config(repo / "config.toml", environ={})
    assert cfg.app.timezone == "Asia/Ho_Chi_Minh"
    assert cfg.app.language == "vi"
    assert cfg.reminders.days_before == (7, 3, 1, 0)
    assert cfg.reminders.send_time == time(8, 0)
    assert cfg.telegram.token is None
    assert cfg.db_path == repo / "data" / "congdoan.sqlite3"


def test_relative_paths_are_taken_from_the_config_folder(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[storage]\npath = "x/db.sqlite3"\n'), environ={})
    assert cfg.db_path == tmp_path / "x" / "db.sqlite3"


def test_environment_overrides_every_key(tmp_path: Path) -> None:
    env = {
        "BOT__STORAGE__PATH": "/srv/db.sqlite3",
        "BOT__REMINDERS__DAYS_BEFORE": "[5, 2]",
        "BOT__REMINDERS__SKIP_SUNDAYS": "true",
        "BOT__APP__LANGUAGE": "en",
        "BOT__TELEGRAM__BASE_URL": "http://127.0.0.1:8081/bot",
    }
    cfg = load_config(write(tmp_path, ""), environ=env)
    assert cfg.db_path == Path("/srv/db.sqlite3")
    assert cfg.reminders.days_before == (5, 2)
    assert cfg.reminders.skip_sundays is True
    assert cfg.app.language == "en"
    assert cfg.telegram.base_url == "http://127.0.0.1:8081/bot"


def test_file_path_comes_from_bot_config_variable(tmp_path: Path) -> None:
    path = write(tmp_path, '[app]\nlanguage = "en"\n')
    assert load_config(environ={"BOT_CONFIG": str(path)}).app.language == "en"


def test_token_and_webhook_secret_come_from_the_environment_only(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, ""), environ={"TELEGRAM_BOT_TOKEN": "123:abc"})
    assert cfg.telegram.token is not None
    assert cfg.telegram.token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(cfg)
    with pytest.raises(ConfigError, match="secrets belong in TELEGRAM_BOT_TOKEN"):
        load_config(write(tmp_path, '[telegram]\ntoken = "123:abc"\n'), environ={})
    with pytest.raises(ConfigError, match="BOT__TELEGRAM__TOKEN"):
        load_config(write(tmp_path, ""), environ={"BOT__TELEGRAM__TOKEN": "x"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[telegram]\ntoken = "123:abc"\n', r"\[telegram\] token/webhook_secret: secrets belong in TELEGRAM_BOT_TOKEN"),
        ('[telegram]\nwebhook_secret = "s3cret-s3cret"\n', r"secrets belong in TELEGRAM_BOT_TOKEN / TELEGRAM_WEBHOOK"),
        ('[zalo]\ntoken = "abc"\n', r"\[zalo\] token/webhook_secret: secrets belong in ZALO_BOT_TOKEN"),
        ('[zalo]\nwebhook_secret = "s3cret-s3cret"\n', r"secrets belong in ZALO_BOT_TOKEN / ZALO_WEBHOOK_SECRET"),
    ],
)
def test_regression_a_secret_written_in_the_file_is_refused_for_zalo_too(
    tmp_path: Path, text: str, expected: str
) -> None:
    """Regression: only [telegram] was checked, so `[zalo] token = "abc"` in config.toml was accepted."""
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path, text), environ={})
    # Even when the environment also sets it: the file must not hold it at all.
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path, text), environ={"ZALO_BOT_TOKEN": "x", "TELEGRAM_BOT_TOKEN": "1:x"})


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ('[storage]\npaht = "x"\n', {}, r"\[storage\] paht: unknown key"),
        ('[storgae]\npath = "x"\n', {}, r"storgae: unknown key"),
        ('[app]\ntimezone = "Mars/Olympus"\n', {}, r"\[app\] timezone: unknown time zone 'Mars/Olympus'"),
        ('[app]\nlanguage = "fr"\n', {}, r"\[app\] language: .*'vi' or 'en'"),
        ("[reminders]\ndays_before = [7, -1]\n", {}, r"\[reminders\] days_before: offsets are whole days"),
        ('[reminders]\nsend_time = "eight"\n', {}, r"\[reminders\] send_time"),
        ("", {"BOT__STORAGE__BUSY_TIMEOUT_MS": "soon"}, r"BOT__STORAGE__BUSY_TIMEOUT_MS: \[storage\] busy_timeout_ms"),
        ("", {"BOT__NOPE": "1"}, r"BOT__NOPE: expected BOT__SECTION__KEY"),
        ('[telegram]\nmode = "webhook"\n', {}, r"webhook_url"),
        ("[app\n", {}, r"not valid TOML"),
    ],
)
def test_a_bad_key_or_value_names_the_place_and_the_expectation(
    tmp_path: Path, text: str, env: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path, text), environ=env)


def test_webhook_mode_needs_its_secret_from_the_environment(tmp_path: Path) -> None:
    text = '[telegram]\nmode = "webhook"\nwebhook_url = "https://bot.example.vn/hook"\n'
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_config(write(tmp_path, text), environ={})
    cfg = load_config(write(tmp_path, text), environ={"TELEGRAM_WEBHOOK_SECRET": "s3cret-s3cret"})
    assert cfg.telegram.mode == "webhook"


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_config_is_frozen(repo: Path) -> None:
    cfg = load_config(repo / "config.toml", environ={})
    with pytest.raises(ValueError, match="frozen"):
        cfg.app.language = "en"  # type: ignore[misc]


def test_has_channel_is_telegram_or_zalo(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    assert not load_config(path, environ={}).has_channel
    assert load_config(path, environ={"TELEGRAM_BOT_TOKEN": "1:x"}).has_channel
    zalo = load_config(path, environ={"BOT__ZALO__ENABLED": "true", "ZALO_BOT_TOKEN": "z-token"})
    assert zalo.telegram.token is None
    assert zalo.has_channel


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("[zalo]\nenabled = true\n", {}, r"zalo: enabled = true needs the bot token in the environment variable ZALO_BOT_TOKEN"),
        ('[zalo]\nenabled = true\nmode = "webhook"\nwebhook_url = "http://b.vn/zalo/webhook"\n',
         {"ZALO_BOT_TOKEN": "z", "ZALO_WEBHOOK_SECRET": "s3cret-s3cret"}, r'webhook_url = "https://\.\.\."'),
        ('[zalo]\nenabled = true\nmode = "webhook"\nwebhook_url = "https://b.vn/zalo/webhook"\n',
         {"ZALO_BOT_TOKEN": "z", "ZALO_WEBHOOK_SECRET": "short"}, r"ZALO_WEBHOOK_SECRET of 8 to 256 characters"),
        ('[zalo]\nenabled = true\nmode = "webhook"\nwebhook_url = "https://b.vn/zalo/webhook"\n',
         {"ZALO_BOT_TOKEN": "z"}, r"ZALO_WEBHOOK_SECRET of 8 to 256 characters"),
    ],
)
def test_an_enabled_zalo_channel_needs_its_token_and_a_good_webhook(
    tmp_path: Path, text: str, env: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path, text), environ=env)
    # Switched off, the same section is not checked.
    load_config(write(tmp_path, text.replace("enabled = true", "enabled = false")), environ=env)


def test_regression_a_refused_section_does_not_print_its_secrets(tmp_path: Path) -> None:
    """Regression: a section-level error quoted the whole section back, token and webhook secret included."""
    zalo = '[zalo]\nenabled = true\nmode = "webhook"\nwebhook_url = "https://b.vn/zalo/webhook"\n'
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, zalo), environ={"ZALO_BOT_TOKEN": "zalo-TOKEN", "ZALO_WEBHOOK_SECRET": "short"})
    assert "ZALO_WEBHOOK_SECRET of 8 to 256" in str(caught.value)
    assert "zalo-TOKEN" not in str(caught.value)
    assert "'short'" not in str(caught.value)
    telegram = '[telegram]\nmode = "webhook"\nwebhook_url = "http://b.vn/hook"\n'
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, telegram), environ={"TELEGRAM_BOT_TOKEN": "1:TG-TOKEN",
                                                        "TELEGRAM_WEBHOOK_SECRET": "tg-webhook-secret"})
    assert "webhook_url" in str(caught.value)
    assert "TG-TOKEN" not in str(caught.value)
    assert "tg-webhook-secret" not in str(caught.value)
