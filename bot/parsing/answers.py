"""The readers callers use: a number, an amount of money, a percentage, yes/no, a date; and an amount
read back in words. Each returns a value or raises ParseError with a message that gives an example."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from num2words import num2words

from bot.i18n import normalise_locale
from bot.parsing.numbers import MAX_MONEY, MAX_NUMBER, _Problem, _read, _Refused
from bot.parsing.text import _SPACES, ParseError, _clean, _strip_tail
from bot.vi_text import LEADING_WORDS, NO_WORDS, YES_WORDS, fold


def _tidy(value: Decimal) -> Decimal:
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize()


def _grouped(value: Decimal) -> str:
    return f"{int(value):,}".replace(",", ".")


def _refusal(refused: _Refused, *, one: str, large: str, otherwise: ParseError) -> ParseError:
    """What to tell someone whose answer _read refused; `one` and `large` are the examples to show for several
    numbers and for one too large, `otherwise` the message for no number at all."""
    if refused.problem is _Problem.SEVERAL:
        return ParseError("Please type just one number, for example {example}.", example=one)
    if refused.problem is _Problem.TOO_LARGE:
        return ParseError("That number is too large. Please check it and type it again, for example {example}.",
                          example=large)
    return otherwise


def parse_number(
    text: str, *, allow_negative: bool = False, integer: bool = False, context: Iterable[str] = ()
) -> Decimal:
    """A count or measure: "1.500", "1,5", "15 người", "khoảng 15", "không" (0), "2 nghìn". `context`: texts
    (the question, its unit) whose words may stand beside the number."""
    try:
        reading = _read(text, money=False, context=context)
    except _Refused as refused:
        otherwise = ParseError("Please type a number, for example {example}.", example="15")
        raise _refusal(refused, one="15", large="1.500", otherwise=otherwise) from None
    value = reading.value
    if value < 0 and not allow_negative:
        raise ParseError("Please type a number that is 0 or more, for example {example}.", example="15")
    if abs(value) > MAX_NUMBER:
        raise ParseError(
            "That number is too large. Please check it and type it again, for example {example}.", example="1.500"
        )
    if integer and reading.alternative is not None:
        raise ParseError("Please type a whole number, for example {example}.", example=_grouped(reading.alternative))
    if integer and value != value.to_integral_value():
        raise ParseError("Please type a whole number, for example {example}.", example="15")
    return _tidy(value)


def parse_money(text: str, *, context: Iterable[str] = ()) -> int:
    """Whole đồng: "2.000.000đ", "2tr", "1tr5", "2 triệu rưỡi", "500k", "1 tỷ", "2 triệu 500 nghìn"."""
    try:
        reading = _read(text, money=True, context=context)
    except _Refused as refused:
        otherwise = ParseError("Please type the amount in đồng, for example {example} or {example_short}.",
                               example="2.000.000", example_short="2 triệu")
        raise _refusal(refused, one="2.000.000", large="2.000.000", otherwise=otherwise) from None
    value = reading.value if reading.alternative is None else reading.alternative
    if value < 0:
        raise ParseError("Please type a number that is 0 or more, for example {example}.", example="2.000.000")
    if value > MAX_MONEY:
        raise ParseError(
            "That number is too large. Please check it and type it again, for example {example}.", example="2.000.000"
        )
    if value != value.to_integral_value():
        raise ParseError("Please type the amount in whole đồng, for example {example}.", example="1.500.000")
    return int(value)


def parse_percent(text: str, *, context: Iterable[str] = ()) -> Decimal:
    """ "12,5%", "12.5", "12,5 phần trăm" -> Decimal("12.5"); 0 to 100."""
    try:
        value = _read(text, money=False, percent=True, context=context).value
    except _Refused:
        value = None
    if value is None or not 0 <= value <= 100:
        raise ParseError("Please type a percentage from 0 to 100, for example {example}.", example="12,5%")
    return _tidy(value)


# --- yes / no -----------------------------------------------------------------------------------

_YES_NO_SEPARATORS = re.compile(r"[,;:/\-]+")


def parse_yes_no(text: str) -> bool:
    """ "có", "rồi", "ok", "👍" -> True; "không", "ko", "chưa", "0", "❌" -> False. "1" is refused."""
    answer = fold(_SPACES.sub(" ", _YES_NO_SEPARATORS.sub(" ", _clean(text))).strip())
    while True:
        answer = _strip_tail(answer)
        if answer in YES_WORDS:
            return True
        if answer in NO_WORDS:
            return False
        first, _, rest = answer.partition(" ")
        if not rest or first not in LEADING_WORDS:
            break
        answer = rest
    raise ParseError('Please answer "có" (yes) or "không" (no).')


# --- dates --------------------------------------------------------------------------------------

# "thứ 2, ngày mùng 5/8": the weekday and the words before a day carry no information we need.
_DATE_PREFIX = re.compile(
    r"(?:(?:thu ?(?:[2-7]|hai|ba|tu|nam|sau|bay)|chu nhat|cn|t[2-7])[ ,]+)?(?:ngay ?)?(?:mung|mong)? ?"
)
_ISO_DATE = re.compile(r"([0-9]{4}) ?[-/.] ?([0-9]{1,2}) ?[-/.] ?([0-9]{1,2})")
_NUMERIC_DATE = re.compile(r"([0-9]{1,2}) ?[-/.] ?([0-9]{1,2})(?: ?[-/.] ?([0-9]{4}|[0-9]{2}))?")
_WORDS_DATE = re.compile(r"([0-9]{1,2}) ?(?:thang|thg|th) ?([0-9]{1,2})(?: ?,? ?(?:nam )?([0-9]{4}|[0-9]{2}))?")


def parse_date(text: str, default_year: int) -> date:
    """Day first, always: "5/8", "05/08/2024", "5-8-24", "ngày 5 tháng 8 năm 2024", "2024-08-05"."""
    answer = fold(_clean(text))
    if prefix := _DATE_PREFIX.match(answer):
        answer = answer[prefix.end() :]
    if m := _ISO_DATE.fullmatch(answer):
        year, month, day = m[1], m[2], m[3]
    elif m := _NUMERIC_DATE.fullmatch(answer) or _WORDS_DATE.fullmatch(answer):
        day, month, year = m[1], m[2], m[3]
    else:
        raise ParseError(
            "Please type the date as day/month/year, for example {example} or {example_short}.",
            example="05/08/2024",
            example_short="5/8",
        )
    full_year = default_year if year is None else int(year) + (2000 if len(year) == 2 else 0)
    try:
        if not 1900 <= full_year <= 2100:
            raise ValueError(full_year)
        return date(full_year, int(month), int(day))
    except ValueError:
        raise ParseError(
            "There is no such date. Please check the day, month and year, for example {example}.",
            example="05/08/2024",
        ) from None


# --- reading amounts back -----------------------------------------------------------------------

_POINT = {"vi": "phẩy", "en": "point"}
_MINUS = {"vi": "âm", "en": "minus"}


def _spell_whole(n: int, lang: str) -> str:
    if lang != "vi" or n < 10**12:
        return num2words(n, lang=lang)
    # num2words says "một nghìn tỷ hai trăm ba mươi bốn tỷ" for 1.234 tỷ; say it the usual way.
    billions, rest = divmod(n, 10**9)
    words = f"{_spell_whole(billions, lang)} tỷ"
    if rest:
        words += num2words(10**9 + rest, lang="vi").removeprefix("một tỷ")
    return words


def spell_amount(value: int | Decimal, locale: str) -> str:
    """Words for read-back: vi "hai triệu", "một phẩy năm"; en "two million", "one point five"."""
    lang = normalise_locale(locale)
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"cannot spell {value!r}")
    fraction = format(abs(amount), "f").partition(".")[2].rstrip("0")
    words = _spell_whole(int(abs(amount)), lang)
    if fraction:
        words += f" {_POINT[lang]} " + " ".join(num2words(int(d), lang=lang) for d in fraction)
    if amount < 0:
        words = f"{_MINUS[lang]} {words}"
    return words
