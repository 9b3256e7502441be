"""A full pull of Opportunities from the devorg: REST `query_all_iter` against Bulk API 2.0.

Seeds a scaled org in a fresh data directory (default 2,000 users and 200,000
opportunities), then pulls every opportunity with the same SOQL twice on the same devorg:
simple-salesforce's `query_all_iter` (REST, batch size 2000) and its `bulk2` query (one
job, CSV result sets of `--max-records`). Then writes one field of `--writes` of them
back both ways: sObject Collections PATCH (200 records a call) and one Bulk API 2.0 update
job. Prints rows per second, end to end, and the API calls each used (`/__devorg/stats`).

    .venv/bin/python bench/devorg_bulk_bench.py [--reps N --deals N] [--max-records 50000]
        [--writes 20000]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from devorg_query_bench import SOQL, client
from simple_salesforce import Salesforce

from devorg.process import DevorgInfo, start_devorg


def _stats(session: requests.Session, info: DevorgInfo, *, reset: bool = False) -> Any:
    url = info.instance_url + "/__devorg/stats"
    if reset:
        session.post(url + "/reset", timeout=60).raise_for_status()
        return None
    return session.get(url, timeout=60).json()


def _rest_pull(sf: Salesforce) -> set[str]:
    return {
        r["Id"] for r in sf.query_all_iter(SOQL, headers={"Sforce-Query-Options": "batchSize=2000"})
    }


def _bulk_pull(sf: Salesforce, max_records: int) -> set[str]:
    ids: set[str] = set()
    for page in sf.bulk2.Opportunity.query(SOQL, max_records=max_records, wait=0.2):
        ids.update(row["Id"] for row in csv.DictReader(io.StringIO(page)))
    return ids


def _rest_write(sf: Salesforce, rows: list[dict[str, str]]) -> int:
    failed = 0
    for start in range(0, len(rows), 200):
        chunk = [{"attributes": {"type": "Opportunity"}, **r} for r in rows[start : start + 200]]
        body = {"allOrNone": False, "records": chunk}
        results = sf.restful("composite/sobjects", method="PATCH", json=body)
        failed += sum(1 for r in results if not r["success"])
    return failed


def _bulk_write(sf: Salesforce, rows: list[dict[str, str]]) -> int:
    return sum(
        r["numberRecordsFailed"] for r in sf.bulk2.Opportunity.update(records=rows, wait=0.2)
    )


def _writes(sf: Salesforce, session: requests.Session, info: DevorgInfo, ids: list[str]) -> None:
    for name, write in (
        ("REST sObject Collections update", _rest_write),
        ("Bulk API 2.0 update job", _bulk_write),
    ):
        rows = [{"Id": rid, "Description": f"{name} {n}"} for n, rid in enumerate(ids)]
        _stats(session, info, reset=True)
        t0 = time.perf_counter()
        failed = write(sf, rows)
        elapsed = time.perf_counter() - t0
        stats = _stats(session, info)
        print(
            f"{name}: {len(rows):,} rows ({failed} failed) in {elapsed:.1f} s = "
            f"{len(rows) / elapsed:,.0f} rows/s; API calls {stats['api_calls']} "
            f"{stats['by_kind']}"
        )


def run(data_dir: Path, *, reps: int, deals: int, max_records: int, writes: int) -> None:
    """Seed, pull everything both ways, print the figures."""
    started = time.perf_counter()
    with start_devorg(data_dir, seed="demo", reps=reps, deals=deals, timeout=1800) as info:
        ready = time.perf_counter() - started
        sf, session = client(info)
        seed = _stats(session, info)["seed"] or {}
        print(
            f"seed: {seed.get('counts')} in {seed.get('seconds')} s "
            f"(process ready after {ready:.1f} s)"
        )
        results: dict[str, set[str]] = {}
        for name, pull in (
            ("REST query_all_iter", _rest_pull),
            ("Bulk API 2.0 query", lambda client: _bulk_pull(client, max_records)),
        ):
            _stats(session, info, reset=True)
            t0 = time.perf_counter()
            results[name] = pull(sf)
            elapsed = time.perf_counter() - t0
            stats = _stats(session, info)
            count = len(results[name])
            print(
                f"{name}: {count:,} rows in {elapsed:.1f} s = {count / elapsed:,.0f} rows/s; "
                f"API calls {stats['api_calls']} {stats['by_kind']}"
            )
        rest, bulk = results.values()
        print(f"same ids both ways: {rest == bulk}")
        if writes:
            _writes(sf, session, info, sorted(rest)[:writes])


def main(argv: list[str] | None = None) -> int:
    """Parse flags and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2_000)
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--max-records", type=int, default=50_000)
    parser.add_argument("--writes", type=int, default=20_000)
    parser.add_argument("--data-dir", type=Path, help="default: a temporary directory")
    args = parser.parse_args(argv)
    if args.data_dir:
        run(
            args.data_dir,
            reps=args.reps,
            deals=args.deals,
            max_records=args.max_records,
            writes=args.writes,
        )
        return 0
    with tempfile.TemporaryDirectory(prefix="devorg-bulk-bench-") as tmp:
        run(
            Path(tmp),
            reps=args.reps,
            deals=args.deals,
            max_records=args.max_records,
            writes=args.writes,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
