"""A deliberately simple, independent calculator in exact fractions, for the differential test.

It shares no code with `calc`: it reads plain dicts, works in `Fraction`, and follows the
rules as docs/plan-policies.md, docs/plan-effective-dating.md and the calc contract state
them, for the subset the test generates (owner credit and revenue splits with per-plan
eligibility, rollup to the managers in force, flat or marginal attainment tiers, a bonus,
draws, clawbacks in both modes, carried negatives, day proration, and effective-dated plan,
quota and manager changes: a period a plan or quota change splits is paid in parts by day).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

F = Fraction
ZERO = F(0)


def half_up(value: Fraction, places: int = 2) -> Fraction:
    """Round half away from zero to `places` decimals."""
    scale = 10**places
    scaled = abs(value) * scale
    whole = int(scaled) + (1 if scaled - int(scaled) >= F(1, 2) else 0)
    return F(whole if value >= 0 else -whole, scale)


@dataclass(frozen=True)
class Per:
    """A pay period."""

    start: date
    end: date
    name: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_of(day: date, kind: str) -> Per:
    """The month or calendar quarter holding `day` (fiscal year = calendar year)."""
    if kind == "month":
        first, months, name = day.replace(day=1), 1, f"{day.year}-{day.month:02d}"
    else:
        q = (day.month - 1) // 3
        first, months, name = date(day.year, 3 * q + 1, 1), 3, f"{day.year}-Q{q + 1}"
    nxt_month = first.month - 1 + months
    nxt = date(first.year + nxt_month // 12, nxt_month % 12 + 1, 1)
    return Per(first, nxt - timedelta(days=1), name)


@dataclass(frozen=True)
class Cr:
    """A credit: rep, deal, type, amount (cents), date."""

    rep: str
    deal: str
    kind: str
    amount: Fraction
    day: date
    cancel: date | None


def assignment(rep: dict[str, Any], day: date) -> dict[str, Any]:
    """The rep's plan index, quota and manager in force on `day` (the last change on or before)."""
    now = {"plan": rep["plan"], "quota": rep.get("quota"), "manager": rep.get("manager")}
    for change in rep.get("changes", []):
        if change["from"] <= day:
            now = {k: change[k] for k in ("plan", "quota", "manager")}
    return now


def _takes(case: dict[str, Any], rep: dict[str, Any], d: dict[str, Any]) -> bool:
    plan = case["plans"][assignment(rep, d["close"])["plan"]]
    return d["won"] and (plan["rule"] is None or d["type"] == plan["rule"])


def _managers(reps: dict[str, dict[str, Any]], rep_id: str, day: date) -> list[str]:
    out = []
    manager = assignment(reps[rep_id], day)["manager"]
    while manager is not None and manager not in out and manager != rep_id:
        out.append(manager)
        manager = assignment(reps[manager], day)["manager"]
    return out


def credits(case: dict[str, Any]) -> list[Cr]:
    """Who is credited what: each payee's plan in force on the close date decides; the
    remainder rule moves cents; with rollup, the managers in force then get rollup credit."""
    reps = {r["id"]: r for r in case["reps"]}
    out = []
    for d in case["deals"]:
        holders = case["splits"].get(d["id"])
        if holders:
            shares = sorted(holders)
            kind = "split"
        else:
            shares, kind = [(d["owner"], F(100))], "owner"
        exact = [d["amount"] * pct / 100 for _, pct in shares]
        rounded = [half_up(x) for x in exact]
        if len(shares) > 1:
            gap = half_up(sum(exact, ZERO)) - sum(rounded, ZERO)
            big = max(range(len(exact)), key=lambda i: (abs(exact[i]), -i))
            rounded[big] += gap
        for (rep, _), amount in zip(shares, rounded, strict=True):
            if _takes(case, reps[rep], d):
                out.append(Cr(rep, d["id"], kind, amount, d["close"], d["cancel"]))
        if not case.get("rollup") or (kind == "owner" and not _takes(case, reps[d["owner"]], d)):
            continue  # a deal its owner's plan does not take credits nobody (no split)
        rolled: dict[str, Fraction] = {}
        for rep, pct in shares:
            for manager in _managers(reps, rep, d["close"]):
                rolled[manager] = rolled.get(manager, ZERO) + pct
        for manager, pct in sorted(rolled.items()):
            if _takes(case, reps[manager], d):
                amount = half_up(d["amount"] * min(pct, F(100)) / 100)
                out.append(Cr(manager, d["id"], "rollup", amount, d["close"], d["cancel"]))
    return out


