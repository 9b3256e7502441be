"""Worked examples: target incentive curve, decelerator, cap, gate, SPIFF, bonus."""

from __future__ import annotations

from decimal import Decimal

import pytest
from calc_testkit import by_deal, comp, deal, plan, res, run

D = Decimal


def test_target_incentive_marginal_curve() -> None:
    # Target 20,000, quota 200,000; curve 1.0x to 100%, 1.5x above.
    # D1 150,000: attainment 0 -> 75% at 1.0x: 20,000 x 0.75 = 15,000.
    # D2 90,000: 75% -> 100% at 1.0x = 5,000; 100% -> 120% at 1.5x = 20,000 x 0.2 x 1.5 = 6,000.
    # Total 26,000 = 20,000 x (1.0 + 0.2 x 1.5).
    ti = {
        "id": "ti",
        "type": "target_incentive",
        "target": 20000,
        "curve": {"table": [{"from": 0, "multiplier": 1.0}, {"from": 1.0, "multiplier": 1.5}]},
    }
    deals = [deal("D1", "R1", 150000, "2026-01-10"), deal("D2", "R1", 90000, "2026-02-10")]
    q1 = res(run(plan(quota={"amount": 200000}, components=[ti]), deals), "R1", "2026-Q1")
    assert comp(q1, "ti") == D(26000)
    assert by_deal(q1, "ti") == {"D1": D(15000), "D2": D(11000)}
    assert "curve 100%+ of quota at 1.5x target 20000.00" in [ln.explain for ln in q1.lines]


def test_target_incentive_retroactive_curve() -> None:
    # Retroactive: the multiplier of the band reached (1.5x at 120%) applies to all:
    # 20,000 x 1.2 x 1.5 = 36,000; D1 share 150/240 = 22,500, D2 13,500.
    ti = {
        "id": "ti",
        "type": "target_incentive",
        "target": 20000,
        "curve": {
            "mode": "retroactive",
            "table": [{"from": 0, "multiplier": 1.0}, {"from": 1.0, "multiplier": 1.5}],
        },
    }
    deals = [deal("D1", "R1", 150000, "2026-01-10"), deal("D2", "R1", 90000, "2026-02-10")]
    q1 = res(run(plan(quota={"amount": 200000}, components=[ti]), deals), "R1", "2026-Q1")
    assert by_deal(q1, "ti") == {"D1": D(22500), "D2": D(13500)}


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        # Quota 100,000, flat 10%, x0.5 below 80% attainment, on ALL sales (not just the margin):
        # 30,000 + 40,000 = 70% -> 7,000 x 0.5 = 3,500 (D1 1,500, D2 2,000)
        ([30000, 40000], {"D1": "1500", "D2": "2000"}),
        # exactly 80% is not below 80%: 8,000 in full
        ([30000, 50000], {"D1": "3000", "D2": "5000"}),
    ],
)
def test_decelerator_applies_to_all_sales(amounts: list[int], expected: dict[str, str]) -> None:
    c = {
        "id": "c",
        "type": "commission",
        "rate": 0.1,
        "multipliers": [{"below_attainment": 0.8, "factor": 0.5}],
    }
    deals = [deal(f"D{i + 1}", "R1", a, f"2026-02-0{i + 1}") for i, a in enumerate(amounts)]
    q1 = res(run(plan(quota={"amount": 100000}, components=[c]), deals), "R1", "2026-Q1")
    assert by_deal(q1, "c") == {k: D(v) for k, v in expected.items()}


def test_accelerator_on_the_whole_component() -> None:
    # 150% attainment reached: x1.25 on all commission: 15,000 x 10% x 1.25 = 1,875.
    c = {
        "id": "c",
        "type": "commission",
        "rate": 0.1,
        "multipliers": [{"min_attainment": 1.5, "factor": 1.25}],
    }
    q1 = res(
        run(plan(quota={"amount": 10000}, components=[c]), [deal("D1", "R1", 15000, "2026-01-02")]),
        "R1",
        "2026-Q1",
    )
    assert comp(q1, "c") == D("1875")
    assert q1.lines[0].explain == "flat 10%; x1.25 at 150%+ attainment"


def test_cap_scales_lines_and_the_remainder_rule_keeps_every_cent() -> None:
    # Flat 10% on 3 x 50,000 = 15,000, capped at 10,000: each line 3,333.333... -> 3,333.33,
    # which sums to 9,999.99; the missing cent goes to the largest line (first on ties): D1.
    c = {"id": "c", "type": "commission", "rate": 0.1, "cap": {"amount": 10000}}
    deals = [deal(f"D{i}", "R1", 50000, f"2026-01-1{i}") for i in (1, 2, 3)]
    q1 = res(run(plan(components=[c]), deals), "R1", "2026-Q1")
    assert comp(q1, "c") == D("10000.00")
    assert by_deal(q1, "c") == {"D1": D("3333.34"), "D2": D("3333.33"), "D3": D("3333.33")}
    assert "capped at 10000.00" in q1.lines[0].explain


