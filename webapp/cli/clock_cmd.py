"""`quotaflow clock`: the scheduler process (Procfile `clock`), syncing every active registered
org in this one process (the embedded engine; `quotaflow worker` is the distributed one)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add `clock`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "clock",
        help="run incremental syncs every QUOTAFLOW_SYNC_INTERVAL seconds and a nightly full one",
    )
    parser.add_argument(
        "--interval", type=int, metavar="SECONDS", help="override QUOTAFLOW_SYNC_INTERVAL"
    )
    parser.add_argument(
        "--nightly", default="02:00", metavar="HH:MM", help="UTC time of the full reconcile"
    )
    parser.set_defaults(handler=_clock)


def _nightly(text: str) -> tuple[int, int]:
    from webapp.cli import CliError

    hour, _, minute = text.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise CliError(f"--nightly: expected HH:MM in UTC, got {text!r}")
    return int(hour), int(minute)


def _clock(args: argparse.Namespace) -> int:
    import logging
    import signal
    import threading

    from connector.clock import ClockOptions, run_clock
    from connector.errors import ConnectorError
    from connector.settings import load_settings
    from connector.store.engine import make_engine, make_session_factory
    from connector.tasks.embedded import FleetClockWorker
    from connector.tasks.org_sync import OrgSyncer
    from webapp.cli import CliError
    from webapp.cli.common import require_migrated

    settings = load_settings()
    interval = args.interval or settings.sync_interval
    if interval <= 0:
        raise CliError(f"--interval: must be greater than 0, got {interval}")
    hour, minute = _nightly(args.nightly)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # A tick skipped while a run is going is the design (coalescing), not worth a warning.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    engine = require_migrated(make_engine(settings))
    syncer = OrgSyncer(settings, engine=engine, sessions=make_session_factory(engine))
    try:
        syncer.register_environment_org()
    except ConnectorError as exc:
        # The environment's org is retried at the next start; connected orgs still sync.
        logging.getLogger("quotaflow.clock").error("the SF_LOGIN_URL org cannot log in: %s", exc)
    options = ClockOptions(interval_seconds=interval, nightly_hour=hour, nightly_minute=minute)
    worker = FleetClockWorker(syncer, options)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_a: stop.set())
    try:
        run_clock(worker, stop=stop)
    finally:
        engine.dispose()
    return 0
