"""The dispute and plan-acceptance operations of the OpenAPI document (openapi.py joins them)."""

from __future__ import annotations

from typing import Any

from connector.disputes.workflow import ACTIONS, KINDS, RESOLUTIONS, STATES
from connector.reports.disputes import SORTS
from webapp.api.openapi import _NULLABLE_STRING, _op, _path, _ref, _refusals
from webapp.params import MAX_INT, PERIOD_PATTERN

_DISPUTE_ID = _path(
    "dispute_id", {"type": "integer", "minimum": 1, "maximum": MAX_INT}, "A dispute id."
)
_SORT = {
    "name": "sort",
    "in": "query",
    "required": False,
    "description": "Queue order: age (oldest first), amount (largest first), rep, reason.",
    "schema": {"type": "string", "enum": list(SORTS), "default": "age"},
}
_SHOW = {
    "name": "show",
    "in": "query",
    "required": False,
    "description": "open (open and resolved, the default) or all (closed too).",
    "schema": {"type": "string", "enum": ["open", "all"], "default": "open"},
}
_MONEY = {"type": ["string", "null"], "description": "A decimal amount, e.g. 125.50."}
_PROPS: dict[str, Any] = {
    "id": {"type": "integer"},
    "rep_id": {"type": "string"},
    "rep_name": {"type": "string"},
    "kind": {"type": "string", "enum": list(KINDS)},
    "period": {"type": "string"},
    "deal_id": _NULLABLE_STRING,
    "component": _NULLABLE_STRING,
    "credit_type": _NULLABLE_STRING,
    "shown_amount": _MONEY,
    "expected_amount": _MONEY,
    "disputed_amount": {"type": "string"},
    "reason": {"type": "string"},
    "reason_label": {"type": "string"},
    "description": {"type": "string"},
    "state": {"type": "string", "enum": list(STATES)},
    "resolution": {"type": ["string", "null"], "enum": [*RESOLUTIONS, None]},
    "resolution_reason": _NULLABLE_STRING,
    "resolved_amount": _MONEY,
    "adjustment_id": {"type": ["integer", "null"]},
    "created_at": {"type": "string"},
    "updated_at": {"type": "string"},
    "age_days": {"type": "integer", "minimum": 0},
}
_EVENT = {
    "type": "object",
    "required": ["at", "actor_name", "action", "to_state", "changes"],
    "properties": {
        "at": {"type": "string"},
        "actor_id": _NULLABLE_STRING,
        "actor_name": {"type": "string"},
        "action": {"type": "string"},
        "label": {"type": "string"},
        "from_state": _NULLABLE_STRING,
        "to_state": {"type": "string"},
        "changes": {"type": "object"},
        "note": _NULLABLE_STRING,
    },
}
_REASON = {
    "type": "object",
    "required": ["code", "label", "active"],
    "properties": {
        "code": {"type": "string"},
        "label": {"type": "string"},
        "active": {"type": "boolean"},
    },
}

_ACCEPTANCE = {
    "type": "object",
    "required": ["rep_id", "plan_version", "accepted_at", "accepted_by"],
    "properties": {
        "rep_id": {"type": "string"},
        "plan_id": {"type": "string"},
        "plan_version": {"type": "integer"},
        "previous_version": {"type": ["integer", "null"]},
        "document_sha256": {"type": "string"},
        "accepted_by": {"type": "string"},
        "accepted_at": {"type": "string"},
    },
}

