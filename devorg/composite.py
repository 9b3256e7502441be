"""sObject Collections: `/composite/sobjects` create (POST), update (PATCH), delete (DELETE).

Results come back in request order. With allOrNone every record is still checked; if any
fails, the whole transaction rolls back and the records that were fine report
ALL_OR_NONE_OPERATION_ROLLED_BACK while the failing ones keep their own error.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from devorg import records, schema
from devorg.errors import ApiError
from devorg.rest import PREFIX, json_body, json_response, org, write_context
from devorg.store import id18

bp = Blueprint("composite", __name__)
MAX_RECORDS = 200
# A request is processed in chunks of consecutive records of one type; at most 10 a request.
MAX_CHUNKS = 10
# Objects "related to a feature in the Salesforce Setup area": Salesforce refuses a call that
# writes one of them together with any other type (the MIXED_DML_OPERATION rule).
SETUP_OBJECTS = frozenset(("User", "Profile", "PermissionSet", "PermissionSetAssignment"))
_ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was "
    "using AllOrNone header",
    "fields": [],
}


class _RollBack(Exception):
    """Raised inside the write transaction to undo an allOrNone request."""


# One record operation: (connection, item) -> record id; raises ApiError.
Operation = Callable[[sqlite3.Connection, Any], str]


def _result(record_id: str | None, error: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {} if record_id is None else {"id": record_id}
    out["success"] = error is None
    out["errors"] = [] if error is None else [error]
    return out


def _run(
    items: list[Any], op: Operation, *, all_or_none: bool, known_id: Callable[[Any], str | None]
) -> list[dict[str, Any]]:
    """Apply `op` to every item in one transaction, one savepoint per record."""
    outcomes: list[tuple[str | None, dict[str, Any] | None]] = []
    try:
        with org().db.write() as conn:
            for item in items:
                conn.execute("SAVEPOINT rec")
                try:
                    record_id = op(conn, item)
                except ApiError as exc:
                    conn.execute("ROLLBACK TO rec")
                    outcomes.append((known_id(item), exc.save_error()))
                else:
                    outcomes.append((record_id, None))
                conn.execute("RELEASE rec")
            if all_or_none and any(err is not None for _, err in outcomes):
                raise _RollBack
    except _RollBack:
        return [
            _result(known_id(item), err or _ROLLED_BACK)
            for item, (_, err) in zip(items, outcomes, strict=True)
        ]
    return [_result(rid, err) for rid, err in outcomes]


def _type_name(item: Any) -> str | None:
    attributes = item.get("attributes") if isinstance(item, dict) else None
    raw = attributes.get("type") if isinstance(attributes, dict) else None
    obj = schema.get_object(raw) if isinstance(raw, str) else None
    return obj.name if obj is not None else raw if isinstance(raw, str) else None


def chunk_refusal(types: list[str | None]) -> dict[str, Any] | None:
    """The error every record gets when the call mixes types as Salesforce refuses, else None.

    sObject Collections cut the records into chunks of consecutive records of one type
    ({acc1, acc2, con1, acc3} is three chunks) and process at most 10; and no call may write
    a Setup object (User, PermissionSet, ...) together with any other type.
    """
    known = [t for t in types if t is not None]
    distinct = sorted(set(known))
    setup = [t for t in distinct if t in SETUP_OBJECTS]
    if setup and len(distinct) > 1:
        other = next(t for t in known if t != setup[0])
        return {
            "statusCode": "MIXED_DML_OPERATION",
            "message": "DML operation on setup object is not permitted after you have updated "
            f"a non-setup object (or vice versa): {setup[0]}, original object: {other}",
            "fields": [],
        }
    chunks = sum(1 for i, t in enumerate(known) if i == 0 or t != known[i - 1])
    if chunks > MAX_CHUNKS:
        return {
            "statusCode": "LIMIT_EXCEEDED",
            "message": f"Cannot have more than {MAX_CHUNKS} chunks in a single operation. "
            "Please rearrange the data to reduce chunking.",
            "fields": [],
        }
    return None


def _refused(
    items: list[Any], error: dict[str, Any], known_id: Callable[[Any], str | None]
) -> Response:
    # The call is well formed, so Salesforce answers 200 with every record failed.
    return json_response([_result(known_id(item), error) for item in items])


def _payload() -> tuple[list[Any], bool]:
    body = json_body()
    items = body.get("records")
    if not isinstance(items, list):
        raise ApiError(400, "JSON_PARSER_ERROR", "records must be a JSON array")
    if len(items) > MAX_RECORDS:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call",
        )
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise ApiError(400, "JSON_PARSER_ERROR", "allOrNone must be true or false")
    return items, all_or_none


def _typed(item: Any) -> tuple[Any, dict[str, Any]]:
    if not isinstance(item, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "each record must be a JSON object")
    attributes = item.get("attributes")
    type_name = attributes.get("type") if isinstance(attributes, dict) else None
    if not isinstance(type_name, str):
        raise ApiError(400, "INVALID_TYPE", "No SObject Type defined in attributes", fields=[])
    obj = records.get_object(type_name) if type_name else None
    fields = {k: v for k, v in item.items() if k.lower() != "id"}
    return obj, fields


def _item_id(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    raw = item.get("id", item.get("Id"))
    return id18(raw) if isinstance(raw, str) else None


def _update_one(conn: sqlite3.Connection, item: Any) -> str:
    try:
        obj, fields = _typed(item)
    except ApiError as exc:
        if exc.error_code == "NOT_FOUND":
            raise ApiError(400, "INVALID_TYPE", "sObject type is not supported", fields=[]) from exc
        raise
    raw = item.get("id", item.get("Id"))
    record_id = _item_id(item)
    if raw is None:
        raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", fields=[])
    if record_id is None or not record_id.startswith(obj.key_prefix):
        raise ApiError(400, "MALFORMED_ID", f"malformed id {raw}", fields=[])
    try:
        changed = records.update(conn, obj, record_id, fields, write_context())
    except ApiError as exc:
        if exc.error_code == "NOT_FOUND":
            raise ApiError(
                400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[]
            ) from exc
        raise
    if not changed:
        org().stats.noop_update()
    return record_id


def _create_one(conn: sqlite3.Connection, item: Any) -> str:
    try:
        obj, fields = _typed(item)
    except ApiError as exc:
        if exc.error_code == "NOT_FOUND":
            raise ApiError(400, "INVALID_TYPE", "sObject type is not supported", fields=[]) from exc
        raise
    if _item_id(item) is not None or "id" in item or "Id" in item:
        raise ApiError(400, "INVALID_FIELD", "cannot specify Id in an insert call", fields=["Id"])
    return records.create(conn, obj, fields, write_context())


def _delete_one(conn: sqlite3.Connection, raw_id: Any) -> str:
    record_id = id18(raw_id) if isinstance(raw_id, str) else None
    obj = schema.object_for_id(record_id) if record_id else None
    if record_id is None or obj is None:
        raise ApiError(400, "MALFORMED_ID", f"malformed id {raw_id}", fields=[])
    try:
        records.delete(conn, obj, record_id, write_context())
    except ApiError as exc:
        if exc.error_code == "NOT_FOUND":
            raise ApiError(
                400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[]
            ) from exc
        raise
    return record_id


def _id_type(raw_id: str) -> str | None:
    record_id = id18(raw_id)
    obj = schema.object_for_id(record_id) if record_id else None
    return obj.name if obj is not None else None


@bp.patch(f"{PREFIX}/composite/sobjects/")
def update_many(version: str) -> Response:
    """Update up to 200 records."""
    items, all_or_none = _payload()
    refusal = chunk_refusal([_type_name(item) for item in items])
    if refusal is not None:
        return _refused(items, refusal, _item_id)
    return json_response(_run(items, _update_one, all_or_none=all_or_none, known_id=_item_id))


@bp.post(f"{PREFIX}/composite/sobjects/")
def create_many(version: str) -> Response:
    """Create up to 200 records."""
    items, all_or_none = _payload()
    refusal = chunk_refusal([_type_name(item) for item in items])
    if refusal is not None:
        return _refused(items, refusal, lambda _: None)
    return json_response(_run(items, _create_one, all_or_none=all_or_none, known_id=lambda _: None))


@bp.delete(f"{PREFIX}/composite/sobjects/")
def delete_many(version: str) -> Response:
    """Delete up to 200 records: `?ids=a,b&allOrNone=true`."""
    ids = [i for i in request.args.get("ids", "").split(",") if i]
    if not ids or len(ids) > MAX_RECORDS:
        raise ApiError(400, "INVALID_ID_FIELD", "ids must list 1 to 200 record ids")
    all_or_none = request.args.get("allOrNone", "false").lower() == "true"
    types = [_id_type(i) for i in ids]
    refusal = chunk_refusal(types)
    if refusal is not None:
        return _refused(ids, refusal, lambda i: id18(i) or None)
    return json_response(
        _run(ids, _delete_one, all_or_none=all_or_none, known_id=lambda i: id18(i) or None)
    )
