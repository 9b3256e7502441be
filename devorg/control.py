"""The test control plane under `/__devorg/` (no OAuth, not counted as API calls).

- `GET|POST|DELETE /__devorg/faults`: see, merge, clear injected faults (shape in `faults.py`).
- `GET /__devorg/stats`, `POST /__devorg/stats/reset`: API calls by endpoint kind.
- `POST /__devorg/limits` `{"max": N, "reset": true}`: change the daily API limit / forget usage.
- `POST /__devorg/late-commit` `{"object", "id"?, "fields", "age_seconds", "delete"?}`: write a
  change whose SystemModstamp is `age_seconds` in the past (an update when `id` is given, a
  soft delete with `"delete": true`, else a create).
- `POST /__devorg/undelete` `{"ids": [...]}`: restore soft-deleted records (and the children
  deleted with them), like the recycle bin's Undelete.
- `POST /__devorg/purge` `{"ids": [...]}` hard-deletes records (live or in the recycle bin,
  with their cascaded children); `{"recycle_bin": true, "object"?: "Opportunity"}` empties
  the recycle bin (of one object, or of all). Answers `{"purged": {object: rows}}`.
- `POST /__devorg/organization` `{"FiscalYearStartMonth": 4, "IsSandbox": true, ...}`: change
  the Organization record as Setup would (fiscal year, edition, sandbox flag, time zone).
- `POST /__devorg/refresh-token` `{"username": "..."}`: a refresh token for that user, as
  the OAuth web server flow returns once the user approves the connected app in a browser;
  clients then use `grant_type=refresh_token` at `/services/oauth2/token`.
- `GET|POST /__devorg/callback-urls` `{"urls": [...]}`: read or replace the connected app's
  callback URLs, which the web-server flow's redirect_uri must equal exactly.
- `GET|POST /__devorg/canvas` `{"url": "https://..."|null}`: read or change the Canvas app URL
  the `/lightning/...` host pages frame (the demo learns the app's port after the devorg starts).
- `GET|POST /__devorg/bulk` `{"auto": bool}`, `POST /__devorg/bulk/step`: pause or resume the
  Bulk API 2.0 job worker, process the oldest queued job now (in `bulk_routes.py`).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from flask import Blueprint, Response

from devorg import oauth_authorize, purge, records, schema, values
from devorg.auth import OAuthError, issue_refresh_token
from devorg.config import check_canvas_url
from devorg.errors import ApiError
from devorg.faults import FaultError
from devorg.rest import json_body, json_response, org, write_context
from devorg.store import id18

bp = Blueprint("control", __name__, url_prefix="/__devorg")


@bp.get("/faults")
def get_faults() -> Response:
    """The active faults."""
    return json_response(org().faults.snapshot())


@bp.post("/faults")
def set_faults() -> Response:
    """Merge faults into the active ones."""
    try:
        org().faults.apply(json_body())
    except FaultError as exc:
        raise ApiError(400, "INVALID_FAULT", str(exc)) from exc
    return json_response(org().faults.snapshot())


@bp.delete("/faults")
def clear_faults() -> Response:
    """Remove every fault."""
    org().faults.clear()
    return json_response(org().faults.snapshot())


@bp.get("/stats")
def stats() -> Response:
    """API calls by endpoint kind, rejected calls, API usage, open locators, seed summary."""
    state = org()
    body = state.stats.snapshot()
    body["api_usage"] = {"used": state.usage.used(), "max": state.usage.limit}
    body["open_query_locators"] = state.locators.open_count()
    body["seed"] = state.seeded
    return json_response(body)


@bp.post("/stats/reset")
def reset_stats() -> Response:
    """Zero the stats counters."""
    org().stats.reset()
    return json_response(org().stats.snapshot())


@bp.post("/limits")
def set_limits() -> Response:
    """Change the daily API limit and/or forget the calls counted so far."""
    body = json_body()
    limit = body.get("max")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ApiError(400, "INVALID_FAULT", "max must be a non-negative integer")
    usage = org().usage
    if body.get("reset"):
        usage.reset(limit=limit)
    elif limit is not None:
        usage.limit = limit
    return json_response({"used": usage.used(), "max": usage.limit})


@bp.post("/late-commit")
def late_commit() -> Response:
    """Commit a change that looks older than what clients may already have read."""
    body = json_body()
    obj = records.get_object(str(body.get("object", "")))
    fields = body.get("fields", {})
    age = body.get("age_seconds", 0)
    if not isinstance(fields, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "fields must be a JSON object")
    if isinstance(age, bool) or not isinstance(age, int | float) or age < 0:
        raise ApiError(400, "JSON_PARSER_ERROR", "age_seconds must be a non-negative number")
    stamp = int(time.time() * 1000) - int(age * 1000)
    ctx = write_context(stamp=stamp, faults=False)
    record_id = body.get("id")
    with org().db.write() as conn:
        if record_id is None:
            record_id = records.create(conn, obj, fields, ctx)
        elif not isinstance(record_id, str):
            raise ApiError(400, "MALFORMED_ID", f"malformed id {record_id}")
        elif body.get("delete") is True:
            records.delete(conn, obj, record_id, ctx)
        else:
            records.update(conn, obj, record_id, fields, ctx)
    return json_response(
        {"id": id18(record_id), "SystemModstamp": values.format_datetime(stamp)}, 200
    )


@bp.post("/undelete")
def undelete() -> Response:
    """Restore soft-deleted records: per-record results like sObject Collections."""
    ids = json_body().get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "JSON_PARSER_ERROR", "ids must be an array of record ids")
    results: list[dict[str, Any]] = []
    with org().db.write() as conn:
        for raw in ids:
            record_id = id18(raw)
            obj = schema.object_for_id(record_id) if record_id else None
            try:
                if record_id is None or obj is None:
                    raise ApiError(400, "MALFORMED_ID", f"malformed id {raw}", fields=[])
                records.undelete(conn, obj, record_id, write_context(faults=False))
            except ApiError as exc:
                results.append({"id": raw, "success": False, "errors": [exc.save_error()]})
            else:
                results.append({"id": record_id, "success": True, "errors": []})
    return json_response(results)


def _purge_ids(raw_ids: object, stamp: int) -> dict[str, int]:
    if not isinstance(raw_ids, list) or not all(isinstance(i, str) for i in raw_ids):
        raise ApiError(400, "JSON_PARSER_ERROR", "ids must be an array of record ids")
    by_object: dict[str, list[str]] = {}
    for raw in raw_ids:
        record_id = id18(raw)
        obj = schema.object_for_id(record_id) if record_id else None
        if record_id is None or obj is None:
            raise ApiError(400, "MALFORMED_ID", f"malformed id {raw}", fields=[])
        if not obj.deletable:
            raise ApiError(400, "INVALID_TYPE_FOR_OPERATION", f"{obj.name} cannot be deleted")
        by_object.setdefault(obj.name, []).append(record_id)
    out: dict[str, int] = {}
    with org().db.write() as conn:
        for name, ids in by_object.items():
            out[name] = purge.hard_delete(conn, schema.OBJECTS[name], ids, stamp=stamp)
    return out


@bp.post("/purge")
def purge_records() -> Response:
    """Hard-delete records, or empty the recycle bin: gone from query, queryAll, getDeleted."""
    body = json_body()
    stamp = org().db.stamp()
    if "ids" in body:
        return json_response({"purged": _purge_ids(body["ids"], stamp)})
    if body.get("recycle_bin") is not True:
        raise ApiError(400, "JSON_PARSER_ERROR", 'give "ids" or "recycle_bin": true')
    name = body.get("object")
    objects = list(schema.OBJECTS.values())
    if name is not None:
        objects = [records.get_object(str(name))]
    with org().db.write() as conn:
        purged = purge.empty_recycle_bin(conn, objects, stamp=stamp)
    return json_response({"purged": purged})


@bp.post("/refresh-token")
def refresh_token() -> Response:
    """A refresh token for an active user (stands in for the browser consent step)."""
    username = json_body().get("username")
    if not isinstance(username, str):
        raise ApiError(400, "JSON_PARSER_ERROR", "username must be a string")
    try:
        token = issue_refresh_token(org(), username)
    except OAuthError as exc:
        raise ApiError(400, "INVALID_FIELD", exc.description) from exc
    return json_response({"refresh_token": token})


@bp.get("/callback-urls")
def get_callback_urls() -> Response:
    """The connected app's callback URLs."""
    return json_response({"urls": oauth_authorize.callback_urls(org())})


