"""`quotaflow sync [--full] [--dry-run] [--queue]`: one sync run with progress and a summary."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from webapp.cli import CliError
from webapp.cli.common import require_migrated


def register(subparsers: Any) -> None:
    """Add `sync`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sync", help="pull, calculate and write back once (progress on a terminal, then a summary)"
    )
    parser.add_argument("--full", action="store_true", help="re-read and recompute everything")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would be written; write nothing"
    )
    parser.add_argument(
        "--queue", action="store_true", help="ask the clock to run it (returns at once)"
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for a running sync of the org to finish (default: do not wait)",
    )
    parser.add_argument(
        "--org",
        metavar="ORG_ID",
        help="a registered org (docs/orgs.md), logged in with its own stored connection "
        "(default: the org configured through SF_LOGIN_URL)",
    )
    parser.set_defaults(handler=_sync)


def _deps(org: str | None = None) -> Any:
    from connector.deps import build_sync_deps
    from connector.settings import load_settings

    settings = load_settings()
    if org is None:
        deps = build_sync_deps(settings)
        require_migrated(deps.engine)
        return deps
    from connector.errors import ConnectorError
    from connector.orgs.connections import org_sync_deps
    from connector.orgs.registry import org_login
    from connector.store.engine import make_engine, make_session_factory

    engine = require_migrated(make_engine(settings))
    sessions = make_session_factory(engine)
    try:
        login = org_login(sessions, org)
        if login.status != "active":
            raise CliError(f"org {org} is {login.status}; resume or reconnect it first")
        return org_sync_deps(settings, login, engine=engine, sessions=sessions)
    except ConnectorError as exc:
        engine.dispose()
        raise CliError(str(exc)) from None


def _print_writes(summary: Any) -> None:
    for write in summary.writes:
        values = "  ".join(f"{k}={v}" for k, v in sorted(write.fields.items()))
        print(f"  {write.object_name} {write.record_id}: {values}")


def _sync(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from connector.errors import FatalError
    from connector.sync import SyncBusy, SyncOptions, request_sync, run_sync
    from connector.sync.progress import progress_for

    mode = "full" if args.full else "incremental"
    deps = _deps(args.org)
    try:
        if args.queue:
            if args.dry_run:
                raise CliError("--queue and --dry-run do not go together")
            org = deps.gateway.org_id()
            now = datetime.now(UTC)
            run_id = request_sync(deps.sessions, org_id=org, mode=mode, requested_by="cli", now=now)
            print(f"queued {mode} sync run {run_id} for org {org}; the clock starts it shortly")
            return 0
        options = SyncOptions(lease_wait_seconds=args.wait)
        summary = run_sync(
            deps,
            mode=mode,
            dry_run=args.dry_run,
            progress=progress_for(sys.stderr),
            options=options,
        )
    except SyncBusy as exc:
        raise CliError(f"{exc}; try again later or pass --wait SECONDS") from None
    except FatalError as exc:
        raise CliError(str(exc)) from None
    finally:
        deps.engine.dispose()
    if args.dry_run:
        print(f"would write {len(summary.writes):,} records:")
        _print_writes(summary)
    print("\n".join(summary.lines()))
    return 1 if summary.status == "failed" else 0
