"""Reading the org's exchange rates: dated rates when advanced currency management is on, the
static CurrencyType rates without it, the corporate currency always at 1."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from calc.currency import DatedRate
from connector.pull.rates import BEGINNING, rates_from

TYPES = [
    {"IsoCode": "USD", "ConversionRate": 1.0, "IsCorporate": True, "IsActive": True},
    {"IsoCode": "EUR", "ConversionRate": 0.923456, "IsCorporate": False, "IsActive": True},
    {"IsoCode": "GBP", "ConversionRate": 0.79, "IsCorporate": False, "IsActive": False},
    {"IsoCode": "JPY", "ConversionRate": 0, "IsCorporate": False, "IsActive": True},
]


def test_without_dated_rates_the_static_rates_apply_at_any_date() -> None:
    found = rates_from(TYPES, None)
    assert found.source == "static"
    assert found.rows == (
        DatedRate("USD", BEGINNING, Decimal(1)),
        DatedRate("EUR", BEGINNING, Decimal("0.923456")),  # the double read as its short text
    )
    assert found.skipped == ("CurrencyType JPY: no usable rate",)


def test_dated_rates_with_the_corporate_currency_at_one() -> None:
    dated = [
        {"IsoCode": "EUR", "ConversionRate": 0.95, "StartDate": "2026-01-01"},
        {"IsoCode": "EUR", "ConversionRate": 0.9, "StartDate": "2026-04-01"},
        {
            "Id": "04w5g0000000009",
            "IsoCode": "EUR",
            "ConversionRate": -1,
            "StartDate": "2026-07-01",
        },
        {"IsoCode": "EUR", "ConversionRate": 0.9, "StartDate": None},
    ]
    found = rates_from(TYPES, dated)
    assert found.source == "dated"
    assert found.rows == (
        DatedRate("EUR", date(2026, 1, 1), Decimal("0.95")),
        DatedRate("EUR", date(2026, 4, 1), Decimal("0.9")),
        DatedRate("USD", BEGINNING, Decimal(1)),
    )
    assert "DatedConversionRate 04w5g0000000009: no usable rate" in found.skipped


def test_earnings_are_written_in_the_users_currency_or_not_at_all() -> None:
    from calc.currency import Rates
    from connector.sync.desired import in_rep_currency

    rates = Rates([DatedRate("EUR", date(2026, 1, 1), Decimal("0.9"))])
    values = {"attainment_pct": Decimal("80.00"), "earnings_ytd": Decimal("1000.00")}
    as_of = date(2026, 12, 3)
    assert in_rep_currency(values, None, "USD", rates, as_of=as_of) == values
    assert in_rep_currency(values, "USD", "USD", None, as_of=as_of) == values
    assert in_rep_currency(values, "EUR", "USD", rates, as_of=as_of) == {
        "attainment_pct": Decimal("80.00"),
        "earnings_ytd": Decimal("900.00"),
    }
    # no GBP rate: the figure would be in the wrong currency, so it is left unwritten
    assert in_rep_currency(values, "GBP", "USD", rates, as_of=as_of) == {
        "attainment_pct": Decimal("80.00")
    }
