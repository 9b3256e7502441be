"""Currencies: deals in any ISO 4217 currency converted to the plan currency at dated rates.

Business rules (docs/plan-currencies-and-adjustments.md has the worked examples):
- Rates follow Salesforce's `DatedConversionRate`: `rate` is how many units of `currency`
  one unit of the corporate currency buys, in force from `start_date` up to the next
  `start_date` of the same currency (the last one has no end).
- If the plan currency has rates, amounts convert through the corporate currency (deal ->
  corporate -> plan, one exact quotient); if it has none, it is the corporate currency.
- A deal's money fields (`amount`, `acv`, `tcv`) convert at the rates in force on its
  `close_date`, as Salesforce's advanced currency management does for opportunities. Every
  rule then reads plan-currency amounts: eligibility and SPIFF criteria, tiers, credits.
  Other fields (quantity, term, extra columns) are not money and are left as they are.
- Credits convert exactly (integers or a `Fraction` when the quotient has no finite decimal
  form), each rounded once to cents, half up, like every credit; the converted money fields
  that criteria compare carry the quotient to 60 significant digits. A deal that cannot be
  converted (no close date, no rate in force) is unresolved with the reason.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from calc.errors import InputError
from calc.inputs import LIMIT, _rows
from calc.model import Deal
from calc.money import Exact, as_decimal, exact_context, exact_div, exact_mul, round_cents
from calc.results import Line, fx_line

RATE_COLUMNS = ("currency", "start_date", "rate")
MONEY_FIELDS = ("amount", "acv", "tcv")
FX_PLACES = Decimal("0.0000000001")


@dataclass(frozen=True, slots=True)
class DatedRate:
    """One row of dated rates: units of `currency` per one corporate unit from `start`."""

    currency: str
    start: date
    rate: Decimal


@dataclass(frozen=True, slots=True)
class Conversion:
    """How one deal was converted: its currency, the rate used and when that rate started."""

    currency: str
    rate: Exact  # units of the deal's currency per one unit of the plan currency
    start: date  # start of the deal currency's rate range used
    plan_currency: str

    def to_plan(self, amount: Decimal) -> Decimal:
        """An amount of the deal's currency in the plan currency (exact to 60 digits)."""
        if isinstance(self.rate, Decimal):
            return exact_context().divide(amount, self.rate)  # as_decimal of the quotient
        return as_decimal(exact_div(amount, self.rate))

    @property
    def rate_value(self) -> Decimal:
        """The rate as a Decimal (60 significant digits when it has no finite form)."""
        return as_decimal(self.rate)

    def from_plan(self, amount: Decimal) -> Decimal:
        """A plan-currency amount in the deal's currency, rounded to cents half up."""
        return round_cents(exact_mul(amount, self.rate))

    def credit(self, amount: Decimal) -> Decimal:
        """A whole deal-currency amount in the plan currency, rounded once to cents half up."""
        if isinstance(self.rate, Decimal):
            return quotient_cents(amount, self.rate)
        return round_cents(exact_div(amount, self.rate))

    def share(self, amount: Decimal, percent: Decimal) -> Exact:
        """`percent` of a deal-currency amount in the plan currency, exactly."""
        return exact_div(exact_mul(amount, percent / 100), self.rate)

    def rate_text(self) -> str:
        """The rate for display: exact when it has a short decimal form, else 10 places."""
        shown = as_decimal(self.rate)
        if shown.as_tuple().exponent < -10:  # type: ignore[operator]
            shown = shown.quantize(FX_PLACES)
        return format(shown.normalize(), "f")


def quotient_cents(numerator: Decimal, denominator: Decimal) -> Decimal:
    """numerator / denominator rounded half up (away from zero) to cents, in exact integers."""
    a, b = numerator.as_integer_ratio()
    c, d = denominator.as_integer_ratio()
    top, bottom = a * d * 100, b * c
    whole, rest = divmod(abs(top), abs(bottom))
    if 2 * rest >= abs(bottom):
        whole += 1
    return Decimal(-whole if (top < 0) != (bottom < 0) else whole).scaleb(-2)


