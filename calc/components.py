"""Component evaluation for one rep and period: raw lines with exact amounts, then rounding.

Order inside a component: tiers or rate -> gate -> multipliers -> caps (calc.caps: per deal,
per period, annual) -> rounding with the remainder rule (calc.money.allocate), so lines
always add up to the component.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from operator import itemgetter, methodcaller

from calc.crediting import Credit
from calc.errors import PlanError
from calc.money import (
    CENT,
    ZERO,
    Exact,
    as_decimal,
    exact_div,
    exact_mul,
    exact_sum,
    fraction4,
    money_str,
    pct_str,
    round_cents,
)
from calc.plan import Bonus, Commission, Spiff, TargetIncentive, Tiers
from calc.results import Line, new_line
from calc.tiers import pieces, tier_index

AnyComponent = Commission | TargetIncentive | Bonus | Spiff
ZERO_CENTS = Decimal("0.00")
_DECIMALS = frozenset({Decimal})
_RATE = itemgetter(3)
_CENTS = methodcaller("quantize", CENT, ROUND_HALF_UP)
_tuple = tuple.__new__


# A line before rounding: (deal_id, credit_type, base, rate, exact amount, explain). A plain
# tuple, not a class: a full run builds more than a million of them. Rate and amount are a
# Fraction when a quotient (target / quota) has no finite decimal form (calc.money).
Raw = tuple[str | None, str | None, Decimal, Exact, Exact, str]


@dataclass(frozen=True, slots=True)
class PeriodFacts:
    """What components need to know about the period beyond its credits."""

    plan_id: str
    rep_id: str
    quota: Decimal
    full_quota: Exact
    proration: Exact
    attainment: Decimal
    target_incentive: Exact | None  # prorated, rep's figure first, then the plan's
    full_target: Decimal | None  # the same before proration (base rate = full_target / full_quota)


@dataclass(frozen=True, slots=True)
class Table:
    """A tier table resolved to money edges and rates, with labels for explanations."""

    edges: list[Decimal]
    rates: list[Exact]
    labels: list[str]

    @property
    def mul(self) -> Callable[[Decimal, Exact], Exact]:
        """How an amount is multiplied by a rate of this table (plain when all are decimal)."""
        if all(isinstance(r, Decimal) for r in self.rates):
            return _decimal_mul
        return exact_mul


def _decimal_mul(a: Decimal, b: Exact) -> Exact:
    return a * b  # type: ignore[operator]


@lru_cache(maxsize=1024)
def _labels(starts: tuple[Decimal, ...], *, attainment: bool, unit: str) -> list[str]:
    fmt = pct_str if attainment else money_str
    suffix = " of quota" if attainment else ""
    out = []
    for i, start in enumerate(starts):
        span = f"{fmt(start)}+" if i + 1 == len(starts) else f"{fmt(start)}-{fmt(starts[i + 1])}"
        out.append(f"{unit} {span}{suffix}")
    return out


@lru_cache(maxsize=1024)
def _rate_labels(
    starts: tuple[Decimal, ...], rates: tuple[Exact, ...], *, attainment: bool
) -> list[str]:
    spans = _labels(starts, attainment=attainment, unit="tier")
    return [f"{lab} at {pct_str(_shown(r))}" for lab, r in zip(spans, rates, strict=True)]


def _shown(rate: Exact) -> Decimal:
    """A rate as shown in explanations (ten places at most)."""
    if isinstance(rate, Decimal):
        return rate
    return as_decimal(rate).quantize(Decimal("1E-10")).normalize()


def _tier_table(comp: Commission, tiers: Tiers, facts: PeriodFacts) -> Table | None:
    starts = tuple(t.start for t in tiers.table)
    rates: list[Exact] = []
    for tier in tiers.table:
        if tier.rate is not None:
            rates.append(tier.rate)
            continue
        if not facts.full_target or facts.full_quota <= 0:
            raise PlanError(
                "",
                f"base_rate_multiple needs a target incentive and a quota for rep {facts.rep_id}",
            )
        assert tier.base_rate_multiple is not None
        rates.append(exact_div(tier.base_rate_multiple * facts.full_target, facts.full_quota))
    attainment = tiers.basis == "attainment"
    if attainment and facts.quota <= 0:
        return None
    edges = [s * facts.quota for s in starts] if attainment else list(starts)
    labels = _rate_labels(starts, tuple(rates), attainment=attainment)
    return Table(edges, rates, labels)


def _tiered(credits: Sequence[Credit], table: Table, *, mode: str, scope: str) -> list[Raw]:
    out: list[Raw] = []
    mul = table.mul
    if mode == "retroactive":
        total = sum((c.amount for c in credits), ZERO)
        for c in credits:
            i = tier_index(total if scope == "period" else c.amount, table.edges)
            note = (
                "retroactive on the period's credit"
                if scope == "period"
                else "per deal, retroactive"
            )
            rate = table.rates[i]
            out.append(
                (
                    c.deal_id,
                    c.credit_type,
                    c.amount,
                    rate,
                    mul(c.amount, rate),
                    f"{table.labels[i]} ({note})",
                )
            )
        return out
    if scope == "deal":
        for c in credits:
            for i, piece in pieces(ZERO, c.amount, table.edges):
                rate = table.rates[i]
                out.append(
                    (
                        c.deal_id,
                        c.credit_type,
                        piece,
                        rate,
                        mul(piece, rate),
                        f"{table.labels[i]} (per deal)",
                    )
                )
        return out
    return _marginal(credits, table)


def _marginal(credits: Sequence[Credit], table: Table) -> list[Raw]:
    """Marginal tiers on the period's running total (the hot loop of a full run)."""
    out: list[Raw] = []
    append = out.append
    edges, rates, labels = table.edges, table.rates, table.labels
    mul = table.mul
    plain = mul is _decimal_mul  # every rate a Decimal: multiply inline
    last = len(edges) - 1
    tier = 0  # tier holding the running total while it only grows
    upper = edges[1] if last else None  # that tier's upper edge (None: the last tier)
    pos = ZERO
    for c in credits:
        amount = c.amount
        if not amount:
            continue
        hi = pos + amount
        if amount > 0:
            while upper is not None and upper <= pos:
                tier += 1
                upper = edges[tier + 1] if tier < last else None
            if upper is None or hi <= upper:
                rate = rates[tier]
                paid = amount * rate if plain else mul(amount, rate)  # type: ignore[operator]
                append((c.deal_id, c.credit_type, amount, rate, paid, labels[tier]))
                pos = hi
                continue
            # Crossing edges upward: what `pieces` gives, tier by tier from the one holding
            # the running total (the tiers below it hold nothing of this move).
            lo = pos
            while True:
                top = hi if upper is None or hi < upper else upper
                if top > lo:
                    rate, piece = rates[tier], top - lo
                    append((c.deal_id, c.credit_type, piece, rate, mul(piece, rate), labels[tier]))
                if upper is None or hi <= upper:
                    break
                lo = upper
                tier += 1
                upper = edges[tier + 1] if tier < last else None
            pos = hi
            continue
        for i, piece in pieces(pos, hi, edges):
            rate = rates[i]
            append((c.deal_id, c.credit_type, piece, rate, mul(piece, rate), labels[i]))
        pos = hi
        if amount < 0:
            tier = 0
            upper = edges[1] if last else None
    return out


