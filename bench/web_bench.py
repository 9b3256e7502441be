"""Web latency under load (issue 7): the rep view and the deal-estimate API behind gunicorn.

.venv/bin/python bench/web_bench.py                      # 10,000 reps, 1,000,000 deals, SQLite
.venv/bin/python bench/web_bench.py --quick              # 1,000 reps, 50,000 deals
.venv/bin/python bench/web_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/qf_web_bench
    [--rebuild] [--seconds 20] [--clients 50] [--configs 2x4,2x8] [--endpoints rep,estimate,healthz]
    [--rate 40] [--profile rep] [--warm] [--targets N]

Builds (or reuses) a synthetic org in the store (bench/web_bench_data.py), starts gunicorn on
loopback as the Procfile's web line does, then runs concurrent keep-alive clients against each
endpoint and prints requests, errors, req/s and latency percentiles. `--profile ENDPOINT`
instead runs a few requests through the Flask test client under cProfile and prints the hot
functions and the slowest SQL statements. The target is p95 <= 100 ms.

Without --rate the clients run a closed loop (next request as soon as the last is answered):
that measures the server at saturation, where p50 is about clients / throughput. With --rate
they are paced to that many requests per second in all: latency at a given traffic. `--warm`
first requests every target once (the first view of each page after a calculation computes and
stores it) and prints that cold pass; `--targets N` spreads the load over N random targets.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import os
import pstats
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from web_bench_data import ORG_ID, Sample, ensure_org

from connector.settings import Settings
from webapp import create_app
from webapp.auth.session import SessionTokens, new_viewer

ROOT = Path(__file__).resolve().parent.parent
Target = tuple[str, str | None]  # (path, bearer token)
PATHS = {
    "rep": "/reps/{rep_id}",
    "estimate": "/api/v1/deals/{deal_id}/estimate",
    "healthz": "/healthz",
}


@dataclass
class Tally:
    """Latencies (seconds) of the answered requests and the count of failures."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""


def targets_for(endpoint: str, data: Sample, tokens: SessionTokens) -> list[Target]:
    """Requests to spread the load over: each as the viewer a real user would be."""

    def token(user: str, manager: bool = False) -> str:
        roles = {"rep", "manager"} if manager else {"rep"}
        return tokens.issue(new_viewer(user_id=user, org_id=ORG_ID, name=user, roles=roles))

    if endpoint == "rep":
        return [(PATHS["rep"].format(rep_id=r), token(r, m)) for r, m in data.reps]
    if endpoint == "estimate":  # the deal's owner asks (open and won deals mixed)
        managers = {r for r, m in data.reps if m}
        return [
            (PATHS["estimate"].format(deal_id=d), token(o, o in managers))
            for d, o, _w in data.deals
        ]
    return [(PATHS["healthz"], None)]


def _get(conn: http.client.HTTPConnection, target: Target) -> tuple[int, bytes]:
    path, token = target
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
        # gunicorn closes a keep-alive connection idle for 2 s; like a browser, reconnect once.
        conn.close()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
    return resp.status, resp.read()