class Rates:
    """Dated conversion rates by currency; `rate(currency, day)` is the one in force."""

    def __init__(self, rows: Iterable[DatedRate]) -> None:
        ranges: dict[str, list[DatedRate]] = defaultdict(list)
        for row in rows:
            ranges[row.currency].append(row)
        self._starts: dict[str, list[date]] = {}
        self._rows: dict[str, list[DatedRate]] = {}
        for code, found in ranges.items():
            found.sort(key=lambda r: r.start)
            self._rows[code] = found
            self._starts[code] = [r.start for r in found]
        # Deals closed on one day in one currency share their conversion.
        self._memo: dict[tuple[str, str, date], Conversion | str] = {}

    def rows(self) -> list[DatedRate]:
        """Every rate row, by currency then start."""
        return [row for code in sorted(self._rows) for row in self._rows[code]]

    @property
    def currencies(self) -> frozenset[str]:
        """Every currency with at least one rate."""
        return frozenset(self._rows)

    def in_force(self, currency: str, day: date) -> DatedRate | None:
        """The rate row of `currency` in force on `day`, if any."""
        starts = self._starts.get(currency)
        if starts is None:
            return None
        i = bisect_right(starts, day)
        return self._rows[currency][i - 1] if i else None

    def conversion(self, currency: str, plan_currency: str, day: date) -> Conversion | str:
        """How to convert `currency` to the plan currency on `day`, or why it cannot be."""
        key = (currency, plan_currency, day)
        done = self._memo.get(key)
        if done is None:
            done = self._memo[key] = self._conversion(currency, plan_currency, day)
        return done

    def _conversion(self, currency: str, plan_currency: str, day: date) -> Conversion | str:
        found = self.in_force(currency, day)
        if found is None:
            return _missing(currency, day, self._starts.get(currency))
        rate: Exact = found.rate
        if plan_currency in self._rows:
            plan = self.in_force(plan_currency, day)
            if plan is None:
                return _missing(plan_currency, day, self._starts.get(plan_currency))
            rate = exact_div(found.rate, plan.rate)
        return Conversion(currency, rate, found.start, plan_currency)


def _missing(currency: str, day: date, starts: list[date] | None) -> str:
    if not starts:
        return f"no exchange rate for {currency} (the rates have none)"
    return f"no {currency} exchange rate on {day.isoformat()} (its first starts {starts[0]})"


def parse_rates(text: str, *, source: str = "rates.csv") -> Rates:
    """Dated rates from CSV text (`currency, start_date, rate`); errors name row and column."""
    rows: list[DatedRate] = []
    seen: set[tuple[str, date]] = set()
    for c in _rows(text, source, RATE_COLUMNS):
        c.required("currency")
        code = c.currency("currency") or ""
        start = c.day("start_date")
        if start is None:
            raise c.fail("start_date", "a value is required")
        rate = c.number("rate")
        if rate is None:
            raise c.fail("rate", "a value is required")
        if rate <= 0:
            raise c.fail("rate", f"must be above zero, not {c.text('rate')}")
        if rate < 1 / LIMIT:
            raise c.fail("rate", f"{c.text('rate')!r} is too small (at least 10^-26)")
        if (code, start) in seen:
            raise c.fail("start_date", f"a second {code} rate starting {start.isoformat()}")
        seen.add((code, start))
        rows.append(DatedRate(code, start, rate))
    if not rows:
        raise InputError(source, 1, None, "no rates (expected one row per currency and start)")
    return Rates(rows)


def convert_deal(
    deal: Deal, rates: Rates | None, plan_currency: str
) -> tuple[Deal, Conversion | None] | str:
    """The deal with its money fields in the plan currency and how, or why it cannot be.

    A deal without a currency, or already in the plan currency, comes back unchanged. The
    converted deal names the plan currency; its money fields are the exact quotients to 60
    significant digits (what criteria compare); credits are computed from the original
    amounts exactly (`Conversion.share`).
    """
    if deal.currency is None or deal.currency == plan_currency:
        return deal, None
    if rates is None:
        return f"deal currency {deal.currency} is not the plan currency {plan_currency}"
    if deal.close_date is None:
        return f"no close_date to find the {deal.currency} exchange rate"
    found = rates.conversion(deal.currency, plan_currency, deal.close_date)
    if isinstance(found, str):
        return found
    amount, acv, tcv = (None if v is None else found.to_plan(v) for v in _money(deal))
    return replace(deal, currency=plan_currency, amount=amount, acv=acv, tcv=tcv), found


def _money(deal: Deal) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """The deal's money fields, in MONEY_FIELDS order."""
    return deal.amount, deal.acv, deal.tcv


def annotate(lines: Iterable[Line], conversions: Mapping[str, Conversion]) -> list[Line]:
    """Lines of converted deals with the currency and rate used, shown in the explanation."""
    out: list[Line] = []
    notes: dict[int, str] = {}  # by conversion: deals converted alike share their text
    for line in lines:
        fx = conversions.get(line.deal_id) if line.deal_id is not None else None
        if fx is None:
            out.append(line)
            continue
        note = notes.get(id(fx))
        if note is None:
            note = notes[id(fx)] = (
                f"{fx.currency} converted at {fx.rate_text()} {fx.currency} per "
                f"{fx.plan_currency} (rate from {fx.start.isoformat()})"
            )
        out.append(
            fx_line(line, f"{line.explain}; {note}", currency=fx.currency, rate=fx.rate_value)
        )
    return out
