"""A manager's team shaped for the views: rows, totals, attainment bands, a leaderboard.

Pure functions over stored result rows and people (no I/O, no clock: `as_of` is passed in).
Money stays Decimal; every ordering is deterministic, ties broken by name then id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from calc.errors import PlanError
from calc.money import ZERO, fraction4
from calc.periods import PeriodKind, fiscal_year_start, period_of
from calc.plan import parse_plan_doc
from connector.store.people import Person
from connector.store.team_reads import ResultRow, StoredPeriod

METRICS: tuple[str, ...] = ("attainment", "credit", "earnings", "deals_won")
METRIC_LABELS: dict[str, str] = {
    "attainment": "Attainment",
    "credit": "Credit",
    "earnings": "Earnings",
    "deals_won": "Deals won",
}
# Attainment bands in percent of quota: [low, high), the last one open-ended.
BAND_EDGES: tuple[int, ...] = (0, 25, 50, 75, 100, 125, 150)


class UnknownChoice(ValueError):
    """A period or metric the caller asked for that does not exist."""


@dataclass(frozen=True, slots=True)
class Calendar:
    """How a plan cuts time into pay periods."""

    kind: PeriodKind = "quarter"
    fy_start_month: int = 1


@dataclass(frozen=True, slots=True)
class Figures:
    """One person's figures for the chosen period (None: no stored result)."""

    quota: Decimal | None = None
    credit: Decimal | None = None
    attainment: Decimal | None = None
    gross: Decimal | None = None
    ytd: Decimal = ZERO
    deals_won: int = 0


@dataclass(frozen=True, slots=True)
class TeamRow:
    """A row of the team table: a person, their figures, and how many report to them."""

    person: Person
    figures: Figures
    team_size: int
    is_head: bool


@dataclass(frozen=True, slots=True)
class TeamTotals:
    """A team's headcount, quota, credit and attainment (its reps) and earnings (everyone)."""

    reps: int
    quota: Decimal
    credit: Decimal
    attainment: Decimal | None
    gross: Decimal


@dataclass(frozen=True, slots=True)
class Band:
    """How many people's attainment falls in [low, high) percent (high None: no limit)."""

    low: int
    high: int | None
    count: int

    @property
    def label(self) -> str:
        """`25-50%`, or `150%+` for the open band."""
        return f"{self.low}%+" if self.high is None else f"{self.low}-{self.high}%"

    @property
    def short(self) -> str:
        """`25-50`, or `150+` for the open band (for a chart axis in percent)."""
        return f"{self.low}+" if self.high is None else f"{self.low}-{self.high}"


@dataclass(frozen=True, slots=True)
class Ranked:
    """A place on the leaderboard."""

    rank: int
    person: Person
    value: Decimal


def plan_calendar(document: Mapping[str, Any] | None, plan_id: str | None) -> Calendar:
    """The period kind and fiscal year of `plan_id` in the plan document (quarters by default)."""
    if document is None or plan_id is None:
        return Calendar()
    try:
        plan = parse_plan_doc(dict(document)).plan(plan_id)
    except PlanError:
        return Calendar()
    if plan is None:
        return Calendar()
    return Calendar(plan.period, plan.fiscal_year_start_month)


def choose_period(
    stored: Sequence[StoredPeriod], requested: str | None, *, calendar: Calendar, as_of: date
) -> StoredPeriod:
    """The requested stored period, or the one holding `as_of`; UnknownChoice for a bad name."""
    if requested:
        found = next((p for p in stored if p.name == requested), None)
        if found is None:
            raise UnknownChoice(f"Unknown period {requested!r}.")
        return found
    current = period_of(as_of, calendar.kind, calendar.fy_start_month)
    return next(
        (p for p in stored if p.name == current.name),
        StoredPeriod(current.name, current.start, current.end),
    )


def year_start(period: StoredPeriod, calendar: Calendar) -> date:
    """First day of the fiscal year holding the period."""
    return fiscal_year_start(period.start, calendar.fy_start_month)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def figures(
    current: Iterable[ResultRow],
    year: Iterable[ResultRow] = (),
    won: Mapping[str, int] | None = None,
) -> dict[str, Figures]:
    """Per rep, the period's figures; YTD earnings sum the gross of the `year` rows."""
    ytd: dict[str, Decimal] = {}
    for row in year:
        ytd[row.rep_id] = ytd.get(row.rep_id, ZERO) + Decimal(row.gross)
    won = won or {}
    out = {
        row.rep_id: Figures(
            quota=_dec(row.quota),
            credit=_dec(row.credit),
            attainment=Decimal(row.attainment),
            gross=Decimal(row.gross),
            ytd=ytd.get(row.rep_id, ZERO),
            deals_won=won.get(row.rep_id, 0),
        )
        for row in current
    }
    for rep_id in ytd.keys() - out.keys():
        out[rep_id] = Figures(ytd=ytd[rep_id], deals_won=won.get(rep_id, 0))
    return out


