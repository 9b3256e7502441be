"""Query throughput of the devorg through simple-salesforce.

Seeds a scaled org in a fresh data directory (default 10,000 users and 1,000,000
opportunities), then pulls every opportunity with `query_all_iter` at batch size 2000
and prints seed time, records per second and the API calls the pull used.

    .venv/bin/python bench/devorg_query_bench.py [--reps N --deals N] [--batch 2000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import requests
from simple_salesforce import Salesforce

from devorg.process import DevorgInfo, start_devorg

SOQL = (
    "SELECT Id, Name, AccountId, OwnerId, Amount, CloseDate, StageName, IsWon, "
    "SystemModstamp FROM Opportunity ORDER BY SystemModstamp, Id"
)


def client(info: DevorgInfo) -> tuple[Salesforce, requests.Session]:
    """simple-salesforce on the devorg as the integration user (client credentials)."""
    session = requests.Session()
    session.verify = info.ca_cert
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify`
    token = session.post(
        info.login_url + "/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": info.client_id,
            "client_secret": info.client_secret,
        },
        timeout=60,
    ).json()["access_token"]
    sf = Salesforce(
        instance_url=info.instance_url, session_id=token, session=session, version="62.0"
    )
    return sf, session


def run(data_dir: Path, *, reps: int, deals: int, batch: int) -> None:
    """Seed, pull everything once, print the figures."""
    started = time.perf_counter()
    with start_devorg(data_dir, seed="demo", reps=reps, deals=deals) as info:
        ready = time.perf_counter() - started
        sf, session = client(info)
        stats_url = info.instance_url + "/__devorg/stats"
        seed = session.get(stats_url, timeout=60).json()["seed"] or {}
        print(
            f"seed: {seed.get('counts')} in {seed.get('seconds')} s "
            f"(process ready after {ready:.1f} s)"
        )
        session.post(stats_url + "/reset", timeout=60)
        t0 = time.perf_counter()
        first_page_at = None
        count = 0
        for _ in sf.query_all_iter(SOQL, headers={"Sforce-Query-Options": f"batchSize={batch}"}):
            count += 1
            if first_page_at is None:
                first_page_at = time.perf_counter() - t0
        elapsed = time.perf_counter() - t0
        stats = session.get(stats_url, timeout=60).json()
        rate = count / elapsed
        print(
            f"query: {count:,} records at batch size {batch} in {elapsed:.1f} s = "
            f"{rate:,.0f} records/s (first page after {first_page_at or 0:.2f} s)"
        )
        print(f"API calls: {stats['api_calls']} {stats['by_kind']}")


def main(argv: list[str] | None = None) -> int:
    """Parse flags and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--data-dir", type=Path, help="default: a temporary directory")
    args = parser.parse_args(argv)
    if args.data_dir:
        run(args.data_dir, reps=args.reps, deals=args.deals, batch=args.batch)
        return 0
    with tempfile.TemporaryDirectory(prefix="devorg-bench-") as tmp:
        run(Path(tmp), reps=args.reps, deals=args.deals, batch=args.batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
