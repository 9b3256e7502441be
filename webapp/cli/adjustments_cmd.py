"""`quotaflow adjustments import|list`: adjustments paid by the next sync, with who entered them."""

from __future__ import annotations

import argparse
import csv
import getpass
import sys
from pathlib import Path
from typing import Any

from webapp.cli import CliError
from webapp.cli.common import migrated_engine, org_option, read_text, resolve_org

LIST_COLUMNS = (
    "id",
    "rep_id",
    "period",
    "amount",
    "component",
    "reason",
    "reference",
    "source",
    "entered_by",
    "entered_at",
)


def register(subparsers: Any) -> None:
    """Add `adjustments` and its sub-commands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "adjustments", help="import or list adjustments (paid by the next sync)"
    )
    sub = parser.add_subparsers(dest="adjustments_command", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import", help="check FILE against the org's reps and plan, then store it all or none"
    )
    imp.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="CSV: rep_id, period, amount, component, reason, reference",
    )
    imp.add_argument("--by", help="who enters them (default: the OS user)")
    org_option(imp)
    imp.set_defaults(handler=_import)
    listing = sub.add_parser("list", help="the org's adjustments as CSV, oldest first")
    listing.add_argument("--rep", metavar="REP_ID", help="only this rep's")
    listing.add_argument("--period", metavar="PERIOD", help="only this period's (e.g. 2026-Q1)")
    org_option(listing)
    listing.set_defaults(handler=_list)


def _sessions() -> Any:
    from connector.store.engine import make_session_factory

    engine = migrated_engine()
    return engine, make_session_factory(engine)


def _import(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from calc.errors import InputError
    from connector.store.adjustments import AdjustmentError
    from connector.sync.adjustments import NoPlan, import_file

    text = read_text(args.file)
    engine, sessions = _sessions()
    try:
        org = resolve_org(sessions, args.org)
        by = args.by or getpass.getuser()
        rows = import_file(
            sessions, org_id=org, text=text, source=str(args.file), by=by, now=datetime.now(UTC)
        )
    except (InputError, NoPlan) as exc:
        raise CliError(str(exc)) from None
    except AdjustmentError as exc:
        raise CliError(f"{args.file}: {exc}; nothing imported") from None
    finally:
        engine.dispose()
    print(
        f"{args.file}: {len(rows)} adjustments stored for org {org} by {by}; "
        "the next sync pays them"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from connector.sync.adjustments import listed

    engine, sessions = _sessions()
    try:
        org = resolve_org(sessions, args.org)
        rows = listed(sessions, org_id=org, rep_id=args.rep, period=args.period)
        table = [
            [getattr(row, name) for name in LIST_COLUMNS[:-1]] + [row.entered_at.isoformat()]
            for row in rows
        ]
    finally:
        engine.dispose()
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(LIST_COLUMNS)
    writer.writerows([["" if v is None else v for v in row] for row in table])
    return 0