DISPUTE_SCHEMAS: dict[str, Any] = {
    "PeriodClose": {
        "type": "object",
        "required": ["period", "statements", "closed"],
        "properties": {
            "period": {"type": "string"},
            "statements": {"type": "array", "items": {"type": "object"}},
            "blockers": {"type": ["object", "null"]},
            "closed": {"type": "boolean"},
            "override_reason": _NULLABLE_STRING,
        },
    },
    "CloseRequest": {
        "type": "object",
        "properties": {"override_reason": {"type": "string", "maxLength": 2000}},
    },
    "Payroll": {
        "type": "object",
        "required": ["period", "columns", "rows", "totals", "csv_sha256"],
        "properties": {
            "period": {"type": "string"},
            "columns": {"type": "array", "items": {"type": "string"}},
            "rows": {"type": "array", "items": {"type": "object"}},
            "totals": {"type": "object"},
            "csv_sha256": {"type": "string"},
        },
    },
    "Acceptance": _ACCEPTANCE,
    "MyPlan": {
        "type": "object",
        "description": "The caller's plan document at the version in force.",
        "required": ["plan_id", "version", "document_sha256", "sections", "accepted"],
        "properties": {
            "plan_id": {"type": "string"},
            "version": {"type": "integer"},
            "document_sha256": {"type": "string"},
            "title": {"type": "string"},
            "sections": {"type": "array", "items": {"type": "object"}},
            "text": {"type": "string"},
            "accepted": {"type": "boolean"},
            "acceptances": {"type": "array", "items": _ref("Acceptance")},
        },
    },
    "AcceptanceRequest": {
        "type": "object",
        "required": ["version", "document_sha256"],
        "properties": {
            "version": {"type": "integer", "minimum": 1},
            "document_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
    },
    "AcceptanceReport": {
        "type": "object",
        "required": ["version", "reps"],
        "properties": {
            "version": {"type": ["integer", "null"]},
            "reps": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Dispute": {
        "type": "object",
        "required": ["id", "rep_id", "kind", "period", "reason", "state"],
        "properties": _PROPS,
    },
    "Disputes": {
        "type": "object",
        "required": ["disputes"],
        "properties": {"disputes": {"type": "array", "items": _ref("Dispute")}},
    },
    "DisputeDetail": {
        "type": "object",
        "description": "A dispute with its audit trail (who, when, what changed) and the "
        "actions the caller may take now.",
        "required": ["id", "state", "events", "actions"],
        "properties": _PROPS
        | {
            "events": {"type": "array", "items": _EVENT},
            "actions": {"type": "array", "items": {"type": "string", "enum": list(ACTIONS)}},
        },
    },
    "DisputeRequest": {
        "type": "object",
        "required": ["kind", "period", "reason", "description"],
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS)},
            "period": {"type": "string", "pattern": f"^{PERIOD_PATTERN}$"},
            "reason": {"type": "string", "description": "A code from /disputes/reasons."},
            "description": {"type": "string", "maxLength": 4000},
            "expected_amount": {"type": "string"},
            "deal_id": {"type": "string"},
            "component": {"type": "string"},
            "credit_type": {"type": "string"},
        },
    },
    "Transition": {
        "type": "object",
        "required": ["action"],
        "properties": {
            "action": {"type": "string", "enum": list(ACTIONS)},
            "note": {"type": "string", "maxLength": 4000},
            "resolution": {"type": "string", "enum": list(RESOLUTIONS)},
            "amount": {"type": "string", "description": "The adjustment, e.g. 125.50."},
        },
    },
    "DisputeReasons": {
        "type": "object",
        "required": ["reasons"],
        "properties": {"reasons": {"type": "array", "items": _REASON}},
    },
}

_PERIOD_PATH = _path(
    "period", {"type": "string", "minLength": 1}, "A period name: 2026-Q1, 2026-01 or 2026."
)
_REP_PATH = _path("rep_id", {"type": "string", "minLength": 1}, "A Salesforce User id.")
_FILE = {"description": "The file; its SHA-256 in the X-Checksum-SHA256 header."}
_CLOSE_REFUSALS = _refusals("400", "401", "403", "404", "409")

