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


# --- hostile expressions: a named error, never MemoryError / RecursionError (issue 11, item 17) ---------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from bot.expressions import (  # noqa: E402
    MAX_CHARS,
    Expression,
    ExpressionLimitError,
    ExpressionNumberTooLargeError,
    ExpressionTooComplexError,
    ExpressionTooDeepError,
    ExpressionTooLongError,
)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("(" * 10_000 + "1" + ")" * 10_000, ExpressionTooLongError),
        ("1+" * 100_000 + "1", ExpressionTooLongError),
        ("-" * 100_000 + "1", ExpressionTooLongError),
        ("(" * 150 + ". > 0" + ")" * 150, ExpressionTooDeepError),  # short, but deeper than the parser allows
        ("1+" * 150 + ". > 0", ExpressionTooDeepError),
        ("not " * 150 + "True", ExpressionTooDeepError),
        ("-" * 300 + ". > 0", ExpressionTooDeepError),
        (". < " + "9" * 400, ExpressionNumberTooLargeError),
        (". < 1e999", ExpressionNumberTooLargeError),
        (". < 10000000000000000", ExpressionNumberTooLargeError),
        (". < " + "<".join(["1"] * ((MAX_CHARS - 4) // 2)), ExpressionTooComplexError),  # flat, but many parts
    ],
)
def test_hostile_expression_is_refused_with_a_named_error(source: str, error: type[ExpressionLimitError]) -> None:
    with pytest.raises(error) as info:
        compile_expression(source)
    assert info.value.msgid  # an English message id for the catalog, with its values
    assert str(info.value)


def test_power_towers_are_refused_before_they_are_computed() -> None:
    with pytest.raises(ExpressionError, match="Pow is not allowed"):
        compile_expression("9**9**9 > .")


def test_long_sums_of_fields_within_the_bounds_still_compile() -> None:
    source = " + ".join(f"${{f{i}}}" for i in range(60)) + " = ."
    expr = compile_expression(source)
    assert expr.evaluate({f"f{i}": Decimal(1) for i in range(60)}, Decimal(60)) is True


def outcome(source: str) -> Expression | ExpressionError:
    try:
        return compile_expression(source)
    except ExpressionError as exc:
        return exc


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="()+-*/.<>=!0123456789 e$}{abnotrd", max_size=3000))
def test_any_text_gives_an_expression_or_an_expression_error(source: str) -> None:
    result = outcome(source)  # anything but an ExpressionError (MemoryError, RecursionError, ...) fails here
    if isinstance(result, ExpressionError):
        assert str(result)
    else:
        assert len(source) <= MAX_CHARS
        assert result.source == source


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=20_000), st.sampled_from(["(", "-", "not ", "1+", "[", "${a}*"]))
def test_deep_nesting_of_any_kind_gives_a_named_error(depth: int, piece: str) -> None:
    source = piece * depth + "1" + (")" if piece == "(" else "]" if piece == "[" else "") * depth
    if len(source) > MAX_CHARS:
        with pytest.raises(ExpressionTooLongError):
            compile_expression(source)
        return
    result = outcome(source)
    assert not isinstance(result, ExpressionError) or str(result)  # too deep, or a list: named either way
