"""Plan document validation: every message gives the path and the reason."""

from __future__ import annotations

from typing import Any

import pytest

from calc.errors import PlanError
from calc.plan import Commission, parse_plan_doc
from calc.plan_checks import check_deal_fields


def _doc(**component: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "c", "type": "commission", "rate": 0.1}
    return {
        "plans": [
            {
                "id": "ae",
                "quota": {"amount": 1000},
                "components": [
                    {"id": "b", "type": "bonus", "min_attainment": 1, "amount": 1},
                    base | component,
                ],
            }
        ]
    }


TIERS = [{"from": 0, "rate": 0.01}, {"from": 0.5, "rate": 0.02}, {"from": 0.5, "rate": 0.03}]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            _doc(rate=None, tiers={"table": TIERS}),
            "plans[0].components[1].tiers.table[2].from: "
            "must be greater than the previous tier's from",
        ),
        (_doc(rate=-0.1), "plans[0].components[1].rate: must not be negative"),
        (_doc(rate="ten"), "plans[0].components[1].rate: Input should be a valid decimal"),
        (_doc(rate=None), "plans[0].components[1]: give exactly one of rate and tiers"),
        (
            _doc(rate=None, tiers={"table": [{"from": 0.1, "rate": 0.1}]}),
            "plans[0].components[1].tiers.table[0].from: the first tier must start at 0",
        ),
        (
            _doc(rate=None, tiers={"table": [{"from": 0, "rate": 0.1, "base_rate_multiple": 1}]}),
            "plans[0].components[1].tiers.table[0]: "
            "give exactly one of rate and base_rate_multiple",
        ),
        (
            _doc(tiers=None, colour="red"),
            "plans[0].components[1].colour: Extra inputs are not permitted",
        ),
        (
            _doc(multipliers=[{"factor": 2}]),
            "plans[0].components[1].multipliers[0]: "
            "give exactly one of below_attainment and min_attainment",
        ),
        (
            _doc(type="nonsense"),
            "plans[0].components[1]: Input tag 'nonsense' found using 'type' does not match "
            "any of the expected tags: 'commission', 'target_incentive', 'bonus', 'spiff'",
        ),
        (
            {"plans": [{"id": "a", "period": "week"}]},
            "plans[0].period: Input should be 'month', 'quarter' or 'year'",
        ),
        (
            {
                "plans": [
                    {"id": "a", "period": "quarter", "quota": {"annual": 10, "weights": [0.5, 0.5]}}
                ]
            },
            "plans[0].quota.weights: must have 4 weights, one per quarter",
        ),
        (
            {"plans": [{"id": "a", "quota": {"annual": 10, "weights": [0.5, 0.5, 0.5, 0.5]}}]},
            "plans[0].quota.weights: must add up to 1",
        ),
        ({"plans": [{"id": "a"}, {"id": "a"}]}, "plans[1].id: duplicate plan id 'a'"),
        ({"plans": []}, "plans: List should have at least 1 item after validation, not 0"),
        (
            {"id": "a", "crediting": {"rollup": {"levels": 0}}},
            "crediting.rollup.levels: must be a whole number of at least 1, or 'all'",
        ),
        (
            {
                "id": "a",
                "components": [
                    {
                        "id": "s",
                        "type": "spiff",
                        "window": {"start": "2026-03-01", "end": "2026-01-01"},
                        "payout": {"per_deal": 1},
                    }
                ],
            },
            "plans[0].components[0].window.end: must not be before window.start",
        ),
        ([1, 2], "a plan document must be a mapping"),
    ],
)
def test_validation_messages_give_path_and_reason(doc: Any, message: str) -> None:
    with pytest.raises(PlanError) as info:
        parse_plan_doc(doc, source="plan.yaml")
    assert str(info.value) == f"plan.yaml: {message}"


def test_a_single_plan_document_and_defaults() -> None:
    doc = parse_plan_doc(
        {
            "id": "ae",
            "components": [{"id": "c", "type": "commission", "rate": 0.1}],
            "crediting": {"rollup": {}},
        }
    )
    plan = doc.plans[0]
    assert (plan.period, plan.measure, plan.credit_date, plan.credit_types) == (
        "quarter",
        "amount",
        "close_date",
        ["owner", "split"],
    )
    assert [(c.field, c.op, c.value) for c in plan.eligible] == [("is_won", "eq", True)]
    assert isinstance(plan.components[0], Commission)
    assert doc.crediting.rollup is not None and doc.crediting.rollup.levels == "all"


def test_criteria_fields_must_name_a_deal_column() -> None:
    doc = parse_plan_doc(
        {
            "id": "ae",
            "components": [
                {
                    "id": "s",
                    "type": "spiff",
                    "window": {"start": "2026-01-01", "end": "2026-03-31"},
                    "criteria": [{"field": "segment", "value": "SMB"}],
                    "payout": {"per_deal": 1},
                }
            ],
        }
    )
    check_deal_fields(doc, ["id", "segment"], source="plan.yaml")
    with pytest.raises(
        PlanError,
        match=r"^plan.yaml: plans\[0\]\.components\[0\]\.criteria\[0\]\.field: "
        r"no deal column named 'segment'$",
    ):
        check_deal_fields(doc, ["id", "amount"], source="plan.yaml")
