"""Soak: the clock against the devorg under random changes, faults and SIGKILLs, then proof
that nothing was lost, duplicated or paid wrongly.

    .venv/bin/python bench/soak.py                      # 10 minutes (the default)
    .venv/bin/python bench/soak.py --seconds 60 --interval 5 --json report.json
    .venv/bin/python bench/soak.py --minutes 10 --seed 7 --keep /tmp/soak

It starts a demo devorg and a SQLite store (or --database-url), imports the demo plan,
runs one full sync, then for the chosen time runs `quotaflow clock` while a driver makes
changes through the REST API and the devorg injects faults; the clock is SIGKILLed and
restarted a few times. Then faults stop, the clock settles and stops, one more full
reconcile runs, and an independent `quotaflow calc` on the devorg's final data is
compared with every write-back field. Exit status 0 only when every check passes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from soak_loop import SoakConfig, run_soak
from soak_report import format_report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--minutes", type=float, default=10.0, help="soak length (default 10)")
    p.add_argument("--seconds", type=float, help="soak length in seconds (overrides --minutes)")
    p.add_argument("--interval", type=int, default=10, help="QUOTAFLOW_SYNC_INTERVAL (s)")
    p.add_argument("--seed", type=int, help="random seed (default: from the clock, printed)")
    p.add_argument("--rate", type=float, default=40.0, help="changes per minute (default 40)")
    p.add_argument(
        "--kills", type=int, help="SIGKILLs of the clock (default 1 per 2 minutes, min 2)"
    )
    p.add_argument(
        "--midrun-kills", type=int, help="of which aimed at a running sync (default half)"
    )
    p.add_argument(
        "--estimate-sample",
        type=int,
        default=0,
        help="open deals whose estimate is recomputed (0: all)",
    )
    p.add_argument("--database-url", help="Quotaflow store (default: SQLite in the work folder)")
    p.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    p.add_argument("--json", type=Path, help="also write the report as JSON here")
    return p.parse_args(argv)


def config_from(args: argparse.Namespace, workdir: Path) -> SoakConfig:
    """The soak's settings from the options."""
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    kills = args.kills if args.kills is not None else max(2, round(seconds / 120))
    midrun = args.midrun_kills if args.midrun_kills is not None else kills // 2
    seed = args.seed if args.seed is not None else random.SystemRandom().randint(1, 10**6)
    return SoakConfig(
        workdir=workdir,
        seconds=seconds,
        interval=args.interval,
        seed=seed,
        rate_per_minute=args.rate,
        kills=kills,
        midrun_kills=min(midrun, kills),
        estimate_sample=args.estimate_sample,
        database_url=args.database_url or f"sqlite:///{workdir / 'quotaflow.db'}",
    )


def main(argv: list[str] | None = None) -> int:
    """Run the soak, print the report; 0 if every check passed."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="quotaflow-soak-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        config = config_from(args, workdir)
        started = datetime.now(UTC)
        t0 = time.monotonic()
        report: dict[str, Any] = run_soak(config)
        report["started_at"] = started.isoformat(timespec="seconds")
        report["wall_seconds"] = round(time.monotonic() - t0, 1)
        print(format_report(report))
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
