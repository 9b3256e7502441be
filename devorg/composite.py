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
        records.update(conn, obj, record_id, fields, write_context())
    except ApiError as exc:
        if exc.error_code == "NOT_FOUND":
            raise ApiError(
                400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[]
            ) from exc
        raise
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


@bp.patch(f"{PREFIX}/composite/sobjects/")
def update_many(version: str) -> Response:
    """Update up to 200 records."""
    items, all_or_none = _payload()
    return json_response(_run(items, _update_one, all_or_none=all_or_none, known_id=_item_id))


@bp.post(f"{PREFIX}/composite/sobjects/")
def create_many(version: str) -> Response:
    """Create up to 200 records."""
    items, all_or_none = _payload()
    return json_response(_run(items, _create_one, all_or_none=all_or_none, known_id=lambda _: None))


@bp.delete(f"{PREFIX}/composite/sobjects/")
def delete_many(version: str) -> Response:
    """Delete up to 200 records: `?ids=a,b&allOrNone=true`."""
    ids = [i for i in request.args.get("ids", "").split(",") if i]
    if not ids or len(ids) > MAX_RECORDS:
        raise ApiError(400, "INVALID_ID_FIELD", "ids must list 1 to 200 record ids")
    all_or_none = request.args.get("allOrNone", "false").lower() == "true"
    return json_response(
        _run(ids, _delete_one, all_or_none=all_or_none, known_id=lambda i: id18(i) or None)
    )
