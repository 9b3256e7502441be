"""Deals in other currencies: converted at the dated rate of their close date, shown on lines."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from calc.currency import DatedRate, Rates, parse_rates, quotient_cents
from calc.engine import calculate
from calc.errors import InputError
from calc.inputs import parse_deals
from calc.model import Deal, Rep, Split
from calc.money import round_cents
from calc.plan import parse_plan_doc
from calc.render import line_dict, to_dict, to_json
from calc.results import CalcResult
from tests.calc.calc_testkit import deal

D = Decimal
FLAT = [{"id": "c", "type": "commission", "rate": 0.1}]
RATES = Rates(
    [
        DatedRate("EUR", date(2026, 1, 1), D("0.9")),
        DatedRate("EUR", date(2026, 2, 1), D("0.8")),
        DatedRate("JPY", date(2026, 1, 1), D("150")),
        DatedRate("GBP", date(2026, 1, 1), D("0.7")),
    ]
)


def _run(
    deals: list[Deal],
    *,
    rates: Rates | None = RATES,
    splits: tuple[Split, ...] = (),
    currency: str = "USD",
    **plan: Any,
) -> CalcResult:
    doc = parse_plan_doc({"plans": [{"id": "p", "currency": currency, "components": FLAT, **plan}]})
    reps = [Rep("R1", plan_id="p"), Rep("R2", plan_id="p"), Rep("R3", plan_id="p")]
    return calculate(
        doc, reps, deals, splits, start=date(2026, 1, 1), end=date(2026, 3, 31), rates=rates
    )


def test_a_deal_converts_at_the_rate_in_force_on_its_close_date() -> None:
    result = _run(
        [
            deal("D1", "R1", 90000, "2026-01-31", currency="EUR"),  # 0.9 -> 100,000
            deal("D2", "R1", 80000, "2026-02-01", currency="EUR"),  # 0.8 from Feb 1 -> 100,000
            deal("D3", "R1", 1500000, "2026-03-01", currency="JPY"),  # 150 -> 10,000
            deal("D4", "R1", 5000, "2026-03-02"),  # no currency: the plan's
        ]
    )
    assert [(c.deal_id, c.amount) for c in result.credits] == [
        ("D1", D("100000.00")),
        ("D2", D("100000.00")),
        ("D3", D("10000.00")),
        ("D4", D("5000.00")),
    ]
    q1 = result.results[0]
    assert q1.credit == D("215000.00") and q1.gross == D("21500.00")
    lines = {line.deal_id: line_dict(line) for line in q1.lines}
    assert lines["D2"]["currency"] == "EUR" and lines["D2"]["fx_rate"] == "0.80"
    assert lines["D2"]["explain"] == (
        "flat 10%; EUR converted at 0.8 EUR per USD (rate from 2026-02-01)"
    )
    assert lines["D3"]["fx_rate"] == "150.00"
    assert "currency" not in lines["D4"]  # lines of plan-currency deals are as before


def test_before_the_first_rate_a_deal_is_unresolved_with_the_reason() -> None:
    result = _run(
        [
            deal("D1", "R1", 100, "2025-12-31", currency="EUR"),
            deal("D2", "R1", 100, "2026-01-05", currency="CHF"),
            deal("D3", "R1", 100, "2026-01-05", currency="EUR"),
        ]
    )
    assert [c.deal_id for c in result.credits] == ["D3"]
    # D1 closed before the window: unresolved deals are reported for the window only
    assert [(u.deal_id, u.reason) for u in result.unresolved] == [
        ("D2", "no exchange rate for CHF (the rates have none)")
    ]
    wide = calculate(
        parse_plan_doc({"plans": [{"id": "p", "components": FLAT}]}),
        [Rep("R1", plan_id="p")],
        [deal("D1", "R1", 100, "2025-12-31", currency="EUR")],
        start=date(2025, 10, 1),
        end=date(2026, 3, 31),
        rates=RATES,
    )
    assert [u.reason for u in wide.unresolved] == [
        "no EUR exchange rate on 2025-12-31 (its first starts 2026-01-01)"
    ]


def test_a_plan_currency_with_rates_converts_through_the_corporate_currency() -> None:
    # GBP plan, EUR deal: 70,000 EUR / (0.9 EUR per USD / 0.7 GBP per USD) = 54,444.44 GBP
    result = _run([deal("D1", "R1", 70000, "2026-01-10", currency="EUR")], currency="GBP")
    (credit,) = result.credits
    assert credit.amount == round_cents(Fraction(70000) * Fraction(7, 9)) == D("54444.44")
    (line,) = result.results[0].lines
    assert line_dict(line)["fx_rate"] == "1.2857142857"
    assert "EUR converted at 1.2857142857 EUR per GBP" in line.explain
    # a deal in the corporate currency needs its rate of 1 in the file, like any other
    usd = [deal("D2", "R1", 700, "2026-01-10", currency="USD")]
    missing = _run(usd, currency="GBP")
    assert [u.reason for u in missing.unresolved] == [
        "no exchange rate for USD (the rates have none)"
    ]
    corporate = Rates([*RATES.rows(), DatedRate("USD", date(2000, 1, 1), D(1))])
    assert _run(usd, currency="GBP", rates=corporate).credits[0].amount == D("490.00")


def test_split_shares_convert_exactly_and_the_remainder_rule_moves_cents_only() -> None:
    # 100.00 EUR at 0.9 = 111.111... USD; three thirds of 33.33 / 33.33 / 33.34 percent
    splits = (
        Split("D1", "R1", D("33.33")),
        Split("D1", "R2", D("33.33")),
        Split("D1", "R3", D("33.34")),
    )
    result = _run([deal("D1", "R1", 100, "2026-01-10", currency="EUR")], splits=splits)
    got = {c.rep_id: c.amount for c in result.credits}
    exact = {
        r: Fraction(100) * Fraction(s.percent) / 100 / Fraction(D("0.9"))
        for r, s in zip(("R1", "R2", "R3"), splits, strict=True)
    }
    assert sum(got.values()) == round_cents(sum(exact.values())) == D("111.11")
    assert all(abs(Fraction(got[r]) - exact[r]) <= Fraction(1, 100) for r in got)


def test_criteria_compare_plan_currency_amounts() -> None:
    eligible = [
        {"field": "is_won", "op": "eq", "value": True},
        {"field": "amount", "op": "ge", "value": 100000},
    ]
    result = _run(
        [
            deal("D1", "R1", 90000, "2026-01-10", currency="EUR"),  # 100,000 USD: in
            deal("D2", "R1", 99999, "2026-01-10"),  # out
        ],
        eligible=eligible,
    )
    assert [c.deal_id for c in result.credits] == ["D1"]


def test_json_output_carries_the_rate_on_converted_lines_only() -> None:
    result = _run(
        [deal("D1", "R1", 90000, "2026-01-10", currency="EUR"), deal("D2", "R1", 10, "2026-01-11")]
    )
    import json

    assert json.loads(to_json(result)) == to_dict(result)
    lines = to_dict(result)["results"][0]["lines"]
    assert list(lines[0])[-3:] == ["explain", "currency", "fx_rate"]
    assert "fx_rate" not in lines[1]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("EURO,2026-01-01,0.9", "line 2, column currency: not an ISO 4217 currency code"),
        ("EUR,2026-02-30,0.9", "column start_date: not a date"),
        ("EUR,,0.9", "column start_date: a value is required"),
        ("EUR,2026-01-01,0", "column rate: must be above zero, not 0"),
        ("EUR,2026-01-01,-1", "column rate: must be above zero"),
        ('EUR,2026-01-01,"0,9"', "column rate: not a number: '0,9'"),
        ("EUR,2026-01-01,NaN", "column rate: not a number"),
        ("EUR,2026-01-01,1e-30", "column rate: '1e-30' is too small"),
    ],
)
def test_bad_rate_rows_name_the_row_and_column(row: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_rates("currency,start_date,rate\n" + row + "\n", source="rates.csv")


def test_a_second_rate_for_one_currency_and_start_is_refused() -> None:
    text = "currency,start_date,rate\neur,2026-01-01,0.9\nEUR,2026-01-01,0.8\n"
    with pytest.raises(InputError, match="line 3, column start_date: a second EUR rate"):
        parse_rates(text)
    with pytest.raises(InputError, match="no rates"):
        parse_rates("currency,start_date,rate\n")


def test_rates_run_from_their_start_to_the_next_start() -> None:
    rates = parse_rates("currency,start_date,rate\nEUR,2026-02-01,0.8\nEUR,2026-01-01,0.9\n")
    assert rates.in_force("EUR", date(2025, 12, 31)) is None
    assert rates.in_force("EUR", date(2026, 1, 31)) == DatedRate("EUR", date(2026, 1, 1), D("0.9"))
    assert rates.in_force("EUR", date(2026, 2, 1)) == DatedRate("EUR", date(2026, 2, 1), D("0.8"))
    assert rates.in_force("EUR", date(2099, 1, 1)) is not None


def test_the_integer_rounding_of_a_quotient_is_the_exact_one() -> None:
    rng = random.Random(15)
    for _ in range(20000):
        amount = D(rng.randint(-(10**12), 10**12)) / 100
        rate = D(rng.randint(1, 10**8)) / 10 ** rng.randint(0, 8)
        assert quotient_cents(amount, rate) == round_cents(Fraction(amount) / Fraction(rate))
    assert quotient_cents(D("0.05"), D("10")) == D("0.01")  # 0.005: half up
    assert quotient_cents(D("-0.05"), D("10")) == D("-0.01")  # away from zero


def test_deal_currencies_must_be_iso_codes() -> None:
    head = "id,owner_id,amount,close_date,is_won,currency\n"
    (d,) = parse_deals(head + "D1,R1,10,2026-01-01,true,eur\n")
    assert d.currency == "EUR"
    with pytest.raises(InputError, match="column currency: not an ISO 4217 currency code"):
        parse_deals(head + "D1,R1,10,2026-01-01,true,Euro\n")


def test_a_kept_book_reconverts_a_deal_that_changes_currency() -> None:
    from calc.book import Book

    doc = parse_plan_doc({"plans": [{"id": "p", "components": FLAT}]})
    book = Book(
        doc,
        [Rep("R1", plan_id="p")],
        [deal("D1", "R1", 90, "2026-01-10", currency="EUR")],
        rates=RATES,
    )
    assert book.conversions["D1"].currency == "EUR"
    book.put_deal(deal("D1", "R1", 90, "2026-01-10", currency="GBP"))
    assert book.conversions["D1"].currency == "GBP"
    assert book.deal_credits(book.deals["D1"])[0][0].amount == D("128.57")  # 90 / 0.7
    book.put_deal(deal("D1", "R1", 90, "2026-01-10", currency="CHF"))
    assert "D1" not in book.conversions
    assert [u.reason for u in book.deal_credits(book.deals["D1"])[1]] == [
        "no exchange rate for CHF (the rates have none)"
    ]
    book.remove_deal("D1")
    assert not book.conversions and "D1" not in book.deals