def check(port: int, endpoint: str, targets: list[Target]) -> None:
    """One sample request must answer 200 before anything is timed; exit loudly otherwise."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    status, body = _get(conn, targets[0])
    conn.close()
    if status != 200:
        sys.exit(
            f"web_bench: {endpoint} answered {status} for GET {targets[0][0]} (expected 200); "
            f"is the route registered yet?\n  body: {body[:300]!r}"
        )


def _client(
    port: int, targets: list[Target], tally: Tally, lock: threading.Lock, window: tuple[float, ...]
) -> None:
    rng = random.Random()
    start, record_from, stop, interval = window
    local = Tally()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    due = start + rng.random() * interval  # paced clients start spread over one interval
    while (t0 := time.perf_counter()) < stop:
        if t0 < due:
            time.sleep(due - t0)
            continue
        due = max(due + interval, t0) if interval else t0
        try:
            status, _body = _get(conn, rng.choice(targets))
        except (OSError, http.client.HTTPException) as exc:
            status = 0
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            local.first_error = local.first_error or repr(exc)
        if t0 < record_from:
            continue
        if status == 200:
            local.latencies.append(time.perf_counter() - t0)
        else:
            local.errors += 1
            local.first_error = local.first_error or f"HTTP {status}"
    conn.close()
    with lock:
        tally.latencies += local.latencies
        tally.errors += local.errors
        tally.first_error = tally.first_error or local.first_error


def load(
    port: int, targets: list[Target], *, clients: int, seconds: float, warmup: float, rate: float
) -> Tally:
    """`clients` threads, one keep-alive connection each, requesting random targets.

    With `rate` (requests/s in all) each client paces itself; otherwise it sends its next
    request as soon as the last one is answered (a closed loop: the server's saturation).
    """
    tally, lock = Tally(), threading.Lock()
    start = time.perf_counter() + 0.5
    window = (start, start + warmup, start + warmup + seconds, clients / rate if rate else 0.0)
    threads = [
        threading.Thread(target=_client, args=(port, targets, tally, lock, window), daemon=True)
        for _ in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally


def warm(port: int, targets: list[Target], *, clients: int) -> tuple[Tally, float]:
    """Every target requested once, by `clients` closed-loop clients: the first view of each
    page after a calculation (computed and stored), before the timed run reads them."""
    tally, lock, queue = Tally(), threading.Lock(), list(targets)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not queue:
                    break
                target = queue.pop()
            t0 = time.perf_counter()
            status, _body = _get(conn, target)
            with lock:
                if status == 200:
                    tally.latencies.append(time.perf_counter() - t0)
                else:
                    tally.errors += 1
                    tally.first_error = tally.first_error or f"HTTP {status}"
        conn.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally, time.perf_counter() - t0


def report(label: str, tally: Tally, seconds: float) -> None:
    """One line of figures."""
    lat = sorted(tally.latencies)
    n = len(lat)

    def pct(q: float) -> str:
        return f"{lat[min(n - 1, int(q * n))] * 1000:.1f}" if n else "-"

    print(
        f"{label}: {n + tally.errors} requests, {tally.errors} errors, {n / seconds:.1f} req/s, "
        f"p50 {pct(0.50)} ms, p95 {pct(0.95)} ms, p99 {pct(0.99)} ms, "
        f"max {lat[-1] * 1000 if n else 0:.1f} ms"
        + f"; load average {os.getloadavg()[0]:.1f}"
        + (f"  (first error: {tally.first_error})" if tally.first_error else "")
    )


def procfile_config() -> tuple[int, int]:
    """Workers and threads of the Procfile's web line (what production runs)."""
    line = next(
        (x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:")), ""
    )
    workers = re.search(r"--workers[ =](\d+)", line)
    threads = re.search(r"--threads[ =](\d+)", line)
    return int(workers.group(1) if workers else 1), int(threads.group(1) if threads else 1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(url: str, secret: str, *, workers: int, threads: int) -> Iterator[int]:
    """gunicorn serving `webapp:create_app()` on a free loopback port; yields the port."""
    port = _free_port()
    env = dict(os.environ, QUOTAFLOW_DATABASE_URL=url, QUOTAFLOW_SECRET_KEY=secret)
    log = ROOT / "instance" / "web_bench_gunicorn.log"
    log.parent.mkdir(exist_ok=True)  # a fresh checkout has no instance/ yet
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)),
        *("--log-level", "warning", "webapp:create_app()"),
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(proc, port, log)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"web_bench: gunicorn exited ({proc.returncode}):\n{log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            status, _ = _get(conn, ("/healthz", None))
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"web_bench: /healthz did not answer 200 within 60s; see {log}")


