"""Policies: clawback by recalculation, day proration for mid-period hires."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from calc_testkit import comp, deal, plan, res, run

from calc.model import Rep
from calc.plan import parse_plan_doc

D = Decimal
ROOT = Path(__file__).resolve().parents[2]
TIERS = {
    "id": "c",
    "type": "commission",
    "tiers": {"table": [{"from": 0, "rate": 0.05}, {"from": 1.0, "rate": 0.12}]},
}
BONUS = {"id": "b", "type": "bonus", "min_attainment": 1.0, "amount": 5000}


def _over_quota(mode: str) -> tuple[Any, Any]:
    # Quota 250,000; D1 100,000 (first) and D2 240,000: D1's own lines are 100,000 at 5%
    # = 5,000; D2 150,000 at 5% + 90,000 at 12% = 18,300; bonus 5,000. Q1 pays 28,300.
    # D1 is cancelled in April. Without D1, Q1 would pay 240,000 x 5% = 12,000.
    p = plan(
        quota={"amount": 250000},
        components=[TIERS, BONUS],
        clawback={"window_days": 90, "mode": mode},
    )
    deals = [
        deal("D1", "R1", 100000, "2026-01-15", cancel_date="2026-04-10"),
        deal("D2", "R1", 240000, "2026-02-15"),
    ]
    result = run(p, deals)
    return res(result, "R1", "2026-Q1"), res(result, "R1", "2026-Q2")


def test_deal_lines_clawback_takes_back_the_deals_own_lines_only() -> None:
    q1, q2 = _over_quota("deal_lines")
    assert q1.gross == D(28300)
    assert comp(q2, "clawback") == D(-5000)
    assert (q2.credit, q2.attainment) == (D(0), D(0))


def test_recalculate_clawback_takes_back_everything_the_deal_added() -> None:
    # 28,300 paid - 12,000 without the deal = 16,300 (5,000 + the 11,300 overpayment);
    # the cancelled credit and its attainment are reversed in the cancellation period.
    q1, q2 = _over_quota("recalculate")
    assert q1.gross == D(28300)
    assert comp(q2, "clawback") == D(-16300)
    [line] = [ln for ln in q2.lines if ln.component == "clawback"]
    assert (line.deal_id, line.base, line.amount) == ("D1", D(16300), D(-16300))
    assert "2026-Q1 recalculated without the deal" in line.explain
    assert (q2.credit, q2.attainment) == (D(-100000), D("-0.4000"))
    assert q2.attainment_ytd == D("0.4800")  # (340,000 - 100,000) / 500,000


def test_two_deals_cancelled_out_of_one_period_claw_back_exactly_the_difference() -> None:
    p = plan(
        quota={"amount": 250000},
        components=[TIERS, BONUS],
        clawback={"window_days": 90, "mode": "recalculate", "percent": 1},
    )
    deals = [
        deal("D1", "R1", 100000, "2026-01-15", cancel_date="2026-04-10"),
        deal("D2", "R1", 240000, "2026-02-15", cancel_date="2026-05-01"),
        deal("D3", "R1", 50000, "2026-03-01"),
    ]
    result = run(p, deals)
    q1, q2 = res(result, "R1", "2026-Q1"), res(result, "R1", "2026-Q2")
    # Q1 without both: 50,000 x 5% = 2,500.
    assert q1.gross + comp(q2, "clawback") == D(2500)


def test_a_same_period_cancellation_recalculates_the_period() -> None:
    p = plan(
        quota={"amount": 250000},
        components=[TIERS, BONUS],
        clawback={"window_days": 90, "mode": "recalculate"},
    )
    deals = [
        deal("D1", "R1", 100000, "2026-01-15", cancel_date="2026-03-10"),
        deal("D2", "R1", 240000, "2026-02-15"),
    ]
    q1 = res(run(p, deals), "R1", "2026-Q1")
    assert (q1.gross, q1.credit, q1.attainment) == (D(12000), D(240000), D("0.9600"))


def _hired(proration: str | None) -> Any:
    quota: dict[str, Any] = {"amount": 90000}
    if proration is not None:
        quota["proration"] = proration
    p = plan(quota=quota, components=[TIERS])
    rep = Rep("R1", plan_id="p", hire_date=date(2026, 3, 20))
    return res(run(p, [deal("D1", "R1", 20000, "2026-03-25")], reps=[rep]), "R1", "2026-Q1")


def test_day_proration_is_the_default_and_gives_a_late_hire_a_quota() -> None:
    # Hired 2026-03-20: 12 of Q1's 90 days, quota 90,000 x 12/90 = 12,000. The 20,000 deal
    # is 12,000 at 5% + 8,000 at 12% = 1,560.
    for proration in (None, "day"):
        q1 = _hired(proration)
        assert (q1.quota, q1.attainment, comp(q1, "c")) == (D(12000), D("1.6667"), D(1560))


def test_month_proration_gives_a_hire_after_the_15th_of_the_last_month_no_quota() -> None:
    q1 = _hired("month")
    assert (q1.quota, comp(q1, "c")) == (D(0), D(0))


def test_the_demo_plan_claws_back_by_recalculation_and_prorates_by_day() -> None:
    doc = parse_plan_doc(yaml.safe_load((ROOT / "connector" / "demo_plan.yaml").read_text()))
    ae = doc.plan("ae")
    assert ae is not None and ae.clawback is not None
    assert ae.clawback.mode == "recalculate"
    assert ae.quota is not None and ae.quota.proration == "day"
