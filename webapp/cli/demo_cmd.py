"""`quotaflow demo`: the whole product on one machine with no configuration.

Starts the devorg (a local Salesforce org over HTTPS) with its demo data, keeps Quotaflow's
database in SQLite under `instance/`, loads the shipped demo plan, runs a full sync that
writes attainment, earnings, commission and SPIFF status back onto the devorg's records,
then serves the web app (or, with `--once`, prints the summary and exits).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

# The demo logs in as the devorg's integration user with the OAuth JWT bearer flow, the
# same code path (and the default SF_AUTH) a production deployment uses.
LEADERBOARD_SOQL = (
    "SELECT Name, Comp_Plan__c, Quota_Attainment__c, Earnings_To_Date__c FROM User "
    "WHERE Quota_Attainment__c != null ORDER BY Quota_Attainment__c DESC, Name LIMIT 5"
)


def register(subparsers: Any) -> None:
    """Add `demo`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo", help="run the devorg, a full sync and the web app, with no configuration"
    )
    parser.add_argument("--once", action="store_true", help="seed and sync, print, then exit")
    parser.add_argument("--dir", default="instance", help="where state lives (default instance/)")
    parser.add_argument("--port", type=int, default=5000, help="web app port (default 5000)")
    parser.set_defaults(handler=_demo)


def _settings(root: Path, devorg: Any) -> Any:
    from connector.settings import load_settings

    env = devorg.quotaflow_env(database_url=f"sqlite:///{root / 'quotaflow.db'}", auth="jwt")
    # The devorg's Lightning pages frame the app, as *.lightning.force.com does in an org.
    origin = devorg.instance_url.rstrip("/")
    return load_settings(env).with_overrides(demo_mode=True, frame_ancestors=("'self'", origin))


def _print_leaderboard(deps: Any) -> None:
    page = deps.gateway.query(LEADERBOARD_SOQL, include_deleted=False)
    print("\nTop attainment this quarter, as written onto the devorg's User records:")
    for user in page.records:
        print(
            f"  {user['Name']:<24} plan {user['Comp_Plan__c'] or '-':<8} "
            f"attainment {user['Quota_Attainment__c']:>8.2f}%   "
            f"earned YTD {user['Earnings_To_Date__c']:>12,.2f}"
        )


def _seed_workflow(deps: Any) -> None:
    from datetime import UTC, datetime

    from connector.close.demo import seed_workflow_demo
    from connector.store.unit import OrgUnit

    with OrgUnit(deps.sessions, deps.gateway.org_id()) as unit:
        done = seed_workflow_demo(unit, now=datetime.now(UTC))
        unit.commit()
    if done.disputes or done.ready_period:
        print(
            f"\nWorkflow demo: {done.disputes} disputes in different states; "
            f"{done.ready_period} has {done.approved} approved statements, ready to close."
        )


def _demo(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from connector.deps import build_sync_deps
    from connector.store.migrate import upgrade
    from connector.sync import run_sync
    from connector.sync.plans import ensure_demo_plan
    from connector.sync.progress import progress_for
    from devorg.process import start_devorg

    root = Path(args.dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    print(f"Starting the devorg (demo data in {root / 'devorg'}) ...", flush=True)
    canvas_url = f"http://127.0.0.1:{args.port}/canvas"
    extra = ("--canvas-url", canvas_url)
    with start_devorg(root / "devorg", seed="demo", extra_args=extra) as devorg:
        print(f"devorg listening at {devorg.instance_url}", flush=True)
        settings = _settings(root, devorg)
        deps = build_sync_deps(settings)
        upgrade(deps.engine)
        plan = ensure_demo_plan(deps.sessions, org_id=deps.gateway.org_id(), now=datetime.now(UTC))
        print(f"plan document version {plan.version} active", flush=True)
        # A pull reads records modified before its start second (SOQL datetimes have
        # second precision); records seeded in this very second would wait for the next run.
        time.sleep(1.1)
        summary = run_sync(deps, mode="full", progress=progress_for(sys.stderr))
        print("\n".join(summary.lines()))
        if summary.status == "failed":
            return 1
        _print_leaderboard(deps)
        _seed_workflow(deps)
        if args.once:
            return 0
        return _serve(settings, port=args.port, devorg=devorg)


def _serve(settings: Any, *, port: int, devorg: Any) -> int:
    import logging
    import threading

    from connector.clock import ClockOptions, SyncWorker, run_clock
    from connector.deps import build_sync_deps
    from webapp import create_app

    app = create_app(settings)
    # The clock runs beside the app, as the Procfile's `clock` process does in production:
    # it picks up the Resync requests queued from the ops console.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    deps = build_sync_deps(settings)
    worker = SyncWorker(deps, options=ClockOptions(interval_seconds=settings.sync_interval))
    stop = threading.Event()
    clock = threading.Thread(target=run_clock, args=(worker,), kwargs={"stop": stop}, daemon=True)
    clock.start()
    print(f"\nQuotaflow demo: open http://127.0.0.1:{port}/demo and pick who to be", flush=True)
    print("  (a rep, a manager, the admin or ops; each opens the devorg's Lightning page)")
    print(f"devorg (Salesforce stand-in): {devorg.instance_url}   Ctrl-C stops both.", flush=True)
    try:
        app.run(host="127.0.0.1", port=port, debug=False, use_reloader=False)
    finally:
        stop.set()
        clock.join(timeout=30)
        deps.engine.dispose()
    return 0
