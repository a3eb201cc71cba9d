"""Configuration: config.toml, overridden by BOT__SECTION__KEY variables, validated once.

Secrets never live in the file: the Telegram token comes from TELEGRAM_BOT_TOKEN and the webhook
secret from TELEGRAM_WEBHOOK_SECRET. A bad key or value stops start-up with a message that names
the key and says what is expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator

from bot.clock import check_zone
from bot.config_base import (
    CONFIG_ENV,
    ENV_PREFIX,
    TOKEN_ENV,
    WEBHOOK_SECRET_ENV,
    ZALO_SECRET_ENV,
    ZALO_TOKEN_ENV,
    ConfigError,
    apply_env,
    describe,
)
from bot.config_base import Section as _Section
from bot.config_web import DashboardConfig, WebConfig, WebServer
from bot.errors import N_
from storage.connect import PASSWORD_ENV, SQLITE_PREFIX, StorageUrlError, check_url, redact, sqlite_path

ZALO_SECRET_MIN, ZALO_SECRET_MAX = 8, 256  # the length Zalo's setWebhook accepts for secret_token
# What Telegram's setWebhook accepts as secret_token: 1 to 256 of A-Z, a-z, 0-9, _ and -.
TELEGRAM_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
ZALO_API_BASE = "https://bot-api.zaloplatforms.com"  # the public Zalo Bot API server
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.toml"


class AppConfig(_Section):
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Literal["vi", "en"] = "vi"
    data_dir: Path = Path("data")
    campaigns_dir: Path = Path("campaigns")
    locales_dir: Path = Path("locales")
    sample_units: Path = Path("bot/data/sample_units.csv")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def check_api_url(value: str) -> str:
    """A Bot API server's address (the token is appended to it): http(s)://host[:port][/path], nothing else.
    Empty means the channel's public server."""
    value = value.strip()
    if not value:
        return value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number from 0 to 65535
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query
            or parts.fragment or "@" in parts.netloc or any(c.isspace() for c in value)):
        raise ValueError("expected the address of a Bot API server, http(s)://host[:port][/path], "
                         "e.g. http://127.0.0.1:8081/bot")
    return value.rstrip("/")


def check_telegram_secret(value: SecretStr | None) -> SecretStr | None:
    """Telegram refuses any other secret_token at setWebhook: say so at start-up, naming the variable."""
    if value is not None and not TELEGRAM_SECRET_PATTERN.fullmatch(value.get_secret_value()):
        raise ValueError(f"{WEBHOOK_SECRET_ENV} must be 1 to 256 characters, each one of A-Z, a-z, 0-9, _ and -")
    return value


class TelegramConfig(_Section):
    username: str = Field(default="CongDoanBaoCaoBot", pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
    base_url: str = ""  # a self-hosted Bot API server, e.g. http://127.0.0.1:8081/bot
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    # Several bot processes on one database listen on the same port (SO_REUSEPORT): the kernel spreads the
    # connections among them. Off by default, so that a second copy started by mistake fails loudly instead.
    webhook_shared_port: bool = False
    token: SecretStr | None = None  # from TELEGRAM_BOT_TOKEN only
    webhook_secret: SecretStr | None = None  # from TELEGRAM_WEBHOOK_SECRET only

    _base_url = field_validator("base_url")(check_api_url)
    _secret = field_validator("webhook_secret")(check_telegram_secret)

    @model_validator(mode="after")
    def _webhook(self) -> TelegramConfig:
        if self.mode == "webhook" and not self.webhook_url.startswith("https://"):
            raise ValueError('mode = "webhook" needs webhook_url = "https://..."')
        if self.mode == "webhook" and self.webhook_secret is None:
            raise ValueError(f'mode = "webhook" needs a secret in the environment variable {WEBHOOK_SECRET_ENV}')
        return self


class ZaloConfig(_Section):
    enabled: bool = False
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""  # https://.../zalo/webhook
    listen: str = "127.0.0.1"
    port: int = Field(default=8444, ge=1, le=65535)
    shared_port: bool = False  # several bot processes listen on this port together (SO_REUSEPORT)
    public_base_url: str = ""  # https://... reaching this server: summary files are links under it
    messages_per_second: float = Field(default=5.0, gt=0, le=30)  # Zalo publishes no rate: stay gentle
    link_lifetime_hours: int = Field(default=24, ge=1, le=24 * 14)
    api_base_url: str = ZALO_API_BASE  # a test server, a proxy or a mirror of the Zalo Bot API
    token: SecretStr | None = None  # from ZALO_BOT_TOKEN only
    webhook_secret: SecretStr | None = None  # from ZALO_WEBHOOK_SECRET only

    @field_validator("api_base_url")
    @classmethod
    def _api_base(cls, value: str) -> str:
        return check_api_url(value) or ZALO_API_BASE

    @model_validator(mode="after")
    def _check(self) -> ZaloConfig:
        if self.enabled:
            check_zalo_channel(
                token=self.token.get_secret_value() if self.token else None, mode=self.mode,
                webhook_url=self.webhook_url,
                secret=self.webhook_secret.get_secret_value() if self.webhook_secret else None,
            )
        return self


def check_zalo_channel(*, token: str | None, mode: str, webhook_url: str, secret: str | None) -> None:
    """What a running Zalo channel needs, for [zalo] here and for handlers.zalo.server.ZaloSettings alike:
    a ValueError that names the missing piece."""
    if not token:
        raise ValueError(f"enabled = true needs the bot token in the environment variable {ZALO_TOKEN_ENV}")
    if mode == "webhook":
        if not webhook_url.startswith("https://"):
            raise ValueError('mode = "webhook" needs webhook_url = "https://..."')
        if not ZALO_SECRET_MIN <= len(secret or "") <= ZALO_SECRET_MAX:
            raise ValueError(f'mode = "webhook" needs {ZALO_SECRET_ENV} of {ZALO_SECRET_MIN} to {ZALO_SECRET_MAX} '
                             "characters")


class StorageConfig(_Section):
    # url: sqlite:///file (relative to the config file's folder) or postgresql://user@host:5432/database, the
    # password from BOT_DB_PASSWORD only. Empty: the SQLite file at `path`, the embedded default.
    url: str = ""
    path: Path = Path("data/congdoan.sqlite3")
    busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)
    pool_size: int = Field(default=10, ge=1, le=200)  # connections per process to a PostgreSQL server

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if value:
            try:
                check_url(value)
            except StorageUrlError as exc:
                raise ValueError(exc.english()) from None
        return value


