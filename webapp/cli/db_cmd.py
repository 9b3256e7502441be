"""`quotaflow db upgrade|current`: apply and inspect the database migrations."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add `db` and its sub-commands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "db", help="apply or inspect database migrations"
    )
    db_sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply every migration not yet applied")
    upgrade.add_argument("--revision", default="head", help="target revision (default head)")
    upgrade.set_defaults(handler=_upgrade)
    current = db_sub.add_parser("current", help="print the database's current revision")
    current.set_defaults(handler=_current)


def _upgrade(args: argparse.Namespace) -> int:
    from connector.settings import load_settings
    from connector.store.engine import make_engine
    from connector.store.migrate import current_revision, upgrade

    settings = load_settings()
    engine = make_engine(settings)
    try:
        before = current_revision(engine)
        upgrade(engine, args.revision)
        after = current_revision(engine)
    finally:
        engine.dispose()
    from connector.tasks.engine import ensure_schema

    if ensure_schema(settings):
        print("task queue tables created (the distributed workers' queue)")
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        print(f"database {where} already at revision {after}")
    else:
        print(f"database {where} upgraded from {before or 'empty'} to {after}")
    return 0


def _current(args: argparse.Namespace) -> int:
    from connector.settings import load_settings
    from connector.store.engine import make_engine
    from connector.store.migrate import current_revision, head_revision

    engine = make_engine(load_settings())
    try:
        current, head = current_revision(engine), head_revision(engine)
    finally:
        engine.dispose()
    state = "up to date" if current == head else f"behind (head is {head})"
    print(f"{current or 'empty'}: {state}")
    return 0
