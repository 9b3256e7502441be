"""Record reads and writes with Salesforce's validation, derived fields and soft deletes.

Write functions run inside a `Database.write()` transaction and raise `ApiError`; the
caller decides whether one failure rolls back the rest (sObject Collections allOrNone).
"""

from __future__ import annotations

import functools
import sqlite3
from dataclasses import dataclass
from typing import Any

from devorg import schema, values
from devorg.errors import ApiError, not_found
from devorg.faults import Faults
from devorg.permissions import UNRESTRICTED, Access
from devorg.store import id18, quote

# Salesforce deletes these children with their parent (master-detail style cascade).
CASCADE: dict[str, tuple[tuple[str, str], ...]] = {
    "Account": (("Opportunity", "AccountId"),),
    "Opportunity": (
        ("OpportunitySplit", "OpportunityId"),
        ("OpportunityTeamMember", "OpportunityId"),
        ("OpportunityLineItem", "OpportunityId"),
    ),
}


@dataclass(frozen=True)
class WriteContext:
    """Who writes, when (SystemModstamp value) and which faults apply (None: no faults)."""

    stamp: int
    user_id: str | None
    faults: Faults | None
    access: Access = UNRESTRICTED  # the writing user's object- and field-level security


def get_object(name: str) -> schema.ObjectSpec:
    """The object spec by API name (case-insensitive), or 404 NOT_FOUND."""
    obj = schema.get_object(name)
    if obj is None:
        raise not_found()
    return obj


def fetch_row(conn: sqlite3.Connection, obj: schema.ObjectSpec, record_id: str) -> dict[str, Any]:
    """The stored row as {field: storage value}, or 404 NOT_FOUND."""
    rid = id18(record_id)
    if rid is None:
        raise not_found()
    cur = conn.execute(f"SELECT * FROM {quote(obj.name)} WHERE Id = ?", (rid,))
    row = cur.fetchone()
    if row is None:
        raise not_found()
    return dict(zip((d[0] for d in cur.description), row, strict=True))


def to_record(
    obj: schema.ObjectSpec,
    row: dict[str, Any],
    *,
    api_version: str,
    fields: list[str] | None = None,
) -> dict[str, Any]:
    """The record JSON of `GET /sobjects/X/{id}` (all fields, or the `?fields=` list)."""
    specs = list(obj.fields) if fields is None else [_field_or_error(obj, f) for f in fields]
    url = f"/services/data/v{api_version}/sobjects/{obj.name}/{row['Id']}"
    record: dict[str, Any] = {"attributes": {"type": obj.name, "url": url}}
    for spec in specs:
        record[spec.name] = values.to_json(spec, row.get(spec.name))
    return record


def _field_or_error(obj: schema.ObjectSpec, name: str) -> schema.FieldSpec:
    spec = obj.field(name.strip())
    if spec is None:
        raise ApiError(
            400,
            "INVALID_FIELD",
            f"No such column '{name.strip()}' on entity '{obj.name}'. If you are attempting to "
            "use a custom field, be sure to append the '__c' after the custom field name.",
            fields=[name.strip()],
        )
    return spec


def insufficient_access() -> ApiError:
    """The object-level security refusal of a create, update or delete."""
    return ApiError(
        400, "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", fields=[]
    )


def parse_fields(
    obj: schema.ObjectSpec,
    body: dict[str, Any],
    *,
    creating: bool,
    access: Access = UNRESTRICTED,
) -> dict[str, Any]:
    """Validate a JSON body into {exact field name: storage value}; ApiError on a problem."""
    out: dict[str, Any] = {}
    for key, raw in body.items():
        if key == "attributes":
            continue
        spec = _settable(obj, key, creating=creating, access=access)
        out[spec.name] = _storage_value(spec, raw)
    return out


