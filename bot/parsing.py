"""Reading what union chairs type on their phones: numbers, money, percentages, yes/no and dates.

Answers come from cheap phones: often without diacritics, sometimes in NFD, with Vietnamese digit
grouping ("1.500.000"), slang units ("2tr", "1tr5", "500k", "2 củ") and polite words around them.
Every parser returns a value or raises ParseError, whose message is an English msgid that says what
is expected and gives an example; callers render it in the user's language.

Separators follow the Vietnamese convention (dot groups thousands, comma is the decimal mark), with
the few readings phones force on us:

* "1.500" and "1.500.000" are thousands; "1.5", "12.5" and "0.500" (not a valid group) are decimals.
* "1,5" is a decimal; "1,500,000" (several groups of three) is English-style grouping.
* "1,500" (one comma, then exactly three digits) is a decimal, 1.5, by the convention. Because an
  English phone may have meant 1500, a whole-number question refuses it and shows "1.500", and
  money reads it as 1500 đồng (there is no such thing as 1,5 đồng).
* Digits typed right after a unit continue it: "1tr5" is 1,5 triệu, "2 triệu 500" is 2,5 triệu,
  "2tr05" is 2.050.000 — the digits are read as the decimals of the unit.

Nothing typed is silently dropped: every word must be one the reader knows (a unit, a number word, a
filler such as "khoảng" or "người", or a word of the question itself) and every other character a
plain separator, or the answer is refused. "l5" for 15, "5O" for 50, "=1+1" or "<b>7</b>" are asked
again, never kept as 5, 1 or 7.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from enum import Enum

from num2words import num2words

from bot.errors import TranslatableError
from bot.i18n import normalise_locale

MAX_MONEY = 10**13
MAX_NUMBER = 10**15
_MAX_WHOLE_DIGITS = 16


class ParseError(TranslatableError, ValueError):
    """Carries the message to show, as an English gettext msgid + params; render(t) gives it in the user's language."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message, **params)
        self.message = message


# --- normalising what phones send ---------------------------------------------------------------

# Zero-width characters, soft hyphens, direction marks, emoji variation selectors and skin tones
# ride along invisibly with copied or emoji text.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ufe00-\ufe0f\U0001f3fb-\U0001f3ff]")
_DASHES = re.compile("[\u2010-\u2015\u2212]")
_SPACES = re.compile(r"\s+")
_TAIL_PUNCTUATION = " .!?…,;:~)]}\"'”’»*"
_HEAD_PUNCTUATION = " \"'“‘«(*•:"
_PARTICLES = frozenset({"ạ", "a", "ah", "ạh", "ak", "nhé", "nhe", "nha", "nhá"})


def _clean(text: str) -> str:
    # NFKC composes NFD input ("co\u0301" -> "có") and turns full-width digits and NBSPs into ASCII.
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _DASHES.sub("-", text)
    text = _SPACES.sub(" ", text).strip().casefold()
    text = unicodedata.normalize("NFC", text)
    return _strip_tail(text).lstrip(_HEAD_PUNCTUATION)


def _strip_tail(text: str) -> str:
    """Drop trailing punctuation and politeness particles ("15 ạ.", "có nhé!")."""
    while True:
        text = text.rstrip(_TAIL_PUNCTUATION)
        head, _, last = text.rpartition(" ")
        if not head or last not in _PARTICLES:
            return text
        text = head


