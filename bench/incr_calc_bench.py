"""The calculate stage of a steady-state incremental run, in process, at growing org sizes.

.venv/bin/python bench/incr_calc_bench.py --sizes 100000,300000 [--changes 100] [--runs 3]

For each size: calc_bench's generated org (one rep per 100 deals, a manager per 20 reps
with rollup, deals across 2026), the full calculation of the sync's window, then `--runs`
incremental steps of `--changes` random won deals each getting +1,000: the deals are put
into the kept Book and the calculate stage's work is timed as the sync does it (touched
reps, their results with kept periods and kept renderings, the owners' open-deal estimates).
The Book remembers its full calculation's credits and the heap is settled after each run, as
the sync's kept state does (connector/sync/state.py). Wall and CPU seconds are printed: on a
shared machine the CPU seconds of the process are the steadier figure.
No devorg and no database: the pull and store stages are measured by sync_bench.py.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from dataclasses import replace
from datetime import date

from calc_bench import generate

from calc.book import Book
from calc.engine import KeptPeriods
from calc.estimate import owner_estimates
from connector.sync.compute import Rendered, affected_deals, compute_results, open_deals
from connector.sync.scope import current_recipients
from connector.sync.stages import calc_window
from connector.sync.state import settle_heap

AS_OF = date(2026, 11, 16)


def _step(
    book: Book,
    rng: random.Random,
    kept: dict[str, KeptPeriods],
    rendered: dict[str, Rendered],
    n: int,
) -> tuple[float, float, int]:
    """One incremental calculation after n changed won deals: seconds, CPU seconds of this
    process (less disturbed by other work on a shared machine) and reps recomputed."""
    won = [d for d in book.deals.values() if d.is_won]
    changed = rng.sample(won, n)
    before = current_recipients(book, [d.id for d in changed])
    started, cpu = time.perf_counter(), time.process_time()
    for deal in changed:
        book.put_deal(replace(deal, amount=(deal.amount or 0) + 1000))
    ids = {d.id for d in changed}
    reps = before | current_recipients(book, ids)
    window = calc_window(AS_OF, 1)
    computed = compute_results(
        book, reps, start=window[0], end=window[1], credit_deals=ids, kept=kept, rendered=rendered
    )
    deals = affected_deals(book, computed, extra=ids, window=window)
    owner_estimates(book, open_deals(book, deals), as_of=AS_OF)
    rendered.update(computed.rendered or {})  # as CalcState.remember does once committed
    return time.perf_counter() - started, time.process_time() - cpu, len(reps)


def main(argv: list[str] | None = None) -> None:
    """Print the growth table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000")
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        doc, reps, deals, splits = generate(max(20, size // 100), size, rollup=True)
        book = Book(doc, reps, deals, splits)
        book.remember_credits = True  # as the sync's kept state does (connector/sync/state.py)
        window = calc_window(AS_OF, 1)
        gc.disable()
        started, cpu = time.perf_counter(), time.process_time()
        compute_results(book, None, start=window[0], end=window[1])
        full, full_cpu = time.perf_counter() - started, time.process_time() - cpu
        gc.enable()
        settle_heap()  # as the sync does when it keeps the state
        rng = random.Random(18)
        kept: dict[str, KeptPeriods] = {}
        rendered: dict[str, Rendered] = {}
        steps = []
        for _ in range(args.runs):
            steps.append(_step(book, rng, kept, rendered, args.changes))
            settle_heap()
        rows.append((size, len(reps), full, full_cpu, steps))
        print(f"{size:>9,} deals: full {full:.2f} s (CPU {full_cpu:.2f} s); incremental "
              + ", ".join(f"{s:.2f} s (CPU {c:.2f} s, {r} reps)" for s, c, r in steps),
              flush=True)  # fmt: skip
    head = f"{'deals':>9} {'reps':>6} {'full calc s':>12} {'CPU s':>7}"
    print(f"\n{head} {'incr. first s':>14} {'CPU s':>7} {'incr. later s':>14} {'CPU s':>7}")
    for size, n_reps, full, full_cpu, steps in rows:
        n = max(1, len(steps) - 1)
        later = sum(s for s, _c, _r in steps[1:]) / n
        later_cpu = sum(c for _s, c, _r in steps[1:]) / n
        print(f"{size:>9,} {n_reps:>6,} {full:>12.2f} {full_cpu:>7.2f} {steps[0][0]:>14.2f} "
              f"{steps[0][1]:>7.2f} {later:>14.2f} {later_cpu:>7.2f}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
