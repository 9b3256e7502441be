"""The estimator (owner's figure for an open deal) and the contract rendering."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from calc_testkit import deal

from calc.book import Book
from calc.engine import calculate_book
from calc.estimate import estimate_deal
from calc.model import Rep, Split
from calc.plan import parse_plan_doc
from calc.render import to_json

D = Decimal
DOC = parse_plan_doc(
    {
        "plans": [
            {
                "id": "p",
                "quota": {"amount": 100000},
                "components": [
                    {
                        "id": "c",
                        "type": "commission",
                        "tiers": {"table": [{"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.1}]},
                    },
                    {"id": "b", "type": "bonus", "min_attainment": 1, "amount": 1000},
                ],
            },
            {
                "id": "m",
                "credit_types": ["rollup"],
                "components": [{"id": "o", "type": "commission", "rate": 0.01}],
            },
        ],
        "crediting": {"rollup": {"levels": 1}},
    }
)
REPS = [
    Rep(id="M1", plan_id="m"),
    Rep(id="R1", manager_id="M1", plan_id="p"),
    Rep(id="R2", manager_id="M1", plan_id="p"),
]


def test_estimate_for_an_open_deal_gives_the_owner_figure_with_lines() -> None:
    # R1 has 80,000 won in Q2. Open D9 for 40,000 won on 2026-05-15 would add:
    #   80k-100k at 5% = 1,000 and 100k-120k at 10% = 2,000 on its own lines,
    #   plus the 1,000 bonus it unlocks (an "effect" line): 4,000 for R1; M1 gets 1% = 400.
    deals = [
        deal("D1", "R1", 80000, "2026-04-10"),
        deal("D9", "R1", 40000, "2026-06-30", is_won=False),
    ]
    est = estimate_deal(DOC, REPS, deals, [], [], "D9", as_of=date(2026, 5, 15))
    assert est.owner_amount() == D(4000)
    by_rep = {p.rep_id: p for p in est.participants}
    assert (by_rep["M1"].amount, by_rep["M1"].credit_types, by_rep["M1"].period) == (
        D(400),
        ("rollup",),
        "2026-Q2",
    )
    assert [(ln.component, ln.amount, ln.explain) for ln in by_rep["R1"].lines] == [
        ("c", D(1000), "tier 0%-100% of quota at 5%"),
        ("c", D(2000), "tier 100%+ of quota at 10%"),
        ("effect", D(1000), "effect on the rest of the period: b +1000.00"),
    ]


def test_estimate_for_a_won_split_deal_and_book_is_left_unchanged() -> None:
    # D1 50,000 won, split 60/40 R1/R2: R1 30,000 x 5% = 1,500, R2 20,000 x 5% = 1,000.
    deals = [deal("D1", "R1", 50000, "2026-01-10")]
    splits = [Split("D1", "R1", D(60)), Split("D1", "R2", D(40))]
    book = Book(DOC, REPS, deals, splits)
    before = to_json(calculate_book(book, start=date(2026, 1, 1), end=date(2026, 3, 31)))
    from calc.estimate import estimate_in_book

    est = estimate_in_book(book, "D1", as_of=date(2026, 8, 1))
    assert est.won and est.owner_amount() == D(1500)
    assert {p.rep_id: p.amount for p in est.participants} == {
        "M1": D(500),
        "R1": D(1500),
        "R2": D(1000),
    }
    assert to_json(calculate_book(book, start=date(2026, 1, 1), end=date(2026, 3, 31))) == before


def test_subset_recompute_matches_the_full_run_after_a_deal_change() -> None:
    deals = [deal("D1", "R1", 50000, "2026-01-10"), deal("D2", "R2", 70000, "2026-02-10")]
    book = Book(DOC, REPS, deals)
    book.put_deal(deal("D2", "R2", 90000, "2026-02-10"))
    part = calculate_book(
        book, start=date(2026, 1, 1), end=date(2026, 12, 31), rep_ids={"R2", "M1"}
    )
    full = calculate_book(
        Book(DOC, REPS, [deals[0], deal("D2", "R2", 90000, "2026-02-10")]),
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
    )
    assert part.results == tuple(r for r in full.results if r.rep_id in {"R2", "M1"})
    assert full.owner_commission() == {"D1": D(2500), "D2": D(4500)}


def test_json_is_the_contract_shape_with_money_strings() -> None:
    book = Book(DOC, REPS, [deal("D1", "R1", "123456.785", "2026-03-31")])
    out = json.loads(to_json(calculate_book(book, start=date(2026, 1, 1), end=date(2026, 3, 31))))
    r1 = next(r for r in out["results"] if r["rep_id"] == "R1")
    # Credit 123,456.785 rounds half up to 123,456.79; 100k at 5% = 5,000,
    # 23,456.79 at 10% = 2,345.679 -> 2,345.68
    assert (r1["credit"], r1["attainment"], r1["components"]) == (
        "123456.79",
        "1.2346",
        {"c": "7345.68", "b": "1000.00"},
    )
    assert r1["draw"] == {
        "top_up": "0.00",
        "recovered": "0.00",
        "balance": "0.00",
        "shortfall": "0.00",
    }
    assert out["credits"][0] == {
        "deal_id": "D1",
        "rep_id": "M1",
        "credit_type": "rollup",
        "percent": "100.00",
        "amount": "123456.79",
        "period": "2026-Q1",
    }


def test_every_single_rep_recompute_matches_the_full_run_on_the_examples() -> None:
    from pathlib import Path

    import yaml

    from calc import inputs

    ex = Path(__file__).resolve().parents[2] / "calc" / "examples"
    doc = parse_plan_doc(yaml.safe_load((ex / "plan.yaml").read_text()))
    book = Book(
        doc,
        inputs.parse_reps((ex / "reps.csv").read_text()),
        inputs.parse_deals((ex / "deals.csv").read_text()),
        inputs.parse_splits((ex / "splits.csv").read_text()),
        inputs.parse_team((ex / "team.csv").read_text()),
    )
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    full = calculate_book(book, start=start, end=end)
    for rep_id in book.reps:
        part = calculate_book(book, start=start, end=end, rep_ids={rep_id})
        assert part.results == tuple(r for r in full.results if r.rep_id == rep_id)
        assert part.credits == tuple(c for c in full.credits if c.rep_id == rep_id)


def test_bulk_owner_estimates_share_a_baseline_only_where_the_deal_gave_no_credit() -> None:
    # `eligible` credits open deals too (a stage-based plan), so D8 and D9 are in R1's Q2 as
    # they stand: 80,000 + 10,000 + 40,000 = 130,000 -> 5,000 + 3,000 + 1,000 bonus = 9,000.
    # D9 moved to today: without it 90,000 -> 4,500, so 4,500; D8: without it 120,000 ->
    # 8,000, so 1,000. The shared "period as it stands" baseline would give 0 for both.
    from calc.estimate import estimate_in_book, owner_estimates

    raw = DOC.model_dump(mode="json", by_alias=True, exclude_none=True)
    raw["plans"][0]["eligible"] = [{"field": "stage", "op": "ne", "value": "Closed Lost"}]
    doc = parse_plan_doc(raw)
    deals = [
        deal("D1", "R1", 80000, "2026-04-10"),
        deal("D8", "R1", 10000, "2026-06-20", is_won=False),
        deal("D9", "R1", 40000, "2026-06-30", is_won=False),
    ]
    book = Book(doc, REPS, deals)
    as_of = date(2026, 5, 15)
    bulk = owner_estimates(book, ["D9", "D8"], as_of=as_of)
    assert bulk == {"D9": D(4500), "D8": D(1000)}
    assert bulk == {d: estimate_in_book(book, d, as_of=as_of).owner_amount() for d in bulk}
