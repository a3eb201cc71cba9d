"""What union chairs really type, read the way they meant it — or refused with an example."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import parsing
from bot.i18n import Translator
from bot.parsing import (
    ParseError,
    numbers,
    parse_date,
    parse_money,
    parse_number,
    parse_percent,
    parse_yes_no,
    spell_amount,
)
from bot.parsing import text as text_module
from bot.vi_text import fold

NUMBERS = [
    ("15", 15),
    ("1.500", 1500),
    ("1,5", Decimal("1.5")),
    ("1.500.000", 1500000),
    ("1,500", Decimal("1.5")),  # comma is the decimal mark in Vietnamese
    ("1,500,000", 1500000),  # several groups of three: English grouping from the phone
    ("1.500,5", Decimal("1500.5")),
    ("1,500.5", Decimal("1500.5")),
    ("1.5", Decimal("1.5")),
    ("0.500", Decimal("0.5")),
    ("1 500", 1500),
    ("1 500 000", 1500000),
    ("15 người", 15),
    ("15 đoàn viên", 15),
    ("khoảng 15", 15),
    ("15 (mười lăm)", 15),
    ("15 (15)", 15),
    ("Tổng.15", 15),
    ("15.", 15),
    ("15!", 15),
    ("15 ạ", 15),
    ("15 ạ.", 15),
    ("+15", 15),
    ("\u200b15\u00a0", 15),
    ("1\u200b500", 1500),
    ("１５", 15),
    ("không", 0),
    ("Không.", 0),
    ("không ạ", 0),
    ("khong", 0),
    ("ko", 0),
    ("k", 0),
    ("0", 0),
    ("chưa", 0),
    ("chưa có", 0),
    ("ko có", 0),
    ("không có", 0),
    ("kho\u0302\u0301ng", 0),  # NFD from the phone
    ("mười lăm", 15),
    ("hai mươi lăm người", 25),
    ("một trăm linh năm", 105),
    ("2 nghìn", 2000),
    ("15,0", 15),
    ("từ 15", 15),
    ("15 nam", 15),
    ("15 người lao động", 15),
    ("dạ 15 người ạ", 15),
    ("15 (mười lăm)", 15),
    ("15 năm", 15),
]


@pytest.mark.parametrize(("text", "expected"), NUMBERS)
def test_numbers_are_read_as_meant(text: str, expected: int | Decimal) -> None:
    assert parse_number(text) == expected


def test_negative_numbers_only_when_allowed() -> None:
    assert parse_number("-5", allow_negative=True) == -5
    assert parse_number("\u22125", allow_negative=True) == -5  # the typographic minus
    with pytest.raises(ParseError, match="0 or more"):
        parse_number("-5")


def test_whole_numbers() -> None:
    assert parse_number("1.500", integer=True) == 1500
    assert parse_number("15,0", integer=True) == 15
    with pytest.raises(ParseError, match="whole number, for example 15"):
        parse_number("1,5", integer=True)


def test_one_comma_then_three_digits_is_refused_for_a_count_with_the_dotted_form() -> None:
    with pytest.raises(ParseError) as caught:
        parse_number("1,500", integer=True)
    assert caught.value.params == {"example": "1.500"}


MONEY = [
    ("2 triệu", 2_000_000),
    ("2tr", 2_000_000),
    ("2 tr", 2_000_000),
    ("2 trieu", 2_000_000),
    ("2TR", 2_000_000),
    ("2.000.000đ", 2_000_000),
    ("2.000.000 đ", 2_000_000),
    ("2.000.000 đồng", 2_000_000),
    ("2.000.000 VND", 2_000_000),
    ("2.000.000 vnđ", 2_000_000),
    ("2 000 000", 2_000_000),
    ("2 củ", 2_000_000),
    ("khoảng 2 củ ạ", 2_000_000),
    ("1,5 triệu", 1_500_000),
    ("1.5tr", 1_500_000),
    ("1tr5", 1_500_000),
    ("2 triệu đồng chẵn", 2_000_000),  # "chẵn", "tròn": an even amount, said as people say it
    ("tròn 500 nghìn", 500_000),
    ("1tr25", 1_250_000),
    ("2tr05", 2_050_000),
    ("2 triệu rưỡi", 2_500_000),
    ("2 trieu ruoi", 2_500_000),
    ("500k", 500_000),
    ("500K", 500_000),
    ("500 nghìn", 500_000),
    ("500 ngàn", 500_000),
    ("500 ngan", 500_000),
    ("500 nghin", 500_000),
    ("5 trăm nghìn", 500_000),
    ("1 tỷ", 1_000_000_000),
    ("1 tỉ", 1_000_000_000),
    ("1ty", 1_000_000_000),
    ("1 tỷ 2", 1_200_000_000),
    ("1 nghìn tỷ", 1_000_000_000_000),
    ("2 triệu 500 nghìn", 2_500_000),
    ("2 triệu 500", 2_500_000),
    ("2 triệu, 500 nghìn", 2_500_000),
    ("1,500", 1500),  # money has no fractions of a đồng: this can only be grouping
    ("500,000đ", 500_000),
    ("1,500,000 đ", 1_500_000),
    ("hai triệu", 2_000_000),
    ("hai triệu rưỡi", 2_500_000),
    ("năm trăm nghìn đồng", 500_000),
    ("một nghìn không trăm linh năm", 1005),
    ("không", 0),
    ("ko", 0),
    ("0đ", 0),
    ("tôi có 2tr", 2_000_000),
    ("500kđ", 500_000),
    ("2trđ", 2_000_000),
    ("2 triệuđ", 2_000_000),
    # Number words beside digits are read, not skipped: these were 500, 2.000.000 and 2.000.000.
    ("hai triệu 500", 2_500_000),
    ("2 triệu năm", 2_500_000),
    ("2 triệu năm trăm", 2_500_000),
    # What the English hints offer.
    ("3 million", 3_000_000),
    ("12.5 million", 12_500_000),
    ("500 thousand", 500_000),
    ("1 billion", 1_000_000_000),
]


@pytest.mark.parametrize(("text", "expected"), MONEY)
def test_money_is_read_as_meant(text: str, expected: int) -> None:
    value = parse_money(text)
    assert value == expected
    assert type(value) is int


PERCENTS = [
    ("12,5%", Decimal("12.5")),
    ("12.5", Decimal("12.5")),
    ("12,5 phần trăm", Decimal("12.5")),
    ("12,5 phan tram", Decimal("12.5")),
    ("100%", 100),
    ("0", 0),
    ("không", 0),
    ("0,5 %", Decimal("0.5")),
]


@pytest.mark.parametrize(("text", "expected"), PERCENTS)
def test_percentages(text: str, expected: Decimal | int) -> None:
    assert parse_percent(text) == expected


YES = [
    "có", "co", "Có ạ", "CÓ", "co\u0301", "có nhé!", "rồi", "roi", "Rồi ạ.", "đã", "da", "đã làm", "da lam",
    "ok", "OK", "oke", "okie", "ừ", "u", "vâng", "Vâng ạ", "yes", "y", "x", "✅", "✅\ufe0f", "👍", "👍🏻",
    "dạ có ạ!", "  có   ", "đúng", "đúng rồi",
]  # fmt: skip
NO = [
    "không", "khong", "ko", "k", "0", "chưa", "chua", "chưa có", "no", "n", "không có", "ko có", "❌", "👎",
    "Không.", "không ạ", "KHÔNG", "Dạ, chưa ạ", "sai",
]  # fmt: skip


@pytest.mark.parametrize("text", YES)
def test_yes(text: str) -> None:
    assert parse_yes_no(text) is True


@pytest.mark.parametrize("text", NO)
def test_no(text: str) -> None:
    assert parse_yes_no(text) is False


DATES = [
    ("5/8", date(2024, 8, 5)),
    ("05/08/2024", date(2024, 8, 5)),
    ("5-8-2024", date(2024, 8, 5)),
    ("5.8.2024", date(2024, 8, 5)),
    ("5/8/24", date(2024, 8, 5)),
    ("5/8/2023", date(2023, 8, 5)),
    ("5 / 8 / 2024.", date(2024, 8, 5)),
    ("ngày 5 tháng 8", date(2024, 8, 5)),
    ("ngày 5 tháng 8 năm 2024", date(2024, 8, 5)),
    ("Ngay 5 thang 8 nam 2024", date(2024, 8, 5)),
    ("5 tháng 8", date(2024, 8, 5)),
    ("5 thg 8", date(2024, 8, 5)),
    ("ngày mùng 5/8", date(2024, 8, 5)),
    ("Thứ 2, ngày 5/8", date(2024, 8, 5)),
    ("2024-08-05", date(2024, 8, 5)),
    ("29/2", date(2024, 2, 29)),
    ("31/12", date(2024, 12, 31)),
]


@pytest.mark.parametrize(("text", "expected"), DATES)
def test_dates_are_day_first(text: str, expected: date) -> None:
    assert parse_date(text, default_year=2024) == expected


def _number(text: str) -> object:
    return parse_number(text)


def _count(text: str) -> object:
    return parse_number(text, integer=True)


def _date(text: str) -> object:
    return parse_date(text, default_year=2024)


REFUSED: list[tuple[Callable[[str], object], str]] = [
    (_number, "abc"),
    (_number, ""),
    (_number, "   "),
    (_number, "1.2.3"),
    (_number, "1..5"),
    (_number, "--5"),
    (_number, "-5"),
    (_number, ",5"),
    (_number, "15 và 20"),
    (_number, "15-20"),
    (_number, "không biết"),
    (_number, "năm nay chưa có"),  # "năm" is "year" here, not five
    (_number, "99999999999999999999"),
    (_number, "15 trạm"),  # a stray mark makes "trăm" (×100) a station: ask rather than guess
    (_number, "mười lăm hay mười sáu"),
    (_count, "1,5"),
    (_count, "1,500"),
    (parse_money, "abc"),
    (parse_money, ""),
    (parse_money, "-500k"),
    (parse_money, "-1,500"),
    (parse_money, "1,2345 nghìn"),
    (parse_money, "1,5"),
    (parse_money, "100 tỷ tỷ"),
    (parse_money, "20.000 tỷ"),
    (parse_money, "2 triệu 3 triệu"),
    (parse_money, "2 triệu 5000"),
    (parse_money, "2 triệu rưỡi 5"),
    (parse_money, "2 triêu"),  # not "triệu": off by a million if ignored
    (parse_money, "2 cũ"),
    (parse_percent, "101"),
    (parse_percent, "-1"),
    (parse_percent, "12.500%"),
    (parse_percent, "nhiều"),
    (parse_yes_no, "1"),
    (parse_yes_no, "✓"),
    (parse_yes_no, "abc"),
    (parse_yes_no, ""),
    (parse_yes_no, "có, 15 người"),
    (parse_yes_no, "có không"),
    (_date, "31/2"),
    (_date, "32/1/2024"),
    (_date, "abc"),
    (_date, ""),
    (_date, "5/13"),
    (_date, "8/25/2024"),  # never month first
    (_date, "29/2/2023"),
    (_date, "5/8/1024"),
]
EXAMPLE = re.compile(r"\d|\bcó\b|\byes\b")


@pytest.mark.parametrize(("parse", "text"), REFUSED)
def test_refused_with_an_example(parse: Callable[[str], object], text: str, repo: Path) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    rendered = caught.value.render(Translator("en", repo / "locales"))
    assert EXAMPLE.search(rendered), rendered
    assert rendered == str(caught.value)


REFUSAL_MESSAGES = [
    (parse_number, "15 và 20", "Please type just one number, for example 15."),
    (parse_number, "9" * 80, "That number is too large. Please check it and type it again, for example 1.500."),
    (parse_number, "abc", "Please type a number, for example 15."),
    (parse_money, "2 triệu 3 triệu", "Please type just one number, for example 2.000.000."),
    (parse_money, "9" * 80, "That number is too large. Please check it and type it again, for example 2.000.000."),
    (parse_money, "abc", "Please type the amount in đồng, for example 2.000.000 or 2 triệu."),
]


@pytest.mark.parametrize(("parse", "text", "message"), REFUSAL_MESSAGES)
def test_each_kind_of_refusal_has_its_message_and_example(parse: Callable[[str], object], text: str,
                                                          message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert str(caught.value) == message


def test_parse_error_keeps_its_msgid_and_params() -> None:
    err = ParseError("Please type a whole number, for example {example}.", example="15")
    assert err.message == "Please type a whole number, for example {example}."
    assert err.params == {"example": "15"}
    assert str(err) == "Please type a whole number, for example 15."
    assert isinstance(err, ValueError)


def test_every_message_is_a_literal_msgid_babel_can_extract(repo: Path) -> None:
    from babel.messages.extract import extract_from_file

    found = {
        message
        for path in sorted((repo / "bot" / "parsing").glob("*.py"))
        for _line, message, _comments, _context in extract_from_file("python", path, keywords={"ParseError": None})
    }
    assert 8 <= len(found) <= 12
    assert all("example" in m or "có" in m for m in found)


SPELLED = [
    (2_000_000, "vi", "hai triệu"),
    (2_000_000, "en", "two million"),
    (2_500_000, "vi", "hai triệu năm trăm nghìn"),
    (Decimal("1.5"), "vi", "một phẩy năm"),
    (Decimal("1.5"), "en", "one point five"),
    (Decimal("1.50"), "vi", "một phẩy năm"),
    (Decimal("2.0"), "vi", "hai"),
    (1_000_000_000, "vi", "một tỷ"),
    (10**13, "vi", "mười nghìn tỷ"),
    (10**13, "en", "ten trillion"),
    (1_234_000_000_000, "vi", "một nghìn hai trăm ba mươi bốn tỷ"),
    (1_000_000_000_005, "vi", "một nghìn tỷ lẻ năm"),
    (2_000_000, "en-US", "two million"),
]


@pytest.mark.parametrize(("value", "locale", "expected"), SPELLED)
def test_spell_amount(value: int | Decimal, locale: str, expected: str) -> None:
    assert spell_amount(value, locale) == expected


# --- fuzzing ------------------------------------------------------------------------------------

VI = Translator("vi")


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_number_only_ever_refuses_with_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_number(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.,-+ ktrđồngiệuỷỉrưỡinghìn%", max_size=30))
def test_number_like_text_only_ever_refuses_with_parse_error(text: str) -> None:
    for parse in (parse_number, parse_money, parse_percent):
        with contextlib.suppress(ParseError):
            parse(text)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_round_trip_through_the_vietnamese_format(n: int) -> None:
    assert parse_number(VI.number(n)) == n
    assert parse_money(f"{n}đ") == n
    assert parse_money(VI.money(n)) == n


# --- nothing typed is silently dropped ----------------------------------------------------------

# Each of these was once kept as another number: "l5" and "5O" as 5, "=1+1" as 1, "<b>7</b>" as 7.
NOT_SHORTENED = [
    "l5", "5O", "5o", "I5", "S0", "1O0", "l0l", "12a", "a12", "1 5O", "x15", "15x", "2 triệu rưỡi x",
    "=1+1", "1+1", "=SUM(A1)", "=15", "<b>7</b>", "#5", "5#", "5-", "- 5", "5/7", "15 * 2", "1..5", "@15",
    "15 abc", "abc 15", "15 đơn vị x", "2tr l", "15 👍", "1_500", "15&", "15 %", "hai triệu x",
    "15 phần trăm",  # a percentage is not a count
    "triệu 5", "k 15",  # a unit with no number before it
    "15 (mười sáu)",  # the words say another number
]  # fmt: skip


@pytest.mark.parametrize("text", NOT_SHORTENED)
def test_an_answer_with_something_not_understood_is_refused_not_shortened(text: str) -> None:
    for parse in (parse_number, parse_money, _count):
        with pytest.raises(ParseError) as caught:
            parse(text)
        assert re.search(r"\d", str(caught.value)), caught.value  # the refusal shows an example


@pytest.mark.parametrize("text", ["15 đồng", "15 vnđ", "12,5 đ"])
def test_a_count_is_not_an_amount_of_money(text: str) -> None:
    with pytest.raises(ParseError):
        parse_number(text)
    parse_money(text.replace("12,5", "12.500"))


@pytest.mark.parametrize(("text", "expected"), [("15%", 15), ("12,5 %", Decimal("12.5")), ("(12,5%)", Decimal("12.5"))])
def test_the_percent_sign_belongs_to_percentages_only(text: str, expected: Decimal) -> None:
    assert parse_percent(text) == expected
    with pytest.raises(ParseError):
        parse_number(text)


@pytest.mark.parametrize("text", ["12%a", "=12%", "12,5% x", "l2%"])
def test_a_percentage_with_something_not_understood_is_refused(text: str) -> None:
    with pytest.raises(ParseError, match="12,5%"):
        parse_percent(text)


def test_the_words_of_the_question_may_stand_beside_the_number() -> None:
    question = ["Bao nhiêu suất ăn đã phát?", "suất"]
    assert parse_number("15 suất ăn", context=question) == 15
    assert parse_money("2 triệu tiền ăn", context=["Tiền ăn bao nhiêu?"]) == 2_000_000
    with pytest.raises(ParseError):
        parse_number("15 suất ăn")
    # One letter of the question ("o", "l") never excuses a letter typed for a digit.
    with pytest.raises(ParseError):
        parse_number("5o", context=["o l I a"])


def test_a_date_with_something_not_understood_is_refused() -> None:
    for text in ("l5/8", "5/8x", "=5/8", "5/8/2024+1", "<b>5/8</b>"):
        with pytest.raises(ParseError, match="05/08/2024"):
            parse_date(text, default_year=2024)


@functools.cache
def _reader_words() -> frozenset[str]:
    """The reader's own vocabulary: what it may accept beside digits."""
    return frozenset(
        {
            *numbers._WORD_FILLERS, *numbers._COMPANIONS, *numbers._NUMBER_WORDS, *numbers._MONEY_MULTIPLIERS,
            *(fold(w) for w in numbers._MARKED_COMPANIONS), *text_module._PARTICLES,
        }
    )  # fmt: skip


