"""`quotaflow plans import|export|validate FILE`: plan documents, validated and versioned."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path
from typing import Any

from webapp.cli import CliError
from webapp.cli.common import migrated_engine, org_option, read_text, resolve_org


def register(subparsers: Any) -> None:
    """Add `plans` and its sub-commands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "plans", help="import, export or validate compensation plan documents"
    )
    sub = parser.add_subparsers(dest="plans_command", metavar="ACTION", required=True)
    validate = sub.add_parser("validate", help="check a plan document without storing it")
    validate.add_argument("file", type=Path, metavar="FILE", help="plan document (YAML or JSON)")
    validate.set_defaults(handler=_validate)
    imp = sub.add_parser("import", help="validate FILE, then activate it as a new plan version")
    imp.add_argument("file", type=Path, metavar="FILE", help="plan document (YAML or JSON)")
    imp.add_argument("--by", help="who activates it (default: the OS user)")
    org_option(imp)
    imp.set_defaults(handler=_import)
    export = sub.add_parser("export", help="write the active plan (or --version N) to FILE")
    export.add_argument("file", type=Path, metavar="FILE", help="where to write it")
    export.add_argument("--version", type=int, help="a stored version instead of the active one")
    org_option(export)
    export.set_defaults(handler=_export)
    lock = sub.add_parser("lock", help="lock a paid period (e.g. 2026-Q1): its results freeze")
    lock.add_argument("period", metavar="PERIOD", help="2026-01, 2026-Q1 or 2026")
    lock.add_argument("--by", help="who locks it (default: the OS user)")
    org_option(lock)
    lock.set_defaults(handler=_lock)


def _parse(path: Path) -> Any:
    from calc.errors import PlanError
    from connector.sync.plans import parse_plan_text

    try:
        return parse_plan_text(read_text(path), source=str(path))[1]
    except PlanError as exc:
        raise CliError(str(exc)) from None


def _validate(args: argparse.Namespace) -> int:
    doc = _parse(args.file)
    plans = ", ".join(p.id for p in doc.plans)
    print(f"{args.file}: valid: plans {plans}")
    return 0


def _sessions() -> Any:
    from connector.store.engine import make_session_factory

    engine = migrated_engine()
    return engine, make_session_factory(engine)


def _org(sessions: Any, given: str | None) -> str:
    return resolve_org(sessions, given)


def _import(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from connector.sync.plans import import_plan

    _parse(args.file)  # a bad file fails before the database is even opened
    engine, sessions = _sessions()
    try:
        org = _org(sessions, args.org)
        by = args.by or getpass.getuser()
        row, created = import_plan(
            sessions,
            org_id=org,
            text=read_text(args.file),
            source=str(args.file),
            by=by,
            now=datetime.now(UTC),
        )
    finally:
        engine.dispose()
    if created:
        print(f"{args.file}: activated as plan version {row.version} for org {org} by {by}")
    else:
        print(f"{args.file}: same as the active plan version {row.version}; nothing changed")
    return 0


def _export(args: argparse.Namespace) -> int:
    from connector.sync.plans import export_plan_text

    engine, sessions = _sessions()
    try:
        org = _org(sessions, args.org)
        found = export_plan_text(sessions, org_id=org, version=args.version)
    finally:
        engine.dispose()
    if found is None:
        what = f"version {args.version}" if args.version is not None else "an active plan"
        raise CliError(f"org {org} has no {what}; import one with `quotaflow plans import FILE`")
    version, text = found
    tmp = args.file.with_name(args.file.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(args.file)
    except OSError as exc:
        raise CliError(f"{args.file}: cannot write: {exc.strerror or exc}") from None
    print(f"{args.file}: wrote plan version {version} of org {org}")
    return 0


def _lock(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from connector.sync.period_locks import lock, period_bounds

    try:
        period_bounds(args.period)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    engine, sessions = _sessions()
    try:
        org = _org(sessions, args.org)
        by = args.by or getpass.getuser()
        row = lock(sessions, org_id=org, name=args.period, by=by, now=datetime.now(UTC))
    finally:
        engine.dispose()
    print(
        f"period {row.period} ({row.start} to {row.end}) of org {org} locked by {row.locked_by}; "
        "later changes to it are paid as adjustments in the open period"
    )
    return 0
