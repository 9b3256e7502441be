"""Every amount is computed exactly and rounded once: the engine against Fraction arithmetic."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from calc.engine import calculate
from calc.model import Deal, Rep
from calc.plan import parse_plan_doc

D = Decimal
cents_st = st.integers(min_value=-5_000_000, max_value=90_000_000)
bands_st = st.lists(
    st.tuples(st.integers(min_value=1, max_value=300), st.integers(min_value=0, max_value=400)),
    min_size=0,
    max_size=3,
    unique_by=lambda t: t[0],
)


def half_up_cents(value: Fraction) -> Fraction:
    """Round to cents, half away from zero, in exact arithmetic."""
    hundredths = abs(value) * 100
    whole = int(hundredths) + (1 if hundredths - int(hundredths) >= Fraction(1, 2) else 0)
    return Fraction(whole if value >= 0 else -whole, 100)


def _q1_target_incentive(doc: dict[str, Any], cents: list[int]) -> D:
    """The `ti` component rep R1 is paid in 2026-Q1 under plan `doc`, one won deal per
    amount in `cents` (a day apart from 1 January)."""
    rows = [
        Deal(
            id=f"D{i}",
            owner_id="R1",
            amount=D(c) / 100,
            close_date=date(2026, 1, 1) + timedelta(days=i),
            is_won=True,
        )
        for i, c in enumerate(cents)
    ]
    result = calculate(
        parse_plan_doc(doc),
        [Rep("R1", plan_id="p")],
        rows,
        start=date(2026, 1, 1),
        end=date(2026, 3, 31),
    )
    return dict(result.results[0].components)["ti"]


@settings(max_examples=300, deadline=None)
@given(
    quota_cents=st.integers(min_value=100, max_value=10**13),
    target_cents=st.integers(min_value=0, max_value=10**10),
    deals=st.lists(cents_st, min_size=1, max_size=6),
    bands=bands_st,
    first=st.integers(min_value=0, max_value=400),
)
def test_target_incentive_curve_matches_exact_fractions(
    quota_cents: int, target_cents: int, deals: list[int], bands: list[tuple[int, int]], first: int
) -> None:
    quota, target = Fraction(quota_cents, 100), Fraction(target_cents, 100)
    bands = sorted(bands)
    table = [(Fraction(0), Fraction(first, 100))] + [
        (Fraction(s, 100), Fraction(m, 100)) for s, m in bands
    ]
    doc = {
        "id": "p",
        "period": "quarter",
        "quota": {"amount": str(D(quota_cents) / 100)},
        "components": [
            {
                "id": "ti",
                "type": "target_incentive",
                "target": str(D(target_cents) / 100),
                "curve": {
                    "table": [
                        {
                            "from": str(D(s.numerator) / s.denominator),
                            "multiplier": str(D(m.numerator) / m.denominator),
                        }
                        for s, m in table
                    ]
                },
            }
        ],
    }
    got = _q1_target_incentive(doc, deals)
    starts = [s * quota for s, _ in table]
    rates = [m * target / quota for _, m in table]
    assert Fraction(got) == half_up_cents(_exact_marginal(deals, starts, rates))


def _exact_marginal(deals: list[int], starts: list[Fraction], rates: list[Fraction]) -> Fraction:
    """Pay of each deal as the running total moves from its old to its new value."""
    pay = Fraction(0)
    pos = Fraction(0)
    for c in deals:
        new = pos + Fraction(c, 100)
        pay += _area(new, starts, rates) - _area(pos, starts, rates)
        pos = new
    return pay


def _area(x: Fraction, starts: list[Fraction], rates: list[Fraction]) -> Fraction:
    """The integral of the rate from 0 to x (the first band extends below zero)."""
    if x < 0:
        return x * rates[0]
    out = Fraction(0)
    for i, rate in enumerate(rates):
        lo = starts[i] if i else Fraction(0)
        hi = starts[i + 1] if i + 1 < len(starts) else None
        top = x if hi is None else min(x, hi)
        if top > lo:
            out += (top - lo) * rate
    return out


@settings(max_examples=200, deadline=None)
@given(
    annual_cents=st.integers(min_value=1200, max_value=10**12),
    target_cents=st.integers(min_value=1, max_value=10**9),
    multiple=st.integers(min_value=1, max_value=300),
    amount=st.integers(min_value=1, max_value=10**11),
)
def test_base_rate_multiple_is_exact(
    annual_cents: int, target_cents: int, multiple: int, amount: int
) -> None:
    # Base rate = target / quota with an annual quota split over 12 months: 1/12 has no
    # decimal form, so neither has the rate.
    doc = {
        "id": "p",
        "period": "month",
        "target_incentive": str(D(target_cents) / 100),
        "quota": {"annual": str(D(annual_cents) / 100)},
        "components": [
            {
                "id": "c",
                "type": "commission",
                "tiers": {
                    "basis": "amount",
                    "table": [{"from": 0, "base_rate_multiple": str(D(multiple) / 100)}],
                },
            }
        ],
    }
    result = calculate(
        parse_plan_doc(doc),
        [Rep("R1", plan_id="p")],
        [
            Deal(
                id="D1",
                owner_id="R1",
                amount=D(amount) / 100,
                close_date=date(2026, 2, 3),
                is_won=True,
            )
        ],
        start=date(2026, 2, 1),
        end=date(2026, 2, 28),
    )
    got = dict(result.results[0].components)["c"]
    rate = (
        Fraction(multiple, 100) * Fraction(target_cents, 100) / (Fraction(annual_cents, 100) / 12)
    )
    assert Fraction(got) == half_up_cents(Fraction(amount, 100) * rate)


@settings(max_examples=200, deadline=None)
@given(
    j=st.integers(min_value=1, max_value=5000),
    target=st.integers(min_value=1, max_value=10**6),
    n=st.integers(min_value=0, max_value=10**6),
    cuts=st.lists(st.integers(min_value=1, max_value=10**8), max_size=4),
)
def test_exact_half_cents_round_up(j: int, target: int, n: int, cuts: list[int]) -> None:
    # Quota = target x 6j, so the rate 1/(6j) has no decimal form; the sales (in cents
    # 100kn + k/2) make the exact pay n + 0.005: the case 28-digit decimals got wrong.
    k = 6 * j
    sales_cents = 100 * k * n + k // 2
    parts, rest = [], sales_cents
    for cut in cuts:
        piece = min(cut, rest)
        parts.append(piece)
        rest -= piece
    parts.append(rest)
    curve = {"table": [{"from": 0, "multiplier": 1}]}
    doc = {
        "id": "p",
        "period": "quarter",
        "quota": {"amount": target * k},
        "target_incentive": target,
        "components": [{"id": "ti", "type": "target_incentive", "curve": curve}],
    }
    exact = Fraction(sales_cents, 100) / k
    assert exact == n + Fraction(5, 1000)
    assert _q1_target_incentive(doc, parts) == D(n) + D("0.01")
