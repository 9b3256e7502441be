"""The REST data API: versions, resources, limits, query/queryAll, sObject resources."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from devorg import permissions, purge, records, schema, values
from devorg.config import API_VERSION
from devorg.errors import ApiError, json_parser_error, not_found
from devorg.locators import Page, invalid_locator
from devorg.state import Org
from devorg.store import quote

bp = Blueprint("rest", __name__)
PREFIX = "/services/data/v<version>"
SUPPORTED_VERSIONS = tuple(f"{v}.0" for v in range(40, int(float(API_VERSION)) + 1))
DEFAULT_BATCH, MIN_BATCH, MAX_BATCH = 2000, 200, 2000


def org() -> Org:
    """The devorg state of the running app."""
    state: Org = current_app.config["DEVORG"]
    return state


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response with Salesforce's content type."""
    return Response(
        json.dumps(body, separators=(",", ":")),
        status=status,
        content_type="application/json;charset=UTF-8",
    )


def json_body(*, expect: type = dict) -> Any:
    """The parsed request body, or 400 JSON_PARSER_ERROR."""
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise json_parser_error(f"Unexpected character in JSON body: {exc}") from exc
    if not isinstance(body, expect):
        found = type(body).__name__
        raise json_parser_error(f"Cannot deserialize instance of {expect.__name__} from {found}")
    return body


def session_access() -> permissions.Access:
    """The object- and field-level security of the API call's user (once per request)."""
    user_id = g.get("user_id")
    if user_id is None:
        return permissions.UNRESTRICTED  # the control plane acts as the system
    if "access" not in g:
        with org().db.read() as conn:
            g.access = permissions.access_for(conn, user_id)
    access: permissions.Access = g.access
    return access


def write_context(*, stamp: int | None = None, faults: bool = True) -> records.WriteContext:
    """Who writes now (the session's user, else the integration user), with faults."""
    state = org()
    user_id = g.get("user_id")
    access = session_access()
    if user_id is None:
        with state.db.read() as conn:
            row = conn.execute(
                'SELECT Id FROM "User" WHERE lower(Username) = lower(?)', (state.creds.username,)
            ).fetchone()
        user_id = row[0] if row else None
    return records.WriteContext(
        stamp=state.db.stamp() if stamp is None else stamp,
        user_id=user_id,
        faults=state.faults if faults else None,
        access=access,
    )


@bp.get("/services/data/")
def versions() -> Response:
    """The API versions (no authentication, like Salesforce)."""
    return json_response(
        [
            {"label": f"v{v}", "url": f"/services/data/v{v}", "version": v}
            for v in SUPPORTED_VERSIONS
        ]
    )


@bp.get(f"{PREFIX}/")
def resources(version: str) -> Response:
    """The resources of one API version."""
    base = f"/services/data/v{version}"
    names = ("sobjects", "query", "queryAll", "limits", "composite")
    return json_response({name: f"{base}/{name}" for name in names})


@bp.get(f"{PREFIX}/limits/")
def limits(version: str) -> Response:
    """`GET /limits/`: the daily API allowance and a few fixed limits."""
    usage = org().usage
    used = usage.used()
    fixed = {"DailyBulkApiBatches": 15000, "DailyBulkV2QueryJobs": 10000, "DataStorageMB": 1024}
    body: dict[str, Any] = {
        "DailyApiRequests": {"Max": usage.limit, "Remaining": max(0, usage.limit - used)}
    }
    body.update({name: {"Max": n, "Remaining": n} for name, n in fixed.items()})
    query_jobs = body["DailyBulkV2QueryJobs"]
    query_jobs["Remaining"] = max(0, query_jobs["Max"] - org().bulk.query_jobs_last_day())
    return json_response(body)


def _batch_size() -> int:
    """`Sforce-Query-Options: batchSize=N`, clamped to 200..2000 like Salesforce."""
    header = request.headers.get("Sforce-Query-Options", "")
    for part in header.split(","):
        key, _, value = part.partition("=")
        if key.strip().lower() == "batchsize":
            try:
                return min(MAX_BATCH, max(MIN_BATCH, int(value.strip())))
            except ValueError:
                return DEFAULT_BATCH
    return DEFAULT_BATCH


