"""The engine against an independent exact calculator (reference_calc.py) on 2,000 generated books.

Cases cover revenue splits across reps on plans with different eligibility rules, flat and
tiered commission with a bonus, target incentive curves (rates of target / quota with no
decimal form, prorated by day), day proration of mid-period hires, draws (recoverable or not,
reset yearly or never, for every period or the first N), clawbacks in both modes, carried or
forgiven negatives, per-deal, per-period and annual caps, year-to-date commission (quota to
date or annual) and bonuses paid as true-ups, cancellations across fiscal years, windows
that start late (balances must not depend on `--from`), deals in other currencies at dated
rates (some before any rate: unresolved), adjustments of either sign, rollup to managers,
and effective-dated changes of plan, quota and manager (mid-period or on a period boundary;
in those books the plans measure by period, without year-to-date components or annual caps).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
import reference_calc

from calc.adjustments import Adjustment
from calc.currency import DatedRate, Rates
from calc.engine import calculate
from calc.model import Assignment, Deal, Rep, Split
from calc.plan import parse_plan_doc

CASES = 2000
F = Fraction
FIRST, LAST = date(2026, 1, 1), date(2027, 6, 30)


def _cap(rng: random.Random, ytd: str | None) -> dict[str, int]:
    cap: dict[str, int] = {}
    if rng.random() < 0.3:
        cap["per_deal"] = rng.choice([1500, 4000, 12000])
    if ytd is None and rng.random() < 0.25:
        cap["amount"] = rng.choice([3000, 9000, 25000])
    if rng.random() < 0.3:
        cap["annual"] = rng.choice([8000, 20000, 45000])
    return cap


def _plan(rng: random.Random, i: int) -> dict[str, Any]:
    tiers = None
    rate = None
    if rng.random() < 0.4:
        rate = F(rng.randint(1, 150), 1000)
    else:
        starts = sorted(rng.sample([F(1, 2), F(3, 4), F(1), F(3, 2)], rng.randint(0, 2)))
        tiers = [(F(0), F(rng.randint(0, 80), 1000))]
        tiers += [(s, F(rng.randint(10, 200), 1000)) for s in starts]
    ytd = rng.choice([None, None, "to_date", "annual"])
    return {
        "id": f"p{i}",
        "ytd": ytd,
        "cap": _cap(rng, ytd),
        "period": rng.choice(["quarter", "quarter", "month"]),
        "rule": rng.choice([None, None, "New", "Renewal"]),
        "quota": rng.choice([30000, 100000, 250000, 333333]),
        "rate": rate,
        "tiers": tiers,
        "bonus": rng.choice([None, (F(1), F(rng.randint(1, 50) * 100)), (F(4, 5), F(1234))]),
        "bonus_ytd": rng.random() < 0.4,
        "draw": rng.choice(
            [
                None,
                None,
                {
                    "amount": rng.choice([1000, 3000, 7500]),
                    "recoverable": rng.random() < 0.6,
                    "reset": rng.random() < 0.3,
                    "periods": rng.choice([None, None, 1, 2, 5]),
                },
            ]
        ),
        "clawback": rng.choice(
            [
                None,
                {
                    "window": rng.choice([30, 90]),
                    "percent": rng.choice([F(1), F(1, 2)]),
                    "mode": rng.choice(["deal_lines", "recalculate"]),
                },
            ]
        ),
        "negative": rng.choice(["carry", "carry", "forgive"]),
        "ti": rng.choice(
            [
                None,
                (
                    F(rng.randint(1, 30000)),
                    [(F(0), F(rng.randint(0, 20), 10)), (F(1), F(rng.randint(10, 30), 10))],
                ),
            ]
        ),
    }


def _percents(rng: random.Random, n: int) -> list[Fraction]:
    cuts = sorted(rng.sample(range(1, 10000), n - 1))
    return [F(b - a, 100) for a, b in zip([0, *cuts], [*cuts, 10000], strict=True)]


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _changes(rng: random.Random, plans: list[dict[str, Any]], rep: dict[str, Any]) -> list[Any]:
    """0-2 effective-dated changes of plan (same pay period), quota and manager."""
    if rng.random() >= 0.45:
        return []
    kind = plans[rep["plan"]]["period"]
    same = [i for i, p in enumerate(plans) if p["period"] == kind]
    bosses = [None, *(f"R{j}" for j in range(int(rep["id"][1:])))]
    days = {
        rng.choice([date(2026, 4, 1), date(2026, 7, 1), date(2027, 1, 1)])
        if rng.random() < 0.25
        else _day(rng, date(2026, 1, 2), date(2027, 3, 31))
        for _ in range(rng.randint(1, 2))
    }
    return [
        {
            "from": day,
            "plan": rng.choice(same),
            "quota": rng.choice([None, None, 60000, 150000, 400000]),
            "manager": rng.choice(bosses),
        }
        for day in sorted(days)
    ]


def _by_period(plan: dict[str, Any]) -> None:
    """A plan without year-to-date components or an annual cap (for effective-dated books)."""
    plan["ytd"], plan["bonus_ytd"] = None, False
    plan["cap"].pop("annual", None)


def make_case(seed: int) -> dict[str, Any]:
    """One random book: 1-3 plans, 2-4 reps, 1-9 deals, some split, some cancelled; in some,
    reps change plan, quota or manager on a date; some books roll credit up to managers."""
    rng = random.Random(seed)
    plans = [_plan(rng, i) for i in range(rng.randint(1, 3))]
    reps: list[dict[str, Any]] = [
        {
            "id": f"R{i}",
            "plan": rng.randrange(len(plans)),
            "hire": _day(rng, date(2025, 6, 1), date(2026, 12, 31)) if rng.random() < 0.3 else None,
        }
        for i in range(rng.randint(2, 4))
    ]
    dated = random.Random(seed * 7919 + 2)  # the other cases draw the same numbers as before
    with_changes = dated.random() < 0.4
    for i, rep in enumerate(reps):
        rep["manager"] = dated.choice([None, *(f"R{j}" for j in range(i))])
        rep["changes"] = _changes(dated, plans, rep) if with_changes else []
    if any(rep["changes"] for rep in reps):
        for plan in plans:
            _by_period(plan)
    deals, splits = [], {}
    for i in range(rng.randint(1, 9)):
        close = _day(rng, FIRST, date(2027, 3, 31))
        cancel = None
        if rng.random() < 0.3:
            cancel = close + timedelta(days=rng.choice([0, 10, 29, 30, 31, 60, 90, 91, 120]))
        deal = {
            "id": f"D{i}",
            "owner": rng.choice(reps)["id"],
            "amount": F(rng.randint(100, 40_000_000), 100),
            "close": close,
            "won": rng.random() < 0.9,
            "type": rng.choice(["New", "Renewal"]),
            "cancel": cancel if cancel is None or cancel <= LAST else None,
        }
        deals.append(deal)
        if rng.random() < 0.35:
            holders = rng.sample([r["id"] for r in reps], rng.randint(2, len(reps)))
            splits[deal["id"]] = list(zip(holders, _percents(rng, len(holders)), strict=True))
    rollup = dated.random() < 0.3
    case = {"plans": plans, "reps": reps, "deals": deals, "splits": splits, "rollup": rollup}
    _currencies_and_adjustments(case, random.Random(seed * 7919 + 1))
    return case


def _currencies_and_adjustments(case: dict[str, Any], rng: random.Random) -> None:
    """Dated rates, some deals in EUR or JPY, and adjustments in the reps' own period kinds."""
    rates = []
    for code, low, high in (("EUR", 70, 130), ("JPY", 9000, 18000)):
        start = _day(rng, date(2025, 12, 1), date(2026, 4, 1))
        for _ in range(rng.randint(1, 4)):
            rates.append((code, start, F(rng.randint(low * 100, high * 100), 10000)))
            start += timedelta(days=rng.randint(1, 200))
    case["rates"] = rates
    for deal in case["deals"]:
        deal["currency"] = rng.choice([None, None, "USD", "EUR", "JPY"])
        if deal["currency"] == "USD":
            deal["currency"] = None  # the plan currency, named
    adjustments = []
    for _ in range(rng.randint(0, 3)):
        rep = rng.choice(case["reps"])
        day = _day(rng, FIRST, LAST)
        kind = case["plans"][rep["plan"]]["period"]
        period = reference_calc.period_of(day, kind).name
        amount = F(rng.choice([-1, 1]) * rng.randint(1, 900_000), 100)
        adjustments.append((rep["id"], period, amount, rng.choice(["c", "adjustment"])))
    case["adjustments"] = [(r, p, a) for r, p, a, _ in adjustments]
    case["adjustment_components"] = [c for *_, c in adjustments]