def _fold(text: str) -> str:
    """Without diacritics, as people type when the phone has no Vietnamese keyboard."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _folded_set(*words: str) -> frozenset[str]:
    return frozenset(_fold(w) for w in words)


# --- numbers ------------------------------------------------------------------------------------

_ZERO_ANSWERS = _folded_set(
    "không", "ko", "k", "kh", "hông", "hok", "0",
    "chưa", "chưa có", "ko có", "k có", "không có", "không ai", "không có ai", "chưa có ai", "ko có ai",
    "không có gì", "chưa có gì",
)  # fmt: skip

# Digits glued by spaces in groups of three ("1 500 000"); not after a decimal or before one.
_SPACE_GROUPS = re.compile(r"(?<![0-9.,])[0-9]{1,3}(?: [0-9]{3})+(?![0-9])(?![.,][0-9])")
# A sign counts only when it starts the number ("-5", not "5-3"); a leading "." or "," is kept (and
# refused: ",5") only after a space, so "Tổng.15" and "...15" still read 15.
_TOKEN = re.compile(r"(?P<num>(?:(?<![\w.,])[-+]+|(?<![^\s(])[.,])?[0-9][0-9.,]*)|(?P<word>[^\W\d_]+)")
_PLAIN = re.compile(r"[0-9]+")
_DOT_GROUPS = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+")
_COMMA_GROUPS = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3}){2,}")
_COMMA_DECIMAL = re.compile(r"([1-9][0-9]{0,2}(?:\.[0-9]{3})+|[0-9]+),([0-9]+)")
_DOT_DECIMAL = re.compile(r"([1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+)\.([0-9]+)")

_THOUSAND, _MILLION, _BILLION = Decimal(1000), Decimal(10**6), Decimal(10**9)
_MULTIPLIERS = {  # the English words too: the English hints say "3 million"
    **dict.fromkeys(_folded_set("nghìn", "ngàn", "k", "thousand"), _THOUSAND),
    **dict.fromkeys(_folded_set("triệu", "tr", "million"), _MILLION),
    **dict.fromkeys(_folded_set("tỷ", "tỉ", "billion"), _BILLION),
}
_MONEY_MULTIPLIERS = {**_MULTIPLIERS, "cu": _MILLION}  # "2 củ" is money slang only
_HUNDRED = "tram"
_HALF = _folded_set("rưỡi", "rưởi")
_PERCENT = ("phan", "tram")

_WORD_DIGITS = {
    **dict.fromkeys(_folded_set("một", "mốt"), 1),
    "hai": 2,
    "ba": 3,
    **dict.fromkeys(_folded_set("bốn", "tư"), 4),
    **dict.fromkeys(_folded_set("năm", "lăm", "nhăm"), 5),
    _fold("sáu"): 6,
    _fold("bảy"): 7,
    _fold("tám"): 8,
    _fold("chín"): 9,
}
_TEN = _fold("mười")  # mười and mươi fold alike; which one is told by position
_LINH = _folded_set("linh", "lẻ")
_UNIT_WORDS = frozenset({*_MONEY_MULTIPLIERS, _HUNDRED, *_HALF})
_SPELLINGS = frozenset(
    {
        "nghìn", "ngàn", "triệu", "tỷ", "tỉ", "củ", "trăm", "phần", "rưỡi", "rưởi", "không",
        "một", "mốt", "bốn", "tư", "năm", "lăm", "nhăm", "sáu", "bảy", "bẩy", "tám", "chín", "mười", "mươi", "lẻ",
    }
)  # fmt: skip
_CURRENCY_GLUED = re.compile(r"(.+?)(?:đồng|dong|vnđ|vnd|đ|d)")
_NUMBER_WORDS = frozenset({*_UNIT_WORDS, *_WORD_DIGITS, _TEN, *_LINH, *_PERCENT, "khong"})
_CURRENCY = _folded_set("đồng", "đ", "vnd", "vnđ")
# Number words are only read when the rest of the answer is one of these, since "năm" is also
# "year", "ba" "father" and "tư" "private".
_WORD_FILLERS = _folded_set(
    "khoảng", "chừng", "có", "là", "được", "người", "đoàn", "viên", "tổng", "cộng", "tất", "cả",
) | _CURRENCY  # fmt: skip
# Words that may stand next to a number typed in digits ("tôi có 2tr", "15 người lao động"). Anything
# else there, above all a letter glued to digits ("l5", "5O", "12a"), is refused, never dropped.
_COMPANION_WORDS = (
    "khoảng", "chừng", "tầm", "có", "là", "được", "tổng", "cộng", "tất", "cả", "số", "lượng", "gồm",
    "tôi", "em", "mình", "chúng", "ta", "bên", "dạ", "vâng", "ừ", "nhé", "nha", "rồi", "thôi", "chỉ", "đã",
    "và", "với", "hoặc", "hay", "từ", "người", "ng", "nam", "nữ", "đoàn", "viên", "đv", "mới", "cán", "bộ",
    "công", "nhân", "lao", "động", "nlđ", "cnlđ", "clđ", "cnvclđ", "cnvc", "cđcs", "cơ", "sở", "thành", "đơn",
    "vị", "hộ", "nhà", "căn", "cháu", "học", "sinh", "lượt", "buổi", "cuộc", "lần", "đợt", "hoạt", "tin", "bài",
    "suất", "xuất", "phần", "quà", "mâm", "bữa", "trình", "sáng", "kiến", "cái", "chiếc", "ngày", "tháng", "giờ",
    "tiếng",
)  # fmt: skip
# Compared without marks, as typed; a word whose bare form is a number or currency word ("từ" is "tư",
# four; "động" is "đồng") only with its marks right.
_COMPANIONS = frozenset(_fold(w) for w in _COMPANION_WORDS) - _NUMBER_WORDS - _CURRENCY
_MARKED_COMPANIONS = frozenset(w for w in _COMPANION_WORDS if _fold(w) in _NUMBER_WORDS | _CURRENCY)
# Between the words and numbers of an answer; "%" only in a percentage. Everything else ("=", "+",
# "<", "#", "/", a dash after a number) makes the answer something other than a plain number.
_SEPARATORS = frozenset(" ,.;:()[]\"'“”‘’«»…")


class _Problem(Enum):
    NOT_A_NUMBER = "not a number"
    SEVERAL = "several numbers"
    TOO_LARGE = "too large"


class _Refused(Exception):  # noqa: N818 - internal signal, turned into a ParseError by the caller
    def __init__(self, problem: _Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # num, mult, hundred, half, word
    value: Decimal = Decimal(0)
    digits: str | None = None  # a number typed as bare digits: "1tr5" reads its tail digit by digit
    alternative: Decimal | None = None  # "1,500" read as English grouping
    negative: bool = False
    word: str = ""
    raw: str = ""  # a word as typed, marks and all: "động" (moving) is not "đồng" (money)


@dataclass(frozen=True, slots=True)
class _Reading:
    value: Decimal
    alternative: Decimal | None = None


def _literal(raw: str) -> _Tok:
    body = raw.lstrip("+-")
    sign = raw[: len(raw) - len(body)]
    body = body.rstrip(".,")
    if len(sign) > 1 or body[0] in ".,":
        raise _Refused(_Problem.NOT_A_NUMBER)
    fraction = ""
    alternative = None
    if _PLAIN.fullmatch(body):
        whole = body
    elif _DOT_GROUPS.fullmatch(body):
        whole = body.replace(".", "")
    elif _COMMA_GROUPS.fullmatch(body):
        whole = body.replace(",", "")
    elif m := _COMMA_DECIMAL.fullmatch(body):
        whole, fraction = m[1].replace(".", ""), m[2]
        if len(fraction) == 3 and _PLAIN.fullmatch(m[1]) and len(m[1]) <= 3 and m[1][0] != "0":
            alternative = Decimal(whole + fraction) * (-1 if sign == "-" else 1)
    elif m := _DOT_DECIMAL.fullmatch(body):
        whole, fraction = m[1].replace(",", ""), m[2]
    else:
        raise _Refused(_Problem.NOT_A_NUMBER)
    if len(whole.lstrip("0")) > _MAX_WHOLE_DIGITS:
        raise _Refused(_Problem.TOO_LARGE)
    value = Decimal(f"{whole}.{fraction}" if fraction else whole)
    return _Tok(
        "num",
        -value if sign == "-" else value,
        digits=body if _PLAIN.fullmatch(body) else None,
        alternative=alternative,
        negative=sign == "-",
    )


def _word(word: str, *, after_number: bool) -> _Tok:
    if after_number and (glued := _CURRENCY_GLUED.fullmatch(word)) and _fold(glued[1]) in _UNIT_WORDS:
        word = glued[1]  # "500kđ", "2trđ": the unit with the currency typed onto it
    folded = _fold(word)
    if folded in _NUMBER_WORDS and word != folded and word not in _SPELLINGS:
        # Right marks or none at all: "triệu" and "trieu" are units, but "15 trạm" (stations) or a
        # mistyped "2 triêu" could be off by a factor of a million either way, so ask again.
        if after_number and folded in _UNIT_WORDS:
            raise _Refused(_Problem.NOT_A_NUMBER)
        return _Tok("word", word="?", raw=word)
    return _Tok("word", word=folded, raw=word)


def _tokenise(text: str, *, money: bool, percent: bool) -> list[_Tok]:
    multipliers = _MONEY_MULTIPLIERS if money else _MULTIPLIERS
    separators = _SEPARATORS | {"%"} if percent else _SEPARATORS
    raw: list[_Tok] = []
    end = 0
    for m in [*_TOKEN.finditer(text), None]:
        # What lies between the tokens must be separators only: nothing the reader skips may matter.
        gap = text[end : m.start() if m else len(text)]
        if not set(gap) <= separators:
            raise _Refused(_Problem.NOT_A_NUMBER)
        if m is None:
            break
        end = m.end()
        if m["num"]:
            raw.append(_literal(m["num"]))
        else:
            raw.append(_word(m["word"], after_number=bool(raw) and raw[-1].kind == "num"))
    tokens: list[_Tok] = []
    skip_next = False
    for i, tok in enumerate(raw):
        if skip_next:
            skip_next = False
            continue
        if tok.kind != "word":
            tokens.append(tok)
            continue
        following = raw[i + 1].word if i + 1 < len(raw) else ""
        if (tok.word, following) == _PERCENT:
            skip_next = True
            tokens.append(_Tok("word", word="%"))
        elif tok.word in multipliers:
            tokens.append(_Tok("mult", multipliers[tok.word], word=tok.word))
        elif tok.word == _HUNDRED:
            tokens.append(_Tok("hundred", word=tok.word))
        elif tok.word in _HALF:
            tokens.append(_Tok("half", word=tok.word))
        else:
            tokens.append(tok)
    return tokens


def _number_words(tokens: list[_Tok], *, digits: bool, money: bool, context: frozenset[str]) -> list[_Tok]:
    """Turn runs of number words ("hai mươi lăm", "năm trăm") into number tokens, and refuse any other word
    the reader does not know. Alongside digits (`digits`), the words read must agree with them ("15 (mười
    lăm)"), and more words may stand there: the companions, and the words of the question (`context`)."""
    out: list[_Tok] = []
    group: list[str] = []

    def known(tok: _Tok) -> bool:
        if tok.word == "%" or (tok.word in _WORD_FILLERS and (money or tok.word not in _CURRENCY)):
            return True
        if not digits:
            return False
        return tok.raw in _MARKED_COMPANIONS or (tok.word != "?" and (tok.word in _COMPANIONS or tok.word in context))

    def close() -> None:
        if digits and group == ["nam"] and not (out and out[-1].kind in ("mult", "hundred")):
            # Beside digits a lone "nam"/"năm" is "male" or "year" ("15 nam"), not five, unless it
            # continues a unit ("2 triệu năm").
            out.append(_Tok("word", word="nam"))
            group.clear()
        if group:
            value = _word_group(group)
            # A lone digit word after a unit is a decimal of it ("hai triệu năm" is 2,5 triệu);
            # anything longer ("không trăm linh năm", "hai mươi") counts exactly.
            typed = str(value) if len(group) == 1 else f"{value:03d}"
            out.append(_Tok("num", Decimal(value), digits=typed))
            group.clear()

    for i, tok in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        is_zero = tok.word == "khong" and following is not None and following.kind == "hundred"
        if tok.word in _WORD_DIGITS or tok.word in (_TEN, *_LINH) or is_zero or (tok.kind == "hundred" and group):
            group.append(tok.word)
            continue
        close()
        if tok.kind == "word" and not known(tok):
            raise _Refused(_Problem.NOT_A_NUMBER)
        out.append(tok)
    close()
    return out


