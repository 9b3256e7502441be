"""The write-back allow-list as the mapping page edits it: add or remove a custom field
(refused when it can never be a target), and the list with its audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connector.store.unit import OrgUnit
from connector.store.writeback_fields import (
    ListedField,
    WritebackFieldEvent,
    parse_key,
)
from mappings.defaults import default_mapping
from mappings.writeback_rules import FieldKey, fields_read


@dataclass(frozen=True, slots=True)
class AllowList:
    """The org's allow-list and its latest changes."""

    fields: list[ListedField]
    events: list[WritebackFieldEvent]


def allow_list(unit: OrgUnit) -> AllowList:
    """The allow-list (shipped fields, then added ones) and the latest changes."""
    return AllowList(unit.writeback_fields.listed_fields(), unit.writeback_fields.field_events())


def allow_field(unit: OrgUnit, *, text: str, by: str, now: datetime) -> tuple[FieldKey, bool]:
    """Add `Object.Field__c`; AllowListError says why it is refused (standard, read by the
    active mapping, malformed). Returns the field and whether it was new."""
    key = parse_key(text)
    row = unit.mappings.active_version()
    doc = row.load() if row is not None else default_mapping()
    created = unit.writeback_fields.add_field(key=key, read=fields_read(doc), by=by, now=now)
    return key, created


def disallow_field(unit: OrgUnit, *, text: str, by: str, now: datetime) -> FieldKey:
    """Remove an added field; AllowListError for a shipped or unknown one."""
    key = parse_key(text)
    unit.writeback_fields.remove_field(key=key, by=by, now=now)
    return key
