"""Many orgs on the distributed workers: per-org lag and runs per minute for 1, 2, 4 workers.

Run: .venv/bin/python bench/multiorg_bench.py [--orgs 200] [--workers 1,2,4] [--minutes 3]
       [--concurrency 4] [--kill-every 45] [--latency-ms 100 --jitter-ms 200] [--without-broken]
       [--orgs-per-devorg 50] [--drain 90] [--settle 600]
Needs the local PostgreSQL (a throwaway database is created and dropped).

Each org is a devorg with a small seed (4 reps, 10 deals) whose every API call waits
latency..latency+jitter ms, as a real org's calls do; `--orgs-per-devorg` orgs share one devorg
process (`python -m devorg serve-many`: each org keeps its own port, certificate, database and
counters; a process per org would cost ~55 MB and a second of CPU each). One org's daily API
limit is exhausted and one org's refresh token is revoked. For each worker count,
`quotaflow worker` processes run for `--minutes` (the periodic tick queues every active org each
minute), one of them SIGKILLed and restarted every `--kill-every` seconds, then `--drain`
seconds to finish. Printed per worker count: the lag of the healthy orgs (seconds since their
last successful run, sampled every 5 s after the first minute) p50/p95/max, finished runs per
minute, the workers' CPU seconds per run, the load average, the broken orgs' runs, and the
checks: no two runs of an org overlapped, none ended "interrupted". After the last phase the
settle runs workers without the minute tick until every run has finished (the interrupted ones
resume), then: no run left unfinished, the devorgs' write counters (composite update calls)
equal the write calls the runs recorded, and no record update was a no-op (sent twice).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from connector.orgs.registry import register_connection, secret_box
from connector.salesforce.webflow import Connection
from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.models import SyncRun
from connector.sync.plans import ensure_demo_plan
from connector.tasks.engine import ensure_schema
from devorg.credentials import INTEGRATION_USERNAME, Credentials
from devorg.process import DevorgInfo, start_devorgs
from devorg.schema import id_suffix

PG_ADMIN = os.environ.get(
    "QUOTAFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new PostgreSQL database, dropped at the end."""
    name = f"qf_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _share_app(data_dirs: list[Path]) -> None:
    """One connected app for every org (as in production), each org its own id and user."""
    client_id, client_secret = "3MVG9" + uuid.uuid4().hex * 2, uuid.uuid4().hex.upper() * 2
    for data_dir in data_dirs:
        org15 = "00D" + uuid.uuid4().hex[:12].upper()
        creds = Credentials(
            org15 + id_suffix(org15), client_id, client_secret, INTEGRATION_USERNAME,
            "Qf-" + uuid.uuid4().hex[:12], uuid.uuid4().hex[:20],
        )  # fmt: skip
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "credentials.json").write_text(json.dumps(creds.__dict__))


def start_orgs(stack: ExitStack, tmp: Path, args: argparse.Namespace) -> list[DevorgInfo]:
    """`args.orgs` devorgs sharing one connected app, `--orgs-per-devorg` in each process."""
    faults = ["--latency-ms", str(args.latency_ms), "--latency-jitter-ms", str(args.jitter_ms)]
    sizes = [
        min(args.orgs_per_devorg, args.orgs - i) for i in range(0, args.orgs, args.orgs_per_devorg)
    ]
    roots = [tmp / f"devorgs{k}" for k in range(len(sizes))]
    _share_app([root / f"org{i}" for root, n in zip(roots, sizes, strict=True) for i in range(n)])

    def one(root: Path, count: int) -> list[DevorgInfo]:
        return stack.enter_context(
            start_devorgs(root, count=count, reps=4, deals=10, extra_args=faults, timeout=600)
        )

    with ThreadPoolExecutor(2) as pool:
        return [info for infos in pool.map(one, roots, sizes) for info in infos]