def _word_group(words: list[str]) -> int:
    hundreds = 0
    below: int | None = None
    previous = ""  # digit, ten, hundred, linh
    for word in words:
        if word == _TEN:
            if previous == "digit" and below is not None and below < 10:
                below *= 10
            elif previous in ("", "hundred"):
                below = 10
            else:
                raise _Refused(_Problem.NOT_A_NUMBER)
            previous = "ten"
        elif word == _HUNDRED:
            if previous != "digit" or below is None or below >= 10 or hundreds:
                raise _Refused(_Problem.NOT_A_NUMBER)
            hundreds, below, previous = below * 100, None, "hundred"
        elif word in _LINH:
            if previous != "hundred":
                raise _Refused(_Problem.NOT_A_NUMBER)
            previous = "linh"
        else:
            digit = 0 if word == "khong" else _WORD_DIGITS[word]
            if previous == "ten" and below is not None and below % 10 == 0 and digit:
                below += digit
            elif previous in ("", "linh"):
                below = digit
            elif previous == "hundred":
                below = digit * 10  # "một trăm hai" is said for 120
            else:
                raise _Refused(_Problem.NOT_A_NUMBER)
            previous = "digit"
    if previous == "linh":
        raise _Refused(_Problem.NOT_A_NUMBER)
    return hundreds + (below or 0)


