"""Pieces shared by the sub-commands: reading files, the migrated database, the org option."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from webapp.cli import CliError


def org_option(parser: argparse.ArgumentParser) -> None:
    """Add `--org ORG_ID` (defaulting to the only org in the database)."""
    parser.add_argument(
        "--org", help="Salesforce organization id (default: the only org in the database)"
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


def resolve_org(session: Any, given: str | None) -> str:
    """`--org` when given, else the only org that has a mapping or plan stored."""
    if given:
        return given
    from connector.store.mapping_versions import known_org_ids
    from connector.store.plans import plan_org_ids

    orgs = sorted(set(known_org_ids(session)) | set(plan_org_ids(session)))
    if len(orgs) == 1:
        return str(orgs[0])
    known = f" (known: {', '.join(orgs)})" if orgs else " (none stored yet)"
    raise CliError(f"pass --org ORG_ID, the Salesforce organization id{known}")