PIECES = [
    "0", "1", "5", "15", "500", ".", ",", " ", "  ", "l", "o", "O", "I", "a", "x", "b", "k", "tr", "triệu", "rưỡi",
    "người", "=", "+", "-", "<", ">", "#", "%", "(", ")", "/", "*", "_", "đ", "đồng", "năm", "mười", "hai", "lăm",
    "từ", "nam", "khoảng", "²", "\u200b", "abc", "SUM", "ạ", "phần trăm", "tỷ", "nghìn",
]  # fmt: skip


def _understood_in_full(text: str) -> None:
    """Every word of the answer is one the reader knows and every other character a plain mark."""
    if parsing.is_none_answer(text):
        return  # "ko", "không có ai": a whole answer meaning none
    cleaned = text_module._clean(text)
    known = _reader_words()
    for run in re.findall(r"[^\W\d_]+", cleaned):
        folded = fold(run)
        glued = any(folded[:i] in known and folded[i:] in known for i in range(1, len(folded)))
        assert folded in known or glued, (text, run)
    assert set(re.sub(r"[^\W_]", "", cleaned)) <= set(numbers._SEPARATORS) | set("+-%"), text


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=20), st.lists(st.sampled_from(PIECES), max_size=8).map("".join)))
def test_an_accepted_answer_was_understood_in_full(text: str) -> None:
    for parse in (parse_number, parse_money, parse_percent):
        try:
            parse(text)
        except ParseError:
            continue
        _understood_in_full(text)


def test_a_plan_target_typed_in_chat_takes_a_percentage_and_refuses_a_letter_for_a_digit() -> None:
    from bot.plans.chat import apply_edit

    toml = '[[targets]]\nkey = "tham-gia"\nthreshold = 100\nunit = "%"\n'
    assert "threshold = 90" in apply_edit(toml, "chỉ tiêu tham-gia 90%", 2024)
    assert "threshold = 85" in apply_edit(toml, "chỉ tiêu tham-gia 85", 2024)
    with pytest.raises(ParseError):
        apply_edit(toml, "chỉ tiêu tham-gia 9O", 2024)