def _dec(value: Fraction) -> str:
    return str(Decimal(value.numerator) / Decimal(value.denominator))


def _doc(case: dict[str, Any]) -> dict[str, Any]:
    out = []
    for p in case["plans"]:
        comp: dict[str, Any] = {"id": "c", "type": "commission"}
        if p["ytd"] is not None:
            comp["ytd"] = p["ytd"]
        if p["cap"]:
            comp["cap"] = p["cap"]
        if p["rate"] is not None:
            comp["rate"] = _dec(p["rate"])
        else:
            table = [{"from": _dec(s), "rate": _dec(r)} for s, r in p["tiers"]]
            comp["tiers"] = {"basis": "attainment", "mode": "marginal", "table": table}
        plan: dict[str, Any] = {
            "id": p["id"],
            "period": p["period"],
            "quota": {"amount": p["quota"]},
            "components": [comp],
            "negative_balance": p["negative"],
        }
        if p["rule"] is not None:
            plan["eligible"] = [
                {"field": "is_won", "op": "eq", "value": True},
                {"field": "type", "op": "eq", "value": p["rule"]},
            ]
        if p["bonus"] is not None:
            low, amount = p["bonus"]
            bonus = {
                "id": "b",
                "type": "bonus",
                "min_attainment": _dec(low),
                "amount": _dec(amount),
            }
            if p["bonus_ytd"]:
                bonus["ytd"] = "to_date" if p["ytd"] is None else p["ytd"]
            plan["components"].append(bonus)
        if p["ti"] is not None:
            target, bands = p["ti"]
            curve = {"table": [{"from": _dec(b), "multiplier": _dec(m)} for b, m in bands]}
            plan["components"].append(
                {"id": "ti", "type": "target_incentive", "target": _dec(target), "curve": curve}
            )
        if p["draw"] is not None:
            d = p["draw"]
            plan["draw"] = {
                "amount": d["amount"],
                "recoverable": d["recoverable"],
                "reset": "fiscal_year" if d["reset"] else "never",
            }
            if d["periods"] is not None:
                plan["draw"]["periods"] = d["periods"]
        if p["clawback"] is not None:
            c = p["clawback"]
            plan["clawback"] = {
                "window_days": c["window"],
                "percent": _dec(c["percent"]),
                "mode": c["mode"],
            }
        out.append(plan)
    return _crediting(case, out)