@bp.post("/callback-urls")
def set_callback_urls() -> Response:
    """Replace the connected app's callback URLs."""
    urls = json_body().get("urls")
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise ApiError(400, "JSON_PARSER_ERROR", "urls must be a list of strings")
    try:
        kept = oauth_authorize.set_callback_urls(org(), urls)
    except ValueError as exc:
        raise ApiError(400, "INVALID_CALLBACK_URL", str(exc)) from exc
    return json_response({"urls": kept})


@bp.get("/canvas")
def get_canvas() -> Response:
    """The Canvas app URL the Lightning host pages frame."""
    return json_response({"url": org().config.canvas_url})


@bp.post("/canvas")
def set_canvas() -> Response:
    """Change (or with null, forget) the Canvas app URL."""
    url = json_body().get("url")
    if url is not None:
        if not isinstance(url, str):
            raise ApiError(400, "JSON_PARSER_ERROR", "url must be a string or null")
        try:
            check_canvas_url(url)
        except ValueError as exc:
            raise ApiError(400, "INVALID_CANVAS_URL", str(exc)) from exc
    state = org()
    # DevorgConfig is frozen: swap in a copy (one attribute store, safe across threads).
    state.config = dataclasses.replace(state.config, canvas_url=url or None)
    return json_response({"url": state.config.canvas_url})


