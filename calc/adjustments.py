"""Manual adjustments: an amount paid to (or taken back from) a rep in one pay period.

Business rules (docs/plan-currencies-and-adjustments.md has the worked examples):
- An adjustment is paid as its own line in the period it names (`2026-03`, `2026-Q1`,
  `2026`, the rep's plan period kind), under its `component` (a component of the rep's plan,
  or `adjustment`, the default). The component total, gross and net include it.
- It is money in the plan currency, to the cent, already decided by a person: it takes no
  part in credit, attainment, tiers, gates, multipliers or caps.
- A positive adjustment is earnings of the period it is paid in: it counts toward a draw's
  guarantee and can recover a balance. A negative one takes money back like a clawback: the
  draw's guarantee never pays it back, and what the period cannot absorb is carried as a
  negative balance (`negative_balance: carry`) or forgiven.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from calc.inputs import _rows
from calc.model import Rep
from calc.money import ZERO
from calc.periods import Period, PeriodKind, add_months, period_of
from calc.plan import Plan, PlanDoc
from calc.results import Line, new_line

ONE = Decimal(1)
ADJUSTMENT = "adjustment"  # the component of an adjustment that names none
ADJUSTMENT_COLUMNS = ("rep_id", "period", "amount", "reason")
# What the calc CSV and the store accept (the store keeps the same limits).
REASON_LIMIT = 500
REFERENCE_LIMIT = 120
COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_PERIOD = {
    "month": re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"),
    "quarter": re.compile(r"^\d{4}-Q[1-4]$"),
    "year": re.compile(r"^\d{4}$"),
}
Problem = tuple[str, str] | None  # (field, reason) of an adjustment that cannot be paid
# Components the engine adds itself: an adjustment filed under one would hide in them.
RESERVED = frozenset({"clawback"})


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One adjustment: `amount` (plan currency, cents; negative takes back) for a rep's period."""

    rep_id: str
    period: str  # contract period name: 2026-03, 2026-Q1 or 2026
    amount: Decimal
    component: str = ADJUSTMENT
    reason: str = ""
    reference: str | None = None
    source: str = "file"  # where it came from: file, dispute, ...
    entered_by: str | None = None


Check = Callable[[Adjustment], Problem]


def period_kind(name: str) -> PeriodKind | None:
    """The kind of period a contract period name denotes, or None if it is not one."""
    for kind, pattern in _PERIOD.items():
        if pattern.match(name):
            return kind  # type: ignore[return-value]
    return None


def problem(adj: Adjustment) -> tuple[str, str] | None:
    """(field, reason) if an adjustment cannot be paid whatever the plan says, else None."""
    if not adj.rep_id.strip():
        return "rep_id", "a value is required"
    if period_kind(adj.period) is None:
        return "period", f"not a pay period name (2026-03, 2026-Q1 or 2026): {adj.period!r}"
    if adj.amount.as_tuple().exponent < -2:  # type: ignore[operator]
        return "amount", f"more than two decimals: {adj.amount}"
    if adj.amount == ZERO:
        return "amount", "an adjustment of zero pays nothing"
    if not COMPONENT.match(adj.component) or adj.component in RESERVED:
        return "component", f"not a component name: {adj.component[:80]!r}"
    if not adj.reason.strip():
        return "reason", "say why (the rep and the auditor read it)"
    if len(adj.reason) > REASON_LIMIT:
        return "reason", f"longer than {REASON_LIMIT} characters"
    if adj.reference is not None and len(adj.reference) > REFERENCE_LIMIT:
        return "reference", f"longer than {REFERENCE_LIMIT} characters"
    return None


def parse_adjustments(
    text: str, *, source: str = "adjustments.csv", check: Check | None = None
) -> list[Adjustment]:
    """Adjustments from CSV text (`rep_id, period, amount, component, reason, reference`).

    `check` finds what the reps and plans cannot pay (see `book_check`).
    """
    out: list[Adjustment] = []
    references: set[str] = set()
    for c in _rows(text, source, ADJUSTMENT_COLUMNS):
        amount = c.number("amount")
        if amount is None:
            raise c.fail("amount", "a value is required")
        adj = Adjustment(
            rep_id=c.required("rep_id"),
            period=c.required("period"),
            amount=amount,
            component=c.text("component") or ADJUSTMENT,
            reason=c.required("reason"),
            reference=c.text("reference"),
        )
        found = problem(adj) or (check(adj) if check is not None else None)
        if found is not None:
            raise c.fail(*found)
        if adj.reference is not None:
            if adj.reference in references:
                raise c.fail("reference", f"{adj.reference!r} twice: it would be paid twice")
            references.add(adj.reference)
        out.append(adj)
    return out