def _page_json(page: Page, *, version: str, endpoint: str) -> Response:
    prefix = f"/services/data/v{version}"
    body: dict[str, Any] = {"totalSize": page.total, "done": page.next_offset is None}
    if page.next_offset is not None:
        body["nextRecordsUrl"] = f"{prefix}/{endpoint}/{page.locator}-{page.next_offset}"
    body["records"] = [page.query.shape(row, base_url_prefix=prefix) for row in page.rows]
    return json_response(body)


def fiscal_start_month() -> int:
    """The org's Organization.FiscalYearStartMonth (January when it has none)."""
    from devorg.soql_where import org_fiscal_start_month

    with org().db.read() as conn:
        return org_fiscal_start_month(conn)


def _run_query(version: str, *, include_deleted: bool) -> Response:
    text = request.args.get("q", "")
    if not text.strip():
        raise ApiError(400, "MALFORMED_QUERY", "unexpected token: <EOF>")
    from devorg import soql  # the SOQL compiler loads on the first query

    access = session_access()
    readable = access.can_read_field if access.restricted else None
    try:
        compiled = soql.compile_query(
            text,
            include_deleted=include_deleted,
            readable=readable,
            fiscal_start_month=fiscal_start_month(),
        )
    except soql.SoqlError as exc:
        raise ApiError(400, exc.error_code, str(exc)) from exc
    if request.args.get("columns", "").lower() == "true":
        from devorg.soql_columns import column_metadata

        return json_response(column_metadata(compiled))
    state = org()
    with state.db.read() as conn:
        if compiled.count_only:
            row = conn.execute(compiled.sql, compiled.params).fetchone()
            return json_response({"totalSize": int(row[0]), "done": True, "records": []})
        page = state.locators.first_page(conn, compiled, _batch_size(), owner=g.get("user_id"))
    endpoint = "queryAll" if include_deleted else "query"
    return _page_json(page, version=version, endpoint=endpoint)


@bp.get(f"{PREFIX}/query/")
def query(version: str) -> Response:
    """SOQL query (live rows only)."""
    return _run_query(version, include_deleted=False)


@bp.get(f"{PREFIX}/queryAll/")
def query_all(version: str) -> Response:
    """SOQL query including soft-deleted rows."""
    return _run_query(version, include_deleted=True)


@bp.get(f"{PREFIX}/query/<cursor>")
@bp.get(f"{PREFIX}/queryAll/<cursor>")
def query_more(version: str, cursor: str) -> Response:
    """The next page of a query, by `nextRecordsUrl`."""
    locator, _, offset = cursor.partition("-")
    if not offset.isdigit():
        raise invalid_locator()
    page = org().locators.page(locator, int(offset))
    endpoint = "queryAll" if "/queryAll/" in request.path else "query"
    return _page_json(page, version=version, endpoint=endpoint)


@bp.get(f"{PREFIX}/sobjects/")
def describe_global(version: str) -> Response:
    """`GET /sobjects/`."""
    body = schema.describe_global(base_url="/services/data", api_version=version)
    access = session_access()
    for header in body["sobjects"]:
        permissions.restrict_describe(header, schema.OBJECTS[header["name"]], access)
    return json_response(body)


@bp.get(f"{PREFIX}/sobjects/<name>/")
def sobject_info(version: str, name: str) -> Response:
    """Basic information about one object."""
    obj = records.get_object(name)
    described = schema.describe_global(base_url="/services/data", api_version=version)
    header = next(o for o in described["sobjects"] if o["name"] == obj.name)
    return json_response({"objectDescribe": header, "recentItems": []})


@bp.get(f"{PREFIX}/sobjects/<name>/describe/")
def describe(version: str, name: str) -> Response:
    """Full describe of one object."""
    body = schema.describe_sobject(name, base_url="/services/data", api_version=version)
    if body is None:
        raise not_found()
    permissions.restrict_describe(body, records.get_object(name), session_access())
    return json_response(body)


@bp.post(f"{PREFIX}/sobjects/<name>/")
def create(version: str, name: str) -> Response:
    """Create one record: 201 {"id", "success", "errors"}."""
    obj = records.get_object(name)
    body = json_body()
    with org().db.write() as conn:
        record_id = records.create(conn, obj, body, write_context())
    return json_response({"id": record_id, "success": True, "errors": []}, 201)


