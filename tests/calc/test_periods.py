"""Worked examples: quotas (weights, proration, ramp), YTD, fiscal years, draws, clawbacks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from calc_testkit import comp, deal, plan, res, run

from calc.model import Rep
from calc.periods import period_of, periods_between

D = Decimal
FLAT = {"id": "c", "type": "commission", "rate": 0.1}


@pytest.mark.parametrize(
    ("day", "kind", "fy", "name", "start", "end"),
    [
        ("2026-02-14", "month", 1, "2026-02", "2026-02-01", "2026-02-28"),
        ("2026-05-31", "quarter", 1, "2026-Q2", "2026-04-01", "2026-06-30"),
        ("2026-12-31", "year", 1, "2026", "2026-01-01", "2026-12-31"),
        # fiscal year from February: January 2026 is the last month of FY2025
        ("2026-01-15", "quarter", 2, "2025-Q4", "2025-11-01", "2026-01-31"),
        ("2026-02-01", "quarter", 2, "2026-Q1", "2026-02-01", "2026-04-30"),
        ("2026-01-15", "year", 2, "2025", "2025-02-01", "2026-01-31"),
    ],
)
def test_period_names(day: str, kind: str, fy: int, name: str, start: str, end: str) -> None:
    period = period_of(date.fromisoformat(day), kind, fy)  # type: ignore[arg-type]
    assert (period.name, period.start.isoformat(), period.end.isoformat()) == (name, start, end)


def test_periods_between_covers_the_range() -> None:
    names = [p.name for p in periods_between(date(2026, 2, 15), date(2026, 7, 1), "quarter")]
    assert names == ["2026-Q1", "2026-Q2", "2026-Q3"]


@pytest.mark.parametrize(
    ("hire", "proration", "q2_quota"),
    [
        # Annual 1,200,000 with weights 10/20/30/40%: Q2 = 240,000.
        # Hired May 20, by month: April no, May no (not employed on the 15th), June yes
        # -> 1/3 = 80,000
        ("2026-05-20", "month", "80000.00"),
        # Hired May 10, by month: May and June -> 2/3 = 160,000
        ("2026-05-10", "month", "160000.00"),
        # Hired May 20, by day: May 20-31 (12) + June (30) = 42 of 91 days
        # -> 240,000 x 42/91 = 110,769.23
        ("2026-05-20", "day", "110769.23"),
        # No proration: the full 240,000
        ("2026-05-20", "none", "240000.00"),
    ],
)
def test_annual_weighted_quota_prorated_for_a_mid_quarter_hire(
    hire: str, proration: str, q2_quota: str
) -> None:
    p = plan(
        quota={"annual": 1200000, "weights": [0.1, 0.2, 0.3, 0.4], "proration": proration},
        components=[FLAT],
    )
    reps = [Rep(id="R1", plan_id="p", hire_date=date.fromisoformat(hire))]
    result = run(p, [], reps=reps)
    assert res(result, "R1", "2026-Q2").quota == D(q2_quota)
    assert res(result, "R1", "2026-Q3").quota == D(360000)
    assert result.result("R1", "2026-Q1") is None  # not yet employed


def test_ramp_and_year_to_date_attainment() -> None:
    # Monthly quota 10,000, ramp 25/50/75% in tenure months 1-3; hired Jan 5 (no proration).
    # Quotas: Jan 2,500, Feb 5,000, Mar 7,500, Apr 10,000. Credit 5,000 every month.
    # Attainment: Jan 2.0, Feb 1.0, Mar 0.6667, Apr 0.5.
    # YTD: Jan 5/2.5 = 2.0; Feb 10/7.5 = 1.3333; Mar 15/15 = 1.0; Apr 20/25 = 0.8.
    p = {
        "id": "p",
        "period": "month",
        "quota": {"amount": 10000, "ramp": [0.25, 0.5, 0.75], "proration": "none"},
        "components": [FLAT],
    }
    reps = [Rep(id="R1", plan_id="p", hire_date=date(2026, 1, 5))]
    deals = [deal(f"D{m}", "R1", 5000, f"2026-0{m}-20") for m in (1, 2, 3, 4)]
    result = run(p, deals, reps=reps, end=date(2026, 4, 30))
    rows = [(r.period.name, r.quota, r.attainment, r.attainment_ytd) for r in result.results]
    assert rows == [
        ("2026-01", D(2500), D("2.0000"), D("2.0000")),
        ("2026-02", D(5000), D("1.0000"), D("1.3333")),
        ("2026-03", D(7500), D("0.6667"), D("1.0000")),
        ("2026-04", D(10000), D("0.5000"), D("0.8000")),
    ]


def test_year_to_date_with_a_february_fiscal_year_and_a_mid_year_start() -> None:
    # Quota 100,000 per quarter, fiscal year from February. Range Jan..Jul 2026 returns
    # 2025-Q4 (Nov-Jan), 2026-Q1 (Feb-Apr), 2026-Q2 (May-Jul); FY2025 is computed from Feb 2025.
    # 2025-Q4: 50,000 -> 0.5; YTD 50,000 / 400,000 = 0.125.
    # 2026-Q1: 100,000 -> 1.0, YTD 1.0 (new year).
    # 2026-Q2: 50,000 -> 0.5, YTD 150,000 / 200,000 = 0.75.
    p = plan(fiscal_year_start_month=2, quota={"amount": 100000}, components=[FLAT])
    deals = [
        deal("D1", "R1", 50000, "2026-01-15"),
        deal("D2", "R1", 100000, "2026-02-10"),
        deal("D3", "R1", 50000, "2026-05-05"),
    ]
    result = run(p, deals, start=date(2026, 1, 1), end=date(2026, 7, 31))
    rows = [(r.period.name, r.attainment, r.attainment_ytd, r.gross_ytd) for r in result.results]
    assert rows == [
        ("2025-Q4", D("0.5000"), D("0.1250"), D(5000)),
        ("2026-Q1", D("1.0000"), D("1.0000"), D(10000)),
        ("2026-Q2", D("0.5000"), D("0.7500"), D(15000)),
    ]


def test_recoverable_draw_over_six_months_with_partial_recovery() -> None:
    # Monthly draw 5,000 recoverable; flat 10%. Gross by month and the draw:
    #   Jan  2,000: top-up 3,000, balance 3,000, net 5,000
    #   Feb  3,000: top-up 2,000, balance 5,000, net 5,000
    #   Mar  7,000: recover min(5,000, 7,000-5,000) = 2,000, balance 3,000, net 5,000
    #   Apr  6,000: recover 1,000, balance 2,000, net 5,000
    #   May  4,000: top-up 1,000, balance 3,000, net 5,000
    #   Jun 10,000: recover 3,000, balance 0, net 7,000
    p = {
        "id": "p",
        "period": "month",
        "components": [FLAT],
        "draw": {"amount": 5000, "recoverable": True},
    }
    amounts = [20000, 30000, 70000, 60000, 40000, 100000]
    deals = [deal(f"D{m}", "R1", a, f"2026-0{m}-10") for m, a in enumerate(amounts, start=1)]
    result = run(p, deals, end=date(2026, 6, 30))
    rows = [
        (r.gross, r.draw.top_up, r.draw.recovered, r.draw.balance, r.net) for r in result.results
    ]
    assert rows == [
        (D(2000), D(3000), 0, D(3000), D(5000)),
        (D(3000), D(2000), 0, D(5000), D(5000)),
        (D(7000), 0, D(2000), D(3000), D(5000)),
        (D(6000), 0, D(1000), D(2000), D(5000)),
        (D(4000), D(1000), 0, D(3000), D(5000)),
        (D(10000), 0, D(3000), 0, D(7000)),
    ]


def test_non_recoverable_draw_keeps_no_balance() -> None:
    p = {
        "id": "p",
        "period": "month",
        "components": [FLAT],
        "draw": {"amount": 5000, "recoverable": False},
    }
    deals = [deal("D1", "R1", 20000, "2026-01-10"), deal("D2", "R1", 90000, "2026-02-10")]
    result = run(p, deals, end=date(2026, 2, 28))
    assert [(r.draw.top_up, r.draw.balance, r.net) for r in result.results] == [
        (D(3000), 0, D(5000)),
        (0, 0, D(9000)),
    ]


def test_clawback_in_the_period_holding_the_cancel_date() -> None:
    # Flat 10%, clawback window 90 days at 100%:
    # D1 50,000 closed Jan 15, cancelled Mar 20 (64 days): Q1 +5,000 and -5,000.
    # D2 20,000 closed Feb 1, cancelled May 10 (98 days): outside the window, kept.
    # D3 30,000 closed Mar 1, cancelled Apr 15 (45 days): Q2 line -3,000.
    p = plan(components=[FLAT], clawback={"window_days": 90, "percent": 1.0})
    deals = [
        deal("D1", "R1", 50000, "2026-01-15", cancel_date="2026-03-20"),
        deal("D2", "R1", 20000, "2026-02-01", cancel_date="2026-05-10"),
        deal("D3", "R1", 30000, "2026-03-01", cancel_date="2026-04-15"),
    ]
    result = run(p, deals)
    q1, q2 = res(result, "R1", "2026-Q1"), res(result, "R1", "2026-Q2")
    assert (comp(q1, "c"), comp(q1, "clawback"), q1.gross) == (D(10000), D(-5000), D(5000))
    assert (comp(q2, "clawback"), q2.gross) == (D(-3000), D(-3000))
    (line,) = [ln for ln in q2.lines if ln.component == "clawback"]
    assert (line.deal_id, line.base, line.rate, line.amount) == ("D3", D(3000), D(-1), D(-3000))
    assert (
        line.explain == "clawback: D3 cancelled 2026-04-15, 45 days after credit; "
        "100% of 3000.00 earned in 2026-Q1"
    )
    # The same period run alone still finds what D3 earned in Q1.
    alone = run(p, deals, start=date(2026, 4, 1), end=date(2026, 6, 30))
    assert comp(res(alone, "R1", "2026-Q2"), "clawback") == D(-3000)
