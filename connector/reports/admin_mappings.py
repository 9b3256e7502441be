"""Editing the org's mapping: check a document (against the org's describes when reachable),
save it as a new version, activate a version, compare versions, preview on stored records.

Shared by the admin views, the mappings API and `quotaflow mappings`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.errors import ConnectorError
from connector.salesforce.errors import SalesforceApiError
from connector.salesforce.gateway import Gateway
from connector.store.mapping_versions import (
    MappingVersion,
    checksum,
)
from connector.store.unit import OrgUnit
from mappings.compile import compile_mapping
from mappings.diff import Change, diff_documents
from mappings.errors import MappingError, Problem
from mappings.loader import document_from_data, dump_mapping, parse_text
from mappings.records import EMPTY_CONTEXT, MappingContext, RecordIssue
from mappings.registry import TargetName
from mappings.schema import MappingDocument
from mappings.validate import collect_describes, validate_against_describe
from mappings.writeback_rules import FieldKey, allowlist_problems

Describer = Callable[[str], Mapping[str, Any] | None]
STRUCTURE_ONLY = "only the document's structure was checked, not the org's fields"


@dataclass(frozen=True, slots=True)
class MappingCheck:
    """The outcome of checking a document: every problem, and whether the org was consulted."""

    document: MappingDocument | None
    problems: tuple[Problem, ...]
    against_org: bool
    notice: str | None = None  # why the org's describes were not used

    @property
    def valid(self) -> bool:
        """Whether the document can be stored."""
        return self.document is not None and not self.problems


def describer(gateway: Gateway) -> Describer:
    """`gateway.describe`, answering None for an object the org does not have."""

    def describe(name: str) -> dict[str, Any] | None:
        try:
            return gateway.describe(name)
        except SalesforceApiError as exc:
            if exc.status == 404 or exc.error_code in ("NOT_FOUND", "INVALID_TYPE"):
                return None  # reported by validation as "the org has no object"
            raise

    return describe


def check_mapping_data(
    data: Any, *, describe: Describer | None, allowed: Collection[FieldKey]
) -> MappingCheck:
    """Check parsed data as a mapping document and its write-back targets against the org's
    allow-list `allowed`, then against the org via `describe` if given."""
    try:
        doc = document_from_data(data)
    except MappingError as exc:
        return MappingCheck(None, exc.problems, against_org=False)
    if describe is None:
        refused = tuple(allowlist_problems(doc, allowed))
        return MappingCheck(doc, refused, against_org=False, notice=STRUCTURE_ONLY)
    try:
        describes = collect_describes(doc, describe)
    except ConnectorError as exc:
        notice = f"the org could not be reached ({exc}); {STRUCTURE_ONLY}"
        refused = tuple(allowlist_problems(doc, allowed))
        return MappingCheck(doc, refused, against_org=False, notice=notice)
    problems = validate_against_describe(doc, describes)
    problems += allowlist_problems(doc, allowed, describes=describes)
    return MappingCheck(doc, tuple(dict.fromkeys(problems)), against_org=True)


def check_mapping_text(
    text: str, *, describe: Describer | None, allowed: Collection[FieldKey]
) -> MappingCheck:
    """Check YAML or JSON text as a mapping document (see `check_mapping_data`)."""
    try:
        data = parse_text(text)
    except MappingError as exc:
        return MappingCheck(None, exc.problems, against_org=False)
    return check_mapping_data(data, describe=describe, allowed=allowed)


def save_version(
    unit: OrgUnit, *, doc: MappingDocument, by: str, now: datetime
) -> tuple[MappingVersion, bool]:
    """Store a checked document as a new, inactive version; (existing version, False) if the
    same document is stored already."""
    wanted = checksum(dump_mapping(doc))
    for row in unit.mappings.list_versions():
        if row.checksum == wanted:
            return row, False
    return unit.mappings.add_version(doc, created_by=by, now=now), True


def activate(
    unit: OrgUnit,
    *,
    version: int,
    by: str,
    now: datetime,
    describe: Describer | None,
) -> tuple[MappingVersion | None, MappingCheck | None]:
    """Activate a stored version after checking it again (the org may have changed since).

    Returns (row, None) when activated, (None, check) when the version no longer fits, and
    (None, None) when there is no such version.
    """
    row = unit.mappings.get_version(version)
    if row is None:
        return None, None
    allowed = unit.writeback_fields.allowed_fields()
    check = check_mapping_text(row.document, describe=describe, allowed=allowed)
    if not check.valid:
        return None, check
    return unit.mappings.activate_version(version, activated_by=by, now=now), None


def diff_versions(unit: OrgUnit, *, before: int, after: int) -> list[Change] | None:
    """What changed from version `before` to `after`; None if either does not exist."""
    a, b = unit.mappings.get_version(before), unit.mappings.get_version(after)
    if a is None or b is None:
        return None
    return diff_documents(a.load(), b.load())


@dataclass(frozen=True, slots=True)
class PreviewRow:
    """One sample record mapped: its canonical values, or why it could not be mapped."""

    record_id: str
    values: dict[str, str]
    error: str | None = None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | date):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return str(value)


def canonical_values(record: Any) -> dict[str, str]:
    """A canonical record's fields as display text (attributes as `attributes.<name>`)."""
    out: dict[str, str] = {}
    if not is_dataclass(record):
        return out
    for f in fields(record):
        value = getattr(record, f.name)
        if f.name == "attributes" and isinstance(value, Mapping):
            out.update({f"attributes.{k}": _text(v) for k, v in value.items()})
        else:
            out[f.name] = _text(value)
    return out


def preview(
    unit: OrgUnit,
    *,
    doc: MappingDocument,
    target: TargetName,
    limit: int = 5,
    context: MappingContext = EMPTY_CONTEXT,
) -> tuple[str, Sequence[PreviewRow]]:
    """The target's Salesforce object and `limit` stored records of it mapped with `doc`."""
    plan = compile_mapping(doc).mappers[target]
    rows = []
    for raw in unit.records.sample_raw_records(object_name=plan.object_name, limit=limit):
        result = plan.map(raw.payload, context)
        if isinstance(result, RecordIssue):
            rows.append(PreviewRow(raw.record_id, {}, error=result.reason))
        else:
            rows.append(PreviewRow(raw.record_id, canonical_values(result)))
    return plan.object_name, rows
