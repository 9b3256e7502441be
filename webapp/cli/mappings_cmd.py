"""`quotaflow mappings validate|export|import FILE`: mapping documents as YAML or JSON."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from webapp.cli import CliError
from webapp.cli.common import OrgUnknown, migrated_engine, org_option, read_text, resolve_org

ORG_SOURCES = ("devorg", "org")


def register(subparsers: Any) -> None:
    """Add `mappings` and its sub-commands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "mappings", help="validate, export or import field mappings"
    )
    sub = parser.add_subparsers(dest="mappings_command", metavar="ACTION", required=True)
    validate = sub.add_parser("validate", help="check a mapping file (and against an org)")
    validate.add_argument("file", type=Path, metavar="FILE", help="mapping document (YAML or JSON)")
    _describe_option(validate)
    validate.set_defaults(handler=_validate)
    export = sub.add_parser("export", help="write the active mapping (or --version N) to FILE")
    export.add_argument("file", type=Path, metavar="FILE", help=".json for JSON, else YAML")
    export.add_argument("--version", type=int, help="a stored version instead of the active one")
    org_option(export)
    export.set_defaults(handler=_export)
    imp = sub.add_parser("import", help="validate FILE, then activate it as a new version")
    imp.add_argument("file", type=Path, metavar="FILE", help="mapping document (YAML or JSON)")
    imp.add_argument("--by", help="who activates it (default: the OS user)")
    _describe_option(imp)
    org_option(imp)
    imp.set_defaults(handler=_import)
    history = sub.add_parser("history", help="list stored versions: who created and activated")
    org_option(history)
    history.set_defaults(handler=_history)


def _describe_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--describe-from",
        metavar="devorg|FILE",
        help="check against describes: a JSON file {object name: describe JSON}, or `devorg`"
        " / `org` for the org configured by the SF_* settings",
    )


def _problems_exit(source: str, problems: Sequence[object]) -> int:
    for problem in problems:
        print(f"quotaflow mappings: error: {source}: {problem}", file=sys.stderr)
    return 2


def _org_describes(spec: str, doc: Any) -> Mapping[str, Any]:
    """Describes of the configured org (SF_* settings; the devorg is one such org)."""
    from connector.deps import build_gateway
    from connector.errors import ConnectorError
    from connector.reports.admin_mappings import describer
    from connector.settings import load_settings
    from mappings.validate import collect_describes

    try:
        return collect_describes(doc, describer(build_gateway(load_settings())))
    except ConnectorError as exc:
        raise CliError(f"--describe-from {spec}: {exc}") from None


def _load_describes(spec: str, doc: Any) -> Mapping[str, Any]:
    if spec in ORG_SOURCES:
        return _org_describes(spec, doc)
    try:
        data = json.loads(read_text(Path(spec)))
    except json.JSONDecodeError as exc:
        raise CliError(f"{spec}: not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise CliError(f"{spec}: expected an object {{object name: describe JSON}}")
    return data


def _checked(args: argparse.Namespace, allowed: Any) -> tuple[Any, list[Any]]:
    """The document in FILE and every problem found (parsing, structure, write-back
    allow-list `allowed`, describes)."""
    from mappings.errors import MappingError
    from mappings.loader import load_mapping
    from mappings.validate import validate_against_describe
    from mappings.writeback_rules import allowlist_problems

    try:
        doc = load_mapping(read_text(args.file), source=str(args.file))
    except MappingError as exc:
        return None, list(exc.problems)
    if not args.describe_from:
        return doc, allowlist_problems(doc, allowed)
    describes = _load_describes(args.describe_from, doc)
    problems = validate_against_describe(doc, describes)
    problems += allowlist_problems(doc, allowed, describes=describes)
    return doc, list(dict.fromkeys(problems))


def _validate(args: argparse.Namespace) -> int:
    from mappings.writeback_rules import SHIPPED_FIELDS

    # Offline: only force-app's fields count; `import` also accepts the org's additions.
    doc, problems = _checked(args, SHIPPED_FIELDS)
    if problems:
        return _problems_exit(str(args.file), problems)
    against = f"against {args.describe_from}" if args.describe_from else "(no org describes given)"
    objects = ", ".join(m.object for m in doc.targets().values())
    print(f"{args.file}: valid {against}: {objects}; {len(doc.writeback)} write-back targets")
    return 0


def _database() -> Any:
    return migrated_engine()


def _org(sessions: Any, given: str | None) -> str:
    return resolve_org(sessions, given)


def _export(args: argparse.Namespace) -> int:
    from connector.store.engine import make_session_factory
    from mappings.defaults import default_mapping
    from mappings.loader import dump_mapping

    engine = _database()
    try:
        row = _stored_version(make_session_factory(engine), args)
        doc = row.load() if row is not None else default_mapping()
    finally:
        engine.dispose()
    fmt: Literal["yaml", "json"] = "json" if args.file.suffix.lower() == ".json" else "yaml"
    _write(args.file, dump_mapping(doc, fmt=fmt))
    what = f"version {row.version}" if row is not None else "the default mapping (none stored)"
    print(f"{args.file}: wrote {what}")
    return 0


def _stored_version(sessions: Any, args: argparse.Namespace) -> Any:
    """The requested or active version; None when nothing is stored yet (default mapping)."""
    from connector.store.unit import OrgUnit

    if args.version is not None:
        org = _org(sessions, args.org)
        with OrgUnit(sessions, org) as unit:
            row = unit.mappings.get_version(args.version)
        if row is None:
            raise CliError(f"mapping version {args.version} does not exist for org {org}")
        return row
    found: str | None = args.org or _org_or_none(sessions)
    if not found:
        return None
    with OrgUnit(sessions, found) as unit:
        return unit.mappings.active_version()


def _org_or_none(sessions: Any) -> str | None:
    try:
        return _org(sessions, None)
    except OrgUnknown:
        return None


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise CliError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _import(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from connector.store.engine import make_session_factory
    from connector.store.unit import OrgUnit

    engine = _database()
    try:
        sessions = make_session_factory(engine)
        org = _org(sessions, args.org)
        with OrgUnit(sessions, org) as unit:
            doc, problems = _checked(args, unit.writeback_fields.allowed_fields())
            if problems:
                return _problems_exit(str(args.file), problems)  # nothing stored
            by = args.by or getpass.getuser()
            row, created = unit.mappings.import_version(doc, by=by, now=datetime.now(UTC))
            unit.commit()
    finally:
        engine.dispose()
    if created:
        print(f"{args.file}: activated as version {row.version} for org {org} by {by}")
    else:
        print(f"{args.file}: unchanged, identical to active version {row.version}")
    return 0


def _history(args: argparse.Namespace) -> int:
    from connector.store.engine import make_session_factory
    from connector.store.unit import OrgUnit

    engine = _database()
    try:
        sessions = make_session_factory(engine)
        org = _org(sessions, args.org)
        with OrgUnit(sessions, org) as unit:
            rows = unit.mappings.list_versions()
    finally:
        engine.dispose()
    if not rows:
        print(f"no mapping versions stored for org {org} (the default mapping applies)")
    for row in rows:
        mark = "*" if row.is_active else " "
        activated = (
            f"activated {row.activated_at:%Y-%m-%d %H:%M} UTC by {row.activated_by}"
            if row.activated_at
            else "never activated"
        )
        created = f"created {row.created_at:%Y-%m-%d %H:%M} UTC by {row.created_by}"
        print(f"{mark} v{row.version}  {row.name}  {created}; {activated}  {row.checksum[:12]}")
    return 0