def _http(info: DevorgInfo) -> requests.Session:
    session = requests.Session()
    session.verify = info.ca_cert
    session.trust_env = False
    return session


def register(settings: Settings, sessions: Any, orgs: list[DevorgInfo]) -> None:
    """Register every org with a refresh token (the browser step is tests/orgs' business)."""
    box, now = secret_box(settings), datetime.now(UTC)
    for info in orgs:
        token = (
            _http(info)
            .post(f"{info.instance_url}/__devorg/refresh-token", json={"username": info.username})
            .json()["refresh_token"]
        )
        connection = Connection(info.org_id, "", info.username, info.instance_url, "", token)
        register_connection(
            sessions, connection, login_url=info.login_url, connected_by="bench", box=box, now=now
        )
        ensure_demo_plan(sessions, org_id=info.org_id, now=now)


def break_two(orgs: list[DevorgInfo], settings: Settings, sessions: Any) -> tuple[str, str]:
    """Exhaust one org's API limit and revoke another's refresh token."""
    limited, revoked = orgs[-1], orgs[-2]
    _http(limited).post(f"{limited.instance_url}/__devorg/limits", json={"max": 0, "reset": True})
    from connector.store.orgs import OrgRegistry

    sealed = OrgRegistry(sessions).require(revoked.org_id).refresh_token or ""
    token = secret_box(settings).open(sealed)
    _http(revoked).post(f"{revoked.login_url}/services/oauth2/revoke", data={"token": token})
    return limited.org_id, revoked.org_id


def worker_env(settings: Settings, bundle: str, orgs: list[DevorgInfo]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SF_", "QUOTAFLOW_"))}
    env.update(
        QUOTAFLOW_DATABASE_URL=settings.database_url,
        QUOTAFLOW_SECRET_KEY=SECRET,
        QUOTAFLOW_ENCRYPTION_KEY=",".join(settings.encryption_keys),
        QUOTAFLOW_CONNECT_LOGIN_URLS=",".join(o.login_url for o in orgs),
        SF_CLIENT_ID=settings.sf_client_id or "",
        SF_CLIENT_SECRET=settings.sf_client_secret or "",
        SF_CA_BUNDLE=bundle,
    )
    return env


def spawn(env: dict[str, str], concurrency: int, log: Any) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "webapp.cli", "worker", "--concurrency", str(concurrency)]
    return subprocess.Popen(argv, env=env, stdout=log, stderr=log, start_new_session=True)


def runs(sessions: Any) -> list[SyncRun]:
    with sessions() as session:
        return list(session.scalars(select(SyncRun).order_by(SyncRun.id)))


def lags(sessions: Any, healthy: list[str], now: datetime, since: datetime) -> list[float]:
    """Seconds since each healthy org's last success (or since the phase began)."""
    last: dict[str, datetime] = {}
    for run in runs(sessions):
        if run.status in ("succeeded", "partial") and run.finished_at:
            last[run.org_id] = max(last.get(run.org_id, since), run.finished_at)
    return [(now - last.get(org, since)).total_seconds() for org in healthy]