class RemindersConfig(_Section):
    enabled: bool = True
    days_before: tuple[int, ...] = (7, 3, 1, 0)
    days_after: tuple[int, ...] = (1, 3, 7)
    send_time: time = time(8, 0)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    skip_sundays: bool = False
    skip_holidays: bool = False
    grace_hours: int = Field(default=24, ge=0, le=24 * 14)
    escalate_after_days: int = Field(default=3, ge=0, le=60)
    messages_per_second: float = Field(default=29.0, gt=0, le=30)
    per_chat_interval_s: float = Field(default=1.0, ge=0)
    max_attempts: int = Field(default=5, ge=1, le=50)
    summary_days_after: tuple[int, ...] = (0, 3)  # completeness pushed at the due instant and 3 days later

    @field_validator("summary_days_after")
    @classmethod
    def _summary_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(v < 0 or v > 60 for v in value):
            raise ValueError("days are whole numbers from 0 to 60")
        return tuple(sorted(set(value)))

    @field_validator("days_before", "days_after")
    @classmethod
    def _offsets(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(v < 0 or v > 60 for v in value):
            raise ValueError("offsets are whole days from 0 to 60")
        return tuple(sorted(set(value), reverse=True))


class ReviewConfig(_Section):
    """Review and approval (issue 15): when a waiting report is pointed out, the reviewers' daily digest, locks."""

    waiting_days: int = Field(default=3, ge=1, le=60)  # waiting longer: in the pushed completeness and the digest
    escalate_days: int = Field(default=7, ge=1, le=120)  # waiting longer: the department is told too
    digest_time: time = time(8, 0)  # the reviewers' daily digest, moved out of quiet hours like a reminder
    digest: bool = True
    return_unlock_days: int = Field(default=7, ge=1, le=90)  # a report returned after closing stays open this long

    @model_validator(mode="after")
    def _escalate_after_waiting(self) -> ReviewConfig:
        if self.escalate_days < self.waiting_days:
            raise ValueError("escalate_days must be at least waiting_days")
        return self


class UploadsConfig(_Section):
    max_photo_mb: float = Field(default=10, gt=0, le=20)
    max_document_mb: float = Field(default=20, gt=0, le=20)  # the Bot API download limit is 20 MB
    document_types: tuple[str, ...] = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".jpg", ".jpeg", ".png")


class InvitesConfig(_Section):
    default_expiry_days: int = Field(default=14, ge=1, le=365)


