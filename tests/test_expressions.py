from __future__ import annotations

from decimal import Decimal

import pytest

from bot.expressions import ExpressionError, compile_expression


@pytest.mark.parametrize(
    ("source", "answers", "current", "expected"),
    [
        (". <= ${members}", {"members": 120}, Decimal(80), True),
        (". <= ${members}", {"members": 120}, Decimal(121), False),
        (". <= ${members}", {}, Decimal(5), False),  # unknown denominator: the check does not pass
        ("${gifts} > 0", {"gifts": 3}, None, True),
        ("${gifts} > 0", {"gifts": 0}, None, False),
        ("${gifts} > 0", {"gifts": None}, None, False),
        ("${done} = true", {"done": True}, None, True),
        ("${done} = true", {"done": False}, None, False),
        ("${done} != true", {"done": False}, None, True),
        ("${a} >= ${b} * 0.5", {"a": 50, "b": 100}, None, True),
        ("${a} >= ${b} * 0.5", {"a": 49, "b": 100}, None, False),
        ("${a} + ${b} <= 10", {"a": 4, "b": 6}, None, True),
        ("${x} >= 1 and ${y} = true", {"x": 1, "y": True}, None, True),
        ("${x} >= 1 or ${y} = true", {"x": 0, "y": False}, None, False),
        ("not (${x} >= 1)", {"x": 0}, None, True),
        ("selected(${forms}, 'online')", {"forms": ["online", "poster"]}, None, True),
        ("selected(${forms}, 'radio')", {"forms": ["online"]}, None, False),
        ("count-selected(${forms}) >= 2", {"forms": ["a", "b"]}, None, True),
        ("${kind} = 'b'", {"kind": "b"}, None, True),
        ("length(.) >= 10", {}, "mười ký tự trở lên", True),
        ("${a} / ${b} >= 0.45", {"a": 5, "b": 0}, None, False),  # division by zero is not a crash
        (". >= 1.5", {}, Decimal("1.5"), True),
    ],
)
def test_expressions_evaluate_like_xlsform(source: str, answers: dict, current: object, expected: bool) -> None:
    assert compile_expression(source).evaluate(answers, current) is expected


def test_fields_and_self_are_reported() -> None:
    expr = compile_expression(". <= ${members_total} and ${x} > 0")
    assert expr.fields == frozenset({"members_total", "x"})
    assert expr.uses_self


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('id')",
        "${a}.__class__",
        "open('/etc/passwd')",
        "[x for x in ()]",
        "lambda: 1",
        "${a} if ${b} else 1",
        "members > 1",  # names must be written ${name}
        "(",
        "${a} ** 2",
    ],
)
def test_anything_beyond_the_vocabulary_is_refused(source: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(source)