@pytest.mark.parametrize(
    ("amount", "expected", "lines"), [(40000, "0", 1), (50000, "2500", 1), (60000, "3000", 1)]
)
def test_gate(amount: int, expected: str, lines: int) -> None:
    # Quota 100,000, flat 5%, gate at 50%: 40% pays nothing (one explanatory line),
    # exactly 50% passes: 2,500; 60%: 3,000.
    c = {"id": "c", "type": "commission", "rate": 0.05, "gate": {"min_attainment": 0.5}}
    q1 = res(
        run(
            plan(quota={"amount": 100000}, components=[c]), [deal("D1", "R1", amount, "2026-03-01")]
        ),
        "R1",
        "2026-Q1",
    )
    assert comp(q1, "c") == D(expected)
    assert len(q1.lines) == lines
    if expected == "0":
        assert q1.lines[0].explain == "gate: attainment 40% below 50%"
        assert q1.lines[0].deal_id is None


def test_per_unit_spiff_with_a_maximum() -> None:
    # 100 per unit on Analytics deals in Q1, at most 2 payouts:
    # D1 Analytics 3 units (Jan 5) -> 300, 1 of 2; D2 Core -> no;
    # D3 Analytics 4 units -> 400, 2 of 2;
    # D4 Analytics (Mar 1) -> over the maximum; D5 Analytics in April -> outside the window.
    spiff = {
        "id": "s",
        "type": "spiff",
        "name": "Q1 Analytics",
        "window": {"start": "2026-01-01", "end": "2026-03-31"},
        "criteria": [{"field": "product_family", "op": "eq", "value": "Analytics"}],
        "payout": {"per_unit": 100, "unit_field": "quantity"},
        "max_payouts": 2,
    }
    deals = [
        deal("D1", "R1", 1000, "2026-01-05", product_family="Analytics", quantity=3),
        deal("D2", "R1", 1000, "2026-01-10", product_family="Core", quantity=10),
        deal("D3", "R1", 1000, "2026-02-01", product_family="Analytics", quantity=4),
        deal("D4", "R1", 1000, "2026-03-01", product_family="Analytics", quantity=5),
        deal("D5", "R1", 1000, "2026-04-02", product_family="Analytics", quantity=2),
    ]
    result = run(plan(components=[spiff]), deals)
    q1, q2 = res(result, "R1", "2026-Q1"), res(result, "R1", "2026-Q2")
    assert by_deal(q1, "s") == {"D1": D(300), "D3": D(400)}
    assert [ln.explain for ln in q1.lines] == [
        "SPIFF Q1 Analytics, 1 of 2, per unit",
        "SPIFF Q1 Analytics, 2 of 2, per unit",
    ]
    assert comp(q2, "s") == 0


@pytest.mark.parametrize(
    ("op", "value", "paid"),
    [
        ("in", ["Core", "Platform"], ["D2"]),
        ("ge", 5, ["D2", "D4"]),
        ("ne", "Core", ["D1", "D3", "D4"]),
    ],
)
def test_spiff_criteria_operators(op: str, value: object, paid: list[str]) -> None:
    field = "quantity" if op == "ge" else "product_family"
    spiff = {
        "id": "s",
        "type": "spiff",
        "window": {"start": "2026-01-01", "end": "2026-03-31"},
        "criteria": [{"field": field, "op": op, "value": value}],
        "payout": {"per_deal": 50},
    }
    deals = [
        deal("D1", "R1", 1000, "2026-01-05", product_family="Analytics", quantity=3),
        deal("D2", "R1", 1000, "2026-01-10", product_family="Core", quantity=10),
        deal("D3", "R1", 1000, "2026-02-01", product_family="Analytics", quantity=4),
        deal("D4", "R1", 1000, "2026-03-01", product_family="Services", quantity=5),
    ]
    q1 = res(run(plan(components=[spiff]), deals), "R1", "2026-Q1")
    assert sorted(by_deal(q1, "s")) == paid


def test_bonus_at_threshold() -> None:
    # Bonus 5,000 at 100%: 99,999 misses it; 100,000 exactly earns it.
    b = {"id": "b", "type": "bonus", "min_attainment": 1.0, "amount": 5000}
    for amount, expected in ((99999, "0"), (100000, "5000")):
        q1 = res(
            run(
                plan(quota={"amount": 100000}, components=[b]),
                [deal("D1", "R1", amount, "2026-01-02")],
            ),
            "R1",
            "2026-Q1",
        )
        assert comp(q1, "b") == D(expected)
