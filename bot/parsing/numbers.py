"""Reading a number as typed: digits with Vietnamese or English grouping, units ("2tr", "1tr5", "500k",
"2 củ"), number words ("hai mươi lăm") and the words that may stand beside them. _read gives one reading
or refuses the answer with the problem; parse_number and its kin (bot.parsing.answers) say it to the user."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import Enum

from bot.parsing.text import _clean, is_none_answer
from bot.vi_text import fold
from bot.vi_text import words as _folded_set

MAX_MONEY = 10**13
MAX_NUMBER = 10**15
_MAX_WHOLE_DIGITS = 16

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
    fold("sáu"): 6,
    fold("bảy"): 7,
    fold("tám"): 8,
    fold("chín"): 9,
}
_TEN = fold("mười")  # mười and mươi fold alike; which one is told by position
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
    "tiếng", "chẵn", "tròn",
)  # fmt: skip
# Compared without marks, as typed; a word whose bare form is a number or currency word ("từ" is "tư",
# four; "động" is "đồng") only with its marks right.
_COMPANIONS = frozenset(fold(w) for w in _COMPANION_WORDS) - _NUMBER_WORDS - _CURRENCY
_MARKED_COMPANIONS = frozenset(w for w in _COMPANION_WORDS if fold(w) in _NUMBER_WORDS | _CURRENCY)
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
    if after_number and (glued := _CURRENCY_GLUED.fullmatch(word)) and fold(glued[1]) in _UNIT_WORDS:
        word = glued[1]  # "500kđ", "2trđ": the unit with the currency typed onto it
    folded = fold(word)
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
            below, previous = _tens(previous, below), "ten"
        elif word == _HUNDRED:
            if previous != "digit" or below is None or below >= 10 or hundreds:
                raise _Refused(_Problem.NOT_A_NUMBER)
            hundreds, below, previous = below * 100, None, "hundred"
        elif word in _LINH:
            if previous != "hundred":
                raise _Refused(_Problem.NOT_A_NUMBER)
            previous = "linh"
        else:
            below, previous = _units(previous, below, 0 if word == "khong" else _WORD_DIGITS[word]), "digit"
    if previous == "linh":
        raise _Refused(_Problem.NOT_A_NUMBER)
    return hundreds + (below or 0)


def _tens(previous: str, below: int | None) -> int:
    """ "mười"/"mươi": ten on its own ("mười", "một trăm mười"), or the tens of the digit before ("hai mươi")."""
    if previous == "digit" and below is not None and below < 10:
        return below * 10
    if previous in ("", "hundred"):
        return 10
    raise _Refused(_Problem.NOT_A_NUMBER)


def _units(previous: str, below: int | None, digit: int) -> int:
    """A digit word after what came before it in the group ("hai mươi lăm", "trăm linh năm")."""
    if previous == "ten" and below is not None and below % 10 == 0 and digit:
        return below + digit
    if previous in ("", "linh"):
        return digit
    if previous == "hundred":
        return digit * 10  # "một trăm hai" is said for 120
    raise _Refused(_Problem.NOT_A_NUMBER)


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


@dataclass(slots=True)
class _Sum:
    total: Decimal = Decimal(0)
    unit: Decimal | None = None  # the last unit applied: triệu in "2 triệu 500"
    last_term: Decimal = Decimal(0)

    def scale(self, tok: _Tok, current: _Tok | None, previous: str) -> None:
        """A unit word: it multiplies the number before it ("2 triệu"), or with the unit before it makes one
        unit ("nghìn tỷ"); any other pair of units is not a number."""
        if current is None:
            if previous != "mult" or self.unit is None or tok.value <= self.unit:
                raise _Refused(_Problem.NOT_A_NUMBER)
            self.total -= self.last_term
            self.last_term *= tok.value
            self.total += self.last_term
            self.unit *= tok.value
            return
        if self.unit is not None and tok.value >= self.unit:
            raise _Refused(_Problem.SEVERAL)
        self.last_term = abs(current.value) * tok.value
        self.total += self.last_term
        self.unit = tok.value


def _hundreds(current: _Tok) -> _Tok:
    hundreds = current.value * 100
    exact = hundreds == hundreds.to_integral_value() and 0 <= hundreds < 1000
    return _Tok("num", hundreds, digits=f"{int(hundreds):03d}" if exact else None, negative=current.negative)


def _evaluate(run: list[_Tok]) -> _Reading:
    acc = _Sum()
    current: _Tok | None = None
    previous = ""
    negative = False
    for tok in run:
        if previous == "half":
            raise _Refused(_Problem.NOT_A_NUMBER)
        if tok.kind == "num":
            if current is not None:
                raise _Refused(_Problem.SEVERAL)
            if tok.negative:
                if acc.unit is not None:
                    raise _Refused(_Problem.NOT_A_NUMBER)
                negative = True
            current = tok
        elif tok.kind == "hundred":
            assert current is not None  # _check_units keeps "trăm" only after a number
            current = _hundreds(current)
        elif tok.kind == "mult":
            acc.scale(tok, current, previous)
            current = None
        elif tok.kind == "half":
            if current is not None or acc.unit is None:
                raise _Refused(_Problem.NOT_A_NUMBER)
            acc.total += acc.unit / 2
        previous = tok.kind
    if acc.unit is None:
        assert current is not None  # a run always holds a number
        return _Reading(current.value, current.alternative)
    total = acc.total if current is None else acc.total + _tail(current, acc.unit)
    return _Reading(-total if negative else total)


def _context_words(context: Iterable[str]) -> frozenset[str]:
    """The words of the question that may stand beside a number ("15 tin bài" when it asks for "tin, bài"):
    two letters or more, and none the reader gives a meaning of its own."""
    words = {fold(w) for text in context for w in re.findall(r"[^\W\d_]+", _clean(text))}
    return frozenset(w for w in words if len(w) > 1 and w not in _NUMBER_WORDS and w not in _MONEY_MULTIPLIERS)


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

