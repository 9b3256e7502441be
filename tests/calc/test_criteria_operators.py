"""Criterion operators: one model each, carrying its value type, its display text, its test."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter

from calc.criteria import (
    CRITERION_OPS,
    OPERATORS,
    Criterion,
    compile_criterion,
    criterion_text,
)
from calc.errors import PlanError
from calc.model import Deal
from calc.plan import parse_plan_doc

CRITERION: TypeAdapter[Any] = TypeAdapter(Criterion)


def _spiff_plan(*criteria: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "ae",
        "components": [
            {
                "id": "s",
                "type": "spiff",
                "window": {"start": "2026-01-01", "end": "2026-03-31"},
                "criteria": list(criteria),
                "payout": {"per_deal": 100},
            }
        ],
    }


@pytest.mark.parametrize(
    ("criterion", "reason"),
    [
        ({"field": "amount", "op": "gt", "value": [1, 2]}, "`gt` takes one number, date or text"),
        ({"field": "amount", "op": "le", "value": {"a": 1}}, "`le` takes one number, date or text"),
        ({"field": "amount", "op": "ge", "value": True}, "`ge` takes one number, date or text"),
        ({"field": "region", "op": "eq", "value": ["EMEA"]}, "`eq` takes one value"),
        ({"field": "region", "op": "ne", "value": {"x": 1}}, "`ne` takes one value"),
        ({"field": "region", "op": "in", "value": [["EMEA"]]}, "`in` takes a list of values"),
    ],
)
def test_a_value_the_operator_cannot_use_is_refused_with_its_path(
    criterion: dict[str, Any], reason: str
) -> None:
    # Before: value was typed Any, so `gt [1, 2]` loaded and then never matched a deal.
    with pytest.raises(PlanError) as caught:
        parse_plan_doc(_spiff_plan({"field": "is_won", "value": True}, criterion), source="p.yaml")
    message = str(caught.value)
    assert message.startswith("p.yaml: plans[0].components[0].criteria[1].value: " + reason)


def test_an_ordering_operator_needs_a_value() -> None:
    with pytest.raises(PlanError, match=r"criteria\[0\]\.value: Field required"):
        parse_plan_doc(_spiff_plan({"field": "amount", "op": "gt"}))


def test_an_unknown_operator_is_refused() -> None:
    with pytest.raises(PlanError, match=r"criteria\[0\].*'between'"):
        parse_plan_doc(_spiff_plan({"field": "amount", "op": "between", "value": 1}))


def test_every_operator_has_a_display_text_and_a_value_type() -> None:
    tags = CRITERION.json_schema()["discriminator"]["mapping"]
    assert set(tags) == set(CRITERION_OPS) == {"eq", "ne", "gt", "ge", "lt", "le", "in"}
    for model in OPERATORS:
        assert model.display and model.takes and model.__doc__, model
        assert "value" in model.model_fields, model


@pytest.mark.parametrize(
    ("criterion", "text"),
    [
        ({"field": "amount", "op": "gt", "value": 5000}, "amount > 5000"),
        ({"field": "amount", "op": "ge", "value": 5000}, "amount ≥ 5000"),
        ({"field": "amount", "op": "lt", "value": 5000}, "amount < 5000"),
        ({"field": "amount", "op": "le", "value": 5000}, "amount ≤ 5000"),
        ({"field": "stage", "value": "Won"}, "stage = Won"),
        ({"field": "stage", "op": "ne", "value": None}, "stage ≠ (blank)"),
        ({"field": "region", "op": "in", "value": ["EMEA", "APAC"]}, "region in EMEA, APAC"),
    ],
)
def test_display_text_comes_from_the_operator(criterion: dict[str, Any], text: str) -> None:
    parsed = CRITERION.validate_python(criterion)
    assert criterion_text(parsed) == text
    assert type(parsed).display in text


def test_the_rep_view_shows_the_operator_text_from_calc() -> None:
    from connector.reports.spiffs import rule_of, spiffs_of

    doc = parse_plan_doc(
        _spiff_plan(
            {"field": "amount", "op": "ge", "value": 5000},
            {"field": "region", "op": "in", "value": ["EMEA", "APAC"]},
        )
    )
    plan = doc.plans[0]
    (spiff,) = spiffs_of(plan)
    assert rule_of(plan, spiff).criteria == ("amount ≥ 5000", "region in EMEA, APAC")


def _deal(**kw: Any) -> Deal:
    return Deal(id="d", **kw)


@pytest.mark.parametrize(
    ("criterion", "deal", "matches"),
    [
        ({"field": "amount", "op": "gt", "value": 5000}, _deal(amount=Decimal("5000.01")), True),
        ({"field": "amount", "op": "gt", "value": 5000}, _deal(amount=Decimal(5000)), False),
        ({"field": "amount", "op": "ge", "value": 1.5}, _deal(amount=Decimal("1.5")), True),
        ({"field": "amount", "op": "lt", "value": 10}, _deal(), False),  # missing: no match
        ({"field": "amount", "op": "ne", "value": 10}, _deal(), True),  # missing: only ne
        (
            {"field": "close_date", "op": "le", "value": "2026-03-31"},
            _deal(close_date=date(2026, 3, 31)),
            True,
        ),
        (
            {"field": "close_date", "op": "gt", "value": date(2026, 1, 1)},
            _deal(close_date=date(2025, 12, 31)),
            False,
        ),
        (
            {"field": "region", "op": "in", "value": "EMEA"},
            _deal(attributes={"region": "EMEA"}),
            True,
        ),
        ({"field": "size", "op": "in", "value": [1, 2]}, _deal(attributes={"size": "2"}), True),
        ({"field": "size", "op": "gt", "value": 3}, _deal(attributes={"size": "big"}), False),
        ({"field": "is_won", "value": True}, _deal(is_won=True), True),
        ({"field": "flag", "value": True}, _deal(attributes={"flag": "yes"}), True),
    ],
)
def test_each_operator_matches_as_before(
    criterion: dict[str, Any], deal: Deal, matches: bool
) -> None:
    assert compile_criterion(CRITERION.validate_python(criterion))(deal) is matches


def test_the_admin_upload_lists_a_bad_criterion_at_its_path() -> None:
    from connector.reports.admin_plans import check_plan_text

    text = """
id: ae
components:
  - id: s
    type: spiff
    window: {start: 2026-01-01, end: 2026-03-31}
    payout: {per_deal: 100}
    criteria:
      - {field: amount, op: gt, value: [1, 2]}
      - {field: region, op: in, value: [[EMEA]]}
"""
    data, problems = check_plan_text(text)
    assert data is None
    assert [p.path for p in problems] == [
        "plans[0].components[0].criteria[0].value",
        "plans[0].components[0].criteria[1].value",
    ]
    assert problems[0].message.startswith("`gt` takes one number, date or text")


def test_no_module_but_calc_criteria_knows_an_operator() -> None:
    # What keeps "adding a criterion operator" at one file: the views, the sync and the docs
    # ask the model; none keeps its own table of operators or their texts (the rep views had
    # one, where an operator missing from it showed its raw name).
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    texts = {m.display for m in OPERATORS if m.display not in ("in", "=")}
    offenders = []
    for folder in ("calc", "connector", "webapp"):
        for path in sorted((root / folder).rglob("*.py")):
            if path == root / "calc" / "criteria.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                shown = isinstance(node, ast.Constant) and node.value in texts
                compared = (
                    isinstance(node, ast.Compare)
                    and isinstance(node.left, ast.Attribute)
                    and node.left.attr == "op"
                )
                if shown or compared:
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}")  # type: ignore[attr-defined]
    assert offenders == []
