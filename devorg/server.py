"""The Flask app: blueprints plus the checks every REST call goes through, in Salesforce's
order (latency, session, injected 503/403, daily limit), and errors that are always JSON."""

from __future__ import annotations

import logging
import sys
import time
import traceback

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from devorg import auth, bulk_routes, composite, control, lightning, oauth_authorize, rest
from devorg.errors import ApiError, limit_exceeded, not_found
from devorg.state import Org

_log = logging.getLogger("devorg")

# Stats kind per (endpoint, method); anything else is counted under its endpoint name.
KINDS = {
    ("rest.query", "GET"): "query",
    ("rest.query_all", "GET"): "queryAll",
    ("rest.query_more", "GET"): "queryMore",
    ("rest.get_record", "GET"): "sobject_get",
    ("rest.create", "POST"): "sobject_create",
    ("rest.update_record", "PATCH"): "sobject_update",
    ("rest.delete_record", "DELETE"): "sobject_delete",
    ("rest.describe", "GET"): "describe",
    ("rest.describe_global", "GET"): "describe_global",
    ("rest.sobject_info", "GET"): "sobject_info",
    ("rest.updated", "GET"): "get_updated",
    ("rest.deleted", "GET"): "get_deleted",
    ("rest.limits", "GET"): "limits",
    ("rest.resources", "GET"): "resources",
    ("composite.update_many", "PATCH"): "composite_update",
    ("composite.create_many", "POST"): "composite_create",
    ("composite.delete_many", "DELETE"): "composite_delete",
    ("bulk.create_query_job", "POST"): "bulk_query_create",
    ("bulk.query_job_info", "GET"): "bulk_query_info",
    ("bulk.query_results", "GET"): "bulk_query_results",
    ("bulk.create_ingest_job", "POST"): "bulk_ingest_create",
    ("bulk.upload_job_data", "PUT"): "bulk_ingest_upload",
    ("bulk.change_ingest_job", "PATCH"): "bulk_ingest_state",
    ("bulk.ingest_job_info", "GET"): "bulk_ingest_info",
}


def create_app(org: Org) -> Flask:
    """The devorg WSGI app over one org state."""
    app = Flask("devorg")
    app.config["DEVORG"] = org
    app.url_map.strict_slashes = False
    for blueprint in (
        auth.bp,
        oauth_authorize.bp,
        rest.bp,
        composite.bp,
        bulk_routes.bp,
        control.bp,
        bulk_routes.control_bp,
        lightning.bp,
    ):
        app.register_blueprint(blueprint)
    app.before_request(_before_api_call)
    app.after_request(_limit_info)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app


# "In each REST call, the maximum length for the combined URI and headers is 16,384 bytes. A
# request exceeding this limit returns a 431 Request Header Fields Too Large error. If the URI
# itself exceeds this limit, the request returns a 414 URI Too Long error." (Help 000386264)
MAX_URI_AND_HEADERS = 16_384


def _request_size() -> tuple[int, int]:
    """Bytes of the request URI as sent (path and query string) and of its headers."""
    environ = request.environ
    uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not uri:
        query = environ.get("QUERY_STRING", "")
        uri = environ.get("PATH_INFO", "") + ("?" + query if query else "")
    headers = sum(len(k) + len(v) + 4 for k, v in request.headers.items())
    return len(str(uri).encode("latin-1", "replace")), headers


def _check_size() -> None:
    uri, headers = _request_size()
    if uri > MAX_URI_AND_HEADERS:
        raise ApiError(414, "URI_TOO_LONG", f"URI Too Long: {uri} bytes")
    if uri + headers > MAX_URI_AND_HEADERS:
        raise ApiError(431, "REQUEST_HEADER_FIELDS_TOO_LARGE", "Request Header Fields Too Large")


def _before_api_call() -> None:
    """Authenticate, inject faults and count every `/services/data/vXX.X/...` call."""
    args = request.view_args or {}
    if "version" not in args:
        return None
    org = rest.org()
    try:
        _check_size()
    except ApiError as exc:
        org.stats.reject(exc.error_code)
        raise
    if args["version"] not in rest.SUPPORTED_VERSIONS:
        raise not_found()
    delay = org.faults.delay_seconds()
    if delay:
        time.sleep(delay)
    try:
        g.user_id = auth.authenticate(org, request.headers.get("Authorization"))
        failure = org.faults.call_failure()
        if failure is not None:
            raise failure
        if not org.usage.try_count():
            raise limit_exceeded()
    except ApiError as exc:
        org.stats.reject(exc.error_code)
        raise
    org.stats.count(KINDS.get((request.endpoint or "", request.method), request.endpoint or "?"))
    return None


def _limit_info(response: Response) -> Response:
    usage = rest.org().usage
    response.headers["Sforce-Limit-Info"] = f"api-usage={usage.used()}/{usage.limit}"
    return response


def _api_error(exc: ApiError) -> Response:
    return rest.json_response(exc.body(), exc.status)


def _http_error(exc: HTTPException) -> Response:
    if isinstance(exc, NotFound):
        return _api_error(not_found())
    if isinstance(exc, MethodNotAllowed):
        allowed = ",".join(sorted(exc.valid_methods or ()))
        return _api_error(
            ApiError(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}",
            )
        )
    code = exc.code or 400
    return _api_error(
        ApiError(
            code,
            "INVALID_REQUEST" if code < 500 else "UNKNOWN_EXCEPTION",
            exc.description or exc.name,
        )
    )


def _unexpected(exc: Exception) -> Response:
    # A bug in the devorg: log it, and still answer like Salesforce does.
    print("devorg: unexpected error\n" + traceback.format_exc(), file=sys.stderr, flush=True)
    return _api_error(ApiError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred."))