class Config(_Section):
    app: AppConfig = AppConfig()
    telegram: TelegramConfig = TelegramConfig()
    zalo: ZaloConfig = ZaloConfig()
    storage: StorageConfig = StorageConfig()
    reminders: RemindersConfig = RemindersConfig()
    review: ReviewConfig = ReviewConfig()
    uploads: UploadsConfig = UploadsConfig()
    invites: InvitesConfig = InvitesConfig()
    web: WebConfig = WebConfig()
    dashboard: DashboardConfig = DashboardConfig()
    base_dir: Path = Path(".")  # the config file's folder; relative paths are taken from it

    @model_validator(mode="after")
    def _one_port_each(self) -> Config:
        """Telegram's webhook server and the web server (Zalo, files, dashboard) are two servers: they cannot
        share a port."""
        tg, web = self.telegram, self.web_server
        if tg.mode == "webhook" and self.serves_web and tg.webhook_port == web.port and \
                (tg.webhook_listen == web.listen or "0.0.0.0" in (tg.webhook_listen, web.listen)):  # noqa: S104
            raise ValueError(f"[telegram] webhook_port and [web] port are both {web.port}: give each its own port")
        return self

    @property
    def web_server(self) -> WebServer:
        """[web], each key unset there taken from [zalo] (where it lived before [web] existed)."""
        web, zalo = self.web, self.zalo
        return WebServer(
            listen=zalo.listen if web.listen is None else web.listen,
            port=zalo.port if web.port is None else web.port,
            shared_port=zalo.shared_port if web.shared_port is None else web.shared_port,
            public_base_url=zalo.public_base_url if web.public_base_url is None else web.public_base_url,
            forwarded_for=web.forwarded_for)

    @property
    def dashboard_url(self) -> str:
        """The dashboard's public address (Telegram's Mini App opens it), or "" when it is off or the bot has no
        public address ([web] public_base_url, or [zalo]'s as before [web])."""
        base = self.web_server.public_base_url
        return f"{base.rstrip('/')}/dashboard/" if self.dashboard.enabled and base else ""

    @property
    def serves_web(self) -> bool:
        """The web server runs: Zalo's webhook or file links, or the dashboard."""
        zalo = self.zalo
        zalo_serves = zalo.enabled and (zalo.mode == "webhook" or bool(self.web_server.public_base_url))
        return zalo_serves or self.dashboard.enabled

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.base_dir / path)

    @property
    def has_channel(self) -> bool:
        """Some channel can reach people: Telegram (its token is set) or Zalo ([zalo] enabled)."""
        return self.telegram.token is not None or self.zalo.enabled

    @property
    def db_url(self) -> str:
        """The database to open: [storage] url, or the SQLite file at [storage] path."""
        return self.storage.url or f"{SQLITE_PREFIX}{self.resolve(self.storage.path)}"

    @property
    def uses_sqlite(self) -> bool:
        return self.db_url.startswith(SQLITE_PREFIX)

    @property
    def db_path(self) -> Path:
        """The SQLite file (of [storage] url when it names one, else [storage] path)."""
        return sqlite_path(self.db_url, self.base_dir) or self.resolve(self.storage.path)

    @property
    def db_display(self) -> str:
        """Where the database is, as a message may show it: the SQLite file, or the server's URL."""
        return str(self.db_path) if self.uses_sqlite else redact(self.db_url)

    @property
    def data_dir(self) -> Path:
        return self.resolve(self.app.data_dir)

    @property
    def campaigns_dir(self) -> Path:
        return self.resolve(self.app.campaigns_dir)

    @property
    def locales_dir(self) -> Path:
        return self.resolve(self.app.locales_dir)


# Each channel's secrets: (section, token variable, webhook secret variable); never read from the file.
_SECRETS = (("telegram", TOKEN_ENV, WEBHOOK_SECRET_ENV), ("zalo", ZALO_TOKEN_ENV, ZALO_SECRET_ENV))


def _refuse_url_password(storage: object, source: str) -> None:
    """A password written into [storage] url is refused, in the reader's language, without quoting it."""
    url = storage.get("url") if isinstance(storage, dict) else None
    if isinstance(url, str) and "://" in url and _has_password(url):
        raise ConfigError(N_("{source}: [storage] url contains a password. Remove it from the URL and put it in "
                             "the environment variable {variable} instead."), source=source, variable=PASSWORD_ENV)


def _has_password(url: str) -> bool:
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Load config.toml (or --config / BOT_CONFIG), apply env overrides and secrets, validate."""
    environ = os.environ if environ is None else environ
    if path is None:
        path = Path(environ[CONFIG_ENV]) if environ.get(CONFIG_ENV) else DEFAULT_CONFIG
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(N_("{path}: configuration file not found (use --config or {variable})"), path=path,
                          variable=CONFIG_ENV) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(N_("{path}: not valid TOML: {reason}"), path=path, reason=exc) from None
    if "base_dir" in data:
        raise ConfigError(N_("{path}: base_dir: unknown key (paths are relative to the file's folder)"), path=path)
    for section, token_env, secret_env in _SECRETS:
        table = data.get(section, {})
        if isinstance(table, dict) and ({"token", "webhook_secret"} & table.keys()):
            raise ConfigError(N_("{path}: [{section}] token/webhook_secret: secrets belong in {token_env} / "
                                 "{secret_env}, never in the file"), path=path, section=section,
                              token_env=token_env, secret_env=secret_env)
    _refuse_url_password(data.get("storage"), str(path))
    overridden = apply_env(data, environ)
    _refuse_url_password(data.get("storage"), f"{ENV_PREFIX}STORAGE__URL")
    for section, token_env, secret_env in _SECRETS:
        table = data.setdefault(section, {})
        if isinstance(table, dict):
            if environ.get(token_env):
                table["token"] = environ[token_env]
            if environ.get(secret_env):
                table["webhook_secret"] = environ[secret_env]
    data["base_dir"] = path.resolve().parent
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        # pydantic's own messages stay English; the keys and values they name read the same in every language.
        raise ConfigError(N_("{problems}"), problems=describe(exc, path, overridden)) from None