def commission_raw(
    comp: Commission,
    credits: Sequence[Credit],
    facts: PeriodFacts,
    *,
    tables: dict[tuple[object, ...], Table | None] | None = None,
) -> list[Raw]:
    """Commission lines before gate, multipliers and cap (`tables`: a memo for tier tables)."""
    if comp.rate is not None:
        rate = comp.rate
        return [
            (c.deal_id, c.credit_type, c.amount, rate, c.amount * rate, f"flat {pct_str(rate)}")
            for c in credits
        ]
    assert comp.tiers is not None
    if tables is None:
        table = _tier_table(comp, comp.tiers, facts)
    else:
        # The table depends only on these figures (a rep's periods mostly share them); keyed
        # by their text so that equal figures written differently (1E+5) never share one.
        key = (comp.id, str(facts.quota), str(facts.full_quota), str(facts.full_target))
        if key in tables:
            table = tables[key]
        else:
            table = tables[key] = _tier_table(comp, comp.tiers, facts)
    if table is None:
        return [
            (None, None, ZERO, ZERO, ZERO, "no quota this period: attainment tiers pay nothing")
        ]
    return _tiered(credits, table, mode=comp.tiers.mode, scope=comp.tiers.scope)


def target_incentive_raw(
    comp: TargetIncentive, credits: Sequence[Credit], facts: PeriodFacts
) -> list[Raw]:
    """Target incentive x curve, attributed to deals as each moves attainment along the curve."""
    target = facts.target_incentive
    if target is None:
        raise PlanError("", f"no target incentive for rep {facts.rep_id}")
    if facts.quota <= 0:
        return [(None, None, ZERO, ZERO, ZERO, "no quota this period: the curve pays nothing")]
    starts = tuple(b.start for b in comp.curve.table)
    rates = [exact_div(exact_mul(b.multiplier, target), facts.quota) for b in comp.curve.table]
    labels = [
        f"{lab} at {b.multiplier.normalize():f}x target {money_str(round_cents(target))}"
        for lab, b in zip(
            _labels(starts, attainment=True, unit="curve"), comp.curve.table, strict=True
        )
    ]
    table = Table([s * facts.quota for s in starts], rates, labels)
    return _tiered(credits, table, mode=comp.curve.mode, scope="period")


