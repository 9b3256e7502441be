"""Adjustments are paid as their own lines: component totals, gross, net and draws agree."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from calc.adjustments import Adjustment, book_problem, parse_adjustments, period_named
from calc.engine import calculate
from calc.errors import InputError
from calc.model import Rep
from calc.plan import parse_plan_doc
from tests.calc.calc_testkit import comp, deal, plan, res

D = Decimal
FLAT = [{"id": "commission", "type": "commission", "rate": 0.1}]


def _run(plan_dict: dict[str, object], adjustments: list[Adjustment], **kw: object) -> object:
    doc = parse_plan_doc({"plans": [plan_dict]})
    reps = [Rep(id="R1", plan_id="p", hire_date=date(2026, 1, 1))]
    deals = kw.get("deals", [deal("D1", "R1", 50000, "2026-02-10")])
    return calculate(
        doc,
        reps,
        deals,  # type: ignore[arg-type]
        start=date(2026, 1, 1),
        end=date(2026, 6, 30),
        adjustments=adjustments,
    )


def _adj(amount: str, component: str = "adjustment", period: str = "2026-Q1") -> Adjustment:
    return Adjustment("R1", period, D(amount), component, "missed SPIFF", "INC-7")


def test_an_adjustment_is_its_own_line_in_its_component_gross_and_net() -> None:
    result = _run(plan(components=FLAT), [_adj("250.00", "commission")])
    q1 = res(result, "R1", "2026-Q1")  # type: ignore[arg-type]
    assert comp(q1, "commission") == D("5250.00")
    assert (q1.gross, q1.net) == (D("5250.00"), D("5250.00"))
    (line,) = [x for x in q1.lines if x.deal_id is None]
    assert (line.component, line.amount, line.credit_type) == ("commission", D("250.00"), None)
    assert line.explain == "adjustment: missed SPIFF (ref INC-7)"
    assert sum(x.amount for x in q1.lines) == q1.gross
    # credit and attainment are untouched
    assert q1.credit == D("50000.00")


def test_an_adjustment_outside_the_plan_components_is_an_adjustment_component() -> None:
    result = _run(plan(components=FLAT), [_adj("-80.25"), _adj("30.00")])
    q1 = res(result, "R1", "2026-Q1")  # type: ignore[arg-type]
    assert dict(q1.components) == {"commission": D("5000.00"), "adjustment": D("-50.25")}
    assert q1.net == D("4949.75")
    q2 = res(result, "R1", "2026-Q2")  # type: ignore[arg-type]
    assert "adjustment" not in dict(q2.components)


def test_a_negative_adjustment_is_not_paid_back_by_the_draw_guarantee() -> None:
    # Q2 earns nothing: the draw tops up 3,000 of earnings; the -1,000 is taken back like a
    # clawback, not paid back by the guarantee. Pay never drops below the draw, so the 1,000
    # is carried as a negative balance beside the 3,000 advance.
    p = plan(components=FLAT, draw={"amount": 3000, "recoverable": True})
    result = _run(p, [_adj("-1000.00", period="2026-Q2")])
    q2 = res(result, "R1", "2026-Q2")  # type: ignore[arg-type]
    assert (q2.gross, q2.draw.top_up, q2.net) == (D("-1000.00"), D("3000.00"), D("3000.00"))
    assert q2.draw.shortfall == D("1000.00")
    assert q2.draw.balance == D("4000.00")


def test_a_positive_adjustment_recovers_a_draw_balance() -> None:
    p = plan(components=FLAT, draw={"amount": 3000, "recoverable": True})
    deals = [deal("D0", "R1", 0, "2026-01-05", is_won=False)]
    result = _run(p, [_adj("5000.00", period="2026-Q2")], deals=deals)
    q1, q2 = (res(result, "R1", x) for x in ("2026-Q1", "2026-Q2"))  # type: ignore[arg-type]
    assert (q1.draw.top_up, q1.draw.balance) == (D("3000.00"), D("3000.00"))
    assert (q2.gross, q2.draw.top_up, q2.draw.recovered) == (D("5000.00"), D(0), D("2000.00"))
    assert (q2.net, q2.draw.balance) == (D("3000.00"), D("1000.00"))


def test_the_adjustments_file_is_read_with_errors_naming_row_and_column() -> None:
    text = (
        "rep_id,period,amount,component,reason,reference\n"
        "R1,2026-Q1,1250.50,,missed split,INC-1\n"
        'R2,2026-03,"-1,000.00",commission,overpaid,\n'
    )
    first, second = parse_adjustments(text, source="adj.csv")
    assert first == Adjustment("R1", "2026-Q1", D("1250.50"), "adjustment", "missed split", "INC-1")
    assert (second.amount, second.component, second.reference) == (
        D("-1000.00"),
        "commission",
        None,
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("R1,2026-Q1,,,why,", "adj.csv, line 2, column amount: a value is required"),
        ("R1,2026-Q1,0,,why,", "column amount: an adjustment of zero pays nothing"),
        ("R1,2026-Q1,1.005,,why,", "column amount: more than two decimals"),
        ('R1,2026-Q1,"1,5",,why,', "column amount: not a number: '1,5'"),
        ("R1,2026-Q1,1e30,,why,", "column amount: '1e30' is too large"),
        ("R1,Q1-2026,10,,why,", "column period: not a pay period name"),
        ("R1,2026-Q1,10,clawback,why,", "column component: not a component name"),
        ("R1,2026-Q1,10,,,", "column reason: a value is required"),
        ("R1,2026-Q1,10,,why", "row too short"),
        ("R1,2026-Q1,10,,why,A\nR1,2026-Q2,5,,why,A", "line 3, column reference: 'A' twice"),
    ],
)
def test_bad_adjustment_rows_are_refused(row: str, message: str) -> None:
    text = "rep_id,period,amount,component,reason,reference\n" + row + "\n"
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        parse_adjustments(text, source="adj.csv")


def test_an_adjustment_the_rep_or_plan_cannot_pay_is_named() -> None:
    doc = parse_plan_doc({"plans": [plan(components=FLAT)]})
    p = doc.plans[0]
    rep = Rep("R1", plan_id="p", hire_date=date(2026, 4, 1))
    assert book_problem(_adj("1.00"), None, p) == ("rep_id", "unknown rep 'R1'")
    assert book_problem(_adj("1.00"), rep, None) == (
        "rep_id",
        "rep 'R1' has no plan to pay it under",
    )
    assert book_problem(_adj("1.00", period="2026-04"), rep, p) == (
        "period",
        "'2026-04' is not a quarter period of plan p",
    )
    assert book_problem(_adj("1.00", "spiff"), rep, p) == (
        "component",
        "'spiff' is not one of adjustment, commission (plan p)",
    )
    assert book_problem(_adj("1.00"), rep, p) == ("period", "rep R1 is not employed in 2026-Q1")
    assert book_problem(_adj("1.00", period="2026-Q2"), rep, p) is None


@pytest.mark.parametrize(
    ("name", "fy", "start", "end"),
    [
        ("2026-03", 1, date(2026, 3, 1), date(2026, 3, 31)),
        ("2026-Q1", 2, date(2026, 2, 1), date(2026, 4, 30)),
        ("2026-Q4", 1, date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", 7, date(2026, 7, 1), date(2027, 6, 30)),
    ],
)
def test_period_names_resolve_in_the_plan_fiscal_year(
    name: str, fy: int, start: date, end: date
) -> None:
    period = period_named(name, fy)
    assert (period.name, period.start, period.end) == (name, start, end)


def test_a_year_to_date_true_up_neither_counts_nor_absorbs_an_adjustment() -> None:
    # docs/plan-ytd-and-caps.md's true-up example, with 1,000 adjusted into Q1's commission:
    # Q1 pays 5,000; Q2's true-up still pays 18,400 due minus the 4,000 the tiers paid.
    tiers = {
        "mode": "retroactive",
        "table": [{"from": 0, "rate": 0.05}, {"from": 1.0, "rate": 0.08}],
    }
    p = plan(
        quota={"amount": 100000},
        components=[{"id": "c", "type": "commission", "ytd": "to_date", "tiers": tiers}],
    )
    deals = [deal("D1", "R1", 80000, "2026-02-10"), deal("D2", "R1", 150000, "2026-05-10")]
    result = _run(p, [_adj("1000.00", "c")], deals=deals)
    q1, q2 = (res(result, "R1", x) for x in ("2026-Q1", "2026-Q2"))  # type: ignore[arg-type]
    assert comp(q1, "c") == D("5000.00")
    assert comp(q2, "c") == D("14400.00")
