"""The [web] and [dashboard] sections: the bot's one HTTP server and the department's dashboard it serves."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from bot.config_base import Section as _Section


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
