"""Telegram Mini App sign-in: the check of `initData` by Telegram's published algorithm ("Validating data
received via the Mini App").

secret_key = HMAC-SHA256(key="WebAppData", msg=bot_token); the data-check string is every received field but
`hash`, as `key=value` with the value URL-decoded, sorted by key and joined by "\\n"; the data is Telegram's when
hex(HMAC-SHA256(key=secret_key, msg=data_check_string)) equals `hash` (compared in constant time). A valid
signature is not enough: `auth_date` must be recent (a copied initData is replayable until then).

Pure: no I/O, no clock of its own (the caller passes now), so it is tested with a token of the test's own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

MAX_INIT_DATA = 8192  # Telegram's initData is well under 1 KiB; anything this long is not one
FUTURE_SKEW = timedelta(minutes=5)  # an auth_date this far ahead of our clock is still accepted (clocks drift)
HEX_HASH_LENGTH = 64


@dataclass(frozen=True, slots=True)
class TelegramUser:
    id: int
    first_name: str
    username: str | None
    language_code: str | None
    auth_date: datetime


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "hash")


def sign(fields: dict[str, str], bot_token: str) -> str:
    """The `hash` Telegram would send with these fields (tests build valid initData with it)."""
    return hmac.new(secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256).hexdigest()


def _fields(init_data: str) -> dict[str, str] | None:
    """The query string's fields, or None when it does not read as one (a repeated key is refused: which of the
    two would Telegram have signed?)."""
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        return None
    fields = dict(pairs)
    return fields if len(fields) == len(pairs) else None


def check_init_data(init_data: str, bot_token: str, now: datetime, max_age: timedelta) -> TelegramUser | None:
    """The user Telegram vouches for in `init_data`, or None: too long, malformed, a field missing, a hash that
    does not match, an auth_date older than `max_age` (or from the future beyond a small skew), a user that is
    not a JSON object with an integer id."""
    if not bot_token or not init_data or len(init_data) > MAX_INIT_DATA:
        return None
    fields = _fields(init_data)
    if fields is None:
        return None
    given = fields.get("hash", "")
    if len(given) != HEX_HASH_LENGTH or "auth_date" not in fields or "user" not in fields:
        return None
    if not hmac.compare_digest(sign(fields, bot_token).encode(), given.lower().encode("ascii", "replace")):
        return None
    auth_date = _instant(fields["auth_date"])
    if auth_date is None or auth_date < now - max_age or auth_date > now + FUTURE_SKEW:
        return None
    return _user(fields["user"], auth_date)


def _instant(text: str) -> datetime | None:
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    return datetime.fromtimestamp(int(text), UTC)


def _user(text: str, auth_date: datetime) -> TelegramUser | None:
    try:
        user = json.loads(text)
    except ValueError:
        return None
    if not isinstance(user, dict):
        return None
    uid = user.get("id")
    if not isinstance(uid, int) or isinstance(uid, bool) or uid <= 0:
        return None
    first, username, language = user.get("first_name"), user.get("username"), user.get("language_code")
    return TelegramUser(uid, first if isinstance(first, str) else "",
                        username if isinstance(username, str) else None,
                        language if isinstance(language, str) else None, auth_date)
