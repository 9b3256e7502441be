"""Year-to-date components (true-ups each period, the year-end settlement) and draw limits."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from calc_testkit import D, by_deal, comp, deal, plan, res, run

from calc.errors import PlanError
from calc.model import Rep
from calc.plan import parse_plan_doc
from calc.results import CalcResult

RETRO = {"mode": "retroactive", "table": [{"from": 0, "rate": "0.05"}, {"from": 1, "rate": "0.08"}]}


def _ytd_plan(ytd: str = "to_date", **kw: Any) -> dict[str, Any]:
    components = [{"id": "c", "type": "commission", "ytd": ytd, "tiers": RETRO}]
    return plan(quota={"amount": 100000}, components=components, **kw)


def _paid(result: CalcResult, name: str = "c", rep: str = "R1") -> dict[str, D]:
    return {r.period.name: comp(r, name) for r in result.for_rep(rep)}


def test_ytd_tiers_true_up_the_retroactive_rate_on_earlier_deals() -> None:
    deals = [deal("D1", "R1", 80000, "2026-02-01"), deal("D2", "R1", 150000, "2026-05-01")]
    result = run(_ytd_plan(), deals, end=date(2026, 6, 30))
    q1, q2 = res(result, "R1", "2026-Q1"), res(result, "R1", "2026-Q2")
    assert comp(q1, "c") == D("4000.00")
    # Year to date 230,000 of 200,000: 8% on all of it (18,400) minus the 4,000 paid in Q1.
    assert comp(q2, "c") == D("14400.00")
    assert by_deal(q2, "c") == {"D1": D("2400.00"), "D2": D("12000.00")}
    d1 = [line for line in q2.lines if line.deal_id == "D1"]
    assert [line.amount for line in d1] == [D("6400.00"), D("-4000.00")]
    assert d1[0].explain.startswith("YTD true-up 2026-Q2: 115% of 200000.00 quota to date")
    assert "6400.00 due to date - 0.00 paid before" in d1[0].explain
    assert "0.00 due to date - 4000.00 paid before" in d1[1].explain
    assert "on the year's credit" in d1[0].explain


def test_lines_add_up_to_the_true_up_and_the_true_ups_to_the_years_due() -> None:
    deals = [deal(f"D{i}", "R1", 23456.78 + 1000 * i, f"2026-{i:02d}-07") for i in range(1, 13)]
    result = run(_ytd_plan(), deals)
    for r in result.for_rep("R1"):
        assert sum(line.amount for line in r.lines if line.component == "c") == comp(r, "c")
    credit = sum(D(str(23456.78 + 1000 * i)) for i in range(1, 13))
    # 359,481.36 of the year's 400,000 quota: 5% on all of it, paid over four true-ups.
    assert sum(_paid(result).values()) == (credit * D("0.05")).quantize(D("0.01"))


def test_to_date_true_up_can_be_negative_and_is_carried() -> None:
    deals = [deal("D1", "R1", 120000, "2026-02-01")]
    result = run(_ytd_plan(), deals, end=date(2026, 6, 30))
    q2 = res(result, "R1", "2026-Q2")
    # 120,000 of a 200,000 quota to date falls back to 5%: 6,000 due, 9,600 paid.
    assert comp(q2, "c") == D("-3600.00")
    assert (q2.net, q2.draw.shortfall, q2.draw.balance) == (D("0.00"), D("3600.00"), D("3600.00"))


def test_annual_quota_pays_the_accelerator_only_past_the_years_quota() -> None:
    deals = [
        deal("D1", "R1", 150000, "2026-02-01"),
        deal("D2", "R1", 200000, "2026-08-01"),
        deal("D3", "R1", 100000, "2026-11-01"),
    ]
    result = run(_ytd_plan("annual"), deals)
    # Annual quota 400,000: 5% until the year's credit reaches it, then 8% on all of it.
    assert _paid(result) == {
        "2026-Q1": D("7500.00"),
        "2026-Q2": D("0.00"),
        "2026-Q3": D("10000.00"),
        "2026-Q4": D("18500.00"),
    }
    q4 = res(result, "R1", "2026-Q4")
    assert all(
        line.explain.startswith("year-end true-up 2026-Q4: 112.5% of 400000.00 annual quota")
        for line in q4.lines
    )


def test_annual_bonus_is_paid_once_when_the_year_reaches_it_and_again_next_year() -> None:
    bonus = {"id": "b", "type": "bonus", "ytd": "annual", "min_attainment": 1, "amount": 5000}
    p = plan(quota={"amount": 100000}, components=[bonus])
    deals = [
        deal("D1", "R1", 250000, "2026-03-01"),
        deal("D2", "R1", 200000, "2026-11-01"),
        deal("D3", "R1", 500000, "2027-03-01"),
    ]
    result = run(p, deals, end=date(2027, 3, 31))
    assert _paid(result, "b") == {
        "2026-Q1": D("0.00"),
        "2026-Q2": D("0.00"),
        "2026-Q3": D("0.00"),
        "2026-Q4": D("5000.00"),
        "2027-Q1": D("5000.00"),
    }


def test_ytd_gate_catches_up_earlier_deals_once_the_year_crosses_it() -> None:
    c = {
        "id": "c",
        "type": "commission",
        "rate": "0.1",
        "ytd": "annual",
        "gate": {"min_attainment": "0.25"},
    }
    p = plan(quota={"amount": 100000}, components=[c])
    deals = [deal("D1", "R1", 60000, "2026-02-01"), deal("D2", "R1", 50000, "2026-05-01")]
    result = run(p, deals, end=date(2026, 6, 30))
    q1, q2 = res(result, "R1", "2026-Q1"), res(result, "R1", "2026-Q2")
    assert comp(q1, "c") == D("0.00")
    assert "gate: attainment 15% below 25%" in q1.lines[0].explain
    assert by_deal(q2, "c") == {"D1": D("6000.00"), "D2": D("5000.00")}


def test_ytd_target_incentive_adds_up_prorated_targets() -> None:
    ti = {
        "id": "ti",
        "type": "target_incentive",
        "ytd": "to_date",
        "target": 3000,
        "curve": {"table": [{"from": 0, "multiplier": 1}]},
    }
    p = plan(quota={"amount": 90000}, components=[ti])
    reps = [Rep("R1", plan_id="p", hire_date=date(2026, 2, 15))]
    deals = [deal("D1", "R1", 30000, "2026-03-01"), deal("D2", "R1", 90000, "2026-05-01")]
    result = run(p, deals, reps=reps, end=date(2026, 6, 30))
    q1_share = D(45) / D(90)  # 2026-02-15..03-31 of Q1's 90 days
    q1_quota = (D(90000) * q1_share).quantize(D("0.01"))
    assert res(result, "R1", "2026-Q1").quota == q1_quota
    # Q2: 120,000 of 135,000 to date, on a target of 1,500 + 3,000 (a rate of 1/30 exactly).
    assert comp(res(result, "R1", "2026-Q1"), "ti") == D("1000.00")
    assert comp(res(result, "R1", "2026-Q2"), "ti") == D("3000.00")


def test_cancelled_deal_leaves_the_ytd_measure_and_is_clawed_back_by_recalculation() -> None:
    deals = [
        deal("D1", "R1", 60000, "2026-02-01"),
        deal("D2", "R1", 60000, "2026-03-01", cancel_date="2026-04-15"),
        deal("D3", "R1", 100000, "2026-05-01"),
    ]
    result = run(
        _ytd_plan(clawback={"window_days": 90, "percent": "0.5"}), deals, end=date(2026, 9, 30)
    )
    q1, q2 = res(result, "R1", "2026-Q1"), res(result, "R1", "2026-Q2")
    assert comp(q1, "c") == D("9600.00")  # 120,000 of 100,000: 8% on all
    # Q2's true-up still counts D2 (cancelled in Q2): 220,000 of 200,000 at 8%, 17,600 due,
    # 9,600 paid. Without D2 the year through Q2 is due 8,000 (160,000 at 5%): half of the
    # 9,600 difference is clawed back.
    assert comp(q2, "c") == D("8000.00")
    assert comp(q2, "clawback") == D("-4800.00")
    # From Q3 on D2 is out of the measure: nothing more to true up.
    assert comp(res(result, "R1", "2026-Q3"), "c") == D("0.00")
    assert "c for 2026 year to date recalculated without the deal" in q2.lines[-1].explain


def test_cancellation_in_the_next_year_claws_back_from_the_closed_year() -> None:
    deals = [
        deal("D1", "R1", 150000, "2026-11-01"),
        deal("D2", "R1", 20000, "2026-12-01", cancel_date="2027-01-20"),
    ]
    result = run(_ytd_plan("annual", clawback={"window_days": 90}), deals, end=date(2027, 3, 31))
    # Annual quota 400,000: 5% on 170,000 = 8,500; without D2, 7,500.
    assert comp(res(result, "R1", "2026-Q4"), "c") == D("8500.00")
    q1 = res(result, "R1", "2027-Q1")
    assert (comp(q1, "c"), comp(q1, "clawback")) == (D("0.00"), D("-1000.00"))


def test_the_window_does_not_change_a_periods_true_up() -> None:
    deals = [deal("D1", "R1", 80000, "2026-02-01"), deal("D2", "R1", 150000, "2026-05-01")]
    full = res(run(_ytd_plan(), deals, end=date(2026, 6, 30)), "R1", "2026-Q2")
    late = res(
        run(_ytd_plan(), deals, start=date(2026, 4, 1), end=date(2026, 6, 30)), "R1", "2026-Q2"
    )
    assert full == late


def test_ytd_per_deal_and_annual_caps_stop_the_true_ups() -> None:
    c = {
        "id": "c",
        "type": "commission",
        "rate": "0.1",
        "ytd": "to_date",
        "cap": {"annual": 12000, "per_deal": 8000},
    }
    p = plan(quota={"amount": 100000}, components=[c])
    deals = [
        deal("D1", "R1", 100000, "2026-02-01"),
        deal("D2", "R1", 30000, "2026-05-01"),
        deal("D3", "R1", 30000, "2026-08-01"),
    ]
    result = run(p, deals, end=date(2026, 9, 30))
    assert _paid(result) == {
        "2026-Q1": D("8000.00"),
        "2026-Q2": D("3000.00"),
        "2026-Q3": D("1000.00"),
    }
    q3 = res(result, "R1", "2026-Q3")
    assert sum(line.capped for line in q3.lines) == D("2000.00")


def test_ytd_errors_found_while_calculating_name_the_component() -> None:
    ti = {
        "id": "ti",
        "type": "target_incentive",
        "ytd": "annual",
        "curve": {"table": [{"from": 0, "multiplier": 1}]},
    }
    with pytest.raises(PlanError) as err:
        run(plan(quota={"amount": 100000}, components=[ti]), [deal("D1", "R1", 1000, "2026-02-01")])
    assert err.value.path == "plans[0].components[0]"
    assert "no target incentive for rep R1" in str(err.value)


@pytest.mark.parametrize(
    ("component", "path", "words"),
    [
        (
            {
                "id": "s",
                "type": "spiff",
                "ytd": "to_date",
                "window": {"start": "2026-01-01", "end": "2026-03-31"},
                "payout": {"per_deal": 5},
            },
            "plans[0].components[0].ytd",
            "no year-to-date measure",
        ),
        (
            {"id": "c", "type": "commission", "rate": "0.1", "ytd": "annual", "cap": {"amount": 5}},
            "plans[0].components[0].cap.amount",
            "capped per year (cap.annual)",
        ),
        (
            {
                "id": "c",
                "type": "commission",
                "ytd": "to_date",
                "tiers": {"scope": "deal", "table": [{"from": 0, "rate": "0.1"}]},
            },
            "plans[0].components[0].tiers.scope",
            "needs scope: period",
        ),
        (
            {"id": "c", "type": "commission", "rate": "0.1", "ytd": "yearly"},
            "plans[0].components[0].ytd",
            "'to_date' or 'annual'",
        ),
    ],
)
def test_bad_ytd_components_name_their_path(
    component: dict[str, Any], path: str, words: str
) -> None:
    with pytest.raises(PlanError) as err:
        parse_plan_doc({"plans": [plan(components=[component])]})
    assert err.value.path == path
    assert words in str(err.value)


# Draw limits


def _draw_plan(**draw: Any) -> dict[str, Any]:
    return plan(
        components=[{"id": "c", "type": "commission", "rate": "0.1"}], draw={"amount": 3000, **draw}
    )


def test_draw_for_the_first_n_periods_then_recovery_continues() -> None:
    reps = [Rep("R1", plan_id="p", hire_date=date(2026, 1, 1))]
    deals = [
        deal("D0", "R1", 1, "2026-01-02", is_won=False),
        deal("D1", "R1", 100000, "2026-08-01"),
    ]
    result = run(_draw_plan(periods=2), deals, reps=reps)
    top_ups = [r.draw.top_up for r in result.for_rep("R1")]
    assert top_ups == [D("3000.00"), D("3000.00"), D("0.00"), D("0.00")]
    q3 = res(result, "R1", "2026-Q3")
    # No draw any more: the floor is zero, so all 10,000 can recover the 6,000 owed.
    assert (q3.draw.recovered, q3.net, q3.draw.balance) == (D("6000.00"), D("4000.00"), D("0.00"))


def test_draw_periods_count_from_the_hire_period_not_the_window() -> None:
    reps = [Rep("R1", plan_id="p", hire_date=date(2026, 4, 20))]
    deals = [deal("D0", "R1", 1, "2026-01-02", is_won=False)]
    full = run(_draw_plan(periods=2, recoverable=False), deals, reps=reps)
    assert [r.draw.top_up for r in full.for_rep("R1")] == [
        D("3000.00"),
        D("3000.00"),
        D("0.00"),
    ]
    late = run(_draw_plan(periods=2, recoverable=False), deals, reps=reps, start=date(2026, 10, 1))
    assert [r.draw.top_up for r in late.for_rep("R1")] == [D("0.00")]


@pytest.mark.parametrize(
    ("periods", "words"),
    [(0, "must be at least 1"), (True, "valid integer"), ("3", "valid integer"), (1.5, "integer")],
)
def test_draw_periods_is_a_whole_number_of_at_least_one(periods: object, words: str) -> None:
    with pytest.raises(PlanError) as err:
        parse_plan_doc({"plans": [_draw_plan(periods=periods)]})
    assert err.value.path == "plans[0].draw.periods"
    assert words in str(err.value)


def test_open_deal_estimate_is_the_true_up_it_adds() -> None:
    from calc.estimate import estimate_deal

    doc = parse_plan_doc({"plans": [_ytd_plan()]})
    deals = [
        deal("D1", "R1", 80000, "2026-02-01"),
        deal("D9", "R1", 150000, "2026-01-01", is_won=False),
    ]
    est = estimate_deal(doc, [Rep("R1", plan_id="p")], deals, [], [], "D9", as_of=date(2026, 5, 15))
    # Q2 without D9: 80,000 of 200,000 at 5%, nothing to true up; with it 14,400 (D9's 12,000
    # and D1 moving up to 8%, shown as the effect on the rest of the period).
    assert est.owner_amount() == D("14400.00")
    (found,) = est.participants
    assert [(ln.component, ln.amount) for ln in found.lines] == [
        ("c", D("12000.00")),
        ("effect", D("2400.00")),
    ]


def test_the_fiscal_year_not_the_calendar_year_is_settled() -> None:
    bonus = {"id": "b", "type": "bonus", "ytd": "annual", "min_attainment": 1, "amount": 1000}
    p = plan(
        period="month",
        fiscal_year_start_month=2,
        quota={"amount": 10000},
        components=[bonus],
    )
    deals = [deal("D1", "R1", 60000, "2026-06-10"), deal("D2", "R1", 60000, "2027-01-20")]
    result = run(p, deals, start=date(2026, 2, 1), end=date(2027, 2, 28))
    # FY 2026 runs February 2026 to January 2027: 120,000 of 120,000 in its last month.
    january = res(result, "R1", "2027-01")
    assert comp(january, "b") == D("1000.00")
    assert january.lines[0].explain.startswith("year-end true-up 2027-01: 100% of 120000.00")
    assert comp(res(result, "R1", "2027-02"), "b") == D("0.00")
