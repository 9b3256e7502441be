"""Results kept rendered between incremental calculations (`compute_results(rendered=)`)
against a fresh calculation, after random changes of the deals: every row equals the fresh
one, and the rows reported as unchanged (`same`) are the ones the last run produced."""

from __future__ import annotations

import random
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from calc.book import Book
from calc.engine import KeptPeriods
from connector.sync.compute import Rendered, compute_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "calc"))  # its reference_calc
from tests.calc.test_differential import FIRST, LAST, inputs, make_case

CASES = 120


def test_rendered_results_equal_a_fresh_calculation_after_random_changes() -> None:
    reused = 0
    for seed in range(CASES):
        rng = random.Random(seed)
        given = inputs(make_case(seed))
        book = Book(**given)
        book.remember_credits = True
        compute_results(book, None, start=FIRST, end=LAST)
        kept: dict[str, KeptPeriods] = {}
        rendered: dict[str, Rendered] = {}
        deals = {d.id: d for d in given["deals"]}
        for _round in range(4):
            for deal_id in rng.sample(sorted(deals), min(2, len(deals))):
                deal = deals[deal_id]
                changed = replace(deal, amount=(deal.amount or 0) + rng.randint(1, 40) * 250)
                if rng.random() < 0.4 and changed.close_date is not None:
                    changed = replace(changed, close_date=changed.close_date + timedelta(days=40))
                deals[deal_id] = changed
                book.put_deal(changed)
            reps = rng.sample(sorted(book.reps), max(1, len(book.reps) * 2 // 3))
            before = {rep: dict(rendered.get(rep, {})) for rep in reps}
            got = compute_results(book, reps, start=FIRST, end=LAST, kept=kept, rendered=rendered)
            fresh = compute_results(
                Book(**{**given, "deals": list(deals.values())}), reps, start=FIRST, end=LAST
            )
            assert got.results == fresh.results, seed
            for rep, period in got.same:
                row = next(r for r in got.results[rep] if r["period"] == period)
                assert row is before[rep][period][1], (seed, rep, period)
            reused += len(got.same)
            assert got.rendered is not None
            rendered.update(got.rendered)
    assert reused > 500
