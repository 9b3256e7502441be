"""Caps: the most a component pays on one deal, in one period and in one fiscal year.

Business rules (docs/plan-ytd-and-caps.md has the worked examples):
- `cap.per_deal` (a windfall cap) is applied first: a deal whose lines in the component
  add up to more than it has those lines scaled down in proportion, so it pays exactly
  the cap. Only deal lines count; a bonus line has no deal.
- `cap.amount` then limits the period's total, scaling every line in proportion.
- `cap.annual` limits what the component pays over the fiscal year: a period pays at most
  the annual cap minus what the component paid in the earlier periods of that year. On a
  year-to-date component (calc.ytd) the cap applies to the year's due, so the true-ups stop
  at the cap.
- Every capped line carries the amount the caps took off (`capped`), so what a deal would
  have paid is always on the line: amount + capped.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import NamedTuple

from calc.money import Exact, as_decimal, exact_div, exact_mul, exact_sum, money_str
from calc.plan import Cap
from calc.results import Line

# A raw line (calc.components.Raw): (deal_id, credit_type, base, rate, exact amount, explain).
RawLine = tuple[str | None, str | None, Decimal, Exact, Exact, str]


class Capped(NamedTuple):
    """Raw lines after caps, and their amounts before any cap (None when nothing was capped).

    A named tuple, not a frozen dataclass: every component of every period makes one."""

    raw: list[RawLine]
    before: list[Exact] | None = None


def _factor(scale: Exact) -> str:
    return f"x{as_decimal(scale).quantize(Decimal('0.0001'))}"


def _scaled(line: RawLine, scale: Exact, note: str) -> RawLine:
    return (line[0], line[1], line[2], line[3], exact_mul(line[4], scale), f"{line[5]}; {note}")


def _merge(done: Capped, raw: list[RawLine], original: list[Exact]) -> Capped:
    return Capped(raw, done.before if done.before is not None else original)


def per_deal_and_period(cap: Cap | None, raw: list[RawLine]) -> Capped:
    """Apply `cap.per_deal` to each deal's lines, then `cap.amount` to the whole component."""
    done = Capped(raw)
    if cap is None:
        return done
    if cap.per_deal is not None:
        done = _per_deal(cap.per_deal, done)
    if cap.amount is not None:
        done = limit_total(done, cap.amount, f"capped at {money_str(cap.amount)}")
    return done


def _per_deal(limit: Decimal, done: Capped) -> Capped:
    totals: dict[str, list[int]] = defaultdict(list)
    for i, line in enumerate(done.raw):
        if line[0] is not None:
            totals[line[0]].append(i)
    raw = list(done.raw)
    changed = False
    for deal_id, idx in totals.items():
        total = exact_sum(raw[i][4] for i in idx)
        if total <= limit:
            continue
        scale = exact_div(limit, total)
        note = f"windfall cap: {deal_id} pays at most {money_str(limit)} ({_factor(scale)})"
        for i in idx:
            raw[i] = _scaled(raw[i], scale, note)
        changed = True
    if not changed:
        return done
    return _merge(done, raw, [r[4] for r in done.raw])


def limit_total(done: Capped, limit: Exact, why: str) -> Capped:
    """Scale every line so that the lines add up to at most `limit` (never below zero)."""
    total = exact_sum(r[4] for r in done.raw)
    if total <= limit or total <= 0:
        return done
    scale = exact_div(max(limit, Decimal(0)), total)
    note = f"{why} ({_factor(scale)})"
    raw = [_scaled(r, scale, note) for r in done.raw]
    return _merge(done, raw, [r[4] for r in done.raw])


def annual_room(cap: Cap | None, paid_this_year: Decimal) -> Decimal | None:
    """What an annual cap still lets a period component pay (None: no annual cap)."""
    if cap is None or cap.annual is None:
        return None
    return max(cap.annual - paid_this_year, Decimal(0))


def annual_note(cap: Decimal, paid_this_year: Decimal) -> str:
    """How an annual cap is explained on a period component's lines."""
    left = max(cap - paid_this_year, Decimal(0))
    return (
        f"annual cap {money_str(cap)}: {money_str(paid_this_year)} paid earlier this year, "
        f"{money_str(left)} left"
    )


def capped_total(lines: list[Line]) -> Decimal:
    """What caps took off a component's lines."""
    return sum((line.capped for line in lines), Decimal(0))