def bonus_raw(comp: Bonus, facts: PeriodFacts) -> list[Raw]:
    """The bonus line when period attainment reaches the threshold."""
    if facts.attainment < comp.min_attainment:
        return []
    reached = pct_str(fraction4(facts.attainment))
    why = f"{comp.label}: attainment {reached} reached {pct_str(comp.min_attainment)}"
    return [(None, None, comp.amount, Decimal(1), comp.amount, why)]


def spiff_raw(
    comp: Spiff, credits: Sequence[Credit], paid: dict[tuple[str, str], int]
) -> list[Raw]:
    """SPIFF lines for this period's qualifying credits that are within `max_payouts`."""
    out: list[Raw] = []
    for c in credits:
        ordinal = paid.get((c.deal_id, c.credit_type))
        if ordinal is None:
            continue
        count = f"{ordinal} of {comp.max_payouts}" if comp.max_payouts else f"deal {ordinal}"
        why = f"SPIFF {comp.label}, {count}"
        share = c.percent / 100
        pay = comp.payout
        if pay.per_deal is not None:
            out.append(
                (
                    c.deal_id,
                    c.credit_type,
                    share,
                    pay.per_deal,
                    share * pay.per_deal,
                    f"{why}, per deal",
                )
            )
        elif pay.per_unit is not None:
            units = _units(c, pay.unit_field) * share
            out.append(
                (
                    c.deal_id,
                    c.credit_type,
                    units,
                    pay.per_unit,
                    units * pay.per_unit,
                    f"{why}, per unit",
                )
            )
        else:
            assert pay.rate is not None
            out.append(
                (
                    c.deal_id,
                    c.credit_type,
                    c.amount,
                    pay.rate,
                    c.amount * pay.rate,
                    f"{why}, {pct_str(pay.rate)}",
                )
            )
    return out


def _units(credit: Credit, field: str) -> Decimal:
    from calc.criteria import numeric_value

    return numeric_value(credit.deal, field) or ZERO


def adjust(comp: AnyComponent, raw: list[Raw], attainment: Decimal) -> list[Raw]:
    """Apply the gate and the multipliers to a component's raw lines (caps: calc.caps)."""
    if comp.gate is not None and attainment < comp.gate.min_attainment:
        below = pct_str(fraction4(attainment))
        note = f"gate: attainment {below} below {pct_str(comp.gate.min_attainment)}"
        return [(None, None, ZERO, ZERO, ZERO, note)]
    for mult in comp.multipliers:
        if mult.below_attainment is not None and attainment < mult.below_attainment:
            note = f"x{mult.factor.normalize():f} below {pct_str(mult.below_attainment)} attainment"
        elif mult.min_attainment is not None and attainment >= mult.min_attainment:
            note = f"x{mult.factor.normalize():f} at {pct_str(mult.min_attainment)}+ attainment"
        else:
            continue
        raw = _multiplied(raw, mult.factor, note)
    return raw


def _multiplied(raw: list[Raw], factor: Decimal, note: str) -> list[Raw]:
    """Every line's rate and amount times the factor, the note added to its explanation."""
    out: list[Raw] = []
    explained: dict[str, str] = {}  # most lines share their tier's explanation
    for deal_id, ctype, base, rate, amount, why in raw:
        text = explained.get(why)
        if text is None:
            text = explained[why] = f"{why}; {note}"
        if type(rate) is Decimal and type(amount) is Decimal:
            out.append((deal_id, ctype, base, rate * factor, amount * factor, text))
        else:
            out.append(
                (deal_id, ctype, base, exact_mul(rate, factor), exact_mul(amount, factor), text)
            )
    return out


