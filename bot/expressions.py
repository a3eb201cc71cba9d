"""XLSForm-style expressions for constraints and skip logic, evaluated safely.

Campaign files say ``constraint = ". <= ${members_total}"`` or ``relevant = "${gifts_given} = true"``,
the vocabulary Kobo/ODK users know. The text is rewritten into a Python expression, parsed with
``ast`` and checked against a short whitelist of node kinds, so a campaign file can never run code.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from bot.errors import TranslatableError
from bot.i18n import N_

_FIELD_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# A lone "." is the current answer; it must not eat the point of "1.5" or of a name.
_SELF_REF = re.compile(r"(?<![\w.])\.(?![\w.])")
# XLSForm equality is a single "="; Python wants "==".
_SINGLE_EQ = re.compile(r"(?<![<>=!])=(?!=)")
_SELF_NAME = "__self__"
_FUNCTIONS = {"selected", "count_selected", "length"}

_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Call,
)


# Bounds a campaign's expression must keep: the longest in the seed campaigns has about 100 characters
# and a depth of 4. Beyond them the text is refused with a named error, never MemoryError/RecursionError.
MAX_CHARS = 1000
MAX_DEPTH = 100  # nesting of the syntax tree: brackets, operators, calls (a sum of n fields is n deep)
MAX_NODES = 600
MAX_NUMBER = Decimal(10) ** 15  # a constant written in the expression


class ExpressionError(ValueError):
    """The expression text is not one this module accepts."""


class ExpressionLimitError(TranslatableError, ExpressionError):
    """An expression past one of the bounds above. `msgid` is an English message id, `params` its values."""

    msgid = N_("the expression is too large")

    def __init__(self, source: str, **params: object) -> None:
        self.source = source
        super().__init__(None, **params)

    def english(self) -> str:
        """Names the expression too (str() and logs); render(t) gives the message alone."""
        shown = self.source if len(self.source) <= 60 else self.source[:57] + "..."
        return f"{shown!r}: " + super().english()


class ExpressionTooLongError(ExpressionLimitError):
    msgid = N_("the expression has {chars} characters; at most {limit} are allowed")


class ExpressionTooDeepError(ExpressionLimitError):
    msgid = N_("the expression is nested more than {limit} levels deep (brackets or operators)")


class ExpressionTooComplexError(ExpressionLimitError):
    msgid = N_("the expression has more than {limit} parts; split it or simplify it")


class ExpressionNumberTooLargeError(ExpressionLimitError):
    msgid = N_("the number {number} is too large for an expression; at most {limit} is allowed")


@dataclass(frozen=True, slots=True)
class Expression:
    source: str
    fields: frozenset[str]
    uses_self: bool
    _code: Any

    def evaluate(self, answers: Mapping[str, Any], current: Any = None) -> bool:
        """True when the expression holds; a missing answer makes comparisons with it false."""
        raw = {f"f_{name}": answers.get(name) for name in self.fields}
        if (current is not None or not self.uses_self) and all(
            isinstance(v, (Decimal, bool, str)) for v in raw.values()
        ):
            # Every answer present and of a plain type: evaluate directly. Summaries run thousands of these;
            # the wrapper below exists only for missing answers and mixed types.
            raw[_SELF_NAME] = current
            raw.update(_BUILTINS)
            try:
                result = eval(self._code, {"__builtins__": {}}, raw)  # noqa: S307 - whitelisted AST
                return bool(_Value.unwrap(result))
            except (TypeError, ZeroDivisionError, ArithmeticError):
                pass  # e.g. a number compared with text: the wrapper says False where Python would raise
        env: dict[str, object] = {f"f_{name}": _Value.wrap(answers.get(name)) for name in self.fields}
        env[_SELF_NAME] = _Value.wrap(current)
        env.update(_BUILTINS)
        try:
            result = eval(self._code, {"__builtins__": {}}, env)  # noqa: S307 - whitelisted AST
        except (TypeError, ZeroDivisionError, ArithmeticError):
            return False
        return bool(_Value.unwrap(result))


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> Expression:
    """Parse an expression; raise ExpressionError naming what is wrong. Cached: a dialog step asks for the
    same few skip rules and constraints many times."""
    if len(source) > MAX_CHARS:
        raise ExpressionTooLongError(source, chars=len(source), limit=MAX_CHARS)
    fields = frozenset(_FIELD_REF.findall(source))
    text = _FIELD_REF.sub(lambda m: f"f_{m.group(1)}", source)
    uses_self = bool(_SELF_REF.search(text))
    text = _SELF_REF.sub(_SELF_NAME, text)
    text = _SINGLE_EQ.sub("==", text)
    text = text.replace("count-selected", "count_selected")
    text = re.sub(r"\btrue\b", "True", text)
    text = re.sub(r"\bfalse\b", "False", text)
    if _bracket_depth(text) > MAX_DEPTH:
        raise ExpressionTooDeepError(source, limit=MAX_DEPTH)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {source!r}: {exc.msg}") from None
    except (RecursionError, MemoryError):  # the parser's own limits, before ours could count
        raise ExpressionTooDeepError(source, limit=MAX_DEPTH) from None
    _check_size(tree, source)
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(f"{source!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Call) and (
            not (isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS) or node.keywords
        ):
            raise ExpressionError(f"{source!r}: only selected(), count-selected(), length()")
        if isinstance(node, ast.Name) and not (
            node.id.startswith("f_")
            or node.id == _SELF_NAME
            or node.id in _FUNCTIONS
            or node.id in {"True", "False", "None"}
        ):
            raise ExpressionError(f"{source!r}: unknown name {node.id!r} (fields are written ${{name}})")
    return Expression(source, fields, uses_self, compile(tree, "<expression>", "eval"))


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    for c in text:
        if c in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif c in ")]":
            depth -= 1
    return deepest


def _check_size(tree: ast.AST, source: str) -> None:
    """Depth, node count and constants of the tree, walked without recursion (compile() recurses)."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise ExpressionTooComplexError(source, limit=MAX_NODES)
        if depth > MAX_DEPTH:
            raise ExpressionTooDeepError(source, limit=MAX_DEPTH)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
            node.value, bool
        ):
            value = node.value
            if not (isinstance(value, int) or math.isfinite(value)) or abs(Decimal(value)) > MAX_NUMBER:
                shown = str(value) if isinstance(value, float) or value.bit_length() < 200 else "9…9"
                raise ExpressionNumberTooLargeError(source, number=shown, limit="10^15")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


