"""`quotaflow worker`: a worker of the distributed engine (Procfile `worker`); run any number,
on any number of machines, against one PostgreSQL database."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add `worker`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "worker",
        help="run registered orgs' syncs from the PostgreSQL task queue (any number of workers)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        metavar="N",
        help="orgs synced at once by this process (default 4; syncs mostly wait on Salesforce)",
    )
    parser.add_argument("--name", help="worker name in logs and the queue's worker table")
    parser.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    import logging

    from connector.errors import ConnectorError
    from connector.settings import load_settings
    from connector.store.engine import make_engine, make_session_factory
    from connector.tasks.engine import build_app, ensure_schema, run_worker
    from connector.tasks.org_sync import OrgSyncer, SyncerOptions
    from webapp.cli import CliError
    from webapp.cli.common import require_migrated

    if args.concurrency < 1:
        raise CliError(f"--concurrency: must be at least 1, got {args.concurrency}")
    settings = load_settings()
    build_app(settings)  # PostgreSQL, or a clear error before anything starts
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    engine = require_migrated(make_engine(settings, pool_size=args.concurrency + 2))
    ensure_schema(settings)
    syncer = OrgSyncer(
        settings,
        engine=engine,
        sessions=make_session_factory(engine),
        options=SyncerOptions(resume_interrupted=True),
    )
    try:
        syncer.register_environment_org()
    except ConnectorError as exc:
        logging.getLogger("quotaflow.worker").error("the SF_LOGIN_URL org cannot log in: %s", exc)
    try:
        run_worker(syncer, concurrency=args.concurrency, name=args.name)
    finally:
        engine.dispose()
    return 0