def _check_units(tokens: list[_Tok], *, percent: bool) -> None:
    """A unit word counts only right after a number; elsewhere ("hai triệu 500" once read as 500, "triệu 5")
    it would be dropped, so the answer is refused. So is "%" outside a percentage."""
    before = ""
    for tok in tokens:
        fits = (
            (tok.kind == "mult" and before in ("num", "hundred", "mult"))
            or (tok.kind == "hundred" and before == "num")
            or (tok.kind == "half" and before == "mult")
            or tok.kind == "num"
            or (tok.kind == "word" and (percent or tok.word != "%"))
        )
        if not fits:
            raise _Refused(_Problem.NOT_A_NUMBER)
        before = tok.kind


def _tail(tok: _Tok, unit: Decimal) -> Decimal:
    if tok.negative or tok.digits is None or len(tok.digits) > 3:
        raise _Refused(_Problem.NOT_A_NUMBER)
    return int(tok.digits) * unit / 10 ** len(tok.digits)


def _evaluate(run: list[_Tok]) -> _Reading:
    total = Decimal(0)
    current: _Tok | None = None
    unit: Decimal | None = None  # the last unit applied: triệu in "2 triệu 500"
    last_term = Decimal(0)
    previous = ""
    negative = False
    for tok in run:
        if previous == "half":
            raise _Refused(_Problem.NOT_A_NUMBER)
        if tok.kind == "num":
            if current is not None:
                raise _Refused(_Problem.SEVERAL)
            if tok.negative:
                if unit is not None:
                    raise _Refused(_Problem.NOT_A_NUMBER)
                negative = True
            current = tok
        elif tok.kind == "hundred":
            assert current is not None  # _demote_strays keeps "trăm" only after a number
            hundreds = current.value * 100
            exact = hundreds == hundreds.to_integral_value() and 0 <= hundreds < 1000
            current = _Tok("num", hundreds, digits=f"{int(hundreds):03d}" if exact else None, negative=current.negative)
        elif tok.kind == "mult":
            if current is None:
                # "nghìn tỷ" is one unit; any other pair of units is not a number.
                if previous != "mult" or unit is None or tok.value <= unit:
                    raise _Refused(_Problem.NOT_A_NUMBER)
                total -= last_term
                last_term *= tok.value
                total += last_term
                unit *= tok.value
            else:
                if unit is not None and tok.value >= unit:
                    raise _Refused(_Problem.SEVERAL)
                last_term = abs(current.value) * tok.value
                total += last_term
                unit = tok.value
                current = None
        elif tok.kind == "half":
            if current is not None or unit is None:
                raise _Refused(_Problem.NOT_A_NUMBER)
            total += unit / 2
        previous = tok.kind
    if unit is None:
        assert current is not None  # a run always holds a number
        return _Reading(current.value, current.alternative)
    if current is not None:
        total += _tail(current, unit)
    return _Reading(-total if negative else total)


