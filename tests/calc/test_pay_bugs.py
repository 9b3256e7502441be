"""The minimal cases of the split, draw, clawback, precision and sign bugs, each replayed."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from calc_testkit import by_deal, comp, deal, plan, res, run

from calc.model import Rep, Split
from calc.render import to_json

D = Decimal
FLAT_10 = [{"id": "c", "type": "commission", "rate": 0.1}]


def test_a_rejected_split_share_is_credited_to_nobody() -> None:
    # D1 90,000 Renewal, splits R1 40 / R2 30 / R3 30; R3's plan only takes New Business.
    # Each payee's own plan decides what they are paid on: R3 gets nothing, and R3's 30%
    # stays with nobody (it used to land on R1, the largest holder, as a "remainder").
    plans = [
        {"id": "ae", "period": "quarter", "components": FLAT_10},
        {
            "id": "nb",
            "period": "quarter",
            "eligible": [{"field": "type", "op": "eq", "value": "New Business"}],
            "components": FLAT_10,
        },
    ]
    reps = [Rep("R1", plan_id="ae"), Rep("R2", plan_id="ae"), Rep("R3", plan_id="nb")]
    splits = [Split("D1", "R1", D(40)), Split("D1", "R2", D(30)), Split("D1", "R3", D(30))]
    result = run(
        plans, [deal("D1", "R1", 90000, "2026-02-10", type="Renewal")], reps=reps, splits=splits
    )
    credits = {c.rep_id: c.amount for c in result.credits}
    assert credits == {"R1": D("36000.00"), "R2": D("27000.00")}
    assert comp(res(result, "R1", "2026-Q1"), "c") == D("3600.00")
    assert comp(res(result, "R3", "2026-Q1"), "c") == D("0.00")


def test_the_split_remainder_rule_moves_cents_only() -> None:
    # Three equal thirds of 100.00: 33.33 + 33.33 + 33.34; with one holder rejected the two
    # others keep their own cent-rounded shares.
    plans = [
        {"id": "ae", "period": "quarter", "components": FLAT_10},
        {"id": "nb", "period": "quarter", "eligible": [{"field": "type", "value": "NB"}]},
    ]
    reps = [Rep("R1", plan_id="ae"), Rep("R2", plan_id="ae"), Rep("R3", plan_id="nb")]
    third = D(100) / 3
    splits = [Split("D1", r, third) for r in ("R1", "R2")] + [Split("D1", "R3", D(100) - 2 * third)]
    result = run(plans, [deal("D1", "R1", 100, "2026-02-10")], reps=reps, splits=splits)
    credits = {c.rep_id: c.amount for c in result.credits}
    assert credits == {"R1": D("33.33"), "R2": D("33.33")}


def _draw_plan(**draw: Any) -> dict[str, Any]:
    return plan(components=FLAT_10, draw={"amount": 3000, "recoverable": True, **draw})


def _q1_2027(rep: Rep, start: str, **draw: Any) -> Any:
    # The deals file starts 2026-01-05 (a lost deal): balances cannot start before it.
    result = run(
        _draw_plan(**draw),
        [
            deal("D0", "R1", 5000, "2026-01-05", is_won=False),
            deal("D1", "R1", 100000, "2027-02-10"),
        ],
        reps=[rep],
        start=date.fromisoformat(start),
        end=date(2027, 3, 31),
    )
    return res(result, "R1", "2027-Q1")


def test_a_recoverable_draw_balance_does_not_depend_on_the_window() -> None:
    # Hired 2026-01-01: four quarters of 3,000 top-ups are owed when the 100,000 deal pays
    # 10,000 in 2027-Q1; 7,000 is recovered (net never below the draw) whatever --from says.
    rep = Rep("R1", plan_id="p", hire_date=date(2026, 1, 1))
    for start in ("2026-10-01", "2027-01-01"):
        q1 = _q1_2027(rep, start)
        assert (q1.gross, q1.draw.recovered, q1.net) == (D(10000), D(7000), D(3000))
        assert q1.draw.balance == D(5000)


def test_without_a_hire_date_the_draw_starts_with_the_data() -> None:
    rep = Rep("R1", plan_id="p")
    for start in ("2026-10-01", "2027-01-01"):
        q1 = _q1_2027(rep, start)
        assert (q1.draw.recovered, q1.net, q1.draw.balance) == (D(7000), D(3000), D(5000))


def test_a_hire_date_before_the_data_starts_counts_from_the_data() -> None:
    rep = Rep("R1", plan_id="p", hire_date=date(2020, 1, 1))
    q1 = _q1_2027(rep, "2027-01-01")
    assert (q1.draw.recovered, q1.net, q1.draw.balance) == (D(7000), D(3000), D(5000))
    late = Rep("R1", plan_id="p", hire_date=date(2026, 7, 1))
    q1 = _q1_2027(late, "2027-01-01")
    assert (q1.draw.recovered, q1.net, q1.draw.balance) == (D(6000), D(4000), D(0))


def test_a_draw_balance_resets_each_fiscal_year_when_the_plan_says_so() -> None:
    rep = Rep("R1", plan_id="p", hire_date=date(2026, 1, 1))
    q1 = _q1_2027(rep, "2026-01-01", reset="fiscal_year")
    assert (q1.draw.recovered, q1.net, q1.draw.balance) == (D(0), D(10000), D(0))


def _clawed(**extra: Any) -> list[Any]:
    deals = [
        deal("D1", "R1", 200000, "2026-03-20", cancel_date="2026-04-10"),
        deal("D2", "R1", 100000, "2026-08-01"),
    ]
    p = plan(components=FLAT_10, clawback={"window_days": 90}, **extra)
    result = run(p, deals)
    return [res(result, "R1", f"2026-Q{q}") for q in (1, 2, 3, 4)]


def test_a_non_recoverable_draw_does_not_forgive_a_clawback() -> None:
    # Q2: the clawback takes back 20,000; the guarantee tops earnings (none) up to 3,000
    # but does not pay the clawback back: 20,000 is carried and recovered from Q3's 10,000
    # down to the guarantee.
    q1, q2, q3, q4 = _clawed(draw={"amount": 3000, "recoverable": False})
    assert (q1.gross, q1.net) == (D(20000), D(20000))
    assert (q2.gross, q2.draw.top_up, q2.draw.shortfall, q2.net) == (
        D(-20000),
        D(3000),
        D(20000),
        D(3000),
    )
    assert q2.draw.balance == D(20000)
    assert (q3.gross, q3.draw.recovered, q3.net, q3.draw.balance) == (
        D(10000),
        D(7000),
        D(3000),
        D(13000),
    )
    assert (q4.draw.top_up, q4.net, q4.draw.balance) == (D(3000), D(3000), D(13000))


def test_a_negative_net_carries_without_a_draw() -> None:
    _, q2, q3, _ = _clawed()
    assert (q2.gross, q2.net, q2.draw.balance) == (D(-20000), D(0), D(20000))
    assert (q3.gross, q3.draw.recovered, q3.net, q3.draw.balance) == (
        D(10000),
        D(10000),
        D(0),
        D(10000),
    )


def test_negative_balance_forgive_writes_the_negative_off() -> None:
    _, q2, q3, _ = _clawed(negative_balance="forgive")
    assert (q2.net, q2.draw.shortfall, q2.draw.balance) == (D(0), D(20000), D(0))
    assert (q3.net, q3.draw.recovered) == (D(10000), D(0))


def test_a_rate_of_target_over_quota_is_exact() -> None:
    # 10,000 / 300,000 = 1/30 exactly: (86,617.85 + 7,334.80) / 30 = 3,131.755 -> 3,131.76.
    ti = {
        "id": "ti",
        "type": "target_incentive",
        "target": 10000,
        "curve": {"table": [{"from": 0, "multiplier": 1}]},
    }
    deals = [deal("D1", "R1", "86617.85", "2026-01-10"), deal("D2", "R1", "7334.80", "2026-02-10")]
    q1 = res(run(plan(quota={"amount": 300000}, components=[ti]), deals), "R1", "2026-Q1")
    assert comp(q1, "ti") == D("3131.76")
    assert sum(by_deal(q1, "ti").values()) == D("3131.76")


def test_attainment_is_never_printed_as_negative_zero() -> None:
    p = plan(quota={"amount": 1000000}, components=FLAT_10)
    text = to_json(run(p, [deal("D1", "R1", "-0.01", "2026-02-10")]))
    assert "-0.0000" not in text
    assert '"attainment": "0.0000"' in text


def test_no_negative_zero_anywhere_in_the_output() -> None:
    # A clawback of 0%: the line takes back -0 at rate -0; both print as zero.
    p = plan(
        quota={"amount": 1000000}, components=FLAT_10, clawback={"window_days": 90, "percent": 0}
    )
    deals = [
        deal("D1", "R1", "-0.01", "2026-02-10"),
        deal("D2", "R1", 50, "2026-04-11", cancel_date="2026-05-01"),
    ]
    text = to_json(run(p, deals))
    assert '"clawback"' in text
    assert not re.search(r'"-0(\.0+)?"', text)


def test_split_percents_outside_0_to_100_leave_the_deal_unresolved() -> None:
    # The sync's splits come from Salesforce, not the CSV loader: the engine refuses them too.
    reps = [Rep("R1", plan_id="p"), Rep("R2", plan_id="p")]
    for splits in (
        [Split("D1", "R1", D(150)), Split("D1", "R2", D(-50))],
        [Split("D1", "R1", D(100)), Split("D1", "R2", D(250), "overlay")],
    ):
        result = run(
            plan(components=FLAT_10),
            [deal("D1", "R1", 1000, "2026-02-10")],
            reps=reps,
            splits=splits,
        )
        assert result.credits == ()
        [why] = result.unresolved
        assert "outside 0%..100%" in why.reason
