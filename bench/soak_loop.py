"""The soak itself: set up, drive under faults and kills, settle, reconcile, check."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from soak_driver import Change, Driver, Mirror
from soak_faults import Event, Injector, schedule
from soak_final import final_check
from soak_org import OrgClient, OrgFile
from soak_procs import Clock, Store, bulk_forced, cli_env, quotaflow
from soak_watch import Watcher

from devorg.process import start_devorg

DEMO_PLAN = Path(__file__).resolve().parent.parent / "connector" / "demo_plan.yaml"
KINDS = {
    "new_deal": 3.0,
    "stage_move": 4.0,
    "amount_edit": 4.0,
    "owner_change": 1.5,
    "split_change": 1.5,
    "delete": 1.0,
    "undelete": 1.0,
    "manager_change": 1.0,
}
HOLD_SECONDS = 150.0  # a watch keeps its records busy at most this long


@dataclass(frozen=True)
class SoakConfig:
    """What one soak does."""

    workdir: Path
    seconds: float
    interval: int
    seed: int
    rate_per_minute: float
    kills: int
    midrun_kills: int
    estimate_sample: int
    database_url: str


def next_second() -> None:
    """Wait past the next whole second: a pull reads changes made before its start second."""
    time.sleep(1.1 - (time.time() % 1.0))


class Poller(threading.Thread):
    """Polls the open watches every 0.2 s, so latency is measured even while the driver waits."""

    def __init__(self, watcher: Watcher) -> None:
        super().__init__(name="soak-poller", daemon=True)
        self.watcher = watcher
        self.lock = threading.Lock()
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(0.2):
            with self.lock:
                self.watcher.poll(time.monotonic())


@dataclass
class State:
    """Everything the loop accumulates for the report."""

    changes: list[Change]
    kills: list[dict[str, Any]]
    recent: list[str]
    faults: dict[str, int]
    last_change_wall: float = 0.0


def _release(driver: Driver, state: State, now: float) -> None:
    """Free the records of changes whose watches all resolved (or held too long)."""
    for change in state.changes:
        if not change.touched:
            continue
        done = all(w.seen is not None for w in change.watches)
        if done or now - change.at > HOLD_SECONDS:
            driver.busy -= change.touched
            change.touched = set()


def _kill(
    event: Event, clock: Clock, store: Store, cfg: SoakConfig, rng: random.Random
) -> dict[str, Any]:
    """SIGKILL the clock (aimed kills wait for a running sync first), then restart it."""
    if event.kind == "kill_midrun":
        give_up = time.monotonic() + cfg.interval * 3 + 15
        while time.monotonic() < give_up:
            if store.wait_for_run(clock.pid, timeout=give_up - time.monotonic()):
                time.sleep(rng.uniform(0, 0.25))  # somewhere in the pull, calculation or write
                if store.in_run(clock.pid):
                    break
    midrun = store.in_run(clock.pid)
    clock.kill()
    time.sleep(rng.uniform(0.3, 1.5))
    clock.start()
    return {"at_s": round(event.at, 1), "aimed": event.kind == "kill_midrun", "mid_run": midrun}


def _change(
    driver: Driver, watcher: Watcher, poller: Poller, rng: random.Random, state: State
) -> None:
    kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
    change = driver.step(kind, time.monotonic())
    if change is None:
        return
    state.last_change_wall = time.time()
    with poller.lock:
        change.watches = watcher.add(change.watches, at=time.monotonic(), kind=kind)
    if not change.watches:
        change.touched = set()
    driver.busy |= change.touched
    state.changes.append(change)
    state.recent = ([i for i in change.touched if i.startswith(("006", "005"))] + state.recent)[:12]


def drive(
    cfg: SoakConfig,
    *,
    client: OrgClient,
    clock: Clock,
    store: Store,
    watcher: Watcher,
    poller: Poller,
) -> State:
    """The soak window: changes at the chosen rate, faults and kills on schedule."""
    rng = random.Random(cfg.seed)
    mirror = Mirror.read(client)
    driver = Driver(client, mirror, rng=random.Random(rng.random()), today=datetime.now(UTC).date())
    events = schedule(
        random.Random(rng.random()),
        seconds=cfg.seconds,
        kills=cfg.kills,
        midrun_kills=cfg.midrun_kills,
    )
    injector = Injector(client, random.Random(rng.random()))
    state = State([], [], [], {})
    start = time.monotonic()
    next_change = start
    while (now := time.monotonic()) < start + cfg.seconds:
        while events and events[0].at <= now - start:
            event = events.pop(0)
            if event.kind.startswith("kill"):
                state.kills.append(_kill(event, clock, store, cfg, rng))
            else:
                with poller.lock:  # records the sync must write next: the open watches'
                    targets = sorted({w.record_id for w in watcher.open})
                injector.apply(event, recent=targets or state.recent)
        if now >= next_change:
            _change(driver, watcher, poller, rng, state)
            gap = rng.expovariate(cfg.rate_per_minute / 60.0)
            next_change = time.monotonic() + min(10.0, max(0.2, gap))
        with poller.lock:
            _release(driver, state, time.monotonic())
        time.sleep(0.05)
    injector.clear()
    state.faults = dict(injector.counts)
    state.faults["late_commit"] = sum(1 for c in state.changes if c.late)
    return state


def settle(store: Store, state: State, cfg: SoakConfig) -> dict[str, Any]:
    """Wait for a sync run that started after the last change to finish."""
    next_second()
    mark = int(store.rows("SELECT COALESCE(MAX(id), 0) FROM sync_runs")[0][0])
    t0 = time.monotonic()
    limit = 75 + 3 * cfg.interval  # a SIGKILLed run's lease can linger 60 s
    while time.monotonic() - t0 < limit:
        done = store.rows(
            "SELECT id, status FROM sync_runs WHERE id > :m AND status IN ('succeeded', 'partial')",
            m=mark,
        )
        if done:
            return {"settled": True, "seconds": round(time.monotonic() - t0, 1), "run": done[0][0]}
        time.sleep(0.25)
    return {"settled": False, "seconds": round(time.monotonic() - t0, 1)}


def run_soak(cfg: SoakConfig) -> dict[str, Any]:
    """The whole soak; the report as a dict (see soak_report)."""
    with start_devorg(cfg.workdir / "devorg", seed="demo", timeout=120) as info:
        login = info
        env = cli_env(login, cfg.database_url, interval=cfg.interval)
        quotaflow(env, "db", "upgrade")
        quotaflow(env, "plans", "import", str(DEMO_PLAN), "--org", info.org_id, "--by", "soak")
        next_second()
        # The first full sync writes every value through Bulk API 2.0 ingest jobs.
        baseline = quotaflow(bulk_forced(env), "sync", "--full")
        client = OrgClient(login)
        stats_before = client.control("GET", "stats")
        store = Store(cfg.database_url)
        first_run = int(store.rows("SELECT MAX(id) FROM sync_runs")[0][0]) + 1
        watcher = Watcher(OrgFile(info.data_dir))
        poller = Poller(watcher)
        poller.start()
        # The first clock process, and every other one after a kill, runs with the Bulk API 2.0
        # path forced on; the others with the default thresholds.
        clock = Clock([bulk_forced(env), env], cfg.workdir / "clock.log")
        clock.start()
        try:
            state = drive(
                cfg, client=client, clock=clock, store=store, watcher=watcher, poller=poller
            )
            settled = settle(store, state, cfg)
        finally:
            clock.stop()
        last_run = int(store.rows("SELECT MAX(id) FROM sync_runs")[0][0])
        with poller.lock:
            open_before_full = {id(w) for w in watcher.open}
        # The final full reconcile reads the deals through a query job (3,000 rows: more than
        # one page) and writes through ingest jobs.
        full = quotaflow(bulk_forced(env), "sync", "--full", "--wait", "120")
        time.sleep(0.5)
        poller.halt.set()
        poller.join()
        watcher.poll(time.monotonic())
        after_full = [w for w in watcher.done if id(w) in open_before_full]
        next_second()
        echo = quotaflow(env, "sync", "--wait", "60")
        stats_after = client.control("GET", "stats")
        stats_after["soak_client_calls"] = client.counter.api
        report = final_check(
            cfg, client=client, store=store, state=state, watcher=watcher, env=env,
            runs=(first_run, last_run), texts={"baseline": baseline, "full": full, "echo": echo},
            stats=(stats_before, stats_after), settled=settled, after_full=after_full,
        )  # fmt: skip
        store.close()
        return report
