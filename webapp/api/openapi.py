"""`GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API.

Written by hand next to the routes and kept true by tests/security/test_openapi.py (every
route and method of the blueprint documented, path parameters and answered statuses
matching) and by the property-based run, which checks every answer against it.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from connector.sync.queue import MODES
from webapp.api import bp
from webapp.api.sync import DEFAULT_LIMIT, MAX_LIMIT
from webapp.params import MAX_INT, PERIOD_PATTERN

_NULLABLE_STRING = {"type": ["string", "null"]}
_OBJECTS = {"type": "array", "items": {"type": "object"}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: str = "Error") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


_REFUSALS = {
    "400": _answer("A parameter or body that cannot be used; the message names it."),
    "401": _answer("No session, or an expired or forged session token."),
    "403": _answer("The session's Quotaflow roles do not include this call."),
    "404": _answer("Not found, or not visible to the caller (the two look the same)."),
    "409": _answer(
        "The action does not apply now: the dispute's current state, the org's registry "
        "entry, or a setting this Quotaflow lacks (the message says why)."
    ),
    "422": _answer("A document the reader cannot build (too deep, or a bad YAML scalar)."),
}


def _refusals(*codes: str) -> dict[str, Any]:
    return {code: _REFUSALS[code] for code in codes}


def _path(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


_PERIOD = {
    "name": "period",
    "in": "query",
    "required": False,
    "description": "A period name (2026-Q1, 2026-01 or 2026); default: the current fiscal year.",
    "schema": {"type": "string", "pattern": f"^{PERIOD_PATTERN}$"},
}
_REP_ID = _path("rep_id", {"type": "string", "minLength": 1}, "A Salesforce User id.")
_DEAL_ID = _path("deal_id", {"type": "string", "minLength": 1}, "A Salesforce Opportunity id.")
_RUN_ID = _path("run_id", {"type": "integer", "minimum": 1, "maximum": MAX_INT}, "A run id.")
_LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "status"],
        "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
    },
    "Earnings": {
        "type": "object",
        "description": "The `quotaflow calc` result shape: results and credits by period.",
        "required": ["currency", "results", "credits", "unresolved"],
        "properties": {
            "currency": _NULLABLE_STRING,
            "results": _OBJECTS,
            "credits": _OBJECTS,
            "unresolved": _OBJECTS,
        },
    },
    "Estimate": {
        "type": "object",
        "description": "What a deal pays each participant the caller may see; money as strings.",
        "required": ["deal_id", "state", "as_of", "participants", "hidden_participants"],
        "properties": {
            "deal_id": {"type": "string"},
            "name": _NULLABLE_STRING,
            "state": {"type": "string"},
            "as_of": {"type": "string", "format": "date"},
            "currency": _NULLABLE_STRING,
            "amount": _NULLABLE_STRING,
            "stage": _NULLABLE_STRING,
            "close_date": _NULLABLE_STRING,
            "owner_id": _NULLABLE_STRING,
            "owner_amount": _NULLABLE_STRING,
            "participants": _OBJECTS,
            "hidden_participants": {"type": "integer", "minimum": 0},
            "unresolved": {"type": "array"},
            "spiff": {"type": "object"},
        },
    },
    "Run": {
        "type": "object",
        "required": ["id", "mode", "status", "requested_at"],
        "properties": {
            "id": {"type": "integer"},
            "mode": {"type": "string"},
            "status": {"type": "string"},
            "dry_run": {"type": "boolean"},
            "requested_by": _NULLABLE_STRING,
            "requested_at": _NULLABLE_STRING,
            "started_at": _NULLABLE_STRING,
            "finished_at": _NULLABLE_STRING,
            "heartbeat_at": _NULLABLE_STRING,
            "duration_ms": {"type": ["integer", "null"]},
            "counts": {"type": ["object", "null"]},
            "api_calls": {"type": ["integer", "null"]},
            "api_usage": {"type": ["integer", "null"]},
            "api_limit": {"type": ["integer", "null"]},
            "error": _NULLABLE_STRING,
        },
    },
    "Org": {
        "type": "object",
        "description": "The caller's org: registry status, last run, lag, API usage, queue.",
        "required": ["org_id", "status", "last_run", "lag_seconds", "api_usage", "queue"],
        "properties": {
            "org_id": {"type": "string"},
            "status": {"enum": ["active", "paused", "disconnected", "unregistered"]},
            "source": _NULLABLE_STRING,
            "instance_url": _NULLABLE_STRING,
            "connected_by": _NULLABLE_STRING,
            "last_run": {"type": ["object", "null"]},
            "last_success_at": _NULLABLE_STRING,
            "lag_seconds": {"type": ["integer", "null"], "minimum": 0},
            "api_usage": {"type": "object"},
            "queue": {
                "type": "object",
                "required": ["state", "queued", "running"],
                "properties": {
                    "state": {"enum": ["idle", "queued", "running"]},
                    "queued": {"type": "integer"},
                    "running": {"type": "integer"},
                },
            },
        },
    },
    "ConnectLink": {
        "type": "object",
        "description": "A link that opens /connect in a browser window of its own.",
        "required": ["url", "expires_in_seconds"],
        "properties": {
            "url": {"type": "string"},
            "expires_in_seconds": {"type": "integer", "minimum": 1},
        },
    },
    "Runs": {
        "type": "object",
        "required": ["runs"],
        "properties": {"runs": {"type": "array", "items": _ref("Run")}},
    },
    "RunRequest": {
        "type": "object",
        "properties": {"mode": {"type": "string", "enum": list(MODES)}},
    },
    "Queued": {
        "type": "object",
        "required": ["id", "status"],
        "properties": {"id": {"type": "integer"}, "status": {"const": "queued"}},
    },
    "ActiveMapping": {
        "type": "object",
        "required": ["version", "checksum", "document", "activated_at"],
        "properties": {
            "version": {"type": ["integer", "null"]},
            "checksum": {"type": "string"},
            "document": {"type": "object"},
            "activated_at": _NULLABLE_STRING,
        },
    },
    "MappingCheck": {
        "type": "object",
        "required": ["valid", "errors", "against_org"],
        "properties": {
            "valid": {"type": "boolean"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["path", "message"],
                    "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
                },
            },
            "against_org": {"type": "boolean"},
            "notice": _NULLABLE_STRING,
        },
    },
}


def _op(
    operation_id: str,
    summary: str,
    *,
    ok: tuple[str, str, str],
    refusals: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    code, description, schema = ok
    return {
        "operationId": operation_id,
        "summary": summary,
        "responses": {code: _answer(description, schema), **refusals},
        **extra,
    }


_EARNINGS_OK = ("200", "The rep's results.", "Earnings")

_ORG_OK = ("200", "The caller's org, after the change.", "Org")

_PATHS: dict[str, Any] = {
    "/org": {
        "get": _op(
            "get_org",
            "The caller's org: status, last run, lag, API usage, queue state (ops, admin).",
            ok=("200", "The caller's org.", "Org"),
            refusals=_refusals("401", "403"),
        )
    },
    "/org/pause": {
        "post": _op(
            "pause_org",
            "Stop starting syncs for the caller's org (ops, admin).",
            ok=_ORG_OK,
            refusals=_refusals("401", "403", "409"),
        )
    },
    "/org/resume": {
        "post": _op(
            "resume_org",
            "Sync the caller's org again (ops, admin).",
            ok=_ORG_OK,
            refusals=_refusals("401", "403", "409"),
        )
    },
    "/org/disconnect": {
        "post": _op(
            "disconnect_org",
            "Revoke Quotaflow's token for the caller's org and stop its syncs (admin).",
            ok=_ORG_OK,
            refusals=_refusals("401", "403", "409"),
        )
    },
    "/org/connect-link": {
        "post": _op(
            "org_connect_link",
            "A ten-minute link to connect another org; the org connected with it is listed on "
            "the caller's Org page (admin).",
            ok=("200", "The link and how long it is valid.", "ConnectLink"),
            refusals=_refusals("401", "403", "409"),
        )
    },
    "/me/earnings": {
        "get": _op(
            "my_earnings",
            "The caller's earnings (reps and managers).",
            ok=_EARNINGS_OK,
            refusals=_refusals("400", "401", "403"),
            parameters=[_PERIOD],
        )
    },
    "/reps/{rep_id}/earnings": {
        "get": _op(
            "rep_earnings",
            "A rep's earnings: the rep, their managers, admins.",
            ok=_EARNINGS_OK,
            refusals=_refusals("400", "401", "404"),
            parameters=[_REP_ID, _PERIOD],
        )
    },
    "/deals/{deal_id}/estimate": {
        "get": _op(
            "deal_estimate",
            "What a deal pays (or would pay if won today) the participants the caller may see.",
            ok=("200", "The estimate.", "Estimate"),
            refusals=_refusals("401", "404"),
            parameters=[_DEAL_ID],
        )
    },
    "/sync/runs": {
        "get": _op(
            "list_sync_runs",
            "The org's latest sync runs, newest first (ops, admin).",
            ok=("200", "The runs.", "Runs"),
            refusals=_refusals("400", "401", "403"),
            parameters=[_LIMIT],
        ),
        "post": _op(
            "request_sync_run",
            "Queue a sync run (ops, admin); joins a run already waiting.",
            ok=("202", "Queued.", "Queued"),
            refusals=_refusals("400", "401", "403"),
            requestBody={
                "required": False,
                "content": {"application/json": {"schema": _ref("RunRequest")}},
            },
        ),
    },
    "/sync/runs/{run_id}": {
        "get": _op(
            "get_sync_run",
            "One run of the org, with live progress while it runs (ops, admin).",
            ok=("200", "The run.", "Run"),
            refusals=_refusals("401", "403", "404"),
            parameters=[_RUN_ID],
        )
    },
    "/mappings/active": {
        "get": _op(
            "active_mapping",
            "The active mapping version (admin).",
            ok=("200", "The active mapping.", "ActiveMapping"),
            refusals=_refusals("401", "403"),
        )
    },
    "/mappings/validate": {
        "post": _op(
            "validate_mapping",
            "Validate a mapping document against the org's describe; stores nothing (admin).",
            ok=("200", "Validation errors by path.", "MappingCheck"),
            refusals=_refusals("400", "401", "403", "422"),
            requestBody={
                "required": True,
                "description": '`{"document": "<YAML text>"}`, `{"document": {...}}` or the '
                "document itself, as JSON or YAML.",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/yaml": {"schema": {"type": "object"}},
                },
            },
        )
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document.",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of `/api/v1`."""
    from webapp.api.openapi_disputes import DISPUTE_PATHS, DISPUTE_SCHEMAS  # uses the helpers

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Quotaflow API",
            "version": "1",
            "description": "Earnings, estimates, sync runs, mappings and disputes. Authenticate "
            "with "
            "`Authorization: Bearer <token>` from `POST /canvas` (Accept: application/json).",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"session": []}],
        "paths": _PATHS | DISPUTE_PATHS,
        "components": {
            "schemas": _SCHEMAS | DISPUTE_SCHEMAS,
            "securitySchemes": {
                "session": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The session token from POST /canvas.",
                }
            },
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API (public: it describes, it discloses no data)."""
    return jsonify(openapi_document())
