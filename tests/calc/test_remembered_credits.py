"""A kept Book that remembers every deal's credits from its full calculation (the sync's
state, `Book.remember_credits`) against a fresh Book, after random changes of its deals."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from calc.book import Book
from calc.engine import KeptPeriods, calculate_book
from tests.calc.test_differential import FIRST, LAST, inputs, make_case

CASES = 150


def test_remembered_credits_give_the_same_results_as_a_fresh_calculation() -> None:
    compared = 0
    for seed in range(CASES):
        rng = random.Random(seed)
        given = inputs(make_case(seed))
        book = Book(**given)
        book.remember_credits = True
        full = calculate_book(book, start=FIRST, end=LAST)
        deals = {d.id: d for d in given["deals"]}
        assert full == calculate_book(Book(**given), start=FIRST, end=LAST), seed
        kept: dict[str, KeptPeriods] = {}
        for _round in range(3):
            for deal_id in rng.sample(sorted(deals), min(3, len(deals))):
                deal = deals[deal_id]
                if rng.random() < 0.1:
                    del deals[deal_id]
                    book.remove_deal(deal_id, keep_related=True)
                    continue
                changed = replace(deal, amount=(deal.amount or 0) + rng.randint(1, 40) * 250)
                if rng.random() < 0.4 and changed.close_date is not None:
                    # Earlier or later: the first close date of the data may move either way.
                    days = rng.choice((-400, -40, 40))
                    changed = replace(changed, close_date=changed.close_date + timedelta(days))
                if rng.random() < 0.2 and changed.close_date is not None:
                    changed = replace(changed, cancel_date=changed.close_date + timedelta(days=9))
                deals[deal_id] = changed
                book.put_deal(changed)
            fresh_book = Book(**{**given, "deals": list(deals.values())})
            assert book.data_start == fresh_book.data_start, seed
            some = rng.sample(sorted(book.reps), max(1, len(book.reps) // 2))
            again = calculate_book(book, start=FIRST, end=LAST, rep_ids=some, kept=kept)
            fresh = calculate_book(fresh_book, start=FIRST, end=LAST, rep_ids=some)
            assert again == fresh, seed
            compared += 1
    assert compared == 3 * CASES
