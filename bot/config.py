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
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from bot.clock import check_zone
from bot.errors import N_, TranslatableError
from storage.connect import PASSWORD_ENV, SQLITE_PREFIX, StorageUrlError, check_url, redact, sqlite_path

ENV_PREFIX = "BOT__"
CONFIG_ENV = "BOT_CONFIG"
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"  # noqa: S105 - a variable name, not a secret
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"  # noqa: S105
ZALO_TOKEN_ENV = "ZALO_BOT_TOKEN"  # noqa: S105
ZALO_SECRET_ENV = "ZALO_WEBHOOK_SECRET"  # noqa: S105
ZALO_SECRET_MIN, ZALO_SECRET_MAX = 8, 256  # the length Zalo's setWebhook accepts for secret_token
# What Telegram's setWebhook accepts as secret_token: 1 to 256 of A-Z, a-z, 0-9, _ and -.
TELEGRAM_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
ZALO_API_BASE = "https://bot-api.zaloplatforms.com"  # the public Zalo Bot API server
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.toml"
_SECRET_KEYS = frozenset({"token", "webhook_secret"})  # in [telegram] and [zalo], from the environment only


class ConfigError(TranslatableError):
    """The configuration cannot be used; the message names the key and the expectation."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class WebConfig(_Section):
    """The bot's one HTTP server: Zalo's webhook, the signed file links and the dashboard. A key left unset here
    takes [zalo]'s key of the same name (listen, port, shared_port, public_base_url), where it lived before [web]
    existed: config files written for that go on working."""

    listen: str | None = None  # default 127.0.0.1
    port: int | None = Field(default=None, ge=1, le=65535)  # default 8444
    shared_port: bool | None = None  # several bot processes (PostgreSQL) listen on this one port together
    public_base_url: str | None = None  # https://... reaching listen:port through the reverse proxy
    # Behind a reverse proxy every request comes from the proxy's address: true takes the client's address from
    # the last X-Forwarded-For entry (the one the proxy added) for the sign-in rate limits. Only behind a proxy.
    forwarded_for: bool = False

    @field_validator("public_base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        return None if value is None else check_public_url(value)


def check_public_url(value: str) -> str:
    """http(s)://host[:port][/path], without a query: links are built by appending paths to it."""
    value = value.strip()
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or "@" in parts.netloc or any(c.isspace() for c in value):
        raise ValueError("expected the public address of this server, http(s)://host[:port][/path], "
                         "e.g. https://congdoan.example.vn")
    return value.rstrip("/")


@dataclass(frozen=True, slots=True)
class WebServer:
    """The web server's settings as they apply: Config.web_server."""

    listen: str
    port: int
    shared_port: bool
    public_base_url: str
    forwarded_for: bool = False

    @property
    def https(self) -> bool:
        return self.public_base_url.startswith("https://")


class DashboardConfig(_Section):
    """The department's dashboard (issue 16), served under /dashboard by the [web] server."""

    enabled: bool = False
    session_hours: float = Field(default=8, gt=0, le=24 * 7)  # a session ends this long after sign-in
    auth_max_age_hours: float = Field(default=24, gt=0, le=24 * 7)  # Telegram's initData older than this: refused
    link_minutes: int = Field(default=10, ge=1, le=24 * 60)  # a /bangtheodoi link is valid this long, once
    signin_limit: int = Field(default=20, ge=1, le=10_000)  # sign-in attempts per client address and route...
    signin_window_seconds: int = Field(default=300, ge=1, le=86_400)  # ...within this sliding window


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


def _parse_env_value(raw: str) -> Any:
    """Read an override as a TOML value when it is one (numbers, booleans, arrays), else as text."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> set[tuple[str, str]]:
    """Overlay BOT__SECTION__KEY variables onto the file's data; return the keys they set."""
    overridden: set[tuple[str, str]] = set()
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(N_("{name}: expected BOT__SECTION__KEY, e.g. BOT__STORAGE__PATH"), name=name)
        section, key = parts
        if key in ("token", "webhook_secret"):
            raise ConfigError(N_("{name}: secrets come from {variables}"), name=name,
                              variables=f"{TOKEN_ENV} / {WEBHOOK_SECRET_ENV} / {ZALO_TOKEN_ENV} / {ZALO_SECRET_ENV}")
        target = data.setdefault(section, {})
        if not isinstance(target, dict):
            raise ConfigError(N_("{name}: [{section}] is not a section"), name=name, section=section)
        target[key] = _parse_env_value(raw)
        overridden.add((section, key))
    return overridden


def _may_quote(loc: list[str], value: Any) -> bool:
    """A wrong value is quoted back, but never a secret nor a whole section (which holds the secrets)."""
    return not isinstance(value, Mapping) and not (loc and loc[-1] in _SECRET_KEYS)


def _describe(exc: ValidationError, path: Path, overridden: set[tuple[str, str]]) -> str:
    lines = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        where = f"[{loc[0]}] {'.'.join(loc[1:])}" if len(loc) > 1 else loc[0] if loc else "(file)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling against config.toml)"
        elif "input" in err and err["type"] != "missing" and _may_quote(loc, err["input"]):
            msg = f"{msg} (got {err['input']!r})"
        source = str(path)
        if len(loc) >= 2 and (loc[0], loc[1]) in overridden:
            source = f"{ENV_PREFIX}{loc[0].upper()}__{loc[1].upper()}"
        lines.append(f"{source}: {where}: {msg}")
    return "\n".join(lines)


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
    overridden = _apply_env(data, environ)
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
        raise ConfigError(N_("{problems}"), problems=_describe(exc, path, overridden)) from None