def _by_name(person: Person) -> tuple[str, str]:
    return (person.name.lower(), person.id)


def team_sizes(head_id: str, members: Mapping[str, Person]) -> dict[str, int]:
    """Per member, how many people are below them inside the team."""
    sizes: dict[str, int] = {}
    for member in members.values():
        boss, seen = member.manager_id, {member.id}
        while boss and boss != head_id and boss in members and boss not in seen:
            sizes[boss] = sizes.get(boss, 0) + 1
            seen.add(boss)
            boss = members[boss].manager_id
    return sizes


def contributors(head_id: str, members: Mapping[str, Person]) -> list[Person]:
    """The members nobody in the team reports to (the head excluded), by name."""
    bosses = {m.manager_id for m in members.values()}
    return sorted(
        (m for m in members.values() if m.id not in bosses and m.id != head_id), key=_by_name
    )


def team_rows(
    head: Person, members: Mapping[str, Person], found: Mapping[str, Figures]
) -> list[TeamRow]:
    """The head first, then their direct reports by name (sub-managers carry their team size)."""
    sizes = team_sizes(head.id, members)
    direct = sorted((m for m in members.values() if m.manager_id == head.id), key=_by_name)
    rows = [TeamRow(head, found.get(head.id, Figures()), len(members), True)]
    rows.extend(TeamRow(m, found.get(m.id, Figures()), sizes.get(m.id, 0), False) for m in direct)
    return rows


def team_totals(
    reps: Sequence[Person], found: Mapping[str, Figures], *, payees: Iterable[Person]
) -> TeamTotals:
    """Quota, credit and attainment of the reps; the period's gross earnings of the payees."""
    # A manager's credit is the rollup of their reps' deals: adding it would count each deal
    # twice, so quota and credit are the reps' own. Managers' earnings are real pay: counted.
    figs = [found.get(p.id, Figures()) for p in reps]
    quota = sum((f.quota for f in figs if f.quota is not None), ZERO)
    credit = sum((f.credit for f in figs if f.credit is not None), ZERO)
    paid = [found.get(p.id, Figures()) for p in {p.id: p for p in payees}.values()]
    gross = sum((f.gross for f in paid if f.gross is not None), ZERO)
    attainment = fraction4(credit / quota) if quota > 0 else None
    return TeamTotals(len(reps), quota, credit, attainment, gross)


def attainment_bands(attainments: Iterable[Decimal]) -> list[Band]:
    """Counts per band of 25 points; below zero (clawbacks) counts in the first band."""
    counts = [0] * len(BAND_EDGES)
    for fraction in attainments:
        pct = fraction * 100
        index = sum(1 for edge in BAND_EDGES[1:] if pct >= edge)
        counts[index] += 1
    highs: list[int | None] = [*BAND_EDGES[1:], None]
    return [Band(low, high, n) for low, high, n in zip(BAND_EDGES, highs, counts, strict=True)]


def metric_value(metric: str, fig: Figures) -> Decimal | None:
    """The figure a leaderboard ranks by (None: nothing to rank)."""
    if metric == "attainment":
        return fig.attainment
    if metric == "credit":
        return fig.credit
    if metric == "earnings":
        return fig.gross
    if metric == "deals_won":
        return Decimal(fig.deals_won)
    raise UnknownChoice(f"Unknown metric {metric!r}: choose one of {', '.join(METRICS)}.")


def leaderboard(
    people: Iterable[Person], found: Mapping[str, Figures], metric: str
) -> list[Ranked]:
    """People ranked by `metric`, highest first; equal values share a rank (1, 1, 3)."""
    if metric not in METRICS:
        raise UnknownChoice(f"Unknown metric {metric!r}: choose one of {', '.join(METRICS)}.")
    scored = [
        (value, p)
        for p in people
        if (fig := found.get(p.id)) is not None and (value := metric_value(metric, fig)) is not None
    ]
    scored.sort(key=lambda vp: (-vp[0], *_by_name(vp[1])))
    out: list[Ranked] = []
    for position, (value, person) in enumerate(scored, start=1):
        rank = out[-1].rank if out and out[-1].value == value else position
        out.append(Ranked(rank, person, value))
    return out
