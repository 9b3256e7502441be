"""Sync figures against a local devorg: first full sync, incremental after 100 changes,
and change-to-CRM latency with the clock.

.venv/bin/python bench/sync_bench.py demo                 # demo org: full, incremental, echo
.venv/bin/python bench/sync_bench.py scaled --reps 2000 --deals 200000 [--devorg-dir DIR]
.venv/bin/python bench/sync_bench.py latency --changes 20 --interval 10
.venv/bin/python bench/sync_bench.py growth --sizes 100000,300000 [--lookback 60]
Add --pg URL to use PostgreSQL instead of a SQLite file. `--devorg-dir` starts the devorg on
a copy of an already seeded data directory (seeding 200k deals takes minutes).
`--devorg-cache DIR` (scaled and growth) keeps each size's seeded devorg under DIR
(`org-<reps>-<deals>`): seeded there the first time, copied for every run after, so a 1M org
is seeded once.

`scaled` prints: the first full sync by stage; the full pull's rows/s beside simple-salesforce
`query_all_iter` with the same SOQL on the same devorg in the same run; incremental runs
after 100 changes: the first after the full sync's write-back (its echo is re-read), then
steady state (state kept in the process), then one in a fresh process state (loaded).

`growth` prints the cost growth table: for each org size (one rep per 100 deals), the full
sync's calculate stage and the steady-state incremental run after 100 changes (total and
calculate stage), so an incremental run that grows with the org shows at once.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from devorg_query_bench import client as raw_client

from connector.clock import ClockOptions, SyncWorker, run_clock
from connector.deps import PullOptions, SyncDeps, build_sync_deps
from connector.pull.describes import load_describes
from connector.pull.specs import select_fields, spec_for
from connector.salesforce.soql import incremental_query
from connector.settings import Settings, load_settings
from connector.store.migrate import upgrade
from connector.sync import SyncSummary, run_sync
from connector.sync.plans import ensure_demo_plan
from devorg.credentials import ADMIN_USERNAME
from devorg.process import DevorgInfo, start_devorg

API = "/services/data/v62.0"


class Org:
    """A plain client of the devorg for making changes and reading values."""

    def __init__(self, info: DevorgInfo) -> None:
        self.info = info
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = info.ca_cert
        token = self.http.post(
            f"{info.login_url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": info.client_id,
                "client_secret": info.client_secret,
                "username": ADMIN_USERNAME,  # edits the CRM as a person would
                "password": info.password + (info.security_token or ""),
            },
        ).json()
        self.http.headers["Authorization"] = f"Bearer {token['access_token']}"

    def query(self, soql: str) -> list[dict[str, Any]]:
        body = self.http.get(f"{self.info.instance_url}{API}/query/", params={"q": soql}).json()
        return list(body["records"])

    def update(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 200):
            body = {"allOrNone": True, "records": records[start : start + 200]}
            answer = self.http.patch(f"{self.info.instance_url}{API}/composite/sobjects", json=body)
            assert answer.ok and all(r["success"] for r in answer.json()), answer.text

    def write_calls(self) -> int:
        stats = self.http.get(f"{self.info.instance_url}/__devorg/stats").json()
        return int(stats["by_kind"].get("composite_update", 0))


def _settings(info: DevorgInfo, database_url: str) -> Settings:
    env = info.quotaflow_env(database_url=database_url, auth="password")
    return load_settings(env).with_overrides(secret_key="bench-0123456789abcdef0123456789abcdef")


def _report(label: str, summary: SyncSummary) -> None:
    stages = "  ".join(
        f"{k} {v:.2f}s" for k, v in summary.stage_seconds.items() if k != "scope_reps"
    )
    print(
        f"{label:<34} {summary.seconds:8.2f} s  API calls {summary.api_calls:6,}  "
        f"write calls {summary.write_calls:5,}  written {summary.written:8,}  "
        f"reps {summary.reps_recomputed:6,}  pulled {summary.pulled:9,}  [{stages}]",
        flush=True,
    )


def _next_second() -> None:
    time.sleep(1.05 - (time.time() % 1.0) + 0.05)


_PICK = random.Random(18)


def _changes(org: Org, n: int) -> list[dict[str, Any]]:
    """n won opportunities of this year get +1,000 on Amount (each changes its own commission):
    a random n of the first 20n by Id, so successive runs touch other deals and owners."""
    year = datetime.now(UTC).year
    won = org.query(
        f"SELECT Id, Amount FROM Opportunity WHERE IsWon = true AND CloseDate >= {year}-01-01 "
        f"ORDER BY Id LIMIT {20 * n}"
    )
    return [
        {"attributes": {"type": "Opportunity"}, "id": o["Id"], "Amount": (o["Amount"] or 0) + 1000}
        for o in sorted(_PICK.sample(won, min(n, len(won))), key=lambda o: str(o["Id"]))
    ]


def _pull_soql(deps: SyncDeps, org_id: str) -> list[tuple[str, str]]:
    """(object, SOQL) of a full pull, built as the connector builds them."""
    active = deps.mapping_source(org_id)
    describes = load_describes(deps.gateway, active.document)
    until = datetime.now(UTC).replace(microsecond=0)
    out = []
    for kind, mapping in active.document.targets().items():
        spec = spec_for(mapping.object, kind, describes[mapping.object])
        fields = select_fields(active.compiled.fields_to_pull(spec.name), describes[spec.name],
                               spec=spec)  # fmt: skip
        out.append((spec.name, incremental_query(spec.name, fields, since=None, until=until)))
    return out


def _raw_pull(info: DevorgInfo, soql: list[tuple[str, str]]) -> tuple[int, float]:
    """Rows and seconds of simple-salesforce `query_all_iter` (queryAll) over the same SOQL."""
    sf, _session = raw_client(info)
    rows, started = 0, time.perf_counter()
    for _name, text in soql:
        for _record in sf.query_all_iter(
            text, include_deleted=True, headers={"Sforce-Query-Options": "batchSize=2000"}
        ):
            rows += 1  # fmt: skip
    return rows, time.perf_counter() - started


def _seeded_copy(cache: Path | None, data: Path, *, reps: int, deals: int) -> None:
    """Copy the cached seeded devorg of this size to `data`, seeding the cache first if new."""
    if cache is None:
        return
    kept = cache / f"org-{reps}-{deals}"
    if not (kept / "devorg.db").exists():
        print(f"seeding {reps:,} reps / {deals:,} deals into {kept} (once)", flush=True)
        started = time.perf_counter()
        with start_devorg(kept, timeout=7200, seed="demo", reps=reps, deals=deals):
            pass
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    shutil.copytree(kept, data)


def bench_sync(
    tmp: Path,
    *,
    pg: str | None,
    devorg_dir: Path | None = None,
    devorg_cache: Path | None = None,
    lookback: int = 300,
    **seed: Any,
) -> None:
    """First full sync; full pull beside the raw client; incremental runs after 100 changes."""
    data = tmp / "devorg"
    if devorg_dir is not None:
        shutil.copytree(devorg_dir, data)
    else:
        _seeded_copy(devorg_cache, data, reps=seed["reps"], deals=seed["deals"])
    with start_devorg(data, timeout=3600, **seed) as info:
        deps = build_sync_deps(
            _settings(info, pg or f"sqlite:///{tmp / 'qf.db'}"),
            pull_options=PullOptions(lookback=timedelta(seconds=lookback)),
        )
        upgrade(deps.engine)
        org_id = deps.gateway.org_id()
        ensure_demo_plan(deps.sessions, org_id=org_id, now=datetime.now(UTC))
        org = Org(info)
        _next_second()
        full = run_sync(deps, mode="full")
        _report("first full sync", full)
        pull_seconds = full.stage_seconds.get("pull", 0.0)
        rows, seconds = _raw_pull(info, _pull_soql(deps, org_id))
        ours = full.pulled / pull_seconds if pull_seconds else 0.0
        raw = rows / seconds if seconds else 0.0
        print(
            f"{'full pull rows/s':<34} quotaflow {ours:9,.0f} ({full.pulled:,} rows in "
            f"{pull_seconds:.1f} s)  simple-salesforce query_all_iter {raw:9,.0f} ({rows:,} rows "
            f"in {seconds:.1f} s)  ratio {ours / raw if raw else 0:.2f}",
            flush=True,
        )
        org.update(_changes(org, 100))
        _next_second()
        _report("incr. 100 changes, after write-back", run_sync(deps, mode="incremental"))
        # Steady state: the write-back's echo is older than the pull's lookback window (a
        # lookback re-read of a stored record costs its fetch only).
        print(f"{'':<34} waiting {lookback} s (the lookback) for steady state", flush=True)
        time.sleep(lookback + 1)
        for i in (1, 2):
            org.update(_changes(org, 100))
            _next_second()
            _report(f"incr. 100 changes, steady state {i}", run_sync(deps, mode="incremental"))
        # A process that kept no state (the CLI, a restarted worker) loads every record once.
        if not hasattr(deps, "kept"):  # the code before kept state (run for comparison)
            deps.engine.dispose()
            return
        deps.kept.enabled = False
        org.update(_changes(org, 100))
        _next_second()
        summary = run_sync(deps, mode="incremental")
        _report("incr. 100 changes, state loaded", summary)
        print(
            f"{'':<34} records changed {summary.to_write:,}; write calls {summary.write_calls} "
            f"(ceil(changed/200) = {math.ceil(summary.to_write / 200)})"
        )
        deps.engine.dispose()


def _steady(deps: SyncDeps, org: Org, *, lookback: int) -> tuple[SyncSummary, SyncSummary]:
    """The first full sync, then the second steady-state incremental run after 100 changes."""
    _next_second()
    full = run_sync(deps, mode="full")
    _report("first full sync", full)
    org.update(_changes(org, 100))
    _next_second()
    _report("incr. 100 changes, after write-back", run_sync(deps, mode="incremental"))
    time.sleep(lookback + 1)  # the write-back's echo leaves the lookback window
    steady = full
    for i in (1, 2):
        org.update(_changes(org, 100))
        _next_second()
        steady = run_sync(deps, mode="incremental")
        _report(f"incr. 100 changes, steady state {i}", steady)
    return full, steady


def bench_growth(
    tmp: Path, *, pg: str | None, sizes: list[int], lookback: int, devorg_cache: Path | None
) -> None:
    """Full calculation and steady-state incremental time at each org size."""
    rows = []
    for deals in sizes:
        reps = max(10, deals // 100)
        print(f"--- {deals:,} deals, {reps:,} reps", flush=True)
        here = tmp / f"org-{deals}"
        here.mkdir()
        data = here / "devorg"
        _seeded_copy(devorg_cache, data, reps=reps, deals=deals)
        with start_devorg(data, timeout=7200, seed="demo", reps=reps, deals=deals) as info:
            deps = build_sync_deps(
                _settings(info, pg or f"sqlite:///{here / 'qf.db'}"),
                pull_options=PullOptions(lookback=timedelta(seconds=lookback)),
            )
            upgrade(deps.engine)
            ensure_demo_plan(deps.sessions, org_id=deps.gateway.org_id(), now=datetime.now(UTC))
            full, steady = _steady(deps, Org(info), lookback=lookback)
            deps.engine.dispose()
        rows.append((deals, reps, full, steady))
    print(f"\n{'deals':>9} {'reps':>6} {'full calculate s':>17} {'incremental s':>14} "
          f"{'incr. calculate s':>18} {'incr. store s':>14} {'incr. reps':>10}")  # fmt: skip
    for deals, reps, full, steady in rows:
        print(
            f"{deals:>9,} {reps:>6,} {full.stage_seconds.get('calculate', 0.0):>17.2f} "
            f"{steady.seconds:>14.2f} {steady.stage_seconds.get('calculate', 0.0):>18.2f} "
            f"{steady.stage_seconds.get('store', 0.0):>14.2f} {steady.reps_recomputed:>10,}"
        )


def bench_latency(tmp: Path, *, pg: str | None, changes: int, interval: int) -> None:
    """Change a deal, wait for its corrected Estimated_Commission__c: p50 and p95 seconds."""
    with start_devorg(tmp / "devorg", timeout=600) as info:
        deps = build_sync_deps(_settings(info, pg or f"sqlite:///{tmp / 'qf.db'}"))
        upgrade(deps.engine)
        ensure_demo_plan(deps.sessions, org_id=deps.gateway.org_id(), now=datetime.now(UTC))
        org = Org(info)
        _next_second()
        run_sync(deps, mode="full")
        worker = SyncWorker(deps, options=ClockOptions(interval_seconds=interval))
        stop = threading.Event()
        clock = threading.Thread(target=run_clock, args=(worker,), kwargs={"stop": stop})
        clock.start()
        latencies: list[float] = []
        try:
            for change in _changes(org, changes):
                # Changes arrive at random moments relative to the clock's ticks.
                time.sleep(random.uniform(0, interval))
                rid = change["id"]
                soql = f"SELECT Estimated_Commission__c FROM Opportunity WHERE Id = '{rid}'"
                before = org.query(soql)[0]["Estimated_Commission__c"]
                org.update([change])
                started = time.monotonic()
                while org.query(soql)[0]["Estimated_Commission__c"] == before:
                    time.sleep(0.1)
                latencies.append(time.monotonic() - started)
                print(f"change {len(latencies):2}: {latencies[-1]:.2f} s", flush=True)
        finally:
            stop.set()
            clock.join()
            deps.engine.dispose()
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    print(
        f"latency over {len(latencies)} changes, clock every {interval} s: "
        f"p50 {statistics.median(latencies):.2f} s  p95 {p95:.2f} s  max {ordered[-1]:.2f} s"
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run one benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["demo", "scaled", "latency", "growth"])
    parser.add_argument("--sizes", default="100000,300000", help="growth: deal counts")
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--interval", type=int, default=10)
    parser.add_argument("--pg", help="PostgreSQL URL (an empty database) instead of SQLite")
    parser.add_argument("--devorg-dir", type=Path, help="a seeded devorg data directory (copied)")
    parser.add_argument(
        "--devorg-cache", type=Path, help="scaled, growth: keep seeded devorgs here, by size"
    )
    parser.add_argument("--lookback", type=int, default=300, help="pull lookback, seconds")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        if args.what == "demo":
            bench_sync(Path(tmp), pg=args.pg, seed="demo")
        elif args.what == "scaled":
            bench_sync(
                Path(tmp), pg=args.pg, devorg_dir=args.devorg_dir, lookback=args.lookback,
                devorg_cache=args.devorg_cache, seed="demo", reps=args.reps, deals=args.deals,
            )  # fmt: skip
        elif args.what == "growth":
            sizes = [int(n) for n in args.sizes.split(",")]
            bench_growth(
                Path(tmp), pg=args.pg, sizes=sizes, lookback=args.lookback,
                devorg_cache=args.devorg_cache,
            )  # fmt: skip
        else:
            bench_latency(Path(tmp), pg=args.pg, changes=args.changes, interval=args.interval)


if __name__ == "__main__":
    main(sys.argv[1:])
