"""A deliberately simple, independent calculator in exact fractions, for the differential test.

It shares no code with `calc`: it reads plain dicts, works in `Fraction`, and follows the
rules as docs/plan-policies.md, docs/plan-ytd-and-caps.md, docs/plan-effective-dating.md and
the calc contract state them, for the subset the test generates (owner credit and revenue
splits with per-plan eligibility, rollup to the managers in force, flat or marginal
attainment tiers, a bonus, draws limited or not to the first periods, clawbacks in both
modes, carried negatives, day proration, per-deal, per-period and annual caps, year-to-date
commission and bonus paid as true-ups, deals in other currencies at dated rates and
adjustments (docs/plan-currencies-and-adjustments.md), and effective-dated plan, quota and
manager changes: a period a plan or quota change splits is paid in parts by day)."""

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


def _start_of(name: str) -> date:
    """The first day of a period named `2026-03` or `2026-Q2` (calendar fiscal years)."""
    if "-Q" in name:
        return date(int(name[:4]), 3 * int(name[-1]) - 2, 1)
    return date(int(name[:4]), int(name[5:7]), 1)


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
        value = in_plan_currency(d, case.get("rates", []))
        if value is None:
            continue  # no rate in force on its close date: unresolved, nobody is credited
        holders = case["splits"].get(d["id"])
        if holders:
            shares = sorted(holders)
            kind = "split"
        else:
            shares, kind = [(d["owner"], F(100))], "owner"
        exact = [value * pct / 100 for _, pct in shares]
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
                amount = half_up(value * min(pct, F(100)) / 100)
                out.append(Cr(manager, d["id"], "rollup", amount, d["close"], d["cancel"]))
    return out


def in_plan_currency(
    deal: dict[str, Any], rates: list[tuple[str, date, Fraction]]
) -> Fraction | None:
    """The deal amount in the plan currency: amount / the rate of its currency in force on the
    close date (the latest start on or before it); None when no rate is in force."""
    code = deal.get("currency")
    if code is None:
        return F(deal["amount"])
    starts = [(start, rate) for c, start, rate in rates if c == code and start <= deal["close"]]
    if not starts:
        return None
    return F(deal["amount"]) / max(starts)[1]


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


Lines = list[tuple[tuple[str, str] | None, Fraction]]


def _scale_to(lines: Lines, limit: Fraction) -> Lines:
    """Every line scaled so that they add up to `limit`, when they add up to more (and > 0)."""
    total = sum((x for _, x in lines), ZERO)
    if total <= limit or total <= 0:
        return lines
    return [(k, x * limit / total) for k, x in lines]


def capped(lines: Lines, cap: dict[str, Any], room: Fraction | None) -> Lines:
    """The windfall cap on each deal's lines, then the period cap, then the annual room."""
    if cap.get("per_deal") is not None:
        limit = F(cap["per_deal"])
        deals = {k[0] for k, _ in lines if k is not None}
        for deal in sorted(deals):
            total = sum((x for k, x in lines if k is not None and k[0] == deal), ZERO)
            if total > limit:
                lines = [
                    (k, x * limit / total if k is not None and k[0] == deal else x)
                    for k, x in lines
                ]
    if cap.get("amount") is not None:
        lines = _scale_to(lines, F(cap["amount"]))
    if room is not None:
        lines = _scale_to(lines, room)
    return lines


def commission_lines(plan: dict[str, Any], mine: list[Cr], quota: Fraction) -> Lines:
    """Flat rate, or marginal attainment tiers on the running total of `mine`."""
    if plan["rate"] is not None:
        return [((c.deal, c.kind), c.amount * plan["rate"]) for c in mine]
    if quota > 0:
        return _marginal(mine, plan["tiers"], quota)
    return [(None, ZERO)]


