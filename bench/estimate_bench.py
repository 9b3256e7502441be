"""Open-deal owner estimates (`calc.estimate.owner_estimates`) on calc_bench's generated org.

Run: .venv/bin/python bench/estimate_bench.py [--reps 1000] [--deals 100000] [--runs 2]
       [--history]
Prints the CPU seconds of estimating every open deal's owner (as of 2026-06-15), per run,
on a Book that remembers the credits of its full calculation (managers with rollup), as the
sync's kept Book does: only the estimator is timed, not the crediting of the org.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from dataclasses import replace
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(__file__))

from calc_bench import generate

from calc.book import Book
from calc.estimate import owner_estimates


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--deals", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--history", action="store_true", help="add last year's deals, all won")
    args = ap.parse_args()
    doc, reps, deals, splits = generate(args.reps, args.deals, rollup=True)
    if args.history:
        # The sync's window holds last year and this year: a copy of 2026, a year earlier.
        deals += [
            replace(d, id=f"{d.id}-1", close_date=d.close_date - timedelta(days=365), is_won=True)
            for d in deals
            if d.close_date is not None
        ]
    open_ids = [d.id for d in deals if not d.is_won]
    book = Book(doc, reps, deals, splits, [])
    book.remember_credits = True
    book.credits()
    for run in range(args.runs):
        t0 = time.process_time()
        out = owner_estimates(book, open_ids, as_of=date(2026, 6, 15))
        cpu = time.process_time() - t0
        digest = hashlib.sha256(repr(sorted(out.items())).encode()).hexdigest()[:12]
        print(f"run {run}: {len(open_ids)} open deals, {cpu:.2f} CPU s, digest {digest}")
    print("uptime:", os.popen("uptime").read().strip())


if __name__ == "__main__":
    main()
