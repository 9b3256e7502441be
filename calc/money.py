"""The one rounding policy: money to cents and attainment to four places, ROUND_HALF_UP."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

CENT = Decimal("0.01")
BASIS_POINT = Decimal("0.0001")
ZERO = Decimal(0)
HUNDRED = Decimal(100)


def cents(value: Decimal) -> Decimal:
    """Round money to cents, half up (away from zero on .5)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fraction4(value: Decimal) -> Decimal:
    """Round an attainment fraction to four decimals, half up."""
    return value.quantize(BASIS_POINT, rounding=ROUND_HALF_UP)


def money_str(value: Decimal) -> str:
    """Money as the contract's two-decimal string (never `-0.00`)."""
    text = str(cents(value))
    return "0.00" if text == "-0.00" else text


def rate_str(value: Decimal) -> str:
    """A rate without exponent or trailing zeros beyond two decimals, e.g. `0.08`, `0.125`."""
    text = format(value.normalize(), "f")
    if "." not in text:
        return text + ".00"
    head, tail = text.split(".")
    return f"{head}.{tail.ljust(2, '0')}"


@lru_cache(maxsize=4096)
def pct_str(value: Decimal) -> str:
    """A fraction as a percent for explanations: 0.5 -> `50%`, 1.25 -> `125%`."""
    text = format((value * HUNDRED).normalize(), "f")
    return f"{text}%"


def allocate(total: Decimal, parts: Sequence[Decimal]) -> list[Decimal]:
    """Round parts to cents so they add up exactly to `total` rounded to cents.

    The remainder rule: every part is rounded half up on its own; the difference between
    the rounded total and the sum of rounded parts goes to the part with the largest
    absolute exact value (the first one on ties). No cent is created or lost.
    """
    if not parts:
        return []
    rounded = [p.quantize(CENT, rounding=ROUND_HALF_UP) for p in parts]
    gap = total.quantize(CENT, rounding=ROUND_HALF_UP) - sum(rounded, ZERO)
    if gap:
        largest = max(range(len(parts)), key=lambda i: (abs(parts[i]), -i))
        rounded[largest] += gap
    return rounded
