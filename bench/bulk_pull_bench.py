"""Full pull and write-back through the connector, REST and Bulk API 2.0, beside simple-salesforce.

Seeds a scaled devorg (default 2,000 reps, 200,000 deals), then on the same devorg and in
the same run:
- raw simple-salesforce `query_all_iter` (batch size 2000) and `sf.bulk2` queries with the
  SOQL the connector's pull sends for each object (Opportunity, User, splits, team members);
- the connector's full pull into a fresh store through REST (QUOTAFLOW_BULK_THRESHOLD=0) and
  through Bulk API 2.0 query jobs (threshold 1);
- a write-back of one value on `--writes` Opportunities through the connector's send path
  (one ingest job) and raw `sf.bulk2` update; the REST path's calls for the same count are
  ceil(N/200) (sObject Collections, 200 records a call), measured on `--rest-writes`.
Prints rows per second and API calls, per object for the pulls.

    .venv/bin/python bench/bulk_pull_bench.py [--reps 2000 --deals 200000] [--writes N]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from devorg_query_bench import client
from simple_salesforce import Salesforce

from connector.deps import PullOptions, SyncDeps, build_sync_deps
from connector.pull import PullOutcome, pull_once
from connector.salesforce.bulk_writes import send_records
from connector.salesforce.gateway import GatewayOptions
from connector.salesforce.soql import incremental_query
from connector.settings import load_settings
from connector.store.engine import make_engine
from connector.store.migrate import upgrade
from devorg.process import DevorgInfo, start_devorg

FROM = re.compile(r"\bFROM\s+([A-Za-z0-9_]+)", re.IGNORECASE)


class CallsByObject:
    """A response hook that attributes each API call to the object it reads or writes."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.jobs: dict[str, str] = {}
        self.current = "other"  # the object of the last query: its nextRecordsUrl pages

    def __call__(self, response: requests.Response, *_a: Any, **_k: Any) -> None:
        url = response.url
        if "/services/data/" not in url:
            return
        self.calls[self._object(response) or "other"] += 1

    def _object(self, response: requests.Response) -> str | None:
        url, body = response.url, response.request.body
        if "/jobs/" in url:
            if response.request.method == "POST" and response.ok:
                sent = json.loads(body or b"{}")
                found = FROM.search(sent.get("query", "")) if "query" in sent else None
                name = found.group(1) if found else sent.get("object")
                self.jobs[response.json()["id"]] = str(name)
                return str(name)
            parts = url.split("/jobs/")[1].split("?")[0].split("/")
            return self.jobs.get(parts[1]) if len(parts) > 1 else "job lists"
        if "/query" in url:
            found = FROM.search(requests.utils.unquote(url).replace("+", " "))
            if found:
                self.current = found.group(1)
            return self.current
        if url.endswith("/describe"):
            return "describes"
        if "/sobjects/" in url:
            return url.split("/sobjects/")[1].split("/")[0]
        return None


def _deps(info: DevorgInfo, url: str, threshold: int, write_threshold: int) -> SyncDeps:
    settings = load_settings(info.quotaflow_env(database_url=url, auth="jwt")).with_overrides(
        bulk_threshold=threshold, bulk_write_threshold=write_threshold
    )
    engine = make_engine(settings)
    upgrade(engine)
    return build_sync_deps(
        settings,
        engine=engine,
        gateway_options=GatewayOptions(page_size=2000),
        pull_options=PullOptions(lookback=timedelta(0)),
    )


def _connector_pull(label: str, deps: SyncDeps, org_id: str) -> PullOutcome:
    hook = CallsByObject()
    deps.gateway.http.hooks["response"].append(hook)
    now = time.time()
    time.sleep(math.ceil(now) - now + 0.01)  # changes of the starting second go to the next run
    outcome = pull_once(deps, org_id=org_id, mode="full")
    if outcome.result is None:
        raise SystemExit(f"{label}: failed: {outcome.error}")
    result = outcome.result
    # Rows stored once each (a Bulk pull also re-reads the rows at the first page's last
    # SystemModstamp, dropped as already stored).
    stored = sum(c.stored for c in result.objects.values())
    print(
        f"connector full pull, {label}: {stored:,} rows in {result.seconds:.1f} s = "
        f"{stored / result.seconds:,.0f} rows/s; {result.api_calls} API calls; {_load()}"
    )
    for name, counts in result.objects.items():
        print(
            f"    {name}: {counts.stored:,} rows ({counts.fetched:,} read), "
            f"{hook.calls[name]} calls "
            f"({counts.bulk_jobs} query jobs, {counts.bulk_fallbacks} fallbacks)"
        )
    others = {k: v for k, v in hook.calls.items() if k not in result.objects}
    print(f"    other calls: {others}")
    return outcome


def _raw_rest(sf: Salesforce, soql: str) -> int:
    headers = {"Sforce-Query-Options": "batchSize=2000"}
    return sum(1 for _ in sf.query_all_iter(soql, include_deleted=True, headers=headers))


def _raw_bulk(sf: Salesforce, object_name: str, soql: str) -> int:
    rows = 0
    pages = getattr(sf.bulk2, object_name).query_all(soql, max_records=100_000, wait=0.25)
    for page in pages:
        rows += sum(1 for _ in csv.DictReader(io.StringIO(page)))
    return rows