def pay(
    plan: dict[str, Any],
    mine: list[Cr],
    quota: Fraction,
    share: Fraction,
    room: Fraction | None = None,
) -> PeriodPay:
    """The period's components on these credits (in credit order); `share`: proration;
    `room`: what the annual cap leaves. Year-to-date components are left to `_Rep`."""
    out = PeriodPay()
    mine = sorted(mine, key=lambda c: (c.day, c.deal, c.kind))
    credit = sum((c.amount for c in mine), ZERO)
    if plan["ytd"] is None:
        lines = capped(commission_lines(plan, mine, quota), plan["cap"], room)
        _component("c", lines, out)
    if plan["bonus"] is not None and not plan["bonus_ytd"]:
        low, amount = plan["bonus"]
        attained = credit / quota if quota > 0 else ZERO
        _component("b", [(None, amount)] if attained >= low else [], out)
    if plan.get("ti") is not None:
        # Target incentive x the curve: band rates are multiplier x prorated target / quota.
        target, bands = plan["ti"]
        table = [(s, m * target * share / quota) for s, m in bands] if quota > 0 else []
        _component("ti", _marginal(mine, table, quota) if table else [(None, ZERO)], out)
    return out


def _quota(plan: dict[str, Any], hire: date | None, per: Per) -> Fraction:
    if hire is None or hire <= per.start:
        return F(plan["quota"])
    days = (per.end - hire).days + 1
    return half_up(F(plan["quota"]) * days / per.days)


def calculate(
    case: dict[str, Any], *, since: date, until: date
) -> dict[tuple[str, str], dict[str, Fraction]]:
    """Every rep's periods from the year of `since` through `until`, by (rep, period)."""
    all_credits = credits(case)
    # The data starts with the first close date, or an earlier adjusted period of a rep.
    data_start = min(
        [d["close"] for d in case["deals"]]
        + [_start_of(period) for _, period, _ in case.get("adjustments", [])]
    )
    out: dict[tuple[str, str], dict[str, Fraction]] = {}
    for rep in case["reps"]:
        plan = case["plans"][rep["plan"]]
        hire = rep["hire"]
        mine = [c for c in all_credits if c.rep == rep["id"] and (hire is None or c.day >= hire)]
        adjusted: dict[str, list[Fraction]] = {}
        for rep_id, period, amount in case.get("adjustments", []):
            if rep_id == rep["id"]:
                adjusted.setdefault(period, []).append(amount)
        window = (since, until)
        if rep.get("changes"):
            out.update(_dated_rep(case, rep, mine, data_start, window, adjusted))
        else:
            out.update(_rep(plan, rep["id"], hire, mine, data_start, window, adjusted))
    return out


