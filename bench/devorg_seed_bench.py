"""Time and peak memory of a scaled devorg seed into a fresh SQLite file.

.venv/bin/python bench/devorg_seed_bench.py [--reps 10000] [--deals 1000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from devorg import schema, seed


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> None:
    """Seed a fresh database file and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    before = _peak_rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "devorg.db"
        # The same connection settings as the devorg's store (WAL, autocommit mode).
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-65536")
        schema.create_tables(conn)
        started, cpu_started = time.perf_counter(), time.process_time()
        summary = seed.seed_scaled(
            conn, reps=args.reps, deals=args.deals, seed=args.seed, now_ms=int(time.time() * 1000)
        )
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        size_mb = path.stat().st_size / 1e6
    total = sum(summary.counts.values())
    print(f"seeded --reps {args.reps} --deals {args.deals} (seed {args.seed})")
    for name, count in summary.counts.items():
        print(f"  {name:<24}{count:>12,}")
    print(f"  {'total rows':<24}{total:>12,}")
    print(f"time: {elapsed:.2f} s wall ({total / elapsed:,.0f} rows/s), {cpu:.2f} s CPU")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"peak memory (ru_maxrss): {_peak_rss_mb():.0f} MB (before seeding: {before:.0f} MB)")
    print(f"database file: {size_mb:.0f} MB")


if __name__ == "__main__":
    main()