class _Value:
    """Wraps an answer so that comparisons with a missing one are false instead of errors."""

    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v

    @classmethod
    def wrap(cls, v: Any) -> _Value:
        if isinstance(v, _Value):
            return v
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = Decimal(str(v))
        return cls(v)

    @staticmethod
    def unwrap(v: Any) -> Any:
        return v.v if isinstance(v, _Value) else v

    def _cmp(self, other: Any, op: Any) -> _Value:
        a, b = self.v, _Value.unwrap(other)
        if isinstance(b, (int, float)) and not isinstance(b, bool):
            b = Decimal(str(b))
        if a is None or b is None:
            return _Value(False)
        try:
            return _Value(op(a, b))
        except TypeError:
            return _Value(False)

    def _arith(self, other: Any, op: Any, reverse: bool = False) -> _Value:
        a, b = self.v, _Value.unwrap(other)
        if isinstance(b, (int, float)) and not isinstance(b, bool):
            b = Decimal(str(b))
        if a is None or b is None:
            return _Value(None)
        return _Value(op(b, a) if reverse else op(a, b))

    def __eq__(self, o: Any) -> _Value:  # type: ignore[override]
        return self._cmp(o, lambda a, b: a == b)

    def __ne__(self, o: Any) -> _Value:  # type: ignore[override]
        if self.v is None or _Value.unwrap(o) is None:
            return _Value(self.v is not _Value.unwrap(o))
        return self._cmp(o, lambda a, b: a != b)

    def __lt__(self, o: Any) -> _Value:
        return self._cmp(o, lambda a, b: a < b)

    def __le__(self, o: Any) -> _Value:
        return self._cmp(o, lambda a, b: a <= b)

    def __gt__(self, o: Any) -> _Value:
        return self._cmp(o, lambda a, b: a > b)

    def __ge__(self, o: Any) -> _Value:
        return self._cmp(o, lambda a, b: a >= b)

    def __add__(self, o: Any) -> _Value:
        return self._arith(o, lambda a, b: a + b)

    __radd__ = lambda self, o: self._arith(o, lambda a, b: a + b, True)  # noqa: E731

    def __sub__(self, o: Any) -> _Value:
        return self._arith(o, lambda a, b: a - b)

    __rsub__ = lambda self, o: self._arith(o, lambda a, b: a - b, True)  # noqa: E731

    def __mul__(self, o: Any) -> _Value:
        return self._arith(o, lambda a, b: a * b)

    __rmul__ = lambda self, o: self._arith(o, lambda a, b: a * b, True)  # noqa: E731

    def __truediv__(self, o: Any) -> _Value:
        return self._arith(o, lambda a, b: a / b)

    __rtruediv__ = lambda self, o: self._arith(o, lambda a, b: a / b, True)  # noqa: E731

    def __neg__(self) -> _Value:
        return _Value(None if self.v is None else -self.v)

    def __bool__(self) -> bool:
        return bool(self.v)

    __hash__ = None  # type: ignore[assignment]


def _selected(value: Any, choice: Any) -> _Value:
    v, c = _Value.unwrap(value), _Value.unwrap(choice)
    if isinstance(v, (list, tuple, set, frozenset)):
        return _Value(c in v)
    return _Value(v == c)


def _count_selected(value: Any) -> _Value:
    v = _Value.unwrap(value)
    return _Value(Decimal(len(v)) if isinstance(v, (list, tuple, set, frozenset)) else Decimal(0))


def _length(value: Any) -> _Value:
    v = _Value.unwrap(value)
    return _Value(Decimal(len(v)) if isinstance(v, str) else Decimal(0))


_BUILTINS = {
    "selected": _selected,
    "count_selected": _count_selected,
    "length": _length,
    "True": True,
    "False": False,
    "None": None,
}