@dataclass
class PeriodPay:
    """A period's components with their rounded lines per (deal, type)."""

    totals: dict[str, Fraction] = field(default_factory=dict)
    by_deal: dict[tuple[str, str], Fraction] = field(default_factory=dict)

    @property
    def gross(self) -> Fraction:
        return sum(self.totals.values(), ZERO)


def _component(
    name: str, lines: list[tuple[tuple[str, str] | None, Fraction]], out: PeriodPay
) -> None:
    total = half_up(sum((x for _, x in lines), ZERO))
    out.totals[name] = total
    rounded = [half_up(x) for _, x in lines]
    if lines:
        gap = total - sum(rounded, ZERO)
        big = max(range(len(lines)), key=lambda i: (abs(lines[i][1]), -i))
        rounded[big] += gap
    for (key, _), amount in zip(lines, rounded, strict=True):
        if key is not None:
            out.by_deal[key] = out.by_deal.get(key, ZERO) + amount


def _marginal(
    mine: list[Cr], table: list[tuple[Fraction, Fraction]], quota: Fraction
) -> list[tuple[tuple[str, str] | None, Fraction]]:
    """Lines of marginal bands over attainment (band starts x quota), credit after credit."""
    edges = [s * quota for s, _ in table] + [None]
    lines: list[tuple[tuple[str, str] | None, Fraction]] = []
    pos = ZERO
    for c in mine:
        hi = pos + c.amount
        for i, (_, rate) in enumerate(table):
            lo_edge = edges[i] if i else None
            hi_edge = edges[i + 1]
            a = pos if lo_edge is None else max(pos, lo_edge)
            b = hi if hi_edge is None else min(hi, hi_edge)
            if b > a:
                lines.append(((c.deal, c.kind), (b - a) * rate))
        pos = hi
    return lines


def pay(plan: dict[str, Any], mine: list[Cr], quota: Fraction, share: Fraction) -> PeriodPay:
    """The period's components on these credits (in credit order); `share`: proration."""
    out = PeriodPay()
    mine = sorted(mine, key=lambda c: (c.day, c.deal, c.kind))
    credit = sum((c.amount for c in mine), ZERO)
    lines: list[tuple[tuple[str, str] | None, Fraction]] = [(None, ZERO)]
    if plan["rate"] is not None:
        lines = [((c.deal, c.kind), c.amount * plan["rate"]) for c in mine]
    elif quota > 0:
        lines = _marginal(mine, plan["tiers"], quota)
    _component("c", lines, out)
    if plan["bonus"] is not None:
        low, amount = plan["bonus"]
        attained = credit / quota if quota > 0 else ZERO
        _component("b", [(None, amount)] if attained >= low else [], out)
    if plan.get("ti") is not None:
        # Target incentive x the curve: band rates are multiplier x prorated target / quota.
        target, bands = plan["ti"]
        table = [(s, m * target * share / quota) for s, m in bands] if quota > 0 else []
        _component("ti", _marginal(mine, table, quota) if table else [(None, ZERO)], out)
    return out


def _days(a: date, b: date) -> int:
    return max(0, (b - a).days + 1)


def calculate(
    case: dict[str, Any], *, since: date, until: date
) -> dict[tuple[str, str], dict[str, Fraction]]:
    """Every rep's periods from the year of `since` through `until`, by (rep, period)."""
    all_credits = credits(case)
    data_start = min(d["close"] for d in case["deals"])
    out: dict[tuple[str, str], dict[str, Fraction]] = {}
    for rep in case["reps"]:
        hire = rep["hire"]
        mine = [c for c in all_credits if c.rep == rep["id"] and (hire is None or c.day >= hire)]
        out.update(_rep(case, rep, mine, data_start, (since, until)))
    return out