class _Rep:
    """One rep on one plan, period after period."""

    def __init__(self, plan: dict[str, Any], hire: date | None, mine: list[Cr]) -> None:
        self.plan, self.hire, self.kind = plan, hire, plan["period"]
        self.by_per: dict[str, list[Cr]] = {}
        for c in mine:
            self.by_per.setdefault(period_of(c.day, self.kind).name, []).append(c)
        self.quotas: dict[str, Fraction] = {}
        claw = plan["clawback"]
        self.cancelled = sorted(
            (
                c
                for c in mine
                if claw is not None
                and c.cancel is not None
                and 0 <= (c.cancel - c.day).days <= claw["window"]
            ),
            key=lambda c: (c.cancel, c.deal),
        )
        self.owed_draw = self.owed_neg = ZERO
        self.paid_c: dict[str, Fraction] = {}  # the commission each period paid
        self.years: dict[int, list[Per]] = {}
        self.dues: dict[tuple[str, frozenset[str]], tuple[Fraction, Fraction]] = {}

    def quota(self, p: Per) -> Fraction:
        return self.quotas.setdefault(p.name, _quota(self.plan, self.hire, p))

    def year(self, p: Per) -> list[Per]:
        """The rep's periods of the calendar year holding `p`."""
        if p.start.year not in self.years:
            self.years[p.start.year] = self._year(p.start.year)
        return self.years[p.start.year]

    def _year(self, year: int) -> list[Per]:
        out, q = [], period_of(date(year, 1, 1), self.kind)
        while q.start.year == year:
            if self.hire is None or q.end >= self.hire:
                out.append(q)
            q = period_of(q.end + timedelta(days=1), self.kind)
        return out

    def room(self, p: Per) -> Fraction | None:
        """What the annual cap leaves the commission after the year's earlier periods."""
        annual = self.plan["cap"].get("annual")
        if annual is None or self.plan["ytd"] is not None:
            return None
        if p.start.month == 1:
            return F(annual)
        paid = sum((self.paid_c[q.name] for q in self.year(p) if q.start < p.start), ZERO)
        return max(F(annual) - paid, ZERO)

    def gross_of(self, p: Per, removed: frozenset[str] = frozenset()) -> PeriodPay:
        q = self.quota(p)
        hire = self.hire
        share = F((p.end - hire).days + 1, p.days) if hire is not None and hire > p.start else F(1)
        mine = [c for c in self.by_per.get(p.name, []) if c.deal not in removed]
        return pay(self.plan, mine, q, share, self.room(p))

    def due(self, p: Per, removed: frozenset[str]) -> tuple[Fraction, Fraction]:
        """Year-to-date commission and bonus owed for the year through `p` (rounded)."""
        if self.plan["ytd"] is None and not self.plan["bonus_ytd"]:
            return ZERO, ZERO
        key = (p.name, removed)
        if key not in self.dues:
            self.dues[key] = self._due(p, removed)
        return self.dues[key]

    def _due(self, p: Per, removed: frozenset[str]) -> tuple[Fraction, Fraction]:
        plan = self.plan
        year = self.year(p)
        so_far = [q for q in year if q.start <= p.start]
        quota = sum((self.quota(q) for q in (year if plan["ytd"] == "annual" else so_far)), ZERO)
        mine = sorted(
            (c for q in so_far for c in self.by_per.get(q.name, []) if c.deal not in removed),
            key=lambda c: (c.day, c.deal, c.kind),
        )
        commission = ZERO
        if plan["ytd"] is not None:
            lines = commission_lines(plan, mine, quota)
            cap = plan["cap"]
            lines = capped(lines, cap, F(cap["annual"]) if cap.get("annual") is not None else None)
            commission = half_up(sum((x for _, x in lines), ZERO))
        bonus = ZERO
        if plan["bonus"] is not None and plan["bonus_ytd"]:
            low, amount = plan["bonus"]
            credit = sum((c.amount for c in mine), ZERO)
            if quota > 0 and credit / quota >= low:
                bonus = half_up(amount)
        return commission, bonus

    def gone_before(self, p: Per) -> frozenset[str]:
        return frozenset(c.deal for c in self.cancelled if c.cancel and c.cancel < p.start)

    def true_up(self, p: Per) -> Fraction:
        """This period's year-to-date commission and bonus: due now minus due before."""
        gone = self.gone_before(p)
        now = self.due(p, gone)
        earlier = [q for q in self.year(p) if q.start < p.start]
        then = self.due(earlier[-1], gone) if earlier else (ZERO, ZERO)
        return now[0] + now[1] - then[0] - then[1]

    def _ytd_clawback(self, per: Per, now: list[Cr]) -> Fraction:
        claw = self.plan["clawback"]
        total = ZERO
        for part in (0, 1):
            removed = set(self.gone_before(per))
            for c in sorted(now, key=lambda c: (c.cancel, c.deal, c.kind)):
                if c.deal in removed:
                    continue
                upto = (
                    per
                    if c.day.year == per.start.year
                    else self.year(period_of(c.day, self.kind))[-1]
                )
                before = frozenset(removed)
                removed.add(c.deal)
                diff = self.due(upto, before)[part] - self.due(upto, frozenset(removed))[part]
                total -= diff * claw["percent"]
        return total

    def clawback(self, per: Per) -> tuple[Fraction, Fraction]:
        """The clawback component of this period and the credit it reverses."""
        claw = self.plan["clawback"]
        if claw is None:
            return ZERO, ZERO
        now = [c for c in self.cancelled if c.cancel and per.start <= c.cancel <= per.end]
        lines: list[Fraction] = [self._ytd_clawback(per, now)] if now else []
        reversed_credit = ZERO
        seen: set[str] = set()
        for c in now:
            home = period_of(c.day, self.kind)
            if claw["mode"] == "deal_lines":
                earned = self.gross_of(home).by_deal.get((c.deal, c.kind), ZERO)
                lines.append(-earned * claw["percent"])
                continue
            reversed_credit += c.amount
            if c.deal in seen:
                continue
            seen.add(c.deal)
            before = frozenset(
                d.deal
                for d in self.cancelled
                if period_of(d.day, self.kind) == home and (d.cancel, d.deal) < (c.cancel, c.deal)
            )
            diff = self.gross_of(home, before).gross - self.gross_of(home, before | {c.deal}).gross
            lines.append(-diff * claw["percent"])
        return half_up(sum(lines, ZERO)), reversed_credit

    def settle(self, gross: Fraction, clawed: Fraction, *, with_draw: bool) -> dict[str, Fraction]:
        """Draw top-up, carried negatives and recovery, as docs/plan-policies.md states them."""
        draw = self.plan["draw"] if with_draw else None
        floor = F(draw["amount"]) if draw else ZERO
        top_up = max(ZERO, floor - (gross - clawed)) if draw else ZERO
        paid = gross + top_up
        shortfall = recovered = ZERO
        if paid < floor:
            shortfall = floor - paid
            if self.plan["negative"] == "carry":
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


