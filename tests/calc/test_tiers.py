"""Worked examples: commission tiers, edges, bands, base rate multiples, flat rates."""

from __future__ import annotations

from decimal import Decimal

import pytest
from calc_testkit import by_deal, comp, deal, plan, res, run

D = Decimal
# Quota 100,000 per quarter; tiers 0-50% at 5%, 50-100% at 10%, 100%+ at 15%.
# Q1 deals in credit-date order: D1 40,000, D2 30,000, D3 50,000 (total 120,000 = 120%).
DEALS = [
    deal("D1", "R1", 40000, "2026-01-10"),
    deal("D2", "R1", 30000, "2026-02-10"),
    deal("D3", "R1", 50000, "2026-03-10"),
]
TABLE = [{"from": 0, "rate": 0.05}, {"from": 0.5, "rate": 0.10}, {"from": 1.0, "rate": 0.15}]

CASES = [
    # marginal, period running total:
    #   D1 0-40k at 5% = 2,000
    #   D2 40-50k at 5% = 500 + 50-70k at 10% = 2,000 -> 2,500
    #   D3 70-100k at 10% = 3,000 + 100-120k at 15% = 3,000 -> 6,000; total 10,500
    ("marginal", "period", {"D1": "2000", "D2": "2500", "D3": "6000"}, "10500"),
    # retroactive, period: 120k reaches the 15% tier, which applies to every deal:
    #   D1 6,000, D2 4,500, D3 7,500; total 18,000
    ("retroactive", "period", {"D1": "6000", "D2": "4500", "D3": "7500"}, "18000"),
    # marginal, per deal (each deal from zero): D1 40k at 5% = 2,000; D2 30k at 5% = 1,500;
    #   D3 0-50k at 5% = 2,500 and nothing above (the 50k edge starts the next tier); total 6,000
    ("marginal", "deal", {"D1": "2000", "D2": "1500", "D3": "2500"}, "6000"),
    # retroactive, per deal: D1 40k -> 5% = 2,000; D2 30k -> 5% = 1,500;
    #   D3 exactly 50k sits on the edge, so it is in the 10% tier: 5,000; total 8,500
    ("retroactive", "deal", {"D1": "2000", "D2": "1500", "D3": "5000"}, "8500"),
]


@pytest.mark.parametrize(("mode", "scope", "per_deal", "total"), CASES)
def test_tier_modes_on_the_same_inputs(
    mode: str, scope: str, per_deal: dict[str, str], total: str
) -> None:
    tiers = {"basis": "attainment", "mode": mode, "scope": scope, "table": TABLE}
    result = run(
        plan(
            quota={"amount": 100000}, components=[{"id": "c", "type": "commission", "tiers": tiers}]
        ),
        DEALS,
    )
    q1 = res(result, "R1", "2026-Q1")
    assert comp(q1, "c") == D(total)
    assert by_deal(q1, "c") == {k: D(v) for k, v in per_deal.items()}
    assert q1.attainment == D("1.2000")


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        # 50,000 exactly fills the first tier: 50,000 x 5% = 2,500; one more dollar is at 10%.
        (["50000"], "2500"),
        (["50000", "1"], "2500.10"),
        # 100,000 exactly: 2,500 + 5,000; the next 10 at 15% = 1.50
        (["100000", "10"], "7501.50"),
    ],
)
def test_amount_on_a_tier_edge_falls_in_the_higher_tier(amounts: list[str], expected: str) -> None:
    tiers = {
        "basis": "amount",
        "table": [
            {"from": 0, "rate": 0.05},
            {"from": 50000, "rate": 0.10},
            {"from": 100000, "rate": 0.15},
        ],
    }
    deals = [deal(f"D{i}", "R1", a, f"2026-01-{i + 10}") for i, a in enumerate(amounts)]
    result = run(
        plan(
            quota={"amount": 100000}, components=[{"id": "c", "type": "commission", "tiers": tiers}]
        ),
        deals,
    )
    assert comp(res(result, "R1", "2026-Q1"), "c") == D(expected)


def test_retroactive_exactly_on_edge_takes_the_higher_rate() -> None:
    # Period total exactly 100% of quota: the 15% tier applies to all 100,000 -> 15,000.
    tiers = {"mode": "retroactive", "table": TABLE}
    deals = [deal("D1", "R1", 60000, "2026-01-05"), deal("D2", "R1", 40000, "2026-02-05")]
    q1 = res(
        run(
            plan(
                quota={"amount": 100000},
                components=[{"id": "c", "type": "commission", "tiers": tiers}],
            ),
            deals,
        ),
        "R1",
        "2026-Q1",
    )
    assert by_deal(q1, "c") == {"D1": D("9000"), "D2": D("6000")}


def test_attainment_bands_with_a_zero_first_band() -> None:
    # Quota 250,000; bands 0-50% at 0%, 50-100% at 8%, 100%+ at 12%.
    # D1 125,000 fills the 0% band exactly -> 0.00 (a line that says so).
    # D2 200,000: 125k-250k at 8% = 10,000; 250k-325k at 12% = 9,000 -> 19,000.
    table = [{"from": 0, "rate": 0}, {"from": 0.5, "rate": 0.08}, {"from": 1.0, "rate": 0.12}]
    deals = [deal("D1", "R1", 125000, "2026-01-20"), deal("D2", "R1", 200000, "2026-02-20")]
    q1 = res(
        run(
            plan(
                quota={"amount": 250000},
                components=[{"id": "commission", "type": "commission", "tiers": {"table": table}}],
            ),
            deals,
        ),
        "R1",
        "2026-Q1",
    )
    assert comp(q1, "commission") == D("19000")
    assert by_deal(q1, "commission") == {"D1": D(0), "D2": D("19000")}
    assert [(ln.deal_id, ln.base, ln.amount, ln.explain) for ln in q1.lines] == [
        ("D1", D(125000), D(0), "tier 0%-50% of quota at 0%"),
        ("D2", D(125000), D(10000), "tier 50%-100% of quota at 8%"),
        ("D2", D(75000), D(9000), "tier 100%+ of quota at 12%"),
    ]
    assert (q1.credit, q1.attainment) == (D("325000.00"), D("1.3000"))


def test_base_rate_multiple_uses_target_incentive_over_quota() -> None:
    # Target incentive 10,000 / quota 100,000 = base rate 10%. Tiers 1x to 100%, 2x above.
    # Credit 120,000: 100,000 x 10% + 20,000 x 20% = 14,000.
    table = [{"from": 0, "base_rate_multiple": 1}, {"from": 1, "base_rate_multiple": 2}]
    p = plan(
        quota={"amount": 100000},
        target_incentive=10000,
        components=[{"id": "c", "type": "commission", "tiers": {"table": table}}],
    )
    q1 = res(run(p, [deal("D1", "R1", 120000, "2026-01-10")]), "R1", "2026-Q1")
    assert comp(q1, "c") == D("14000")


def test_flat_rate_and_zero_quota() -> None:
    # No quota: flat commission still pays (10% of 12,345.67 = 1,234.567 -> 1,234.57), attainment 0.
    p = plan(components=[{"id": "c", "type": "commission", "rate": 0.1}])
    q1 = res(run(p, [deal("D1", "R1", "12345.67", "2026-03-31")]), "R1", "2026-Q1")
    assert comp(q1, "c") == D("1234.57")
    assert q1.attainment == 0