def _context_words(context: Iterable[str]) -> frozenset[str]:
    """The words of the question that may stand beside a number ("15 tin bài" when it asks for "tin, bài"):
    two letters or more, and none the reader gives a meaning of its own."""
    words = {_fold(w) for text in context for w in re.findall(r"[^\W\d_]+", _clean(text))}
    return frozenset(w for w in words if len(w) > 1 and w not in _NUMBER_WORDS and w not in _MONEY_MULTIPLIERS)


def is_none_answer(text: str) -> bool:
    """ "không", "ko", "không có", "chưa có", "0" ...: there is nothing to give. A count reads it as 0; a
    question that asks for something else (a file) takes it as skipping, where skipping is allowed."""
    return _fold(_clean(text)) in _ZERO_ANSWERS


def _read(text: str, *, money: bool, percent: bool = False, context: Iterable[str] = ()) -> _Reading:
    if is_none_answer(text):
        return _Reading(Decimal(0))
    cleaned = _clean(text)
    cleaned = _SPACE_GROUPS.sub(lambda m: m[0].replace(" ", ""), cleaned)
    with localcontext() as ctx:
        ctx.prec = 60
        tokens = _tokenise(cleaned, money=money, percent=percent)
        digits = any(tok.kind == "num" for tok in tokens)
        words = _context_words(context) if digits else frozenset()
        tokens = _number_words(tokens, digits=digits, money=money, context=words)
        _check_units(tokens, percent=percent)
        readings: list[_Reading] = []
        run: list[_Tok] = []
        for tok in [*tokens, _Tok("word")]:
            # Two numbers side by side ("15 (15)", "15 20") are two answers; equal ones agree.
            ends_run = tok.kind == "word" or (tok.kind == "num" and run and run[-1].kind == "num")
            if ends_run and any(t.kind == "num" for t in run):
                readings.append(_evaluate(run))
            if ends_run:
                run = []
            if tok.kind != "word":
                run.append(tok)
    if not readings:
        raise _Refused(_Problem.NOT_A_NUMBER)
    if len({r.value for r in readings}) > 1:
        raise _Refused(_Problem.SEVERAL)
    return readings[0]


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