def field_parser(obj: schema.ObjectSpec, *, creating: bool, access: Access = UNRESTRICTED) -> Any:
    """`parse_fields` for many bodies of one user (a Bulk API job's rows): a field's
    security checks are made once, its value is still checked in every body."""
    checked: dict[str, schema.FieldSpec | ApiError] = {}

    def parse(body: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, raw in body.items():
            if key == "attributes":
                continue
            found = checked.get(key)
            if found is None:
                try:
                    found = _settable(obj, key, creating=creating, access=access)
                except ApiError as exc:
                    found = exc
                checked[key] = found
            if isinstance(found, ApiError):
                raise ApiError(found.status, found.error_code, found.message, fields=found.fields)
            out[found.name] = _storage_value(found, raw)
        return out

    return parse


def _settable(
    obj: schema.ObjectSpec, key: str, *, creating: bool, access: Access
) -> schema.FieldSpec:
    """The field a body's key sets, or the ApiError Salesforce answers for it."""
    spec = obj.field(key)
    if spec is not None and not access.can_read_field(obj, spec):
        spec = None  # a field the user cannot see does not exist for them
    if spec is None:
        raise ApiError(
            400,
            "INVALID_FIELD",
            f"No such column '{key}' on sobject of type {obj.name}",
            fields=[key],
        )
    allowed = spec.createable if creating else spec.updateable
    if not allowed or not access.can_edit_field(obj, spec, creating=creating):
        raise ApiError(
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {spec.name}. Please check the security "
            "settings of this field and verify that it is read/write for your profile "
            "or permission set.",
            fields=[spec.name],
        )
    return spec


def _storage_value(spec: schema.FieldSpec, raw: Any) -> Any:
    try:
        return values.to_storage(spec, raw)
    except values.FieldValueError as exc:
        raise ApiError(400, exc.error_code, exc.message, fields=list(exc.fields)) from exc


def _required_missing(names: list[str]) -> ApiError:
    return ApiError(
        400,
        "REQUIRED_FIELD_MISSING",
        f"Required fields are missing: [{', '.join(names)}]",
        fields=names,
    )


def next_id(conn: sqlite3.Connection, obj: schema.ObjectSpec) -> str:
    """A fresh id for the object, from a persistent counter that skips ids already in use."""
    conn.execute("CREATE TABLE IF NOT EXISTS _devorg_counter (object TEXT PRIMARY KEY, n INTEGER)")
    row = conn.execute("SELECT n FROM _devorg_counter WHERE object = ?", (obj.name,)).fetchone()
    if row is None:
        row = conn.execute(f"SELECT count(*) FROM {quote(obj.name)}").fetchone()
    n = int(row[0])
    table = quote(obj.name)
    while True:
        n += 1
        candidate = schema.new_id(obj.name, n)
        if conn.execute(f"SELECT 1 FROM {table} WHERE Id = ?", (candidate,)).fetchone() is None:
            break
    conn.execute(
        "INSERT INTO _devorg_counter (object, n) VALUES (?, ?) "
        "ON CONFLICT(object) DO UPDATE SET n = excluded.n",
        (obj.name, n),
    )
    return candidate


def create(
    conn: sqlite3.Connection, obj: schema.ObjectSpec, body: dict[str, Any], ctx: WriteContext
) -> str:
    """Insert a record from a JSON body; returns its new id."""
    if not ctx.access.can(obj, "create"):
        raise insufficient_access()
    fields = parse_fields(obj, body, creating=True, access=ctx.access)
    for spec in obj.fields:
        if spec.name in fields or not spec.createable:
            continue
        if spec.default_value is not None:
            fields[spec.name] = _storage_value(spec, spec.default_value)
        elif spec.type == "boolean":
            fields[spec.name] = 0
    if obj.field("OwnerId") is not None and fields.get("OwnerId") is None and ctx.user_id:
        fields["OwnerId"] = ctx.user_id  # records default to the running user as owner
    missing = [
        spec.name
        for spec in obj.fields
        if spec.createable and not spec.nillable and fields.get(spec.name) is None
    ]
    if missing:
        raise _required_missing(missing)
    record_id = next_id(conn, obj)
    _derive(conn, obj, fields, current={})
    fields.update(Id=record_id, CreatedDate=ctx.stamp)
    _audit(obj, fields, ctx)
    if obj.field("IsDeleted") is not None:
        fields["IsDeleted"] = 0
    if obj.field("CreatedById") is not None and ctx.user_id:
        fields["CreatedById"] = ctx.user_id
    _insert(conn, obj, fields)
    if obj.name == "OpportunityLineItem":
        refresh_has_line_items(conn, [fields.get("OpportunityId")])
    return record_id


def refresh_has_line_items(conn: sqlite3.Connection, opp_ids: list[Any]) -> None:
    """Opportunity.HasOpportunityLineItem: whether a live line item points at it (Salesforce
    keeps it up to date; the API cannot set it)."""
    conn.executemany(
        'UPDATE "Opportunity" SET HasOpportunityLineItem = EXISTS (SELECT 1 FROM '
        '"OpportunityLineItem" li WHERE li.OpportunityId = "Opportunity".Id AND li.IsDeleted = 0) '
        "WHERE Id = ?",
        [(opp_id,) for opp_id in opp_ids if opp_id],
    )


def update(
    conn: sqlite3.Connection,
    obj: schema.ObjectSpec,
    record_id: str,
    body: dict[str, Any],
    ctx: WriteContext,
    *,
    row: dict[str, Any] | None = None,
    parse: Any = None,
) -> bool:
    """Apply a PATCH body to an existing, undeleted record; False when every field it sets
    already held that value (a no-op update: for a client that only writes differences, a
    write sent twice).

    A caller writing many records (a Bulk API job's chunk) may pass the record's stored
    `row` as `fetch_row` reads it in this transaction, and a `field_parser` as `parse`."""
    current = _live_row(conn, obj, record_id) if row is None else _undeleted(row)
    if not ctx.access.can(obj, "edit"):
        raise insufficient_access()
    if parse is None:
        fields = parse_fields(obj, body, creating=False, access=ctx.access)
    else:
        fields = parse(body)
    changes = any(current.get(name) != value for name, value in fields.items())
    _check_faults(ctx, current["Id"])
    _derive(conn, obj, fields, current=current)
    _audit(obj, fields, ctx)
    _update_row(conn, obj, current["Id"], fields)
    if obj.name == "Opportunity" and "Amount" in fields:
        _recompute_splits(conn, current["Id"], fields["Amount"], ctx)
    return changes


def delete(
    conn: sqlite3.Connection, obj: schema.ObjectSpec, record_id: str, ctx: WriteContext
) -> None:
    """Soft-delete a record (IsDeleted = true, visible to queryAll) and its children."""
    if not obj.deletable or obj.field("IsDeleted") is None:
        # Users are deactivated (IsActive = false), never deleted.
        raise ApiError(400, "INVALID_TYPE_FOR_OPERATION", "entity type cannot be deleted")
    current = _live_row(conn, obj, record_id)
    if not ctx.access.can(obj, "delete"):
        raise insufficient_access()
    _check_faults(ctx, current["Id"])
    _set_deleted(conn, obj, [current["Id"]], deleted=True, ctx=ctx)
    if obj.name == "OpportunityLineItem":
        refresh_has_line_items(conn, [current.get("OpportunityId")])


def undelete(
    conn: sqlite3.Connection, obj: schema.ObjectSpec, record_id: str, ctx: WriteContext
) -> None:
    """Restore a soft-deleted record and the children deleted with it."""
    row = fetch_row(conn, obj, record_id)
    if obj.field("IsDeleted") is None or not row.get("IsDeleted"):
        raise ApiError(400, "UNDELETE_FAILED", "Entity is not in the recycle bin")
    _set_deleted(conn, obj, [row["Id"]], deleted=False, ctx=ctx, was_stamp=row["SystemModstamp"])


def fetch_rows(
    conn: sqlite3.Connection, obj: schema.ObjectSpec, record_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The stored rows of these ids as `fetch_row` reads them, by 18-character id (ids that
    are not ids, or of no record, left out): one query for a chunk of records."""
    ids = sorted({rid for rid in map(id18, record_ids) if rid is not None})
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    cur = conn.execute(f"SELECT * FROM {quote(obj.name)} WHERE Id IN ({marks})", ids)
    names = [d[0] for d in cur.description]
    at = names.index("Id")
    return {row[at]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def _live_row(conn: sqlite3.Connection, obj: schema.ObjectSpec, record_id: str) -> dict[str, Any]:
    return _undeleted(fetch_row(conn, obj, record_id))


def _undeleted(row: dict[str, Any]) -> dict[str, Any]:
    if row.get("IsDeleted"):
        raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", fields=[])
    return row


def _check_faults(ctx: WriteContext, record_id: str) -> None:
    if ctx.faults is not None:
        failure = ctx.faults.record_failure(record_id)
        if failure is not None:
            raise failure


def _audit(obj: schema.ObjectSpec, fields: dict[str, Any], ctx: WriteContext) -> None:
    fields["SystemModstamp"] = ctx.stamp
    fields["LastModifiedDate"] = ctx.stamp
    if obj.field("LastModifiedById") is not None and ctx.user_id:
        fields["LastModifiedById"] = ctx.user_id


def _derive(
    conn: sqlite3.Connection,
    obj: schema.ObjectSpec,
    fields: dict[str, Any],
    *,
    current: dict[str, Any],
) -> None:
    """Fields Salesforce computes: User.Name, IsClosed/IsWon (+ stage Probability), SplitAmount."""
    if obj.name == "User" and not current and fields.get("UserType") is None:
        # UserType is read-only and set by the user license of the profile; users created
        # through the API here get a Salesforce license profile, so they are Standard.
        fields["UserType"] = "Standard"
    if obj.name == "User" and ({"FirstName", "LastName"} & fields.keys()):
        fields.update(values.derived_values("User", {**current, **fields}))
    elif obj.name == "Opportunity" and "StageName" in fields:
        # Only this write's values: a new stage brings its default Probability unless set too.
        fields.update(values.derived_values("Opportunity", fields))
    elif obj.name == "Task":
        _derive_task(conn, fields)
    elif obj.name == "OpportunitySplit" and ({"SplitPercentage", "OpportunityId"} & fields.keys()):
        merged = {**current, **fields}
        row = conn.execute(
            'SELECT Amount FROM "Opportunity" WHERE Id = ?', (merged.get("OpportunityId"),)
        ).fetchone()
        amount, pct = (row[0] if row else None), merged.get("SplitPercentage")
        fields["SplitAmount"] = None if amount is None or pct is None else _split(amount, pct)


def _derive_task(conn: sqlite3.Connection, fields: dict[str, Any]) -> None:
    """Task.IsClosed follows Status, IsHighPriority follows Priority, and AccountId follows the
    related record (the Account itself, or an Opportunity's Account)."""
    if "Status" in fields:
        fields["IsClosed"] = int(fields["Status"] in schema.TASK_CLOSED_STATUSES)
    if "Priority" in fields:
        fields["IsHighPriority"] = int(fields["Priority"] == "High")
    if "WhatId" in fields:
        what = fields["WhatId"]
        account = None
        if what is not None and str(what).startswith(schema.OBJECTS["Account"].key_prefix):
            account = what
        elif what is not None:
            row = conn.execute('SELECT AccountId FROM "Opportunity" WHERE Id = ?', (what,))
            found = row.fetchone()
            account = found[0] if found else None
        fields["AccountId"] = account


def _split(amount: float, pct: float) -> float:
    return round(amount * pct / 100, 2)


def _recompute_splits(
    conn: sqlite3.Connection, opp_id: str, amount: Any, ctx: WriteContext
) -> None:
    rows = conn.execute(
        'SELECT Id, SplitPercentage FROM "OpportunitySplit" WHERE OpportunityId = ? '
        "AND IsDeleted = 0",
        (opp_id,),
    ).fetchall()
    for split_id, pct in rows:
        value = None if amount is None or pct is None else _split(amount, pct)
        conn.execute(
            'UPDATE "OpportunitySplit" SET SplitAmount = ?, SystemModstamp = ?, '
            "LastModifiedDate = ? WHERE Id = ?",
            (value, ctx.stamp, ctx.stamp, split_id),
        )


def _set_deleted(
    conn: sqlite3.Connection,
    obj: schema.ObjectSpec,
    ids: list[str],
    *,
    deleted: bool,
    ctx: WriteContext,
    was_stamp: int | None = None,
) -> None:
    for rid in ids:
        conn.execute(
            f"UPDATE {quote(obj.name)} SET IsDeleted = ?, SystemModstamp = ?, "
            "LastModifiedDate = ? WHERE Id = ?",
            (int(deleted), ctx.stamp, ctx.stamp, rid),
        )
    for child_name, ref in CASCADE.get(obj.name, ()):
        child = schema.OBJECTS.get(child_name)
        if child is None:
            continue
        marks = ",".join("?" * len(ids))
        sql = (
            f"SELECT Id FROM {quote(child.name)} WHERE {quote(ref)} IN ({marks}) AND IsDeleted = ?"
        )
        params: list[Any] = [*ids, int(not deleted)]
        if not deleted and was_stamp is not None:
            # Undelete restores only the children that went to the recycle bin with the parent.
            sql += " AND SystemModstamp = ?"
            params.append(was_stamp)
        child_ids = [r[0] for r in conn.execute(sql, params)]
        if child_ids:
            _set_deleted(conn, child, child_ids, deleted=deleted, ctx=ctx, was_stamp=was_stamp)


def _insert(conn: sqlite3.Connection, obj: schema.ObjectSpec, fields: dict[str, Any]) -> None:
    names = list(fields)
    cols = ", ".join(quote(n) for n in names)
    marks = ", ".join("?" * len(names))
    conn.execute(f"INSERT INTO {quote(obj.name)} ({cols}) VALUES ({marks})", list(fields.values()))


def _update_row(
    conn: sqlite3.Connection, obj: schema.ObjectSpec, record_id: str, fields: dict[str, Any]
) -> None:
    conn.execute(_update_sql(obj.name, tuple(fields)), [*fields.values(), record_id])


@functools.lru_cache(maxsize=256)
def _update_sql(table: str, names: tuple[str, ...]) -> str:
    sets = ", ".join(f"{quote(n)} = ?" for n in names)
    return f"UPDATE {quote(table)} SET {sets} WHERE Id = ?"