def _raw(label: str, sf: Salesforce, soqls: dict[str, str], read: Callable[..., int]) -> None:
    t0 = time.perf_counter()
    rows = 0
    for name, soql in soqls.items():
        rows += read(sf, name, soql)
    elapsed = time.perf_counter() - t0
    rate = rows / elapsed
    print(
        f"raw simple-salesforce {label}: {rows:,} rows in {elapsed:.1f} s = {rate:,.0f} rows/s; "
        f"{_load()}"
    )


def _load() -> str:
    """The load average beside each figure: the machine is shared, and the figures move with it."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def _write_back(
    info: DevorgInfo, deps: SyncDeps, sf: Salesforce, ids: list[str], rest_n: int
) -> None:
    records = [
        ("Opportunity", rid, {"Estimated_Commission__c": (n % 9973) / 4})
        for n, rid in enumerate(ids)
    ]
    hook = CallsByObject()
    deps.gateway.http.hooks["response"].append(hook)
    t0 = time.perf_counter()
    stats = send_records(deps.gateway, records)
    elapsed = time.perf_counter() - t0
    print(
        f"connector write-back, Bulk API 2.0: {stats.written:,} of {len(records):,} values in "
        f"{elapsed:.1f} s = {len(records) / elapsed:,.0f} values/s; {stats.calls} API calls, "
        f"{len(stats.issues)} issues"
    )
    rows = [
        {"Id": rid, "Estimated_Commission__c": str((n % 9973) / 8)} for n, rid in enumerate(ids)
    ]
    t0 = time.perf_counter()
    results = sf.bulk2.Opportunity.update(records=rows, wait=0.25)
    elapsed = time.perf_counter() - t0
    failed = sum(r["numberRecordsFailed"] for r in results)
    print(
        f"raw simple-salesforce bulk2 update: {len(rows):,} values ({failed} failed) in "
        f"{elapsed:.1f} s = {len(rows) / elapsed:,.0f} values/s"
    )
    if rest_n:
        rest = _deps_like(deps, write_threshold=0)
        sample = [(o, r, {"Estimated_Commission__c": 1.5}) for o, r, _v in records[:rest_n]]
        t0 = time.perf_counter()
        done = send_records(rest.gateway, sample)
        elapsed = time.perf_counter() - t0
        print(
            f"connector write-back, REST: {done.written:,} values in {elapsed:.1f} s = "
            f"{len(sample) / elapsed:,.0f} values/s; {done.calls} API calls "
            f"(for {len(records):,} values: ceil(N/200) = {math.ceil(len(records) / 200):,})"
        )


def _deps_like(deps: SyncDeps, *, write_threshold: int) -> SyncDeps:
    settings = deps.settings.with_overrides(bulk_write_threshold=write_threshold)
    return build_sync_deps(settings, engine=deps.engine)


def run(data_dir: Path, args: argparse.Namespace) -> None:
    """Seed, pull and write both ways, print the figures."""
    started = time.perf_counter()
    seeded = {"reps": args.reps, "deals": args.deals}
    with start_devorg(data_dir / "org", seed="demo", timeout=3600, **seeded) as info:
        print(f"devorg seeded and ready in {time.perf_counter() - started:.1f} s")
        sf, _session = client(info)

        def url(name: str) -> str:
            return f"sqlite:///{data_dir / name}.db"

        bulk_deps = _deps(info, url("bulk"), 1, 1)
        if args.writes_only:
            ids = sorted(r["Id"] for r in sf.query_all_iter("SELECT Id FROM Opportunity"))
            _write_back(info, bulk_deps, sf, ids[: args.writes], args.rest_writes)
            return
        if args.skip_connector_rest:
            # The field lists come from the Bulk pull instead (the same SOQL either way).
            first = _connector_pull("Bulk API 2.0", bulk_deps, info.org_id)
        else:
            first = _connector_pull("REST", _deps(info, url("rest"), 0, 0), info.org_id)
        assert first.result is not None
        until = datetime.now(UTC).replace(microsecond=0)
        soqls = {
            name: incremental_query(name, fields, since=None, until=until)
            for name, fields in first.result.field_lists.items()
        }
        _raw("query_all_iter (REST)", sf, soqls, lambda c, _n, q: _raw_rest(c, q))
        _raw("bulk2 query (Bulk API 2.0)", sf, soqls, _raw_bulk)
        if not args.skip_connector_rest:
            _connector_pull("Bulk API 2.0", bulk_deps, info.org_id)
        if args.writes:
            ids = sorted(r["Id"] for r in sf.query_all_iter("SELECT Id FROM Opportunity"))[
                : args.writes
            ]
            _write_back(info, bulk_deps, sf, ids, args.rest_writes)


def main(argv: list[str] | None = None) -> int:
    """Parse flags and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2_000)
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--writes", type=int, default=200_000)
    parser.add_argument("--rest-writes", type=int, default=10_000)
    parser.add_argument(
        "--skip-connector-rest",
        action="store_true",
        help="leave out the connector's REST pull (its calls are ceil(rows/2000) per object)",
    )
    parser.add_argument("--writes-only", action="store_true", help="only the write-back part")
    parser.add_argument("--data-dir", type=Path, help="default: a temporary directory")
    args = parser.parse_args(argv)
    if args.data_dir:
        run(args.data_dir, args)
        return 0
    with tempfile.TemporaryDirectory(prefix="bulk-pull-bench-") as tmp:
        run(Path(tmp), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