@dataclass
class Seg:
    """Dates paid under one plan and quota (a manager change alone does not start one)."""

    first: date | None
    last: date | None
    plan: dict[str, Any]
    quota: int | None
    hire: date | None
    mine: list[Cr] = field(default_factory=list)

    def part(self, p: Per) -> tuple[date, date] | None:
        """This segment's days of the period (None: none, or none employed)."""
        a = p.start if self.first is None else max(self.first, p.start)
        b = p.end if self.last is None else min(self.last, p.end)
        if a > b or (self.hire is not None and self.hire > b):
            return None
        return a, b

    def credits_in(self, p: Per) -> list[Cr]:
        return [c for c in self.mine if p.start <= c.day <= p.end]

    def pay(self, p: Per, removed: frozenset[str] = frozenset()) -> tuple[PeriodPay, Fraction]:
        """This segment's part of period `p`: its pay and its quota."""
        span = self.part(p)
        assert span is not None
        a, b = span
        employed = _days(a if self.hire is None else max(a, self.hire), b)
        base = F(self.quota if self.quota is not None else self.plan["quota"])
        quota = half_up(base * employed / p.days)
        mine = [c for c in self.credits_in(p) if c.deal not in removed]
        return pay(self.plan, mine, quota, F(employed, p.days)), quota

    def cancelled(self) -> list[Cr]:
        claw = self.plan["clawback"]
        if claw is None:
            return []
        return [
            c
            for c in self.mine
            if c.cancel is not None and 0 <= (c.cancel - c.day).days <= claw["window"]
        ]

    def clawback(self, per: Per, kind: str) -> tuple[list[Fraction], Fraction]:
        """Raw clawback amounts for this segment's deals cancelled in `per`, credit reversed."""
        claw = self.plan["clawback"]
        if claw is None:
            return [], ZERO
        gone = sorted(self.cancelled(), key=lambda c: (c.day, c.deal, c.kind))
        now = [c for c in gone if c.cancel and per.start <= c.cancel <= per.end]
        lines: list[Fraction] = []
        reversed_credit = ZERO
        seen: set[str] = set()
        for c in now:
            home = period_of(c.day, kind)
            if claw["mode"] == "deal_lines":
                earned = self.pay(home)[0].by_deal.get((c.deal, c.kind), ZERO)
                lines.append(-earned * claw["percent"])
                continue
            reversed_credit += c.amount
            if c.deal in seen:
                continue
            seen.add(c.deal)
            before = frozenset(
                d.deal
                for d in gone
                if period_of(d.day, kind) == home and (d.cancel, d.deal) < (c.cancel, c.deal)
            )
            diff = self.pay(home, before)[0].gross - self.pay(home, before | {c.deal})[0].gross
            lines.append(-diff * claw["percent"])
        return lines, reversed_credit


def segments(case: dict[str, Any], rep: dict[str, Any], mine: list[Cr]) -> list[Seg]:
    """The rep's segments: a new one where the plan or the quota changes."""
    starts = [(None, rep["plan"], rep.get("quota"))]
    starts += [(c["from"], c["plan"], c["quota"]) for c in rep.get("changes", [])]
    out: list[Seg] = []
    for first, plan, quota in starts:
        if out and (out[-1].plan is case["plans"][plan] and out[-1].quota == quota):
            continue
        if out:
            assert first is not None
            out[-1].last = first - timedelta(days=1)
        out.append(Seg(first, None, case["plans"][plan], quota, rep["hire"]))
    for seg in out:
        seg.mine = [
            c
            for c in mine
            if (seg.first is None or seg.first <= c.day) and (seg.last is None or c.day <= seg.last)
        ]
    return out