def phase(workers: int, ctx: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Run `workers` worker processes for the configured minutes; the figures."""
    sessions, env, healthy = ctx["sessions"], ctx["env"], ctx["healthy"]
    start = datetime.now(UTC)
    before = {r.id for r in runs(sessions)}
    cpu_before = _children_cpu()
    procs = [spawn(env, args.concurrency, ctx["log"]) for _ in range(workers)]
    samples: list[float] = []
    kills = 0
    end = time.monotonic() + args.minutes * 60
    next_kill = time.monotonic() + args.kill_every
    while time.monotonic() < end:
        time.sleep(5)
        now = datetime.now(UTC)
        if (now - start).total_seconds() >= 60:
            samples += lags(sessions, healthy, now, start)
        if args.kill_every and time.monotonic() >= next_kill:
            victim = random.randrange(len(procs))
            os.killpg(procs[victim].pid, signal.SIGKILL)
            procs[victim].wait()
            procs[victim] = spawn(env, args.concurrency, ctx["log"])
            kills += 1
            next_kill += args.kill_every
    stop = datetime.now(UTC)
    # Drain: no new ticks matter; let what is queued or running finish (recovery included).
    deadline = time.monotonic() + args.drain
    while time.monotonic() < deadline and any(
        r.status in ("queued", "running") for r in runs(sessions)
    ):
        time.sleep(2)
    stop_workers(procs)
    ctx["worker_cpu_s"] = _children_cpu() - cpu_before
    mine = [r for r in runs(sessions) if r.id not in before]
    window = [r for r in mine if r.finished_at and r.finished_at <= stop]
    return summarize(workers, mine, window, samples, kills, ctx, args)


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM: each worker finishes its running jobs; one still busy after 5 min is killed
    (its runs resume in the next phase or the settle)."""
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 300
    for proc in procs:
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _pending_jobs(sessions: Any) -> int:
    with sessions() as session:
        found = session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'quotaflow.sync_org' "
                "AND status IN ('todo', 'doing')"
            )
        )
        return int(found or 0)


def settle(ctx: dict[str, Any], args: argparse.Namespace, workers: int) -> dict[str, Any]:
    """After the last phase, workers without the minute tick (hourly) run until no sync job
    waits and every run has finished: the runs the SIGKILLs interrupted resume and end, so the
    devorgs' write counters can be compared with the runs' records."""
    sessions, started = ctx["sessions"], time.monotonic()
    env = dict(ctx["env"], QUOTAFLOW_SYNC_INTERVAL="3600")
    procs = [spawn(env, args.concurrency, ctx["log"]) for _ in range(workers)]
    deadline = started + args.settle
    while time.monotonic() < deadline:
        time.sleep(3)
        unfinished = sum(1 for r in runs(sessions) if r.status in ("queued", "running"))
        if unfinished == 0 and _pending_jobs(sessions) == 0:
            break
    stop_workers(procs)
    every = runs(sessions)
    return {
        "settle_seconds": round(time.monotonic() - started),
        "runs_total": len(every),
        "runs_unfinished": sum(1 for r in every if r.status in ("queued", "running")),
        "runs_by_status": dict(sorted(Counter(r.status for r in every).items())),
    }