def finish(
    component_id: str, raw: list[Raw], before: list[Exact] | None = None
) -> tuple[Decimal, list[Line]]:
    """Round a component: its total half up, lines by the remainder rule so they add up.

    `before`: the lines' exact amounts before caps (calc.caps); each line then carries what
    the caps took off it, rounded by the same rule so the capped amounts add up too.
    """
    if not raw:
        return ZERO_CENTS, []
    if before is not None:
        return _finish_capped(component_id, raw, before)
    if len(raw) == 1:  # a bonus, a gate, a single deal: nothing to share out
        d, t, b, r, a, why = raw[0]
        if type(a) is Decimal and type(r) is Decimal:
            total = (ZERO + a).quantize(CENT, ROUND_HALF_UP)  # as the sum below gives it
            one = (component_id, d, t, b, r, a.quantize(CENT, ROUND_HALF_UP), why, ZERO)
            return total, [_tuple(Line, (*one, None, None, None, None, None))]
    amounts: list[Decimal] = [r[4] for r in raw]  # type: ignore[misc]
    if not _DECIMALS.issuperset(map(type, amounts)) or not _DECIMALS.issuperset(
        map(type, map(_RATE, raw))
    ):
        return _finish_exact(component_id, raw)
    # calc.money.allocate inlined (the hot loop of a full run): every line rounded half up,
    # the gap to the rounded total on the largest exact amount, the first one on ties.
    rounded = list(map(_CENTS, amounts))
    total = sum(amounts, ZERO).quantize(CENT, ROUND_HALF_UP)
    gap = total - sum(rounded, ZERO)
    if gap:
        largest, size = 0, abs(amounts[0])
        for i in range(1, len(raw)):
            here = abs(amounts[i])
            if here > size:
                largest, size = i, here
        rounded[largest] += gap
    # new_line inlined: one tuple per line.
    line, zero = _tuple, ZERO
    lines = [
        line(Line, (component_id, d, t, b, r, a, why, zero, None, None, None, None, None))
        for (d, t, b, r, _, why), a in zip(raw, rounded, strict=True)
    ]
    return total, lines


def _round_lines(amounts: list[Exact], total: Decimal | None = None) -> list[Decimal]:
    """The remainder rule in exact arithmetic: lines adding up to `total` (default: the
    amounts' rounded sum); the gap goes to the largest exact amount, the first on ties."""
    rounded = [round_cents(a) for a in amounts]
    if total is None:
        total = round_cents(exact_sum(amounts))
    gap = total - sum(rounded, ZERO)
    if gap:
        largest = max(range(len(amounts)), key=lambda i: (abs(amounts[i]), -i))
        rounded[largest] += gap
    return rounded


def _finish_capped(
    component_id: str, raw: list[Raw], before: list[Exact]
) -> tuple[Decimal, list[Line]]:
    after = [r[4] for r in raw]
    total = round_cents(exact_sum(after))
    rounded = _round_lines(after, total)
    # What was capped, line by line: lines the caps did not touch took off exactly zero.
    took = round_cents(exact_sum(before)) - total
    capped = _round_lines([exact_sum([b, -a]) for b, a in zip(before, after, strict=True)], took)
    lines = [
        new_line(component_id, r[0], r[1], r[2], as_decimal(r[3]), amount, r[5], off)
        for r, amount, off in zip(raw, rounded, capped, strict=True)
    ]
    return total, lines


def _finish_exact(component_id: str, raw: list[Raw]) -> tuple[Decimal, list[Line]]:
    """`finish` when some amount or rate is a Fraction: the same rule in exact arithmetic."""
    amounts = [r[4] for r in raw]
    rounded = [round_cents(a) for a in amounts]
    total = round_cents(exact_sum(amounts))
    gap = total - sum(rounded, ZERO)
    if gap:
        largest = max(range(len(raw)), key=lambda i: (abs(amounts[i]), -i))
        rounded[largest] += gap
    lines = [
        new_line(component_id, r[0], r[1], r[2], as_decimal(r[3]), amount, r[5])
        for r, amount in zip(raw, rounded, strict=True)
    ]
    return total, lines
