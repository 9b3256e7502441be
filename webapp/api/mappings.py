"""API: the active mapping, and validating a mapping document (admin only)."""

from __future__ import annotations

import json
from typing import Any

import yaml
from flask import Response, jsonify, request

from connector.reports.admin_mappings import MappingCheck, check_mapping_data, check_mapping_text
from connector.store.mapping_versions import active_version, checksum
from mappings.defaults import default_mapping
from mappings.loader import dump_mapping
from webapp.admin.org import org_describer
from webapp.api import bp
from webapp.auth.guard import bad_request, current_viewer, require
from webapp.db import unit_of_work
from webapp.documents import reading

__all__ = ["bp"]


@bp.get("/mappings/active")
@require("admin")
def active_mapping() -> Response:
    """The active mapping version: number, checksum, document and when it was activated."""
    with unit_of_work() as uow:
        row = active_version(uow.session, current_viewer().org_id)
        doc = row.load() if row is not None else default_mapping()
        text = dump_mapping(doc)
        return jsonify(
            version=row.version if row is not None else None,
            checksum=row.checksum if row is not None else checksum(text),
            document=json.loads(dump_mapping(doc, fmt="json")),
            activated_at=row.activated_at.isoformat() if row and row.activated_at else None,
        )


def _body() -> Any:
    raw = request.get_data(cache=False, as_text=False)
    if not raw.strip():
        raise bad_request('the body is empty: send {"document": "<YAML text>"} or the document')
    try:
        text = raw.decode("utf-8")
        return yaml.safe_load(text)  # JSON is YAML too
    except UnicodeDecodeError:
        raise bad_request("the body is not UTF-8 text") from None
    except RecursionError:
        raise bad_request("the body is nested too deeply to read") from None
    except (yaml.YAMLError, ValueError) as exc:
        # ValueError: a scalar PyYAML's constructor refuses (`2026-02-30`, `!!int 0x`).
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "unreadable"
        raise bad_request(f"the body is not JSON or YAML{where}: {problem}") from None


def _result(check: MappingCheck) -> Response:
    return jsonify(
        valid=check.valid,
        errors=[{"path": p.path, "message": p.message} for p in check.problems],
        against_org=check.against_org,
        notice=check.notice,
    )


@bp.post("/mappings/validate")
@require("admin")
def validate_mapping() -> Response:
    """Validate a document (against the org's live describe when reachable); store nothing."""
    body = _body()
    if not isinstance(body, dict):
        raise bad_request('the body must be an object: {"document": ...} or the document itself')
    describe = org_describer()
    document = body.get("document", body) if set(body) == {"document"} else body
    if isinstance(document, str):
        with reading("document"):
            return _result(check_mapping_text(document, describe=describe))
    if not isinstance(document, dict):
        raise bad_request('"document" must be YAML/JSON text or an object')
    with reading("document"):
        return _result(check_mapping_data(document, describe=describe))
