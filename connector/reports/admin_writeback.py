"""The write-back allow-list as the mapping page edits it: add or remove a custom field
(refused when it can never be a target), and the list with its audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connector.store.mapping_versions import active_version
from connector.store.result_reads import DbSession as Session
from connector.store.writeback_fields import (
    ListedField,
    WritebackFieldEvent,
    add_field,
    field_events,
    listed_fields,
    parse_key,
    remove_field,
)
from mappings.defaults import default_mapping
from mappings.writeback_rules import FieldKey, fields_read


@dataclass(frozen=True, slots=True)
class AllowList:
    """The org's allow-list and its latest changes."""

    fields: list[ListedField]
    events: list[WritebackFieldEvent]


def allow_list(session: Session, *, org_id: str) -> AllowList:
    """The allow-list (shipped fields, then added ones) and the latest changes."""
    return AllowList(listed_fields(session, org_id=org_id), field_events(session, org_id=org_id))


def allow_field(
    session: Session, *, org_id: str, text: str, by: str, now: datetime
) -> tuple[FieldKey, bool]:
    """Add `Object.Field__c`; AllowListError says why it is refused (standard, read by the
    active mapping, malformed). Returns the field and whether it was new."""
    key = parse_key(text)
    row = active_version(session, org_id)
    doc = row.load() if row is not None else default_mapping()
    created = add_field(session, org_id=org_id, key=key, read=fields_read(doc), by=by, now=now)
    return key, created


def disallow_field(session: Session, *, org_id: str, text: str, by: str, now: datetime) -> FieldKey:
    """Remove an added field; AllowListError for a shipped or unknown one."""
    key = parse_key(text)
    remove_field(session, org_id=org_id, key=key, by=by, now=now)
    return key