class _Balance:
    """What the rep owes: draw advances and carried negatives."""

    def __init__(self) -> None:
        self.owed_draw = self.owed_neg = ZERO

    def settle(
        self, plan: dict[str, Any], draw: dict[str, Any] | None, gross: Fraction, clawed: Fraction
    ) -> dict[str, Fraction]:
        """Draw top-up, carried negatives and recovery, as docs/plan-policies.md states them."""
        floor = F(draw["amount"]) if draw else ZERO
        top_up = max(ZERO, floor - (gross - clawed)) if draw else ZERO
        paid = gross + top_up
        shortfall = recovered = ZERO
        if paid < floor:
            shortfall = floor - paid
            if plan["negative"] == "carry":
                self.owed_neg += shortfall
        else:
            room = paid - floor
            a = min(self.owed_neg, room)
            b = min(self.owed_draw, room - a)
            self.owed_neg, self.owed_draw, recovered = self.owed_neg - a, self.owed_draw - b, a + b
        if draw and draw["recoverable"]:
            self.owed_draw += top_up
        return {
            "gross": gross,
            "top_up": top_up,
            "recovered": recovered,
            "shortfall": shortfall,
            "balance": self.owed_draw + self.owed_neg,
            "net": paid + shortfall - recovered,
        }


def _draw(parts: list[tuple[Seg, tuple[date, date]]], per: Per) -> dict[str, Any] | None:
    """A split period's draw: each part's draw for its share of the days; rules of the last."""
    if len(parts) == 1:
        return parts[0][0].plan["draw"]
    with_draw = [(seg.plan["draw"], span) for seg, span in parts if seg.plan["draw"]]
    if not with_draw:
        return None
    amount = sum((F(d["amount"]) * _days(*span) / per.days for d, span in with_draw), ZERO)
    rule = parts[-1][0].plan["draw"] or with_draw[-1][0]
    return {**rule, "amount": half_up(amount)}


def _rep(
    case: dict[str, Any],
    rep: dict[str, Any],
    mine: list[Cr],
    data_start: date,
    window: tuple[date, date],
) -> dict[tuple[str, str], dict[str, Fraction]]:
    segs = segments(case, rep, mine)
    hire = rep["hire"]
    kind = segs[0].plan["period"]  # every plan a rep moves between has the same period
    since, until = window
    on_plan = period_of(max(d for d in (hire, data_start) if d is not None), kind)
    per = period_of(date(min(since.year, data_start.year), 1, 1), kind)
    balance = _Balance()
    rows: dict[tuple[str, str], dict[str, Fraction]] = {}
    ytd_credit = ytd_quota = ZERO
    year = per.start.year
    while per.start <= until:
        parts = [(seg, span) for seg in segs if (span := seg.part(per)) is not None]
        if parts:
            last = parts[-1][0].plan
            draw = _draw(parts, per) if per.start >= on_plan.start else None
            if per.start.year != year:
                year, ytd_credit, ytd_quota = per.start.year, ZERO, ZERO
                if draw is not None and draw["reset"]:
                    balance.owed_draw = ZERO
            gross = quota = credit = ZERO
            for seg, _span in parts:
                paid, q = seg.pay(per)
                gross += paid.gross
                quota += q
                credit += sum((c.amount for c in seg.credits_in(per)), ZERO)
            raw: list[Fraction] = []
            for seg in segs:
                lines, reversed_credit = seg.clawback(per, kind)
                raw += lines
                credit -= reversed_credit
            clawed = half_up(sum(raw, ZERO))
            row = balance.settle(last, draw, gross + clawed, clawed)
            ytd_credit += credit
            ytd_quota += quota
            rows[(rep["id"], per.name)] = {
                "quota": quota,
                "credit": credit,
                "attainment": half_up(credit / quota, 4) if quota > 0 else ZERO,
                "attainment_ytd": half_up(ytd_credit / ytd_quota, 4) if ytd_quota > 0 else ZERO,
                **row,
            }
        per = period_of(per.end + timedelta(days=1), kind)
    return rows