DISPUTE_PATHS: dict[str, Any] = {
    "/periods/{period}/statements": {
        "get": _op(
            "period_statements",
            "A period's statements and their approval (managers: their team; admins: all, "
            "with the close's blockers).",
            ok=("200", "The period.", "PeriodClose"),
            refusals=_refusals("400", "401", "403", "404"),
            parameters=[_PERIOD_PATH],
        )
    },
    "/periods/{period}/statements/{rep_id}/approval": {
        "post": _op(
            "approve_statement",
            "Approve a statement one step: the rep's manager, then an admin.",
            ok=("200", "The period after it.", "PeriodClose"),
            refusals=_CLOSE_REFUSALS,
            parameters=[_PERIOD_PATH, _REP_PATH],
        )
    },
    "/periods/{period}/close": {
        "post": _op(
            "close_period",
            "Close and lock the period (admins); an override_reason while anything blocks it.",
            ok=("200", "The period after it.", "PeriodClose"),
            refusals=_CLOSE_REFUSALS,
            parameters=[_PERIOD_PATH],
            requestBody={
                "required": False,
                "content": {"application/json": {"schema": _ref("CloseRequest")}},
            },
        )
    },
    "/periods/{period}/payroll.csv": {
        "get": {
            "operationId": "payroll_csv",
            "summary": "The payroll export of a closed period, CSV (admins).",
            "parameters": [_PERIOD_PATH],
            "responses": {
                "200": _FILE | {"content": {"text/csv": {"schema": {"type": "string"}}}},
                **_CLOSE_REFUSALS,
            },
        }
    },
    "/periods/{period}/payroll.json": {
        "get": {
            "operationId": "payroll_json",
            "summary": "The payroll export of a closed period, JSON (admins).",
            "parameters": [_PERIOD_PATH],
            "responses": {
                "200": _FILE | {"content": {"application/json": {"schema": _ref("Payroll")}}},
                **_CLOSE_REFUSALS,
            },
        }
    },
    "/me/plan": {
        "get": _op(
            "my_plan",
            "The caller's plan document at the version in force, and their acceptances.",
            ok=("200", "The plan.", "MyPlan"),
            refusals=_refusals("401", "403", "404"),
        )
    },
    "/me/plan/acceptance": {
        "post": _op(
            "accept_plan",
            "Accept the plan version read; 409 when it is no longer the one in force.",
            ok=("201", "The acceptance.", "Acceptance"),
            refusals=_refusals("400", "401", "403", "404", "409"),
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": _ref("AcceptanceRequest")}},
            },
        )
    },
    "/plan-acceptances": {
        "get": _op(
            "plan_acceptances",
            "Every rep on a plan and the newest version they accepted (admins).",
            ok=("200", "The list.", "AcceptanceReport"),
            refusals=_refusals("401", "403"),
        )
    },
    "/disputes": {
        "get": _op(
            "list_disputes",
            "The disputes the caller may see: a rep their own, a manager their team's, an "
            "admin every one (the queue). Ops none.",
            ok=("200", "The disputes.", "Disputes"),
            refusals=_refusals("400", "401", "403"),
            parameters=[_SORT, _SHOW],
        ),
        "post": _op(
            "create_dispute",
            "Open a dispute on the caller's own pay (reps, managers).",
            ok=("201", "The dispute.", "DisputeDetail"),
            refusals=_refusals("400", "401", "403", "404"),
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": _ref("DisputeRequest")}},
            },
        ),
    },
    "/disputes/reasons": {
        "get": _op(
            "dispute_reasons",
            "The org's dispute reasons.",
            ok=("200", "The reasons.", "DisputeReasons"),
            refusals=_refusals("401", "403"),
        )
    },
    "/disputes/{dispute_id}": {
        "get": _op(
            "get_dispute",
            "One dispute the caller may see, with its history and the caller's actions.",
            ok=("200", "The dispute.", "DisputeDetail"),
            refusals=_refusals("401", "403", "404"),
            parameters=[_DISPUTE_ID],
        )
    },
    "/disputes/{dispute_id}/transitions": {
        "post": _op(
            "transition_dispute",
            "Act on a dispute: endorse, review, ask_info, reply, resolve, close, withdraw.",
            ok=("200", "The dispute after the action.", "DisputeDetail"),
            refusals=_refusals("400", "401", "403", "404", "409"),
            parameters=[_DISPUTE_ID],
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": _ref("Transition")}},
            },
        )
    },
}