_YES = _folded_set(
    "có", "có ạ", "có rồi", "rồi", "đã", "đã làm", "đã có", "đã xong", "xong", "xong rồi", "làm rồi",
    "ok", "oke", "okie", "oki", "okay", "ừ", "ừm", "uh", "vâng", "dạ", "yes", "y", "yep", "yeah",
    "x", "đúng", "đúng rồi", "đồng ý", "✅", "👍",
)  # fmt: skip
_NO = _folded_set(
    "không", "ko", "k", "kh", "kg", "hông", "hok", "khum", "0", "chưa", "chưa có", "chưa làm", "chưa xong",
    "không có", "ko có", "k có", "không làm", "no", "n", "nope", "sai", "không đúng", "❌", "👎",
)  # fmt: skip
# Said before the answer proper: "dạ, chưa ạ" is a polite no.
_LEADING = _folded_set("dạ", "vâng", "ừ", "em", "tôi", "mình")
_YES_NO_SEPARATORS = re.compile(r"[,;:/\-]+")


def parse_yes_no(text: str) -> bool:
    """ "có", "rồi", "ok", "👍" -> True; "không", "ko", "chưa", "0", "❌" -> False. "1" is refused."""
    answer = _fold(_SPACES.sub(" ", _YES_NO_SEPARATORS.sub(" ", _clean(text))).strip())
    while True:
        answer = _strip_tail(answer)
        if answer in _YES:
            return True
        if answer in _NO:
            return False
        first, _, rest = answer.partition(" ")
        if not rest or first not in _LEADING:
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
    answer = _fold(_clean(text))
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
