"""Partial calculations against full ones, on the differential test's generated books:
`period_gross` (one period alone, what the open-deal estimate reads) against the engine's
run of the rep, and a calculation reusing kept periods after changes against a fresh one."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

from calc.book import Book
from calc.engine import KeptPeriods, calculate_book, period_gross, rep_results
from calc.estimate import estimate_credits, period_result, won_on
from calc.periods import period_of
from tests.calc.test_differential import FIRST, LAST, inputs, make_case

CASES = 300


def test_one_period_alone_equals_the_same_period_of_the_full_run() -> None:
    compared = 0
    for seed in range(CASES):
        book = Book(**inputs(make_case(seed)))
        credits = book.credits().by_rep
        for rep_id, rep in sorted(book.reps.items()):
            plan = book.ctx(rep_id).plan
            if plan is None or rep.assignments:
                continue
            mine = credits.get(rep_id, [])
            for full in rep_results(plan, rep, list(mine), start=FIRST, end=LAST):
                alone = period_gross(plan, rep, list(mine), full.period)
                assert alone is not None, (seed, rep_id, full.period.name)
                got = (alone.components, alone.lines, alone.gross)
                assert got == (full.components, full.lines, full.gross), (seed, rep_id)
                compared += 1
            # A period the rep is not paid in (before the hire date) is None, as in the run.
            ctx = book.ctx(rep_id)
            before = period_of(date(2025, 1, 1), ctx.kind, ctx.fy_start_month)
            if rep.hire_date is not None and rep.hire_date > before.end:
                assert period_gross(plan, rep, list(mine), before) is None
                assert period_result(plan, rep, list(mine), before) is None
    assert compared > 1500


def test_estimates_from_one_period_equal_estimates_from_the_full_run() -> None:
    # The estimate of each deal as if won on a day of 2026 or 2027, computed on the period
    # alone, equals the with-minus-without of two full runs of the rep.
    compared = 0
    for seed in range(CASES // 2):
        book = Book(**inputs(make_case(seed)))
        current = book.credits().by_rep
        for as_of in (date(2026, 8, 14), date(2027, 3, 1)):
            for deal_id, deal in sorted(book.deals.items()):
                owner = deal.owner_id
                rep = book.reps.get(owner) if owner else None
                plan = book.ctx(owner).plan if owner else None
                if rep is None or plan is None or rep.assignments:
                    continue
                hypo = deal if deal.is_won else won_on(deal, as_of)
                mine = [c for c in book.deal_credits(hypo)[0] if c.rep_id == owner]
                if not mine:
                    continue
                have = current.get(rep.id, [])
                found = estimate_credits(plan, rep, have, mine)
                others = [c for c in have if c.deal_id != deal_id]
                with_deal = period_result(plan, rep, [*others, *mine], mine[0].period)
                without = period_result(plan, rep, others, mine[0].period)
                gross = (with_deal.gross if with_deal else 0) - (without.gross if without else 0)
                assert found.amount == gross, (seed, deal_id, as_of)
                compared += 1
    assert compared > 300


def test_kept_periods_give_the_same_results_as_a_fresh_calculation() -> None:
    # A Book recomputed after random changes of its deals (amount, close date, cancellation),
    # reusing the periods kept from the run before, equals a fresh Book's calculation.
    compared = 0
    for seed in range(CASES // 2):
        rng = random.Random(seed)
        given = inputs(make_case(seed))
        book = Book(**given)
        kept: dict[str, KeptPeriods] = {}
        calculate_book(book, start=FIRST, end=LAST, rep_ids=list(book.reps), kept=kept)
        deals = {d.id: d for d in given["deals"]}
        for _round in range(3):
            for deal_id in rng.sample(sorted(deals), min(2, len(deals))):
                deal = deals[deal_id]
                changed = replace(deal, amount=(deal.amount or 0) + rng.randint(1, 40) * 250)
                if rng.random() < 0.4 and changed.close_date is not None:
                    changed = replace(changed, close_date=changed.close_date + timedelta(days=40))
                if rng.random() < 0.2 and changed.close_date is not None:
                    changed = replace(changed, cancel_date=changed.close_date + timedelta(days=9))
                deals[deal_id] = changed
                book.put_deal(changed)
            again = calculate_book(book, start=FIRST, end=LAST, rep_ids=list(book.reps), kept=kept)
            fresh = calculate_book(
                Book(**{**given, "deals": list(deals.values())}),
                start=FIRST,
                end=LAST,
                rep_ids=list(book.reps),
            )
            assert again == fresh, seed
            compared += 1
    assert compared == 3 * (CASES // 2)
