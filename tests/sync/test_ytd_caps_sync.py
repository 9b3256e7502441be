"""The sync's calculation stage pays year-to-date true-ups and caps as `quotaflow calc` does:
stored results carry the true-up lines and the `capped` amounts, and a locked period that a
late deal changes is adjusted so the year still pays exactly what it is due."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from calc.book import Book
from calc.engine import calculate
from calc.model import Deal, Rep
from calc.plan import parse_plan_doc
from calc.render import result_dict
from connector.sync.compute import compute_results
from connector.sync.lock_adjustments import apply_locks

D = Decimal
PLAN = {
    "id": "p",
    "quota": {"annual": 400000},
    "components": [
        {
            "id": "c",
            "type": "commission",
            "ytd": "annual",
            "tiers": {
                "mode": "retroactive",
                "table": [{"from": 0, "rate": "0.05"}, {"from": 1, "rate": "0.08"}],
            },
            "cap": {"per_deal": 20000},
        }
    ],
}
REPS = [Rep("R1", plan_id="p")]
START, END = date(2026, 1, 1), date(2026, 12, 31)


def _deal(deal_id: str, amount: int, day: str) -> Deal:
    return Deal(
        id=deal_id,
        owner_id="R1",
        amount=D(amount),
        close_date=date.fromisoformat(day),
        is_won=True,
    )


def _stored(deals: list[Deal]) -> list[dict[str, Any]]:
    book = Book(parse_plan_doc({"plans": [PLAN]}), REPS, deals)
    return compute_results(book, ["R1"], start=START, end=END).results["R1"]


DEALS = [
    _deal("D1", 150000, "2026-02-10"),
    _deal("D2", 300000, "2026-08-10"),
]


def test_stored_results_are_the_engines_with_true_ups_and_capped_lines() -> None:
    stored = _stored(DEALS)
    engine = calculate(parse_plan_doc({"plans": [PLAN]}), REPS, DEALS, start=START, end=END)
    assert stored == [result_dict(r) for r in engine.for_rep("R1")]
    q3 = stored[2]
    # The year passes its 400,000 quota in Q3: 8% on 450,000, D2's 24,000 capped at 20,000.
    assert q3["components"]["c"] == "24500.00"
    d2 = next(ln for ln in q3["lines"] if ln["deal_id"] == "D2")
    assert (d2["amount"], d2["capped"]) == ("20000.00", "4000.00")
    assert d2["explain"].startswith("YTD true-up 2026-Q3: 112.5% of 400000.00 annual quota")


def test_a_late_deal_in_a_locked_period_is_adjusted_and_the_year_pays_its_due() -> None:
    frozen = {"2026-Q1": _stored(DEALS)[0]}
    late = [*DEALS, _deal("D3", 50000, "2026-03-01")]
    fresh = _stored(late)
    out = apply_locks(fresh, frozen, as_of=date(2026, 5, 1))
    assert out[0] == frozen["2026-Q1"]
    adjustment = [ln for ln in out[1]["lines"] if ln["component"] == "adjustment"]
    assert [(ln["deal_id"], ln["amount"]) for ln in adjustment] == [("D3", "2500.00")]
    # 500,000 of 400,000: 8% on D1 (12,000) and D3 (4,000), D2's 24,000 capped at 20,000.
    paid = sum(D(r["gross"]) for r in out)
    assert paid == D("36000.00")
