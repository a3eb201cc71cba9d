"""Every message has a Vietnamese translation; numbers and dates come out the Vietnamese way."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import Translator, normalise_locale

KEYWORDS = {"t": None, "_p": (2,), "N_": None, "ParseError": None, "gettext": None, "ngettext": (1, 2)}
SOURCE_DIRS = ("bot", "handlers", "scheduler", "storage")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def messages_in_code(repo: Path) -> set[str]:
    found: set[str] = set()
    for folder in SOURCE_DIRS:
        for _file, _line, message, _comments, _context in extract_from_dir(
            repo / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def catalog(repo: Path, locale: str):
    with (repo / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def test_every_message_in_the_code_has_a_vietnamese_translation(repo: Path) -> None:
    vi = catalog(repo, "vi")
    translated = {}
    for m in vi:
        if not m.id:
            continue
        key = m.id if isinstance(m.id, str) else m.id[0]
        text = m.string if isinstance(m.string, str) else m.string[0]
        if text and not m.fuzzy:
            translated[key] = text
    missing = sorted(messages_in_code(repo) - translated.keys())
    assert not missing, "No Vietnamese translation (run locales/update-catalogs.sh, then translate):\n" + "\n".join(
        missing
    )


def test_translations_keep_the_placeholders(repo: Path) -> None:
    for m in catalog(repo, "vi"):
        if not m.id or not m.string:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        wanted = set().union(*(PLACEHOLDER.findall(i) for i in ids)) - {"n"}
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) - {"n"} == wanted, (m.id, s)


def test_vietnamese_is_the_default_and_english_is_available(repo: Path) -> None:
    vi = Translator("vi", repo / "locales")
    en = Translator("en", repo / "locales")
    assert vi("Unit: {name} ({code})", name="A", code="B") == "Đơn vị: A (B)"
    assert en("Unit: {name} ({code})", name="A", code="B") == "Unit: A (B)"
    assert vi.ngettext("{n} day left", "{n} days left", 3) == "còn 3 ngày"
    assert en.ngettext("{n} day left", "{n} days left", 1) == "1 day left"


@pytest.mark.parametrize(("code", "expected"), [(None, "vi"), ("vi", "vi"), ("en-US", "en"), ("fr", "vi"), ("", "vi")])
def test_client_language_codes_map_onto_supported_locales(code: str | None, expected: str) -> None:
    assert normalise_locale(code) == expected


def test_numbers_money_percent_and_dates_in_vietnamese_style(repo: Path) -> None:
    t = Translator("vi", repo / "locales")
    assert t.number(1234567) == "1.234.567"
    assert t.number(Decimal("1.5")) == "1,5"
    assert t.money(2000000) == "2.000.000 đồng"
    assert t.percent(Decimal("12.5")) == "12,5%"
    assert t.percent(100) == "100%"
    assert t.date(date(2024, 8, 5)) == "05/08/2024"
    assert t.weekday_date(date(2024, 8, 5)) == "Thứ Hai, 05/08/2024"
    # An instant is shown in the given zone: 17:00 UTC on the 4th is midnight of the 5th in Việt Nam.
    from zoneinfo import ZoneInfo

    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    assert t.date(datetime(2024, 8, 4, 17, 0, tzinfo=UTC), vn) == "05/08/2024"
    assert t.datetime(datetime(2024, 8, 4, 17, 30, tzinfo=UTC), vn) == "00:30 05/08/2024"


def test_english_formats(repo: Path) -> None:
    t = Translator("en", repo / "locales")
    assert t.number(1234567) == "1,234,567"
    assert t.percent(Decimal("12.5")) == "12.5%"
    assert t.weekday_date(date(2024, 8, 5)) == "Monday, 05/08/2024"


def test_no_message_is_hidden_inside_an_f_string(repo: Path) -> None:
    # Babel cannot see t("...") inside an f-string, so such a message would never be translated.
    pattern = re.compile(r"""f(["']).*?\{t\((["'])""")
    offenders = []
    for folder in SOURCE_DIRS:
        for path in (repo / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(repo)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