def parse_args() -> argparse.Namespace:
    """Command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1,000 reps / 50,000 deals")
    p.add_argument("--reps", type=int)
    p.add_argument("--deals", type=int)
    p.add_argument("--db", type=Path, help="SQLite file (default instance/web_bench_R_D.db)")
    p.add_argument("--database-url", help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/x")
    p.add_argument("--rebuild", action="store_true", help="build the org even if the DB has it")
    p.add_argument("--seconds", type=float, default=20.0, help="timed seconds per endpoint")
    p.add_argument("--warmup", type=float, default=2.0, help="untimed seconds before each run")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--rate", type=float, default=0.0, help="pace all clients to N requests/s")
    p.add_argument("--endpoints", default="rep,estimate", help="of rep, estimate, healthz")
    p.add_argument("--configs", help="gunicorn WORKERSxTHREADS list (default: the Procfile's)")
    p.add_argument("--profile", metavar="ENDPOINT", help="cProfile requests instead of load")
    p.add_argument(
        "--targets", type=int, help="request only N of the endpoint's targets (random, seeded)"
    )
    p.add_argument(
        "--warm",
        action="store_true",
        help="request every target once before timing (pages computed and stored); "
        "prints the figures of that cold pass too",
    )
    args = p.parse_args()
    args.reps = args.reps or (1_000 if args.quick else 10_000)
    args.deals = args.deals or (50_000 if args.quick else 1_000_000)
    if args.database_url is None:
        db = args.db or ROOT / "instance" / f"web_bench_{args.reps}_{args.deals}.db"
        args.database_url = f"sqlite:///{db.resolve()}"
    unknown = set(args.endpoints.split(",")) - set(PATHS)
    if args.profile and args.profile not in PATHS:
        unknown.add(args.profile)
    if unknown:
        p.error(
            f"--endpoints: unknown {', '.join(sorted(unknown))}; choose from {', '.join(PATHS)}"
        )
    return args


def profile(url: str, secret: str, targets: list[Target], *, requests: int = 50) -> None:
    """Requests through the Flask test client under cProfile: hot functions and slowest SQL."""
    app = create_app(Settings(database_url=url, secret_key=secret))
    sql: dict[str, list[float]] = {}

    def _start(conn: Any, _cur: Any, _stmt: str, _params: Any, _ctx: Any, _many: bool) -> None:
        conn.info["t0"] = time.perf_counter()

    def _end(conn: Any, _cur: Any, stmt: str, _params: Any, _ctx: Any, _many: bool) -> None:
        sql.setdefault(" ".join(stmt.split())[:220], []).append(
            time.perf_counter() - conn.info["t0"]
        )

    for name in ("quotaflow.engine", "quotaflow.read_engine"):  # the app's two pools
        event.listen(app.extensions[name], "before_cursor_execute", _start)
        event.listen(app.extensions[name], "after_cursor_execute", _end)

    client, rng = app.test_client(), random.Random(5)
    picks = [rng.choice(targets) for _ in range(requests)]
    _timed(client, picks[:1])  # warms the plan cache and the connection pool
    times = _timed(client, picks)
    sql.clear()
    profiler = cProfile.Profile()
    profiler.enable()
    _timed(client, picks)
    profiler.disable()
    print(f"{requests} requests one at a time, not profiled: median "
          f"{times[len(times) // 2] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms")  # fmt: skip
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    total = sum(map(sum, sql.values())) * 1000 / requests
    print(f"SQL execute time (fetch not included): {total:.2f} ms per request; top statements:")
    for stmt, spent in sorted(sql.items(), key=lambda kv: -sum(kv[1]))[:10]:
        print(f"  {len(spent) / requests:6.1f}x {sum(spent) * 1000 / requests:8.2f} ms  {stmt}")


def _timed(client: Any, picks: list[Target]) -> list[float]:
    """Seconds of each request, sorted; exits on any answer but 200."""
    times = []
    for path, token in picks:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        t0 = time.perf_counter()
        resp = client.get(path, headers=headers)
        times.append(time.perf_counter() - t0)
        if resp.status_code != 200:
            sys.exit(f"web_bench: GET {path} answered {resp.status_code}: {resp.data[:300]!r}")
    return sorted(times)


def main() -> None:
    """Build or reuse the org, then measure each endpoint under each gunicorn config."""
    args = parse_args()
    data = ensure_org(args.database_url, reps=args.reps, deals=args.deals, rebuild=args.rebuild)
    secret = secrets.token_urlsafe(32)
    tokens = SessionTokens(secret)
    endpoints = args.endpoints.split(",")
    if args.profile:
        profile(args.database_url, secret, targets_for(args.profile, data, tokens))
        return
    configs = (
        [tuple(map(int, c.split("x"))) for c in args.configs.split(",")]
        if args.configs
        else [procfile_config()]
    )
    print(
        f"machine: {os.cpu_count()} cores shared by gunicorn and the {args.clients} client "
        f"threads; load average {os.getloadavg()[0]:.2f} before the runs"
    )
    for workers, threads in configs:
        with gunicorn(args.database_url, secret, workers=workers, threads=threads) as port:
            for endpoint in endpoints:
                targets = targets_for(endpoint, data, tokens)
                if args.targets:
                    targets = random.Random(7).sample(targets, min(args.targets, len(targets)))
                check(port, endpoint, targets)
                if args.warm:
                    cold, spent = warm(port, targets, clients=args.clients)
                    report(f"{endpoint} first view of {len(targets)} targets (cold)", cold, spent)
                tally = load(
                    port, targets, clients=args.clients, seconds=args.seconds,
                    warmup=args.warmup, rate=args.rate,
                )  # fmt: skip
                paced = f", paced at {args.rate:g}/s" if args.rate else ""
                label = f"{endpoint} GET {PATHS[endpoint]} gunicorn {workers}x{threads}{paced}"
                report(label, tally, args.seconds)


if __name__ == "__main__":
    main()
