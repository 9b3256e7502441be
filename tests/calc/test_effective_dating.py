"""Effective-dated assignments in `quotaflow calc`: reps.csv rows, split periods, rollup by date."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from calc.engine import calculate
from calc.errors import InputError
from calc.inputs import parse_deals, parse_reps
from calc.model import Assignment, Deal, Rep
from calc.plan import parse_plan_doc
from calc.render import to_csv, to_json
from webapp.cli import main

D = Decimal
HEAD = "id,manager_id,plan_id,effective_from,effective_to,quota\n"

AE = {
    "id": "ae",
    "quota": {"amount": 300000},
    "components": [
        {"id": "commission", "type": "commission", "rate": "0.08"},
        {"id": "bonus", "type": "bonus", "min_attainment": 1, "amount": 5000},
    ],
}
SAE = {
    "id": "sae",
    "quota": {"amount": 450000},
    "components": [
        {
            "id": "commission",
            "type": "commission",
            "tiers": {"table": [{"from": 0, "rate": "0.08"}, {"from": 1, "rate": "0.12"}]},
        }
    ],
}


def _deal(deal_id: str, owner: str, amount: int, day: str, **kw: Any) -> Deal:
    return Deal(
        id=deal_id,
        owner_id=owner,
        amount=D(amount),
        close_date=date.fromisoformat(day),
        is_won=True,
        **kw,
    )


def _rows(*rows: Assignment) -> Rep:
    last = rows[-1]
    return Rep("R1", plan_id=last.plan_id, manager_id=last.manager_id, assignments=rows)


def _a(start: str | None, end: str | None, plan: str, **kw: Any) -> Assignment:
    day = date.fromisoformat
    return Assignment(day(start) if start else None, day(end) if end else None, plan, **kw)


@pytest.mark.parametrize(
    ("rows", "where"),
    [
        # overlapping: the second row starts before the first ends
        ("R1,,ae,,2026-06-30,\nR1,,sae,2026-06-15,,\n", "line 3, column effective_from"),
        # a gap between the two rows
        ("R1,,ae,,2026-06-14,\nR1,,sae,2026-06-20,,\n", "line 3, column effective_from"),
        # inverted range
        ("R1,,ae,2026-06-14,2026-06-01,\n", "line 2, column effective_to"),
        # two rows with an open start
        ("R1,,ae,,2026-06-14,\nR1,,sae,,,\n", "line 3, column effective_from"),
        # an open end before the last row
        ("R1,,ae,,,\nR1,,sae,2026-06-15,,\n", "line 2, column effective_to"),
        # rows given out of order are sorted, then checked: the overlap names the later one
        ("R1,,sae,2026-06-10,,\nR1,,ae,,2026-06-14,\n", "line 2, column effective_from"),
    ],
)
def test_bad_assignment_rows_name_the_file_and_row(rows: str, where: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_reps(HEAD + rows, plan_ids={"ae", "sae"})
    assert str(caught.value).startswith(f"reps.csv, {where}: ")


def test_rows_of_one_rep_must_agree_on_hire_date() -> None:
    text = "id,plan_id,hire_date,effective_from,effective_to\n"
    text += "R1,ae,2025-01-01,,2026-06-14\nR1,sae,2025-02-01,2026-06-15,\n"
    with pytest.raises(InputError, match=r"line 3, column hire_date: differs from line 2"):
        parse_reps(text)


def test_without_the_columns_a_repeated_rep_is_still_a_duplicate() -> None:
    with pytest.raises(InputError, match="line 3, column id: duplicate id 'R1'"):
        parse_reps("id,plan_id\nR1,ae\nR1,sae\n")


def test_one_undated_row_is_the_original_form() -> None:
    (rep,) = parse_reps(HEAD + "R1,M1,ae,,,1000\n")
    assert rep.assignments == () and rep.plan_id == "ae" and rep.quota == D(1000)


def test_rows_become_assignments_and_the_rep_has_the_latest() -> None:
    (rep,) = parse_reps(HEAD + "R1,M2,sae,2026-06-15,,\nR1,M1,ae,,2026-06-14,1000\n")
    assert rep.plan_id == "sae" and rep.manager_id == "M2"
    assert [a.plan_id for a in rep.assignments] == ["ae", "sae"]
    assert rep.assignments[0].quota == D(1000)


def test_cli_bad_assignment_rows_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(json.dumps({"plans": [AE, SAE]}))
    reps = tmp_path / "reps.csv"
    reps.write_text(HEAD + "R1,,ae,,2026-06-30,\nR1,,sae,2026-06-15,,\n")
    deals = tmp_path / "deals.csv"
    deals.write_text("id,owner_id,amount,close_date,is_won\nD1,R1,100,2026-02-01,true\n")
    argv = ["calc", "--plan", str(plan), "--reps", str(reps), "--deals", str(deals)]
    code = main([*argv, "--from", "2026-01-01", "--to", "2026-12-31"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.strip().splitlines() == [
        f"quotaflow calc: error: {reps}, line 3, column effective_from: "
        "2026-06-15 overlaps the previous assignment (until 2026-06-30)"
    ]


def _promotion() -> Any:
    rep = _rows(_a(None, "2026-06-14", "ae"), _a("2026-06-15", None, "sae"))
    deals = [
        _deal("D1", "R1", 100000, "2026-04-20"),
        _deal("D2", "R1", 150000, "2026-06-20"),
    ]
    doc = parse_plan_doc({"plans": [AE, SAE]})
    return calculate(doc, [rep], deals, start=date(2026, 4, 1), end=date(2026, 9, 30))


def test_a_split_period_is_paid_in_parts_each_under_its_own_plan() -> None:
    q2 = _promotion().result("R1", "2026-Q2")
    assert q2 is not None
    # 75 of Q2's 91 days on `ae` (300,000), 16 on `sae` (450,000)
    assert q2.plan_id == "sae"
    assert q2.quota == D("326373.63")  # 247,252.75 + 79,120.88
    assert dict(q2.components) == {"commission": D("22835.16"), "bonus": D("0.00")}
    by_plan = {(line.plan_id, line.deal_id, line.rate) for line in q2.lines}
    assert by_plan == {
        ("ae", "D1", D("0.08")),
        ("sae", "D2", D("0.08")),
        ("sae", "D2", D("0.12")),
    }
    assert sum(line.amount for line in q2.lines) == q2.gross


def test_lines_name_their_plan_in_json_and_csv() -> None:
    result = _promotion()
    out = json.loads(to_json(result))
    q2 = next(r for r in out["results"] if r["period"] == "2026-Q2")
    assert {(x["plan_id"], x["assignment_from"]) for x in q2["lines"]} == {
        ("ae", None),
        ("sae", "2026-06-15"),
    }
    rows = list(csv.DictReader(io.StringIO(to_csv(result))))
    assert {(r["period"], r["deal_id"], r["plan_id"]) for r in rows if r["deal_id"]} == {
        ("2026-Q2", "D1", "ae"),
        ("2026-Q2", "D2", "sae"),
    }


def test_a_quota_change_alone_splits_the_period_by_day() -> None:
    rep = _rows(
        _a(None, "2026-02-28", "ae", quota=D(90000)), _a("2026-03-01", None, "ae", quota=D(180000))
    )
    doc = parse_plan_doc({"plans": [AE]})
    result = calculate(doc, [rep], [], start=date(2026, 1, 1), end=date(2026, 3, 31))
    q1 = result.result("R1", "2026-Q1")
    assert q1 is not None
    # 59 of 90 days at 90,000 and 31 at 180,000: 59,000 + 62,000
    assert q1.quota == D("121000.00")


def test_a_manager_change_alone_does_not_split_the_reps_pay() -> None:
    rep = _rows(
        _a(None, "2026-02-14", "ae", manager_id="M1"), _a("2026-02-15", None, "ae", manager_id="M2")
    )
    doc = parse_plan_doc({"plans": [AE]})
    deals = [_deal("D1", "R1", 310000, "2026-03-01")]
    result = calculate(doc, [rep], deals, start=date(2026, 1, 1), end=date(2026, 3, 31))
    q1 = result.result("R1", "2026-Q1")
    assert q1 is not None and q1.quota == D("300000.00")
    assert dict(q1.components)["bonus"] == D("5000.00")


def test_rollup_credit_goes_to_the_manager_in_force_on_the_credit_date() -> None:
    roll = {**AE, "credit_types": ["owner", "split", "rollup"]}
    doc = parse_plan_doc({"plans": [roll], "crediting": {"rollup": {"levels": "all"}}})
    rep = _rows(
        _a(None, "2026-02-14", "ae", manager_id="M1"), _a("2026-02-15", None, "ae", manager_id="M2")
    )
    people = [rep, Rep("M1", plan_id="ae", manager_id="VP"), Rep("M2", plan_id="ae"), Rep("VP")]
    deals = [_deal("D1", "R1", 1000, "2026-02-14"), _deal("D2", "R1", 2000, "2026-02-15")]
    result = calculate(doc, people, deals, start=date(2026, 1, 1), end=date(2026, 3, 31))
    rollup = {(c.deal_id, c.rep_id) for c in result.credits if c.credit_type == "rollup"}
    assert rollup == {("D1", "M1"), ("D1", "VP"), ("D2", "M2")}
    m2 = result.result("M2", "2026-Q1")
    assert m2 is not None and m2.credit == D(2000)


def test_a_draw_owed_under_the_old_plan_is_recovered_under_the_new_one() -> None:
    old = {"id": "ae", "components": [{"id": "c", "type": "commission", "rate": "0.1"}]}
    old["draw"] = {"amount": 3000, "recoverable": True}
    new = {"id": "sae", "components": [{"id": "c", "type": "commission", "rate": "0.1"}]}
    rep = _rows(_a(None, "2026-03-31", "ae"), _a("2026-04-01", None, "sae"))
    deals = [_deal("D0", "R1", 1000, "2026-01-02"), _deal("D1", "R1", 100000, "2026-05-01")]
    doc = parse_plan_doc({"plans": [old, new]})
    result = calculate(doc, [rep], deals, start=date(2026, 1, 1), end=date(2026, 6, 30))
    q1, q2 = result.result("R1", "2026-Q1"), result.result("R1", "2026-Q2")
    assert q1 is not None and q2 is not None
    assert (q1.draw.top_up, q1.draw.balance) == (D("2900.00"), D("2900.00"))
    assert (q2.plan_id, q2.draw.recovered, q2.net, q2.draw.balance) == (
        "sae",
        D("2900.00"),
        D("7100.00"),
        D("0.00"),
    )


def test_a_deal_paid_under_the_old_plan_is_clawed_back_by_its_rules() -> None:
    old = {"id": "ae", "components": [{"id": "c", "type": "commission", "rate": "0.1"}]}
    old["clawback"] = {"window_days": 90, "percent": 1}
    new = {"id": "sae", "components": [{"id": "c", "type": "commission", "rate": "0.2"}]}
    rep = _rows(_a(None, "2026-03-31", "ae"), _a("2026-04-01", None, "sae"))
    cancelled = _deal("D1", "R1", 10000, "2026-03-01", cancel_date=date(2026, 4, 10))
    doc = parse_plan_doc({"plans": [old, new]})
    result = calculate(doc, [rep], [cancelled], start=date(2026, 1, 1), end=date(2026, 6, 30))
    q2 = result.result("R1", "2026-Q2")
    assert q2 is not None
    (line,) = [x for x in q2.lines if x.component == "clawback"]
    assert line.amount == D("-1000.00") and "paid under plan ae" in line.explain


def test_no_credit_before_the_first_assignment() -> None:
    rep = _rows(_a("2026-02-01", None, "ae"))
    deals = [_deal("D1", "R1", 1000, "2026-01-31"), _deal("D2", "R1", 2000, "2026-02-01")]
    doc = parse_plan_doc({"plans": [AE]})
    result = calculate(doc, [rep], deals, start=date(2026, 1, 1), end=date(2026, 3, 31))
    assert [c.deal_id for c in result.credits] == ["D2"]
    q1 = result.result("R1", "2026-Q1")
    # joined the plan on Feb 1: like a hire date, 59 of 90 days of quota
    assert q1 is not None and q1.quota == D("196666.67")


def test_territory_match_pays_only_deals_in_the_territory_in_force() -> None:
    plan = {**AE, "territory": "match"}
    doc = parse_plan_doc({"plans": [plan]})
    rep = _rows(
        _a(None, "2026-02-14", "ae", territory="West"),
        _a("2026-02-15", None, "ae", territory="East"),
    )
    deals = parse_deals(
        "id,owner_id,amount,close_date,is_won,territory\n"
        "D1,R1,100,2026-02-01,true,West\nD2,R1,200,2026-02-20,true,West\n"
        "D3,R1,400,2026-02-20,true,East\nD4,R1,800,2026-02-20,true,\n"
    )
    result = calculate(doc, [rep], deals, start=date(2026, 1, 1), end=date(2026, 3, 31))
    assert sorted(c.deal_id for c in result.credits) == ["D1", "D3"]


def test_territory_match_without_assignments_uses_the_reps_territory() -> None:
    doc = parse_plan_doc({"plans": [{**AE, "territory": "match"}]})
    (rep,) = parse_reps("id,plan_id,territory\nR1,ae,West\n")
    deals = parse_deals(
        "id,owner_id,amount,close_date,is_won,territory\n"
        "D1,R1,100,2026-02-01,true,West\nD2,R1,200,2026-02-20,true,East\n"
    )
    result = calculate(doc, [rep], deals, start=date(2026, 1, 1), end=date(2026, 3, 31))
    assert [c.deal_id for c in result.credits] == ["D1"]


def test_a_former_manager_still_reaches_the_deals_of_their_time() -> None:
    from calc.book import Book

    doc = parse_plan_doc({"plans": [AE], "crediting": {"rollup": {"levels": "all"}}})
    rep = _rows(
        _a(None, "2026-02-14", "ae", manager_id="M1"), _a("2026-02-15", None, "ae", manager_id="M2")
    )
    people = [rep, Rep("M1", plan_id="ae"), Rep("M2", plan_id="ae"), Rep("X", plan_id="ae")]
    deals = [_deal("D1", "R1", 1000, "2026-02-01"), _deal("D2", "X", 1000, "2026-02-01")]
    book = Book(doc, people, deals)
    assert book.touching("M1") == {"D1"} and book.touching("M2") == {"D1"}
    assert book.touching("X") == {"D2"}


def test_a_move_to_a_plan_with_another_pay_period_pays_each_day_once() -> None:
    monthly = {**AE, "id": "m", "period": "month", "quota": {"amount": 100000}}
    monthly["clawback"] = {"window_days": 90}
    doc = parse_plan_doc({"plans": [monthly, AE]})
    rep = _rows(_a(None, "2026-05-14", "m"), _a("2026-05-15", None, "ae"))
    deals = [
        _deal("D1", "R1", 1000, "2026-05-10", cancel_date=date(2026, 5, 20)),
        _deal("D2", "R1", 2000, "2026-05-20"),
    ]
    result = calculate(doc, [rep], deals, start=date(2026, 4, 1), end=date(2026, 6, 30))
    names = [(r.period.name, r.plan_id) for r in result.results]
    assert names == [("2026-04", "m"), ("2026-05", "m"), ("2026-Q2", "ae")]
    may, q2 = result.results[1], result.results[2]
    # May 1-14 on the monthly plan, May 15 - June 30 (47 of Q2's 91 days) on the quarterly
    assert may.quota == D("45161.29") and q2.quota == D("154945.05")
    assert may.credit == D(1000) and q2.credit == D(2000)
    # D1 is clawed back once, in the period whose days hold May 20: the quarterly one
    claws = [
        (r.period.name, x.amount) for r in result.results for x in r.lines if x.deal_id == "D1"
    ]
    assert claws == [("2026-05", D("80.00")), ("2026-Q2", D("-80.00"))]


def test_an_open_deal_is_estimated_under_the_plan_in_force_on_its_day() -> None:
    from calc.estimate import estimate_deal

    rep = _rows(_a(None, "2026-06-14", "ae"), _a("2026-06-15", None, "sae"))
    doc = parse_plan_doc({"plans": [AE, SAE]})
    deals = [
        _deal("D1", "R1", 100000, "2026-04-20"),
        Deal(id="D9", owner_id="R1", amount=D(150000), close_date=date(2026, 6, 30)),
    ]
    found = estimate_deal(doc, [rep], deals, [], [], "D9", as_of=date(2026, 6, 20))
    # won on June 20, under `senior-ae`: the same 14,835.16 the promotion example pays D2
    assert found.owner_amount() == D("14835.16")


def test_a_year_to_date_component_starts_over_with_the_new_plan() -> None:
    def ytd_plan(plan_id: str, quota: int, edge: str) -> dict[str, Any]:
        table = [{"from": 0, "rate": "0.05"}, {"from": edge, "rate": "0.10"}]
        comp = {"id": "c", "type": "commission", "ytd": "to_date", "tiers": {"table": table}}
        return {"id": plan_id, "quota": {"amount": quota}, "components": [comp]}

    doc = parse_plan_doc({"plans": [ytd_plan("ae", 100000, "1"), ytd_plan("sae", 200000, "0.5")]})
    rep = _rows(_a(None, "2026-03-31", "ae"), _a("2026-04-01", None, "sae"))
    deals = [_deal("D1", "R1", 150000, "2026-02-01"), _deal("D2", "R1", 150000, "2026-05-01")]
    result = calculate(doc, [rep], deals, start=date(2026, 1, 1), end=date(2026, 6, 30))
    q1, q2 = result.result("R1", "2026-Q1"), result.result("R1", "2026-Q2")
    assert q1 is not None and q2 is not None
    # Q1 on `ae`: 100,000 at 5% and 50,000 above quota at 10%
    assert dict(q1.components)["c"] == D("10000.00")
    # Q2 on `sae` measures its own year to date from April 1: quota 200,000 (not Q1's too),
    # so the 10% tier starts at 100,000: 100,000 at 5% and 50,000 at 10%
    assert dict(q2.components)["c"] == D("10000.00")
    # the rep's own year to date still counts both: 300,000 of 300,000
    assert q2.attainment_ytd == D("1.0000")
