"""Crediting: who gets credit for a deal, as what, and how much.

Rules (each person receives a credit type at most once per deal):
- `revenue` splits of a deal must total 100 and replace the owner's credit (type `split`);
  otherwise the owner gets 100% (type `owner`).
- `overlay` splits add credit on top (type `overlay`); several rows for one rep add up.
- team members whose role is in `crediting.team_roles` get that overlay percent (type
  `team`), unless the same rep already holds an overlay split on the deal.
- with `crediting.rollup`, managers up the ManagerId chain of every owner/split holder get
  `rollup` credit for their reports' share (summed when two reports share the deal). A cycle
  in the chain stops the walk and is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import NamedTuple

from calc.assignments import manager_on
from calc.model import Deal, Rep, Split, TeamMember
from calc.money import HUNDRED, ZERO
from calc.periods import Period
from calc.plan import Crediting

Share = tuple[str, str, Decimal]  # rep_id, credit_type, percent


class Credit(NamedTuple):
    """A rep's credit from one deal, in the rep's plan measure, dated and placed in a period.

    An immutable record like the rest of calc's vocabulary, but a named tuple: a full run
    builds a million of them, and a tuple is built in one step.
    """

    deal: Deal
    deal_id: str
    rep_id: str
    credit_type: str
    percent: Decimal
    amount: Decimal
    credit_date: date
    period: Period

    def sort_key(self) -> tuple[date, str, str]:
        """Credit-date order, then deal id, then credit type: the running-total order."""
        return (self.credit_date, self.deal_id, self.credit_type)


# The same order as Credit.sort_key, computed in C (a full run sorts a million credits).
CREDIT_ORDER = attrgetter("credit_date", "deal_id", "credit_type")

_tuple = tuple.__new__


def new_credit(
    deal: Deal,
    deal_id: str,
    rep_id: str,
    credit_type: str,
    percent: Decimal,
    amount: Decimal,
    credit_date: date,
    period: Period,
) -> Credit:
    """`Credit(...)` in one step (a full run builds a million credits)."""
    return _tuple(
        Credit, (deal, deal_id, rep_id, credit_type, percent, amount, credit_date, period)
    )


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A deal that could not be (fully) credited, with the reason."""

    deal_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Chain:
    """A rep's managers, nearest first; `cycle_at` names the rep where the chain loops."""

    managers: tuple[str, ...]
    cycle_at: str | None


def manager_chain(rep_id: str, reps: Mapping[str, Rep], *, on: date | None = None) -> Chain:
    """Walk ManagerId upward; stop at an unknown manager or where the chain loops.

    With `on`, each step takes the manager in force on that date (effective-dated reps).
    """
    seen = {rep_id}
    out: list[str] = []

    def manager_of(person: str) -> str | None:
        if on is None:
            found = reps.get(person)
            return found.manager_id if found else None
        return manager_on(reps, person, on)

    manager = manager_of(rep_id)
    while manager is not None and manager in reps:
        if manager in seen:
            return Chain(tuple(out), manager)
        out.append(manager)
        seen.add(manager)
        manager = manager_of(manager)
    return Chain(tuple(out), None)


def _primary(deal: Deal, splits: Iterable[Split], reps: Mapping[str, Rep]) -> list[Share] | str:
    revenue: dict[str, Decimal] = {}
    for split in splits:
        if not ZERO <= split.percent <= HUNDRED:
            # A share of a deal: 150% and -50% add up to 100% but pay nobody right.
            pct = f"{split.percent.normalize():f}%"
            return f"{split.split_type} split of {split.rep_id} is {pct}, outside 0%..100%"
        if split.split_type == "revenue":
            revenue[split.rep_id] = revenue.get(split.rep_id, ZERO) + split.percent
    if revenue:
        total = sum(revenue.values(), ZERO)
        if total != HUNDRED:
            return f"revenue splits total {total.normalize():f}%, not 100%"
        unknown = sorted(r for r in revenue if r not in reps)
        if unknown:
            return f"split rep {unknown[0]} is not a known rep"
        return [(rep_id, "split", pct) for rep_id, pct in sorted(revenue.items())]
    if deal.owner_id is None:
        return "the deal has no owner"
    if deal.owner_id not in reps:
        return f"owner {deal.owner_id} is not a known rep"
    return [(deal.owner_id, "owner", HUNDRED)]


def _overlays(
    splits: Iterable[Split],
    team: Iterable[TeamMember],
    roles: Mapping[str, Decimal],
    reps: Mapping[str, Rep],
) -> list[Share] | str:
    overlay: dict[str, Decimal] = {}
    for split in splits:
        if split.split_type == "overlay":
            overlay[split.rep_id] = overlay.get(split.rep_id, ZERO) + split.percent
    by_team: dict[str, Decimal] = {}
    for member in team:
        pct = roles.get(member.role)
        if pct is not None and member.rep_id not in overlay:
            by_team[member.rep_id] = max(pct, by_team.get(member.rep_id, ZERO))
    unknown = sorted(r for r in [*overlay, *by_team] if r not in reps)
    if unknown:
        return f"overlay rep {unknown[0]} is not a known rep"
    return [(r, "overlay", p) for r, p in sorted(overlay.items())] + [
        (r, "team", p) for r, p in sorted(by_team.items())
    ]


def rollup_shares(
    primary: list[Share], levels: int | None, chain_of: Callable[[str], Chain]
) -> tuple[list[Share], str | None]:
    """Rollup shares for the managers of the primary holders (levels None = all)."""
    rolled: dict[str, Decimal] = {}
    warning = None
    for rep_id, _, pct in primary:
        chain = chain_of(rep_id)
        managers = chain.managers if levels is None else chain.managers[:levels]
        for manager in managers:
            rolled[manager] = rolled.get(manager, ZERO) + pct
        if chain.cycle_at is not None and (levels is None or len(chain.managers) < levels):
            warning = f"manager chain of {rep_id} loops at {chain.cycle_at}; rollup stopped there"
    return [(m, "rollup", min(p, HUNDRED)) for m, p in sorted(rolled.items())], warning


def resolve_shares(
    deal: Deal,
    splits: Iterable[Split],
    team: Iterable[TeamMember],
    *,
    reps: Mapping[str, Rep],
    rules: Crediting,
    chain_of: Callable[[str], Chain],
) -> tuple[list[Share], str | None, str | None]:
    """The deal's shares, or a reason it cannot be credited; plus a warning (a chain cycle)."""
    primary = _primary(deal, splits, reps)
    if isinstance(primary, str):
        return [], primary, None
    extra = _overlays(splits, team, rules.team_roles, reps)
    if isinstance(extra, str):
        return [], extra, None
    warning = None
    if rules.rollup is not None:
        levels = rules.rollup.levels
        rolled, warning = rollup_shares(
            primary, levels if isinstance(levels, int) else None, chain_of
        )
        extra = extra + rolled
    return primary + extra, None, warning