def _rep(
    plan: dict[str, Any],
    rep_id: str,
    hire: date | None,
    mine: list[Cr],
    data_start: date,
    window: tuple[date, date],
    adjusted: dict[str, list[Fraction]],
) -> dict[tuple[str, str], dict[str, Fraction]]:
    kind = plan["period"]
    since, until = window
    on_plan = period_of(max(d for d in (hire, data_start) if d is not None), kind)
    per = period_of(date(min(since.year, data_start.year), 1, 1), kind)
    rep = _Rep(plan, hire, mine)
    rows: dict[tuple[str, str], dict[str, Fraction]] = {}
    ytd_credit = ytd_quota = ZERO
    on_plan_periods = 0
    year = per.start.year
    while per.start <= until:
        if per.start.year != year:
            year, ytd_credit, ytd_quota = per.start.year, ZERO, ZERO
            if plan["draw"] is not None and plan["draw"]["reset"]:
                rep.owed_draw = ZERO
        if hire is None or per.end >= hire:
            here = rep.gross_of(per)
            rep.paid_c[per.name] = here.totals.get("c", ZERO)
            quota = rep.quotas[per.name]
            clawed, reversed_credit = rep.clawback(per)
            credit = sum((c.amount for c in rep.by_per.get(per.name, [])), ZERO) - reversed_credit
            with_draw = per.start >= on_plan.start
            if with_draw:
                on_plan_periods += 1
                limit = plan["draw"]["periods"] if plan["draw"] is not None else None
                with_draw = limit is None or on_plan_periods <= limit
            # Adjustments are paid as they are; negative ones are taken back like clawbacks.
            extra = adjusted.get(per.name, [])
            taken = sum((a for a in extra if a < 0), ZERO)
            gross = here.gross + rep.true_up(per) + clawed + sum(extra, ZERO)
            row = rep.settle(gross, clawed + taken, with_draw=with_draw)
            ytd_credit += credit
            ytd_quota += quota
            rows[(rep_id, per.name)] = {
                "quota": quota,
                "credit": credit,
                "attainment": half_up(credit / quota, 4) if quota > 0 else ZERO,
                "attainment_ytd": half_up(ytd_credit / ytd_quota, 4) if ytd_quota > 0 else ZERO,
                **row,
            }
        per = period_of(per.end + timedelta(days=1), kind)
    return rows


# --- effective-dated reps: a period a plan or quota change splits is paid in parts ---------


def _days(a: date, b: date) -> int:
    return max(0, (b - a).days + 1)


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


def _dated_rep(
    case: dict[str, Any],
    rep: dict[str, Any],
    mine: list[Cr],
    data_start: date,
    window: tuple[date, date],
    adjusted: dict[str, list[Fraction]],
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
    on_plan_periods = 0
    year = per.start.year
    while per.start <= until:
        parts = [(seg, span) for seg in segs if (span := seg.part(per)) is not None]
        if parts:
            last = parts[-1][0].plan
            draw = _draw(parts, per)
            if per.start.year != year:
                year, ytd_credit, ytd_quota = per.start.year, ZERO, ZERO
                if draw is not None and draw["reset"]:
                    balance.owed_draw = ZERO
            with_draw = per.start >= on_plan.start
            if with_draw:
                on_plan_periods += 1
                limit = draw["periods"] if draw is not None else None
                with_draw = limit is None or on_plan_periods <= limit
            draw = draw if with_draw else None
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
            # Adjustments are the rep's, paid as they are whatever the plan.
            extra = adjusted.get(per.name, [])
            taken = sum((a for a in extra if a < 0), ZERO)
            row = balance.settle(last, draw, gross + clawed + sum(extra, ZERO), clawed + taken)
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
