"""API: the active mapping, and validating a mapping document (admin only)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify, request

from connector.reports.admin_mappings import MappingCheck, check_mapping_data, check_mapping_text
from connector.store.mapping_versions import checksum
from mappings.defaults import default_mapping
from mappings.loader import dump_mapping
from mappings.safe_yaml import YamlError, load_yaml
from webapp.admin.org import org_describer
from webapp.api import bp
from webapp.auth.guard import Refused, bad_request, require
from webapp.db import viewer_unit
from webapp.documents import reading

__all__ = ["bp"]


@bp.get("/mappings/active")
@require("admin")
def active_mapping() -> Response:
    """The active mapping version: number, checksum, document and when it was activated."""
    with viewer_unit() as unit:
        row = unit.mappings.active_version()
        doc = row.load() if row is not None else default_mapping()
        text = dump_mapping(doc)
        return jsonify(
            version=row.version if row is not None else None,
            checksum=row.checksum if row is not None else checksum(text),
            document=json.loads(dump_mapping(doc, fmt="json")),
            activated_at=row.activated_at.isoformat() if row and row.activated_at else None,
        )


def _parsed(text: str, what: str) -> Any:
    try:
        return load_yaml(text)  # JSON is YAML too
    except YamlError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        if exc.limit:
            raise Refused(422, f"{what} is refused ({exc.limit}){where}: {exc.problem}") from None
        raise bad_request(f"{what} is not JSON or YAML{where}: {exc.problem}") from None


def _body() -> Any:
    raw = request.get_data(cache=False, as_text=False)
    if not raw.strip():
        raise bad_request('the body is empty: send {"document": "<YAML text>"} or the document')
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the body is not UTF-8 text") from None
    return _parsed(text, "the body")


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
    with viewer_unit() as unit:
        allowed = unit.writeback_fields.allowed_fields()
    document = body.get("document", body) if set(body) == {"document"} else body
    if isinstance(document, str):
        _parsed(document, '"document"')  # a limit broken inside the text is a 422 too
        with reading("document"):
            return _result(check_mapping_text(document, describe=describe, allowed=allowed))
    if not isinstance(document, dict):
        raise bad_request('"document" must be YAML/JSON text or an object')
    with reading("document"):
        return _result(check_mapping_data(document, describe=describe, allowed=allowed))