def _crediting(case: dict[str, Any], plans: list[dict[str, Any]]) -> dict[str, Any]:
    """The document: with rollup, every plan counts rollup credit too."""
    if not case.get("rollup"):
        return {"plans": plans}
    for plan in plans:
        plan["credit_types"] = ["owner", "split", "rollup"]
    return {"plans": plans, "crediting": {"rollup": {"levels": "all"}}}


def _rep(case: dict[str, Any], r: dict[str, Any]) -> Rep:
    plan_id = case["plans"][r["plan"]]["id"]
    if not r.get("changes"):
        return Rep(r["id"], plan_id=plan_id, hire_date=r["hire"], manager_id=r.get("manager"))
    rows = [(None, r["plan"], None, r.get("manager"))]
    rows += [(c["from"], c["plan"], c["quota"], c["manager"]) for c in r["changes"]]
    assignments = tuple(
        Assignment(
            start,
            rows[i + 1][0] - timedelta(days=1) if i + 1 < len(rows) else None,
            case["plans"][plan]["id"],
            manager,
            None if quota is None else Decimal(quota),
        )
        for i, (start, plan, quota, manager) in enumerate(rows)
    )
    last = assignments[-1]
    return Rep(
        r["id"],
        plan_id=last.plan_id,
        manager_id=last.manager_id,
        quota=last.quota,
        hire_date=r["hire"],
        assignments=assignments,
    )