# What Setup > Company Information and Fiscal Year change: {field: accepted Python types}.
_ORG_SETTINGS: dict[str, tuple[type, ...]] = {
    "FiscalYearStartMonth": (int,),
    "UsesStartDateAsFiscalYearName": (bool,),
    "IsSandbox": (bool,),
    "Name": (str,),
    "OrganizationType": (str,),
    "InstanceName": (str,),
    "TimeZoneSidKey": (str,),
    "DefaultLocaleSidKey": (str,),
}


@bp.post("/organization")
def set_organization() -> Response:
    """Change the Organization record's settings (the API cannot: Organization is read-only)."""
    body = json_body()
    obj = schema.OBJECTS["Organization"]
    changes: dict[str, Any] = {}
    for name, value in body.items():
        kinds = _ORG_SETTINGS.get(name)
        spec = obj.field(name)
        if kinds is None or spec is None:
            raise ApiError(400, "INVALID_FIELD", f"Organization.{name} cannot be set here")
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise ApiError(400, "INVALID_TYPE", f"Organization.{name}: wrong type")
        if name == "FiscalYearStartMonth" and not (isinstance(value, int) and 1 <= value <= 12):
            raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION", "FiscalYearStartMonth is 1..12")
        if spec.picklist_values and value not in spec.picklist_values:
            raise ApiError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", f"{name}: {value!r}")
        changes[spec.name] = int(value) if isinstance(value, bool) else value
    state = org()
    with state.db.write() as conn:
        if changes:
            stamp = state.db.stamp()
            sets = ", ".join(f'"{name}" = ?' for name in changes)
            conn.execute(
                f'UPDATE "Organization" SET {sets}, SystemModstamp = ?, LastModifiedDate = ?',
                [*changes.values(), stamp, stamp],
            )
        names = ("Id", *_ORG_SETTINGS)
        row = conn.execute(
            "SELECT " + ", ".join(f'"{n}"' for n in names) + ' FROM "Organization"'
        ).fetchone()
    current = dict(zip(names, row, strict=True)) if row else {}
    for name in ("UsesStartDateAsFiscalYearName", "IsSandbox"):
        if name in current:
            current[name] = bool(current[name])
    return json_response(current)
