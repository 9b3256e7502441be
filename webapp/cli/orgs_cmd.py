"""`quotaflow orgs list|connect-link|pause|resume|disconnect|purge|rotate-key`: the org registry."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from webapp.cli import CliError


def register(subparsers: Any) -> None:
    """Add `orgs` and its sub-commands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "orgs", help="the connected Salesforce orgs: list, connect, pause, disconnect, purge"
    )
    sub = parser.add_subparsers(dest="orgs_command", metavar="ACTION", required=True)
    listing = sub.add_parser(
        "list", help="every registered org: status, last run, lag, API usage, queue state"
    )
    listing.add_argument("--json", action="store_true", help="print JSON (as /api/v1/org)")
    listing.set_defaults(handler=_list)
    link = sub.add_parser(
        "connect-link", help="print a ten-minute link that opens /connect for an admin"
    )
    link.add_argument("--by", default=None, help="who the link is for (shown on the org)")
    link.set_defaults(handler=_link)
    for name, text in (
        ("pause", "stop starting syncs for the org (it stays connected)"),
        ("resume", "start syncing a paused org again"),
        ("disconnect", "revoke the org's refresh token and stop its syncs; its data stays"),
        ("purge", "delete every stored row of a disconnected org"),
    ):
        action = sub.add_parser(name, help=text)
        action.add_argument("org_id", metavar="ORG_ID")
        if name == "disconnect":
            action.add_argument(
                "--force",
                action="store_true",
                help="disconnect even if Salesforce cannot be reached to revoke the token",
            )
        if name == "purge":
            action.add_argument("--yes", action="store_true", help="confirm the deletion")
        action.set_defaults(handler=_action)
    canvas = sub.add_parser(
        "set-canvas-secret",
        help="give an org a Canvas app of its own (its consumer secret, read from a file), "
        "or --shared to use SF_CANVAS_SECRET again",
    )
    canvas.add_argument("org_id", metavar="ORG_ID")
    which = canvas.add_mutually_exclusive_group(required=True)
    which.add_argument("--from-file", type=Path, metavar="PATH", help="file holding the secret")
    which.add_argument("--shared", action="store_true", help="use the shared Canvas app")
    canvas.set_defaults(handler=_canvas_secret)
    sub.add_parser(
        "rotate-key",
        help="re-encrypt every stored token with the first key of QUOTAFLOW_ENCRYPTION_KEY",
    ).set_defaults(handler=_rotate)


def _sessions() -> tuple[Any, Any, Any]:
    from connector.settings import load_settings
    from connector.store.engine import make_engine, make_session_factory
    from webapp.cli.common import require_migrated

    settings = load_settings()
    engine = require_migrated(make_engine(settings))
    return settings, engine, make_session_factory(engine)


def _list(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime

    from connector.orgs.status import human_lag, lag_seconds, org_json, queue_state
    from connector.store.org_reads import OrgFactsReader

    _, engine, sessions = _sessions()
    try:
        every = OrgFactsReader(sessions).every()
    finally:
        engine.dispose()
    now = datetime.now(UTC)
    if args.json:
        print(json.dumps([org_json(f, now=now) for f in every], indent=2))
        return 0
    if not every:
        print("no org registered yet: connect one with `quotaflow orgs connect-link`")
        return 0
    print(
        f"{'org id':<18}  {'status':<12}  {'last run':<10}  {'lag':<14}  {'API usage':<17}  queue"
    )
    for f in every:
        usage = f"{f.api_usage:,}/{f.api_limit:,}" if f.api_limit and f.api_usage else "-"
        print(
            f"{f.org_id:<18}  {f.status or '-':<12}  {f.last_run_status or '-':<10}  "
            f"{human_lag(lag_seconds(f, now=now)):<14}  {usage:<17}  {queue_state(f)}"
        )
    return 0


def _link(args: argparse.Namespace) -> int:
    import getpass

    from connector.orgs.connect import connect_app
    from connector.settings import load_settings
    from webapp.connect import TICKET_SECONDS, connect_ticket

    settings = load_settings()
    connect_app(settings)  # every setting /connect needs is there
    by = args.by or f"cli:{getpass.getuser()}"
    ticket = connect_ticket(settings.require_secret_key(), by=by)
    print(f"{settings.public_url}/connect?ticket={ticket}")
    print(f"(valid {TICKET_SECONDS // 60} minutes; open it in a browser, not inside Salesforce)")
    return 0


def _action(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from connector.errors import ConnectorError
    from connector.orgs.registry import disconnect, purge, set_paused
    from connector.salesforce.http import make_http_session

    settings, engine, sessions = _sessions()
    now = datetime.now(UTC)
    command, org_id = args.orgs_command, args.org_id
    try:
        if command in ("pause", "resume"):
            view = set_paused(sessions, org_id, paused=command == "pause", now=now)
            print(f"org {org_id} is {view.status}")
        elif command == "disconnect":
            box = _box_or_none(settings)
            http = make_http_session(settings.sf_ca_bundle)
            revoked = disconnect(sessions, org_id, http=http, box=box, now=now, force=args.force)
            note = "token revoked" if revoked else "no live token to revoke"
            print(f"org {org_id} is disconnected ({note}); its data stays until `orgs purge`")
        else:
            if not args.yes:
                raise CliError(f"purge deletes every stored row of org {org_id}: pass --yes")
            counts = purge(sessions, org_id)
            total = sum(counts.values())
            print(f"org {org_id} purged: {total:,} rows deleted")
            for table, n in sorted(counts.items()):
                print(f"  {table}: {n:,}")
    except ConnectorError as exc:
        raise CliError(str(exc)) from None
    finally:
        engine.dispose()
    return 0


def _box_or_none(settings: Any) -> Any:
    from connector.errors import ConfigError
    from connector.orgs.registry import secret_box

    try:
        return secret_box(settings)
    except ConfigError:
        return None


def _canvas_secret(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from connector.errors import ConnectorError
    from connector.orgs.registry import secret_box, set_canvas_secret
    from webapp.cli.common import read_text

    secret = None if args.shared else read_text(args.from_file).strip()
    if secret == "":
        raise CliError(f"{args.from_file}: the file is empty")
    settings, engine, sessions = _sessions()
    try:
        set_canvas_secret(
            sessions, args.org_id, secret, box=secret_box(settings), now=datetime.now(UTC)
        )
    except ConnectorError as exc:
        raise CliError(str(exc)) from None
    finally:
        engine.dispose()
    which = "the shared Canvas app" if secret is None else "a Canvas app of its own"
    print(f"org {args.org_id} now verifies Canvas requests with {which}")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from connector.orgs.registry import rotate_keys, secret_box

    settings, engine, sessions = _sessions()
    try:
        done = rotate_keys(sessions, secret_box(settings))
    finally:
        engine.dispose()
    print(f"{done} stored secret(s) re-encrypted with the first key; older keys may now go")
    return 0