def _children_cpu() -> float:
    """CPU seconds of the children waited for so far: the workers (the devorgs run on)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _overlaps(mine: list[SyncRun]) -> int:
    by_org: dict[str, list[tuple[datetime, datetime]]] = {}
    for r in mine:
        if r.started_at and r.finished_at:
            by_org.setdefault(r.org_id, []).append((r.started_at, r.finished_at))
    found = 0
    for spans in by_org.values():
        spans.sort()
        found += sum(1 for a, b in itertools.pairwise(spans) if b[0] < a[1])
    return found


def summarize(
    workers: int, mine: list[SyncRun], window: list[SyncRun], samples: list[float],
    kills: int, ctx: dict[str, Any], args: argparse.Namespace,
) -> dict[str, Any]:  # fmt: skip
    limited, revoked = ctx["broken"]
    ok = [r for r in window if r.status in ("succeeded", "partial")]
    quantiles = statistics.quantiles(samples, n=20) if len(samples) >= 20 else [0.0] * 19
    return {
        "workers": workers,
        "concurrency": args.concurrency,
        "orgs": args.orgs,
        "healthy_lag_p50_s": round(statistics.median(samples), 1) if samples else None,
        "healthy_lag_p95_s": round(quantiles[18], 1),
        "healthy_lag_max_s": round(max(samples), 1) if samples else None,
        "runs_per_minute": round(len(ok) / args.minutes, 1),
        "run_seconds_p50": round(statistics.median(r.duration_ms or 0 for r in ok) / 1000, 1)
        if ok
        else None,
        "worker_cpu_s_per_run": round(ctx["worker_cpu_s"] / len(ok), 2) if ok else None,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "sigkills": kills,
        "unfinished_after_drain": sum(1 for r in mine if r.status in ("queued", "running")),
        "interrupted": sum(1 for r in mine if "interrupted" in (r.error or "")),
        "overlapping_runs_of_one_org": _overlaps(mine),
        "limited_org_runs": [r.status for r in mine if r.org_id == limited][:3],
        "revoked_org_runs": [r.status for r in mine if r.org_id == revoked][:3],
    }


def write_check(orgs: list[DevorgInfo], sessions: Any) -> dict[str, Any]:
    """Composite update calls the devorgs counted vs. write calls the runs recorded (equal:
    a killed attempt's calls are recorded by its resumed run, a batch that landed before the
    kill once, when the resumed run settles its journal), and the record updates that set
    every field to the value it already held (a write sent twice: must be 0)."""
    counted = noop = 0
    for info in orgs:
        stats = _http(info).get(f"{info.instance_url}/__devorg/stats").json()
        counted += int(stats["by_kind"].get("composite_update", 0))
        noop += int(stats.get("noop_updates", 0))
    recorded = sum(int((r.counts or {}).get("write_calls", 0)) for r in runs(sessions))
    return {
        "devorg_write_calls": counted,
        "recorded_write_calls": recorded,
        "write_calls_equal": counted == recorded,
        "devorg_noop_updates": noop,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--kill-every", type=float, default=45, help="0: never")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--jitter-ms", type=int, default=200)
    parser.add_argument("--drain", type=float, default=90, help="seconds after each phase")
    parser.add_argument("--settle", type=float, default=600, help="at most, after the last")
    parser.add_argument(
        "--orgs-per-devorg", type=int, default=50, help="orgs served by one devorg process"
    )
    parser.add_argument(
        "--without-broken",
        action="store_true",
        help="the baseline: register only the healthy orgs (not the limit-exhausted and the "
        "revoked one), to compare the healthy orgs' lag with and without them",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qf-multiorg-") as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        t0 = time.monotonic()
        orgs = start_orgs(stack, tmp, args)
        print(f"{len(orgs)} devorgs started in {time.monotonic() - t0:.0f} s", flush=True)
        bundle = tmp / "cas.pem"
        bundle.write_text("".join(Path(o.ca_cert).read_text() for o in orgs))
        url = stack.enter_context(scratch_database())
        settings = Settings(
            database_url=url, secret_key=SECRET, sf_client_id=orgs[0].client_id,
            sf_client_secret=orgs[0].client_secret, sf_ca_bundle=str(bundle),
            encryption_keys=(Fernet.generate_key().decode(),),
            connect_login_urls=tuple(o.login_url for o in orgs),
        )  # fmt: skip
        engine = make_engine(settings)
        upgrade(engine)
        ensure_schema(settings)
        sessions = make_session_factory(engine)
        if args.without_broken:
            # The same healthy orgs as a run with the broken two, and no broken ones.
            orgs = orgs[:-2]
            register(settings, sessions, orgs)
            broken: tuple[str, str] = ("", "")
        else:
            register(settings, sessions, orgs)
            broken = break_two(orgs, settings, sessions)
        time.sleep(1.1)
        log = stack.enter_context((tmp / "workers.log").open("w"))
        ctx = {
            "sessions": sessions,
            "env": worker_env(settings, str(bundle), orgs),
            "healthy": [o.org_id for o in orgs if o.org_id not in broken],
            "broken": broken,
            "log": log,
        }
        counts = [int(w) for w in args.workers.split(",")]
        for workers in counts:
            print(json.dumps(phase(workers, ctx, args)), flush=True)
        print(json.dumps(settle(ctx, args, max(counts))), flush=True)
        print(json.dumps(write_check(orgs, sessions)), flush=True)
        engine.dispose()


if __name__ == "__main__":
    main()
