"""Pull benchmark: API calls and seconds for full and incremental pulls against a devorg.

    python bench/pull_bench.py                         # demo org: full pull, then 100 changes
    python bench/pull_bench.py --reps 10000 --deals 1000000 --skip-incremental
    python bench/pull_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1/x

Target: an incremental pull of N changed records costs at most ceil(N/2000) calls per
object plus a small constant (describes, one query per object).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

from connector.deps import PullOptions, SyncDeps, build_sync_deps
from connector.pull import PullOutcome, pull_once
from connector.salesforce.gateway import GatewayOptions
from connector.settings import Settings, load_settings
from connector.store.engine import make_engine
from connector.store.migrate import upgrade
from devorg.credentials import ADMIN_USERNAME
from devorg.process import DevorgInfo, start_devorg

API = "/services/data/v62.0"


def _settings(info: DevorgInfo, database_url: str) -> Settings:
    return load_settings(info.quotaflow_env(database_url=database_url, auth="jwt"))


def _deps(settings: Settings, *, lookback: timedelta) -> SyncDeps:
    engine = make_engine(settings)
    upgrade(engine)
    return build_sync_deps(
        settings,
        engine=engine,
        gateway_options=GatewayOptions(page_size=2000),
        pull_options=PullOptions(lookback=lookback),
    )


def _settle() -> None:
    # SOQL datetimes have whole seconds: a run leaves changes of its starting second to the next.
    now = time.time()
    time.sleep(math.ceil(now) - now + 0.01)


def _report(label: str, outcome: PullOutcome) -> None:
    if outcome.result is None:
        raise SystemExit(f"{label}: failed: {outcome.error}")
    result = outcome.result
    fetched = sum(c.fetched for c in result.objects.values())
    changed = sum(c.changed for c in result.objects.values())
    print(
        f"{label}: {result.api_calls} API calls, {result.seconds:.1f} s, "
        f"{fetched:,} rows fetched, {changed:,} canonical changes"
    )
    for name, counts in result.objects.items():
        print(f"    {name}: {counts.fetched:,} fetched in {counts.pages} pages")


def _change_deals(info: DevorgInfo, n: int) -> int:
    """Update `n` opportunities over REST (not through the connector); returns n."""
    http = requests.Session()
    http.verify = info.ca_cert
    http.trust_env = False
    form = {
        "grant_type": "password",
        "client_id": info.client_id,
        "client_secret": info.client_secret,
        "username": ADMIN_USERNAME,  # creates deals as a person would
        "password": info.password + info.security_token,
    }
    token = http.post(f"{info.login_url}/services/oauth2/token", data=form).json()
    http.headers["Authorization"] = f"Bearer {token['access_token']}"
    soql = f"SELECT Id, Amount FROM Opportunity WHERE IsClosed = false LIMIT {n}"
    rows = http.get(f"{info.instance_url}{API}/query/", params={"q": soql}).json()["records"]
    for start in range(0, len(rows), 200):
        batch: list[dict[str, Any]] = [
            {"attributes": {"type": "Opportunity"}, "Id": r["Id"], "Amount": (r["Amount"] or 0) + 1}
            for r in rows[start : start + 200]
        ]
        response = http.patch(
            f"{info.instance_url}{API}/composite/sobjects/", json={"records": batch}
        )
        response.raise_for_status()
    return len(rows)


def run(args: argparse.Namespace) -> None:
    """Start the devorg, pull in full, change some deals, pull incrementally; print figures."""
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="pull-bench-"))
    scaled = {"reps": args.reps, "deals": args.deals} if args.deals else {}
    started = time.monotonic()
    with start_devorg(data_dir / "org", seed="demo", **scaled) as info:
        print(f"devorg ready in {time.monotonic() - started:.1f} s ({data_dir})")
        url = args.database_url or f"sqlite:///{data_dir / 'quotaflow.db'}"
        settings = _settings(info, url)
        deps = _deps(settings, lookback=timedelta(minutes=5))
        _settle()
        _report("full pull", pull_once(deps, org_id=info.org_id, mode="full"))
        if args.skip_incremental:
            return
        changed = _change_deals(info, args.changes)
        _settle()
        # The seeded data is seconds old, so the default 5-minute lookback would re-read all
        # of it here; a lookback of 0 shows the steady state, where it re-reads a few rows.
        steady = _deps(settings, lookback=timedelta(0))
        outcome = pull_once(steady, org_id=info.org_id)
        _report(f"incremental pull of {changed} changes", outcome)
        objects = len(outcome.result.objects) if outcome.result else 4
        target = objects * math.ceil(changed / 2000) + 6
        print(f"    target: <= {target} calls ({objects} objects x ceil(N/2000) + 6)")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--deals", type=int, default=None)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--skip-incremental", action="store_true")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