def book_check(reps: Mapping[str, Rep], doc: PlanDoc) -> Check:
    """A `check` for `parse_adjustments`: the rep exists, and their plan can pay it."""

    def check(adj: Adjustment) -> tuple[str, str] | None:
        rep = reps.get(adj.rep_id)
        plan = doc.plan(rep.plan_id) if rep is not None and rep.plan_id else None
        return book_problem(adj, rep, plan)

    return check


def by_rep(adjs: Iterable[Adjustment]) -> dict[str, dict[str, list[Adjustment]]]:
    """Adjustments by rep id, then period name, in the order given."""
    out: dict[str, dict[str, list[Adjustment]]] = defaultdict(lambda: defaultdict(list))
    for adj in adjs:
        out[adj.rep_id][adj.period].append(adj)
    return {rep: dict(periods) for rep, periods in out.items()}


def explain(adj: Adjustment) -> str:
    """The line's explanation: why, which reference, who entered it."""
    text = f"adjustment: {adj.reason}"
    if adj.reference:
        text += f" (ref {adj.reference})"
    if adj.source != "file" or adj.entered_by:
        who = f" by {adj.entered_by}" if adj.entered_by else ""
        text += f"; from {adj.source}{who}"
    return text


def period_named(name: str, fy_start_month: int) -> Period:
    """The pay period a contract name denotes, for a plan whose fiscal year starts in a month."""
    kind = period_kind(name)
    if kind is None:
        raise ValueError(f"not a pay period name: {name!r}")
    year = int(name[:4])
    if kind == "month":
        return period_of(date(year, int(name[5:7]), 1), "month", fy_start_month)
    fy = date(year, fy_start_month, 1)
    if kind == "quarter":
        return period_of(add_months(fy, 3 * (int(name[-1]) - 1)), "quarter", fy_start_month)
    return period_of(fy, "year", fy_start_month)


def book_problem(adj: Adjustment, rep: Rep | None, plan: Plan | None) -> tuple[str, str] | None:
    """(field, reason) if this rep and plan cannot pay the adjustment, else None."""
    if rep is None:
        return "rep_id", f"unknown rep {adj.rep_id!r}"
    if plan is None:
        return "rep_id", f"rep {adj.rep_id!r} has no plan to pay it under"
    if period_kind(adj.period) != plan.period:
        return "period", f"{adj.period!r} is not a {plan.period} period of plan {plan.id}"
    components = [c.id for c in plan.components]
    if adj.component != ADJUSTMENT and adj.component not in components:
        known = ", ".join([ADJUSTMENT, *components])
        return "component", f"{adj.component!r} is not one of {known} (plan {plan.id})"
    period = period_named(adj.period, plan.fiscal_year_start_month)
    if (rep.hire_date is not None and rep.hire_date > period.end) or (
        rep.end_date is not None and rep.end_date < period.start
    ):
        return "period", f"rep {adj.rep_id} is not employed in {adj.period}"
    return None


def paid_lines(
    components: Sequence[tuple[str, Decimal]], adjs: Sequence[Adjustment]
) -> tuple[list[tuple[str, Decimal]], list[Line], Decimal]:
    """A period's components with its adjustments added, their lines, and their negative sum.

    What negative adjustments take back stays outside the draw guarantee, like a clawback
    (calc.balance).
    """
    extra: dict[str, Decimal] = defaultdict(lambda: ZERO)
    lines: list[Line] = []
    for adj in adjs:
        extra[adj.component] += adj.amount
        lines.append(new_line(adj.component, None, None, adj.amount, ONE, adj.amount, explain(adj)))
    out = [(name, amount + extra.pop(name, ZERO)) for name, amount in components]
    taken = sum((a.amount for a in adjs if a.amount < ZERO), ZERO)
    return out + sorted(extra.items()), lines, taken
