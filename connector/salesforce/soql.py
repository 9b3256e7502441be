"""SOQL for the incremental pull. Values enter only through `format_soql`; names only from
the validated mapping intersected with describe, and checked against an identifier pattern."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from simple_salesforce.format import format_soql

from connector.salesforce.ids import is_id

_PATH = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*")


def _checked(name: str) -> str:
    if not _PATH.fullmatch(name):
        raise ValueError(f"{name!r} is not a field or object name")
    return name


def incremental_query(
    object_name: str,
    fields: Sequence[str],
    *,
    since: datetime | None,
    until: datetime,
    key: str = "SystemModstamp",
) -> str:
    """`SELECT fields FROM object WHERE key >= since AND key < until ORDER BY key, Id`.

    SOQL datetime literals have whole seconds (format_soql drops the fraction), so callers
    pass `until` already truncated, and the watermark never passes it.
    """
    select = ", ".join(_checked(f) for f in fields)
    base = "SELECT {fields:literal} FROM {obj:literal} WHERE "
    order = " ORDER BY {key:literal}, Id"
    if since is None:
        return format_soql(
            base + "{key:literal} < {until}" + order,
            fields=select,
            obj=_checked(object_name),
            key=_checked(key),
            until=until,
        )
    return format_soql(
        base + "{key:literal} >= {since} AND {key:literal} < {until}" + order,
        fields=select,
        obj=_checked(object_name),
        key=_checked(key),
        since=since,
        until=until,
    )


def ids_query(object_name: str, ids: Sequence[str]) -> str:
    """`SELECT Id FROM object WHERE Id IN (...)`: which of these records still exist."""
    return format_soql(
        "SELECT Id FROM {obj:literal} WHERE Id IN {ids}", obj=_checked(object_name), ids=list(ids)
    )


def fields_by_ids_query(object_name: str, fields: Sequence[str], ids: Sequence[str]) -> str:
    """`SELECT Id, fields FROM object WHERE Id IN (...)`: the current values of these records.

    Every id must be a well-formed Salesforce id (they come from the store's journal)."""
    bad = [i for i in ids if not is_id(i)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a Salesforce id")
    select = ", ".join(["Id", *(_checked(f) for f in fields if f.casefold() != "id")])
    return format_soql(
        "SELECT {fields:literal} FROM {obj:literal} WHERE Id IN {ids}",
        fields=select,
        obj=_checked(object_name),
        ids=list(ids),
    )


def names_query(object_name: str, name_field: str, names: Sequence[str]) -> str:
    """`SELECT Id, name_field FROM object WHERE name_field IN (...)`: the ids behind names.

    SOQL's `=` and `IN` ignore case, so callers compare the returned names exactly.
    """
    return format_soql(
        "SELECT Id, {field:literal} FROM {obj:literal} WHERE {field:literal} IN {names}",
        obj=_checked(object_name),
        field=_checked(name_field),
        names=list(names),
    )


def tasks_by_subject_query(subjects: Sequence[str], owner_ids: Sequence[str]) -> str:
    """`SELECT Id, Subject, OwnerId FROM Task WHERE Subject IN (...) AND OwnerId IN (...)`:
    Tasks made before. SOQL's `IN` ignores case, so callers compare the Subject exactly."""
    return format_soql(
        "SELECT Id, Subject, OwnerId FROM Task WHERE Subject IN {subjects} "
        "AND OwnerId IN {owners} ORDER BY Id",
        subjects=list(subjects),
        owners=sorted(set(owner_ids)),
    )