@bp.get(f"{PREFIX}/sobjects/<name>/<record_id>/")
def get_record(version: str, name: str, record_id: str) -> Response:
    """One record, all fields or `?fields=A,B`."""
    obj = records.get_object(name)
    wanted = request.args.get("fields")
    with org().db.read() as conn:
        row = records.fetch_row(conn, obj, record_id)
    if row.get("IsDeleted"):
        raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", fields=[])
    fields = [f for f in wanted.split(",") if f.strip()] if wanted else None
    return json_response(records.to_record(obj, row, api_version=version, fields=fields))


@bp.patch(f"{PREFIX}/sobjects/<name>/<record_id>/")
def update_record(version: str, name: str, record_id: str) -> Response:
    """Update one record: 204."""
    obj = records.get_object(name)
    body = json_body()
    with org().db.write() as conn:
        records.update(conn, obj, record_id, body, write_context())
    return Response(status=204)


@bp.delete(f"{PREFIX}/sobjects/<name>/<record_id>/")
def delete_record(version: str, name: str, record_id: str) -> Response:
    """Soft-delete one record: 204."""
    obj = records.get_object(name)
    with org().db.write() as conn:
        records.delete(conn, obj, record_id, write_context())
    return Response(status=204)


_MINUTE_MS = 60_000
# getUpdated/getDeleted answer for no more than 30 days before the day of the call.
REPLICATION_DAYS = 30


def _window() -> tuple[int, int]:
    """[start, end] of getUpdated/getDeleted, truncated to the minute as Salesforce does."""
    parsed = []
    for key in ("start", "end"):
        # A literal '+' in an unencoded query string arrives as a space.
        raw = request.args.get(key, "").replace(" ", "+")
        if not raw:
            raise ApiError(400, "MISSING_ARGUMENT", f"{key} was not specified")
        try:
            moment = values.parse_datetime_literal(raw)
        except (ValueError, values.FieldValueError) as exc:
            raise ApiError(400, "INVALID_REPLICATION_DATE", f"{key}: bad date {raw}") from exc
        # The seconds of both dates are ignored (12:30:15 is read as 12:30:00 UTC).
        parsed.append(moment - moment % _MINUTE_MS)
    start, end = parsed
    today = values.date_to_ms(values.format_datetime(org().db.stamp())[:10])
    if start < today - REPLICATION_DAYS * 86_400_000:
        raise ApiError(
            400,
            "INVALID_REPLICATION_DATE",
            f"startDate cannot be more than {REPLICATION_DAYS} days ago",
        )
    if end <= start:
        raise ApiError(
            400,
            "INVALID_REPLICATION_DATE",
            "startDate must chronologically precede endDate by more than one minute",
        )
    return start, end


@bp.get(f"{PREFIX}/sobjects/<name>/updated/")
def updated(version: str, name: str) -> Response:
    """Ids changed (created or updated, not deleted) in [start, end]."""
    obj = records.get_object(name)
    start, end = _window()
    live = " AND IsDeleted = 0" if obj.field("IsDeleted") else ""
    with org().db.read() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                f"SELECT Id FROM {quote(obj.name)} WHERE SystemModstamp BETWEEN ? AND ?{live} "
                "ORDER BY SystemModstamp, Id",
                (start, end),
            )
        ]
    return json_response({"ids": ids, "latestDateCovered": values.format_datetime(end)})


@bp.get(f"{PREFIX}/sobjects/<name>/deleted/")
def deleted(version: str, name: str) -> Response:
    """Records soft-deleted in [start, end]."""
    obj = records.get_object(name)
    start, end = _window()
    rows: list[Any] = []
    with org().db.read() as conn:
        purged = purge.last_purge(conn, obj.name)
        if obj.field("IsDeleted") is not None:
            rows = conn.execute(
                f"SELECT Id, SystemModstamp FROM {quote(obj.name)} WHERE IsDeleted = 1 "
                "AND SystemModstamp BETWEEN ? AND ? ORDER BY SystemModstamp, Id",
                (start, end),
            ).fetchall()
    return json_response(
        {
            "deletedRecords": [
                {"id": rid, "deletedDate": values.format_datetime(ms)} for rid, ms in rows
            ],
            # The last physical delete (recycle bin emptied, hard delete) of this object.
            "earliestDateAvailable": values.format_datetime(purged or start),
            "latestDateCovered": values.format_datetime(end),
        }
    )