def inputs(case: dict[str, Any]) -> dict[str, Any]:
    """The case as calc's inputs: keyword arguments of `calculate` (and of `Book`)."""
    reps = [_rep(case, r) for r in case["reps"]]
    deals = [
        Deal(
            id=d["id"],
            owner_id=d["owner"],
            amount=Decimal(_dec(d["amount"])),
            close_date=d["close"],
            is_won=d["won"],
            type=d["type"],
            cancel_date=d["cancel"],
            currency=d.get("currency"),
        )
        for d in case["deals"]
    ]
    rates = Rates(DatedRate(c, day, Decimal(_dec(r))) for c, day, r in case.get("rates", []))
    adjustments = [
        Adjustment(rep, period, Decimal(_dec(amount)), component, "generated")
        for (rep, period, amount), component in zip(
            case.get("adjustments", []), case.get("adjustment_components", []), strict=True
        )
    ]
    splits = [
        Split(deal_id, rep, Decimal(_dec(pct)))
        for deal_id, holders in case["splits"].items()
        for rep, pct in holders
    ]
    return {
        "doc": parse_plan_doc(_doc(case)),
        "reps": reps,
        "deals": deals,
        "splits": splits,
        "adjustments": adjustments,
        "rates": rates,
    }


def _engine(case: dict[str, Any], start: date) -> dict[tuple[str, str], dict[str, Fraction]]:
    result = calculate(**inputs(case), start=start, end=LAST)
    for r in result.results:
        # Lines add up to their component, true-ups and capped lines included.
        for name, amount in r.components:
            assert sum((ln.amount for ln in r.lines if ln.component == name), Decimal(0)) == amount
    return {
        (r.rep_id, r.period.name): {
            "quota": F(r.quota),
            "credit": F(r.credit),
            "attainment": F(r.attainment),
            "attainment_ytd": F(r.attainment_ytd),
            "gross": F(r.gross),
            "top_up": F(r.draw.top_up),
            "recovered": F(r.draw.recovered),
            "shortfall": F(r.draw.shortfall),
            "balance": F(r.draw.balance),
            "net": F(r.net),
        }
        for r in result.results
    }


@pytest.mark.slow
def test_engine_agrees_with_the_reference_calculator() -> None:
    mismatches = []
    compared = 0
    covered = {"converted": 0, "no rate": 0, "adjusted": 0}
    for seed in range(CASES):
        case = make_case(seed)
        for deal in case["deals"]:
            if deal["currency"] is not None:
                found = reference_calc.in_plan_currency(deal, case["rates"])
                covered["converted" if found is not None else "no rate"] += 1
        covered["adjusted"] += len(case["adjustments"])
        expected = reference_calc.calculate(case, since=FIRST, until=LAST)
        start = random.Random(seed).choice([FIRST, FIRST, date(2026, 7, 1), date(2027, 1, 1)])
        got = _engine(case, start)
        wanted = {k: v for k, v in expected.items() if _ends(k[1]) >= start}
        compared += 1
        if got != wanted:
            diff = sorted(
                (k, f, got.get(k, {}).get(f), v.get(f))
                for k, v in wanted.items()
                for f in v
                if got.get(k, {}).get(f) != v.get(f)
            )
            missing = sorted(set(got) ^ set(wanted))
            mismatches.append((seed, start, diff[:3], missing[:3]))
    assert compared == CASES
    assert min(covered.values()) > 200, covered
    assert not mismatches, f"{len(mismatches)} of {CASES} cases differ, e.g. {mismatches[:3]}"


def _ends(name: str) -> date:
    year = int(name[:4])
    if "-Q" in name:
        q = int(name[-1])
        nxt = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    else:
        month = int(name[5:])
        nxt = date(year + (month == 12), 1 if month == 12 else month + 1, 1)
    return nxt - timedelta(days=1)
