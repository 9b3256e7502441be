"""Arithmetic expressions over canonical fields (`amount * 12 / term_months`), parsed safely.

Only numbers, field names, + - * / and parentheses are allowed; the parse tree is turned
into plain closures once, so evaluating an expression never touches `ast` or `eval`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from decimal import Decimal, DivisionByZero, InvalidOperation
from operator import add, mul, sub, truediv

from mappings.convert import TransformFailure

Values = Mapping[str, object]
Evaluator = Callable[[Values], Decimal | None]

_OPS: dict[type[ast.operator], Callable[[Decimal, Decimal], Decimal]] = {
    ast.Add: add,
    ast.Sub: sub,
    ast.Mult: mul,
    ast.Div: truediv,
}


class ExprError(ValueError):
    """The expression text is not a valid arithmetic expression."""


def parse_expr(text: str) -> tuple[Evaluator, frozenset[str]]:
    """Compile `text` into an evaluator and the set of field names it reads."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"cannot parse {text!r}: {exc.msg}") from None
    names: set[str] = set()
    return _build(tree.body, names), frozenset(names)


def _build(node: ast.expr, names: set[str]) -> Evaluator:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        number = Decimal(str(node.value))
        return lambda _values: number
    if isinstance(node, ast.Name):
        return _name(node.id, names)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _build(node.operand, names)
        sign = -1 if isinstance(node.op, ast.USub) else 1
        return lambda values: None if (v := inner(values)) is None else sign * v
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _binary(_OPS[type(node.op)], _build(node.left, names), _build(node.right, names))
    raise ExprError(
        f"only numbers, field names, + - * / and parentheses are allowed, not {ast.unparse(node)!r}"
    )


def _name(name: str, names: set[str]) -> Evaluator:
    names.add(name)

    def read(values: Values) -> Decimal | None:
        value = values.get(name)
        if value is None or isinstance(value, Decimal):
            return value
        raise TransformFailure(f"{name} is not a number: {value!r}")

    return read


def _binary(
    op: Callable[[Decimal, Decimal], Decimal], left: Evaluator, right: Evaluator
) -> Evaluator:
    def evaluate(values: Values) -> Decimal | None:
        a, b = left(values), right(values)
        # A null operand makes the result null (the field's default or required rule applies).
        if a is None or b is None:
            return None
        try:
            return op(a, b)
        except (DivisionByZero, InvalidOperation, ZeroDivisionError):
            raise TransformFailure("division by zero") from None

    return evaluate
