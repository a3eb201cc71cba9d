"""Telegram Mini App sign-in: initData checked by Telegram's published algorithm (HMAC-SHA256 with the key
"WebAppData", the sorted data-check string without `hash`), a recent auth_date, and the fields it must carry."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import pytest

from bot.dashboard.init_data import MAX_INIT_DATA, check_init_data, sign
from tests.dashboard_people import OTHER_BOT_TOKEN
from tests.telegram_fakes import FAKE_TOKEN

TOKEN = FAKE_TOKEN
NOW = datetime(2026, 4, 9, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def signed(fields: dict[str, str], token: str = TOKEN) -> str:
    return urlencode({**fields, "hash": sign(fields, token)})


def fields(user_id: int | str = 4242, auth: datetime = NOW, **extra: str) -> dict[str, str]:
    user = json.dumps({"id": user_id, "first_name": "Lan", "username": "lan_cd", "language_code": "vi"},
                      ensure_ascii=False)
    return {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "user": user, "auth_date": str(int(auth.timestamp())), **extra}


def test_valid_init_data_gives_the_user_telegram_vouches_for() -> None:
    user = check_init_data(signed(fields()), TOKEN, NOW + timedelta(minutes=3), DAY)
    assert user is not None
    assert (user.id, user.first_name, user.username, user.language_code) == (4242, "Lan", "lan_cd", "vi")
    assert user.auth_date == NOW


def test_the_hash_is_the_published_algorithm_computed_independently() -> None:
    # Written out as Telegram's page states it, without the module's helpers.
    data = fields(signature="abc")
    check_string = "\n".join(f"{k}={data[k]}" for k in sorted(data))
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()
    raw = "&".join(f"{k}={quote(v, safe='')}" for k, v in data.items()) + f"&hash={expected}"
    assert check_init_data(raw, TOKEN, NOW, DAY) is not None


def test_a_forged_hash_is_refused() -> None:
    data = fields()
    forged = urlencode({**data, "hash": sign(data, OTHER_BOT_TOKEN)})
    assert check_init_data(forged, TOKEN, NOW, DAY) is None
    assert check_init_data(urlencode({**data, "hash": "0" * 64}), TOKEN, NOW, DAY) is None


@pytest.mark.parametrize(("field", "value"), [("user", json.dumps({"id": 1, "first_name": "Mallory"})),
                                          ("auth_date", str(int((NOW + timedelta(seconds=1)).timestamp()))),
                                          ("query_id", "other")])
def test_a_changed_field_breaks_the_signature(field: str, value: str) -> None:
    data = fields()
    good = sign(data, TOKEN)
    assert check_init_data(urlencode({**data, field: value, "hash": good}), TOKEN, NOW, DAY) is None


def test_an_added_field_breaks_the_signature() -> None:
    data = fields()
    assert check_init_data(urlencode({**data, "chat_type": "private", "hash": sign(data, TOKEN)}), TOKEN, NOW,
                           DAY) is None


def test_a_stale_auth_date_is_refused_and_the_age_is_configurable() -> None:
    old = signed(fields(auth=NOW - timedelta(hours=25)))
    assert check_init_data(old, TOKEN, NOW, DAY) is None
    assert check_init_data(old, TOKEN, NOW, timedelta(hours=26)) is not None


def test_an_auth_date_in_the_future_beyond_the_skew_is_refused() -> None:
    assert check_init_data(signed(fields(auth=NOW + timedelta(hours=1))), TOKEN, NOW, DAY) is None
    assert check_init_data(signed(fields(auth=NOW + timedelta(minutes=1))), TOKEN, NOW, DAY) is not None


@pytest.mark.parametrize("missing", ["hash", "auth_date", "user"])
def test_a_missing_field_is_refused(missing: str) -> None:
    data = fields()
    data.pop(missing, None)
    raw = urlencode(data) if missing == "hash" else signed(data)
    assert check_init_data(raw, TOKEN, NOW, DAY) is None


@pytest.mark.parametrize("user", ['{"id": "4242"}', '{"id": 1.5}', '{"id": true}', '{"first_name": "x"}', "[4242]",
                                  "not json", '{"id": -5}'])
def test_a_user_that_is_not_an_object_with_an_integer_id_is_refused(user: str) -> None:
    data = fields()
    data["user"] = user
    assert check_init_data(signed(data), TOKEN, NOW, DAY) is None


@pytest.mark.parametrize("auth", ["", "12ab", "١٢٣", "99999999999999999999"])
def test_an_auth_date_that_is_not_a_number_is_refused(auth: str) -> None:
    data = fields()
    data["auth_date"] = auth
    assert check_init_data(signed(data), TOKEN, NOW, DAY) is None


def test_malformed_too_long_repeated_or_tokenless_data_is_refused() -> None:
    good = signed(fields())
    assert check_init_data(good, "", NOW, DAY) is None
    assert check_init_data("", TOKEN, NOW, DAY) is None
    assert check_init_data("no-equals-sign", TOKEN, NOW, DAY) is None
    assert check_init_data(good + "&user=" + quote('{"id": 1}'), TOKEN, NOW, DAY) is None  # a key twice
    padded = fields(pad="x" * MAX_INIT_DATA)
    assert check_init_data(signed(padded), TOKEN, NOW, DAY) is None
