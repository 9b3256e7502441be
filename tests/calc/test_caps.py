"""Caps: per period, per fiscal year and per deal (windfall), with the capped amount on lines."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from calc_testkit import D, by_deal, comp, deal, plan, res, run

from calc.errors import PlanError
from calc.model import Rep
from calc.plan import parse_plan_doc
from calc.render import line_dict, to_dict, to_json


def _flat(cap: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return plan(components=[{"id": "c", "type": "commission", "rate": "0.1", "cap": cap}], **kw)


def _capped(result_lines: Any, component: str = "c") -> dict[str, D]:
    out: dict[str, D] = {}
    for line in result_lines:
        if line.component == component and line.deal_id is not None:
            out[line.deal_id] = out.get(line.deal_id, D(0)) + line.capped
    return out


def test_period_cap_scales_lines_and_shows_what_it_took() -> None:
    r = res(
        run(
            _flat({"amount": 15000}),
            [deal("D1", "R1", 100000, "2026-01-10"), deal("D2", "R1", 100000, "2026-02-10")],
        ),
        "R1",
        "2026-Q1",
    )
    assert comp(r, "c") == D("15000.00")
    assert by_deal(r, "c") == {"D1": D("7500.00"), "D2": D("7500.00")}
    assert _capped(r.lines) == {"D1": D("2500.00"), "D2": D("2500.00")}
    assert all("capped at 15000.00" in line.explain for line in r.lines)


def test_an_uncapped_period_has_no_capped_amount() -> None:
    r = res(
        run(_flat({"amount": 15000}), [deal("D1", "R1", 100000, "2026-01-10")]), "R1", "2026-Q1"
    )
    assert comp(r, "c") == D("10000.00")
    assert [line.capped for line in r.lines] == [D(0)]
    assert "capped" not in line_dict(r.lines[0])


def test_annual_cap_stops_pay_for_the_rest_of_the_fiscal_year_only() -> None:
    deals = [
        deal("D1", "R1", 150000, "2026-02-10"),
        deal("D2", "R1", 150000, "2026-05-10"),
        deal("D3", "R1", 100000, "2026-08-10"),
        deal("D4", "R1", 100000, "2027-02-10"),
    ]
    result = run(_flat({"annual": 25000}), deals, end=date(2027, 3, 31))
    q1, q2, q3 = (res(result, "R1", f"2026-Q{i}") for i in (1, 2, 3))
    assert (comp(q1, "c"), comp(q2, "c"), comp(q3, "c")) == (
        D("15000.00"),
        D("10000.00"),
        D("0.00"),
    )
    assert _capped(q2.lines) == {"D2": D("5000.00")}
    assert _capped(q3.lines) == {"D3": D("10000.00")}
    assert (
        "annual cap 25000.00: 15000.00 paid earlier this year, 10000.00 left" in q2.lines[0].explain
    )
    assert comp(res(result, "R1", "2027-Q1"), "c") == D("10000.00")


def test_annual_cap_with_a_month_plan_counts_every_earlier_month() -> None:
    deals = [deal(f"D{m}", "R1", 40000, f"2026-{m:02d}-05") for m in range(1, 6)]
    result = run(_flat({"annual": 10000}, period="month"), deals, end=date(2026, 6, 30))
    paid = [comp(res(result, "R1", f"2026-{m:02d}"), "c") for m in range(1, 6)]
    assert paid == [D("4000.00"), D("4000.00"), D("2000.00"), D("0.00"), D("0.00")]


def test_per_deal_windfall_cap_limits_one_deal_only() -> None:
    r = res(
        run(
            _flat({"per_deal": 5000}),
            [deal("D1", "R1", 100000, "2026-01-10"), deal("D2", "R1", 30000, "2026-02-10")],
        ),
        "R1",
        "2026-Q1",
    )
    assert by_deal(r, "c") == {"D1": D("5000.00"), "D2": D("3000.00")}
    assert _capped(r.lines) == {"D1": D("5000.00"), "D2": D("0.00")}
    assert "windfall cap: D1 pays at most 5000.00" in r.lines[0].explain
    assert "windfall" not in r.lines[1].explain


def test_per_deal_cap_comes_before_the_period_cap() -> None:
    deals = [deal("D1", "R1", 100000, "2026-01-10"), deal("D2", "R1", 30000, "2026-02-10")]
    r = res(run(_flat({"per_deal": 5000, "amount": 6000}), deals), "R1", "2026-Q1")
    # D1 10,000 -> 5,000 (windfall), then 8,000 -> 6,000 scales both by 0.75.
    assert by_deal(r, "c") == {"D1": D("3750.00"), "D2": D("2250.00")}
    assert _capped(r.lines) == {"D1": D("6250.00"), "D2": D("750.00")}
    assert sum(line.capped for line in r.lines) == D("7000.00")


def test_per_deal_cap_on_tiers_counts_all_of_a_deals_pieces() -> None:
    tiers = {
        "basis": "amount",
        "table": [{"from": 0, "rate": "0.05"}, {"from": 50000, "rate": "0.1"}],
    }
    p = plan(
        components=[{"id": "c", "type": "commission", "tiers": tiers, "cap": {"per_deal": 6000}}]
    )
    r = res(run(p, [deal("D1", "R1", 100000, "2026-01-10")]), "R1", "2026-Q1")
    # 2,500 + 5,000 = 7,500 on one deal, scaled to 6,000 (x0.8): 2,000 + 4,000.
    assert [line.amount for line in r.lines] == [D("2000.00"), D("4000.00")]
    assert [line.capped for line in r.lines] == [D("500.00"), D("1000.00")]


def test_clawback_of_a_capped_deal_takes_back_what_was_paid() -> None:
    p = _flat({"per_deal": 5000}, clawback={"window_days": 90})
    result = run(p, [deal("D1", "R1", 100000, "2026-03-10", cancel_date="2026-04-10")])
    assert comp(res(result, "R1", "2026-Q1"), "c") == D("5000.00")
    assert comp(res(result, "R1", "2026-Q2"), "clawback") == D("-5000.00")


def test_recalculated_clawback_respects_the_annual_cap() -> None:
    p = _flat({"annual": 12000}, clawback={"window_days": 90, "mode": "recalculate"})
    deals = [
        deal("D1", "R1", 100000, "2026-02-10"),
        deal("D2", "R1", 50000, "2026-05-10", cancel_date="2026-07-01"),
    ]
    result = run(p, deals)
    assert comp(res(result, "R1", "2026-Q2"), "c") == D("2000.00")
    # Q2 paid 2,000 (the cap's room), and without D2 it would have paid 0.
    assert comp(res(result, "R1", "2026-Q3"), "clawback") == D("-2000.00")


def test_capped_lines_render_the_capped_key_in_both_writers() -> None:
    deals = [deal("D1", "R1", 100000, "2026-01-10"), deal("D2", "R1", 1000, "2026-01-11")]
    result = run(_flat({"per_deal": 5000}), deals, start=date(2026, 1, 1), end=date(2026, 3, 31))
    assert to_json(result) == json.dumps(to_dict(result), indent=1, ensure_ascii=False) + "\n"
    lines = to_dict(result)["results"][0]["lines"]
    assert lines[0]["capped"] == "5000.00"
    assert list(lines[0])[-1] == "capped"
    assert "capped" not in lines[1]


def test_caps_on_a_split_deal_apply_to_each_holders_share() -> None:
    from calc.model import Split

    reps = [Rep("R1", plan_id="p"), Rep("R2", plan_id="p")]
    splits = [Split("D1", "R1", D(50)), Split("D1", "R2", D(50))]
    result = run(
        _flat({"per_deal": 4000}),
        [deal("D1", "R1", 100000, "2026-01-10")],
        reps=reps,
        splits=splits,
    )
    for rep in ("R1", "R2"):
        r = res(result, rep, "2026-Q1")
        assert comp(r, "c") == D("4000.00")
        assert _capped(r.lines) == {"D1": D("1000.00")}


@pytest.mark.parametrize(
    ("cap", "path", "words"),
    [
        ({}, "plans[0].components[0].cap", "give at least one of amount, annual and per_deal"),
        ({"annual": -1}, "plans[0].components[0].cap.annual", "must not be negative"),
        ({"per_deal": -5}, "plans[0].components[0].cap.per_deal", "must not be negative"),
        ({"monthly": 5}, "plans[0].components[0].cap.monthly", "Extra inputs"),
        ({"annual": "1e30"}, "plans[0].components[0].cap.annual", "not a usable number"),
    ],
)
def test_bad_caps_name_their_path(cap: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(PlanError) as err:
        parse_plan_doc({"plans": [_flat(cap)]})
    assert err.value.path == path
    assert words in str(err.value)


def test_annual_cap_counts_the_year_before_the_window() -> None:
    deals = [deal("D1", "R1", 200000, "2026-02-10"), deal("D2", "R1", 100000, "2026-08-10")]
    late = run(_flat({"annual": 25000}), deals, start=date(2026, 7, 1))
    assert [r.period.name for r in late.results] == ["2026-Q3", "2026-Q4"]
    assert comp(res(late, "R1", "2026-Q3"), "c") == D("5000.00")
