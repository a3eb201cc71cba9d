"""Translations and locale formatting.

Catalogs are gettext .po files under locales/<lang>/LC_MESSAGES/messages.po, read with Babel and
compiled in memory, so the .po file is the only source (nothing binary to keep in step). Message
ids are English; Vietnamese is the default language. The locale is resolved at the adapter and
passed in; nothing here reads a global "current user".
"""

from __future__ import annotations

import gettext
import io
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

_Date = date  # inside Translator, `date` names its method
_Instant = datetime  # and `datetime` too
LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
DOMAIN = "messages"
DEFAULT_LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def normalise_locale(code: str | None) -> str:
    """Map a client's language code (e.g. Telegram's 'en-US') onto a supported locale."""
    if not code:
        return DEFAULT_LOCALE
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LOCALES else DEFAULT_LOCALE


@lru_cache(maxsize=8)
def _translations(locales_dir: Path, locale: str) -> gettext.NullTranslations:
    po_path = locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class Translator:
    """gettext for one locale, with the locale's number and date formats."""

    def __init__(self, locale: str = DEFAULT_LOCALE, locales_dir: Path = DEFAULT_LOCALES_DIR) -> None:
        self.locale = normalise_locale(locale)
        self._t = _translations(locales_dir.resolve(), self.locale)

    def gettext(self, message: str, **params: object) -> str:
        text = self._t.gettext(message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text.format(n=n, **params)

    __call__ = gettext

    # --- formatting ---------------------------------------------------------------------------
    def number(self, value: int | float | Decimal) -> str:
        """1.234.567 and 1,5 in Vietnamese; 1,234,567 and 1.5 in English."""
        return format_decimal(value, locale=self.locale, format="#,##0.###")

    def money(self, value: int | Decimal) -> str:
        unit = self.gettext("VND")
        return f"{self.number(value)} {unit}"

    def percent(self, value: float | Decimal) -> str:
        """value is a percentage (12.5 -> 12,5%)."""
        return format_percent(Decimal(str(value)) / 100, locale=self.locale, format="#,##0.#%")

    def date(self, value: date | datetime, zone: ZoneInfo | None = None) -> str:
        """dd/mm/yyyy, taking an instant in `zone` first."""
        if isinstance(value, datetime):
            value = value.astimezone(zone).date() if zone else value.date()
        return value.strftime("%d/%m/%Y")

    def weekday_date(self, value: _Date | datetime, zone: ZoneInfo | None = None) -> str:
        """'Thứ Hai, 05/08/2024' / 'Monday, 05/08/2024'."""
        if isinstance(value, datetime):
            value = value.astimezone(zone).date() if zone else value.date()
        return _weekday_date(value, self.locale)

    def datetime(self, value: datetime, zone: ZoneInfo) -> str:
        local = value.astimezone(zone)
        return f"{local:%H:%M} {self.date(local)}"

    # A due instant as the words "before …" of a message finish it: the day alone when the instant is
    # midnight (the campaigns without a time of day read exactly as they always did), else the time and the day.
    def due_date(self, value: _Instant, zone: ZoneInfo) -> str:
        """'10/04/2026', or '17:00 ngày 10/04/2026' / '17:00 on 10/04/2026'."""
        local = value.astimezone(zone)
        if local.hour == local.minute == 0:
            return self.date(local)
        return self.gettext("{time} on {date}", time=f"{local:%H:%M}", date=self.date(local))

    def due_weekday_date(self, value: _Instant, zone: ZoneInfo) -> str:
        """'Thứ Sáu, 10/04/2026', or '17:00, Thứ Sáu, 10/04/2026' / '17:00 on Friday, 10/04/2026'."""
        local = value.astimezone(zone)
        if local.hour == local.minute == 0:
            return self.weekday_date(local)
        return self.gettext("{time} on {day}", time=f"{local:%H:%M}", day=self.weekday_date(local))


@lru_cache(maxsize=4096)
def _weekday_date(value: date, locale: str) -> str:
    # Babel rebuilds the pattern on every call; a reminder wave asks for the same few dates thousands of times.
    weekday = _babel_date(value, "EEEE", locale=locale)
    return f"{weekday[:1].upper()}{weekday[1:]}, {value:%d/%m/%Y}"


@lru_cache(maxsize=8)
def translator(locale: str = DEFAULT_LOCALE, locales_dir: Path = DEFAULT_LOCALES_DIR) -> Translator:
    return Translator(locale, locales_dir)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return message
