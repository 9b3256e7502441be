"""Arithmetic expressions over canonical fields."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mappings.convert import TransformFailure
from mappings.expr import ExprError, parse_expr


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        (
            "amount * 12 / term_months",
            {"amount": Decimal(36000), "term_months": Decimal(36)},
            12000,
        ),
        ("(amount - 100) * 2", {"amount": Decimal(150)}, 100),
        ("-amount + 0.5", {"amount": Decimal(1)}, Decimal("-0.5")),
        ("amount", {"amount": None}, None),  # null propagates
        ("amount * 12 / term_months", {"amount": Decimal(1)}, None),
    ],
)
def test_evaluates(text: str, values: dict[str, object], expected: object) -> None:
    evaluate, _ = parse_expr(text)
    assert evaluate(values) == expected


def test_reports_names() -> None:
    assert parse_expr("amount * 12 / term_months")[1] == {"amount", "term_months"}


@pytest.mark.parametrize(
    "text", ["amount ** 2", "f(amount)", "amount.real", "'x'", "amount if 1 else 2", "a <", "True"]
)
def test_refuses_anything_but_arithmetic(text: str) -> None:
    with pytest.raises(ExprError):
        parse_expr(text)


def test_runtime_failures() -> None:
    evaluate, _ = parse_expr("amount / term_months")
    with pytest.raises(TransformFailure, match="division by zero"):
        evaluate({"amount": Decimal(1), "term_months": Decimal(0)})
    with pytest.raises(TransformFailure, match="stage is not a number"):
        parse_expr("stage * 2")[0]({"stage": "Closed Won"})
