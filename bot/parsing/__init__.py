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

from bot.parsing.answers import parse_date, parse_money, parse_number, parse_percent, parse_yes_no, spell_amount
from bot.parsing.numbers import MAX_MONEY, MAX_NUMBER
from bot.parsing.text import ParseError, is_none_answer

__all__ = [
    "MAX_MONEY",
    "MAX_NUMBER",
    "ParseError",
    "is_none_answer",
    "parse_date",
    "parse_money",
    "parse_number",
    "parse_percent",
    "parse_yes_no",
    "spell_amount",
]
