"""`quotaflow clock`: the scheduler process (Procfile `clock`)."""

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

    from connector.clock import ClockOptions, SyncWorker, run_clock
    from connector.deps import build_sync_deps
    from connector.settings import load_settings
    from webapp.cli import CliError

    settings = load_settings()
    interval = args.interval or settings.sync_interval
    if interval <= 0:
        raise CliError(f"--interval: must be greater than 0, got {interval}")
    hour, minute = _nightly(args.nightly)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # A tick skipped while a run is going is the design (coalescing), not worth a warning.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    deps = build_sync_deps(settings)
    options = ClockOptions(interval_seconds=interval, nightly_hour=hour, nightly_minute=minute)
    worker = SyncWorker(deps, options=options)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_a: stop.set())
    try:
        run_clock(worker, stop=stop)
    finally:
        deps.engine.dispose()
    return 0
