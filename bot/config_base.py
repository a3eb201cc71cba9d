"""The ground every configuration section stands on: the error that names a key, the strict frozen section, the
secrets' variable names, and the BOT__SECTION__KEY overrides with the messages that say which source was wrong."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.errors import N_, TranslatableError

ENV_PREFIX = "BOT__"
CONFIG_ENV = "BOT_CONFIG"
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"  # noqa: S105 - a variable name, not a secret
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"  # noqa: S105
ZALO_TOKEN_ENV = "ZALO_BOT_TOKEN"  # noqa: S105
ZALO_SECRET_ENV = "ZALO_WEBHOOK_SECRET"  # noqa: S105
_SECRET_KEYS = frozenset({"token", "webhook_secret"})  # in [telegram] and [zalo], from the environment only


class ConfigError(TranslatableError):
    """The configuration cannot be used; the message names the key and the expectation."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_env_value(raw: str) -> Any:
    """Read an override as a TOML value when it is one (numbers, booleans, arrays), else as text."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> set[tuple[str, str]]:
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


def describe(exc: ValidationError, path: Path, overridden: set[tuple[str, str]]) -> str:
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
