"""The one rounding policy: money to cents and attainment to four places, ROUND_HALF_UP.

Every amount is computed exactly and rounded once. A quotient that has no finite decimal
form (target / quota = 1/30) is carried as a `Fraction`; sums and products of decimals are
exact under `exact_context()` (60 significant digits, far beyond any amount the inputs
accept, which stop below 10^26).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache

Exact = Decimal | Fraction
PRECISION = 60

CENT = Decimal("0.01")
BASIS_POINT = Decimal("0.0001")
ZERO = Decimal(0)
HUNDRED = Decimal(100)


def cents(value: Decimal) -> Decimal:
    """Round money to cents, half up (away from zero on .5)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fraction4(value: Decimal) -> Decimal:
    """Round an attainment fraction to four decimals, half up (never `-0.0000`)."""
    rounded = value.quantize(BASIS_POINT, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def exact_context() -> decimal.Context:
    """The decimal context calculations run in: products and sums of inputs stay exact."""
    return decimal.Context(prec=PRECISION, rounding=decimal.ROUND_HALF_EVEN)


def exact_div(numerator: Exact, denominator: Exact) -> Exact:
    """numerator / denominator exactly: a Decimal when it has a finite form, else a Fraction."""
    if isinstance(numerator, Decimal) and isinstance(denominator, Decimal):
        context = exact_context()
        quotient = context.divide(numerator, denominator)
        if not context.flags[decimal.Inexact]:
            return quotient
    return Fraction(numerator) / Fraction(denominator)


def exact_mul(a: Exact, b: Exact) -> Exact:
    """a * b exactly (a Fraction as soon as either is one)."""
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a * b
    return Fraction(a) * Fraction(b)


def exact_sum(values: Iterable[Exact]) -> Exact:
    """The exact sum (a Fraction as soon as one value is one)."""
    total: Exact = ZERO
    for value in values:
        if isinstance(total, Decimal) and isinstance(value, Decimal):
            total += value
        else:
            total = Fraction(total) + Fraction(value)
    return total


def as_decimal(value: Exact) -> Decimal:
    """A Decimal for display (a Fraction to 60 significant digits)."""
    if isinstance(value, Decimal):
        return value
    return exact_context().divide(Decimal(value.numerator), Decimal(value.denominator))


def round_cents(value: Exact) -> Decimal:
    """Round an exact amount to cents, half up (away from zero on .5)."""
    if isinstance(value, Decimal):
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    hundredths = abs(value) * 100
    whole = int(hundredths)
    if hundredths - whole >= Fraction(1, 2):
        whole += 1
    return (Decimal(-whole if value < 0 else whole) / 100).quantize(CENT)


def money_str(value: Decimal) -> str:
    """Money as the contract's two-decimal string (never `-0.00`)."""
    text = str(cents(value))
    return "0.00" if text == "-0.00" else text


def rate_str(value: Decimal) -> str:
    """A rate without exponent or trailing zeros beyond two decimals, e.g. `0.08`, `0.125`."""
    text = format((value.copy_abs() if value.is_zero() else value).normalize(), "f")
    if "." not in text:
        return text + ".00"
    head, tail = text.split(".")
    return f"{head}.{tail.ljust(2, '0')}"


@lru_cache(maxsize=4096)
def pct_str(value: Decimal) -> str:
    """A fraction as a percent for explanations: 0.5 -> `50%`, 1.25 -> `125%`."""
    text = format((value * HUNDRED).normalize(), "f")
    return f"{text}%"


def allocate(total: Exact, parts: Sequence[Exact]) -> list[Decimal]:
    """Round parts to cents so they add up exactly to `total` rounded to cents.

    The remainder rule: every part is rounded half up on its own; the difference between
    the rounded total and the sum of rounded parts goes to the part with the largest
    absolute exact value (the first one on ties). No cent is created or lost.
    """
    if not parts:
        return []
    rounded = [round_cents(p) for p in parts]
    gap = round_cents(total) - sum(rounded, ZERO)
    if gap:
        largest = max(range(len(parts)), key=lambda i: (abs(parts[i]), -i))
        rounded[largest] += gap
    return rounded
