"""Full calculation: N reps, M deals (10% split), a year of monthly periods; one-rep recompute.

Run: .venv/bin/python bench/calc_bench.py [--reps 10000] [--deals 1000000] [--profile]
       [--rollup] [--json] [--gc-pause] [--foreign 0.3] [--adjustments 5000] [--promoted 0.1]
`--foreign` puts that share of deals in EUR or GBP (monthly dated rates); `--adjustments`
pays that many adjustments to random reps and months; `--promoted` promotes that share of
the AEs mid-year (an effective-dated plan and manager change).
Prints generation time, full calculation wall time, peak RSS, and the time to recompute the
reps touched by one changed deal (owner, split partner, their managers).

A full run keeps ~3.5 million objects alive (deals, credits, lines); CPython's cyclic garbage
collector walks all of them a few times while they pile up, which costs about 40% of the run.
calc creates no reference cycles, so a one-shot process (the `quotaflow calc` CLI, a sync
worker) may pause the collector around the calculation: `--gc-pause` measures that.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import random
import resource
import time
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from calc.adjustments import Adjustment
from calc.book import Book
from calc.currency import DatedRate, Rates
from calc.engine import calculate_book
from calc.model import Assignment, Deal, Rep, Split
from calc.plan import PlanDoc, parse_plan_doc
from calc.render import to_json

PLAN = {
    "plans": [
        {
            "id": "ae",
            "period": "month",
            "quota": {"annual": 1200000},
            "components": [
                {
                    "id": "commission",
                    "type": "commission",
                    "tiers": {
                        "basis": "attainment",
                        "table": [
                            {"from": 0, "rate": 0.05},
                            {"from": 0.5, "rate": 0.08},
                            {"from": 1, "rate": 0.12},
                        ],
                    },
                },
                {
                    "id": "spiff",
                    "type": "spiff",
                    "window": {"start": date(2026, 1, 1), "end": date(2026, 3, 31)},
                    "criteria": [{"field": "product_family", "value": "Analytics"}],
                    "payout": {"per_deal": 500},
                    "max_payouts": 5,
                },
                {"id": "bonus", "type": "bonus", "min_attainment": 1, "amount": 2000},
            ],
        },
        {
            "id": "mgr",
            "period": "month",
            "credit_types": ["rollup"],
            "quota": {"amount": 2000000},
            "components": [
                {
                    "id": "override",
                    "type": "commission",
                    "rate": 0.01,
                    "gate": {"min_attainment": 0.5},
                }
            ],
        },
    ],
}
FAMILIES = ("Core", "Analytics", "Platform", "Services")


def _promote(rep: Rep, rng: random.Random, n_mgr: int) -> Rep:
    """The rep promoted to `sae` under another manager on a random day of 2026."""
    day = date(2026, 1, 2) + timedelta(days=rng.randrange(360))
    new_manager = f"M{rng.randrange(n_mgr):05d}"
    rows = (
        Assignment(None, day - timedelta(days=1), "ae", rep.manager_id),
        Assignment(day, None, "sae", new_manager),
    )
    return replace(rep, plan_id="sae", manager_id=new_manager, assignments=rows)


def generate(
    n_reps: int, n_deals: int, *, seed: int = 7, rollup: bool = False, promoted: float = 0.0
) -> tuple[PlanDoc, list[Rep], list[Deal], list[Split]]:
    """Reps (1 manager per 20), deals across 2026, 10% with a 60/40 revenue split; a share
    of the AEs promoted mid-year (effective-dated plan and manager change)."""
    rng = random.Random(seed)
    n_mgr = max(1, n_reps // 20)
    managers = [Rep(id=f"M{i:05d}", plan_id="mgr") for i in range(n_mgr)]
    aes = [
        Rep(id=f"R{i:05d}", manager_id=f"M{i % n_mgr:05d}", plan_id="ae")
        for i in range(n_reps - n_mgr)
    ]
    dated = random.Random(seed + 1)
    aes = [_promote(r, dated, n_mgr) if dated.random() < promoted else r for r in aes]
    deals: list[Deal] = []
    splits: list[Split] = []
    day0 = date(2026, 1, 1)
    for i in range(n_deals):
        owner = aes[rng.randrange(len(aes))].id
        deal = Deal(
            id=f"D{i:07d}",
            owner_id=owner,
            amount=Decimal(rng.randrange(100_000, 10_000_000)) / 100,
            close_date=day0 + timedelta(days=rng.randrange(365)),
            is_won=rng.random() < 0.9,
            product_family=FAMILIES[rng.randrange(4)],
        )
        deals.append(deal)
        if i % 10 == 0:
            other = aes[rng.randrange(len(aes))].id
            if other != owner:
                splits += [Split(deal.id, owner, Decimal(60)), Split(deal.id, other, Decimal(40))]
    plan = dict(PLAN, crediting={"rollup": {"levels": 1}}) if rollup else PLAN
    if promoted:
        ae = plan["plans"][0]
        sae = dict(ae, id="sae", quota={"annual": 1800000})
        plan = dict(plan, plans=[*plan["plans"], sae])
    return parse_plan_doc(plan), managers + aes, deals, splits


def currencies_and_adjustments(
    reps: list[Rep], deals: list[Deal], *, foreign: float, adjustments: int, seed: int = 11
) -> tuple[list[Deal], Rates | None, list[Adjustment]]:
    """A share of deals moved to EUR or GBP with monthly dated rates; random adjustments."""
    rng = random.Random(seed)
    rates = None
    if foreign > 0:
        rates = Rates(
            DatedRate(code, date(2025, 12, 1) + timedelta(days=31 * m), Decimal(base + m) / 100)
            for code, base in (("EUR", 88), ("GBP", 75))
            for m in range(14)
        )
        deals = [
            replace(d, currency=rng.choice(("EUR", "GBP"))) if rng.random() < foreign else d
            for d in deals
        ]
    aes = [r.id for r in reps if r.plan_id == "ae"]
    paid = [
        Adjustment(
            aes[rng.randrange(len(aes))],
            f"2026-{rng.randrange(1, 13):02d}",
            Decimal(rng.randrange(-50_000, 100_000)) / 100 or Decimal(1),
            reason="bench",
        )
        for _ in range(adjustments)
    ]
    return deals, rates, paid


@dataclass(frozen=True, slots=True)
class _Probe:
    a: int
    b: int
    c: int
    d: int
    e: int
    f: int
    g: int


def _calibrate() -> float:
    """Seconds for a fixed CPU-bound probe, to tell a slow run from a busy machine."""
    t0 = time.perf_counter()
    for i in range(300_000):
        _Probe(i, 2, 3, 4, 5, 6, 7)
    return time.perf_counter() - t0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the full calculation")
    parser.add_argument(
        "--rollup", action="store_true", help="managers get rollup credit (1 level)"
    )
    parser.add_argument("--json", action="store_true", help="also time rendering the contract JSON")
    parser.add_argument(
        "--gc-pause", action="store_true", help="pause the cyclic GC during the calculation"
    )
    parser.add_argument(
        "--promoted",
        type=float,
        default=0.0,
        help="share of AEs promoted mid-year (effective-dated plan and manager change)",
    )
    parser.add_argument("--foreign", type=float, default=0.0, help="share of deals in EUR/GBP")
    parser.add_argument("--adjustments", type=int, default=0, help="adjustments to pay")
    args = parser.parse_args()
    probe = _calibrate()
    t0 = time.perf_counter()
    doc, reps, deals, splits = generate(
        args.reps, args.deals, rollup=args.rollup, promoted=args.promoted
    )
    deals, rates, adjustments = currencies_and_adjustments(
        reps, deals, foreign=args.foreign, adjustments=args.adjustments
    )
    dated = sum(1 for r in reps if r.assignments)
    print(
        f"generated {len(reps)} reps ({dated} promoted mid-year), {len(deals)} deals, "
        f"{len(splits)} split rows ({args.foreign:.0%} in EUR/GBP, {len(adjustments)} "
        f"adjustments) in {time.perf_counter() - t0:.1f}s"
    )
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    profiler = cProfile.Profile() if args.profile else None
    t0, c0 = time.perf_counter(), time.process_time()
    if args.gc_pause:
        gc.disable()
    if profiler:
        profiler.enable()
    book = Book(doc, reps, deals, splits, adjustments=adjustments, rates=rates)
    result = calculate_book(book, start=start, end=end)
    if profiler:
        profiler.disable()
    gc.enable()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    lines = sum(len(r.lines) for r in result.results)
    print(
        f"full calculation: {wall:.1f}s wall, {cpu:.1f}s CPU "
        f"(load average {os.getloadavg()[0]:.1f}); "
        f"{len(result.results)} results, {len(result.credits)} credits, {lines} lines"
        + ("; cyclic GC paused" if args.gc_pause else "")
    )
    print(f"peak RSS: {_peak_mb():.0f} MB")
    print(f"machine probe: {probe:.2f}s before, {_calibrate():.2f}s after (about 0.28s when idle)")
    if args.json:
        t0 = time.perf_counter()
        size = len(to_json(result))
        print(
            f"to_json: {time.perf_counter() - t0:.1f}s, {size / 1e6:.0f} MB; "
            f"peak RSS {_peak_mb():.0f} MB"
        )
    t0 = time.perf_counter()
    book.touching("")  # builds the rep -> deals index once (a sync service keeps its Book)
    print(f"rep -> deals index built in {time.perf_counter() - t0:.1f}s")
    _recompute(book, deals, splits, start=start, end=end)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def _recompute(
    book: Book, deals: list[Deal], splits: list[Split], *, start: date, end: date
) -> None:
    """Change one split deal's amount, then recompute the year of every rep it touches."""
    split_deal = splits[0].deal_id
    deal = book.deals[split_deal]
    times = []
    for bump in range(5):
        t0 = time.perf_counter()
        book.put_deal(replace(deal, amount=(deal.amount or Decimal(0)) + bump + 1))
        touched = {s.rep_id for s in book.splits[split_deal]} | {deal.owner_id or ""}
        touched |= {m for r in list(touched) for m in book.chain(r).managers[:1]}
        sub = calculate_book(book, start=start, end=end, rep_ids=touched)
        times.append(time.perf_counter() - t0)
    print(
        f"recompute after one deal change ({len(touched)} reps: owner, split partner, managers; "
        f"{len(sub.results)} period results): median {sorted(times)[2] * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms, first {times[0] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
