"""Pieces shared by the sub-commands: reading files, the migrated database, the org option."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from webapp.cli import CliError


class OrgUnknown(CliError):
    """No `--org`, no configured connection, and not exactly one org stored."""


def org_option(parser: argparse.ArgumentParser) -> None:
    """Add `--org ORG_ID` (defaulting to the configured connection's org)."""
    parser.add_argument(
        "--org",
        metavar="ORG_ID",
        help="Salesforce organization id (default: the org of the configured connection, "
        "else the only org in the database)",
    )


def read_text(path: Path) -> str:
    """A UTF-8 file's text, or a one-line error naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{path}: cannot read: {exc.strerror or exc}") from None


def require_migrated(engine: Any) -> Any:
    """`engine`, once its database is at the newest migration; else a clear error."""
    from connector.store.migrate import current_revision, head_revision

    if current_revision(engine) != head_revision(engine):
        engine.dispose()
        raise CliError("the database is not up to date; run `quotaflow db upgrade` first")
    return engine


def migrated_engine() -> Any:
    """The configured database's engine, checked to be migrated."""
    from connector.settings import load_settings
    from connector.store.engine import make_engine

    return require_migrated(make_engine(load_settings()))


def connected_org(settings: Any) -> str:
    """The organization id of the configured connection: one sign-in, as `quotaflow sync` does.

    The token response's identity URL (`https://host/id/<orgId>/<userId>`) names the org, so
    the org a plan or mapping is stored for is the very org the sync will run for.
    """
    from connector.deps import build_gateway
    from connector.errors import ConnectorError

    try:
        return build_gateway(settings).org_id()
    except ConnectorError as exc:
        raise CliError(
            f"cannot learn the org of the connection at SF_LOGIN_URL={settings.sf_login_url}: "
            f"{exc}; fix the connection or pass --org ORG_ID"
        ) from None


def resolve_org(sessions: Any, given: str | None, *, settings: Any = None) -> str:
    """`--org` when given, else the configured connection's org, else the only stored org.

    The connection wins over what is stored: a database that still holds the demo's org must
    not receive the plan meant for the real org configured through SF_LOGIN_URL.
    """
    if given:
        return given
    if settings is None:
        from connector.settings import load_settings

        settings = load_settings()
    if settings.sf_login_url:
        return connected_org(settings)
    from connector.store.unit import OrgDirectory

    directory = OrgDirectory(sessions)
    orgs = sorted(set(directory.with_mapping()) | set(directory.with_plan()))
    if len(orgs) == 1:
        return str(orgs[0])
    known = f" (known: {', '.join(orgs)})" if orgs else " (none stored yet)"
    raise OrgUnknown(
        f"pass --org ORG_ID, the Salesforce organization id{known}, or configure the "
        "connection (SF_LOGIN_URL and its credentials) to use its org"
    )
