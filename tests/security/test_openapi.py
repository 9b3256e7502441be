"""The OpenAPI document of /api/v1 is served and stays true to the route table.

Every `/api/v1` route and method of the Flask url_map is documented (operationId = view
name) and every documented operation exists; path parameters match the rule's, with
integer ids where the route converts them; documented query parameters are really read
(a value outside their schema is refused, one inside is accepted); and each answer the
route gives to an anonymous caller, a caller without the role and a caller with it has a
documented status. The property-based run (test_property_routes.py) then checks every
generated answer's status and body against the document.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from sqlalchemy import select

from connector.store.canonical import CanonicalDeal
from tests.store_kit import unit_of_work
from tests.webapp.conftest import Web
from webapp.api.openapi import openapi_document
from webapp.params import BoundedIntConverter

PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def app(web: Web, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return web.fresh(tmp_path_factory.mktemp("openapi"))


@pytest.fixture(scope="module")
def doc(app: Flask) -> dict[str, Any]:
    response = app.test_client().get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


def _operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method.upper()): op
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }


def _routes(app: Flask) -> dict[tuple[str, str], Any]:
    found = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len(PREFIX) :])
        for method in (rule.methods or set()) - IGNORED_METHODS:
            found[(path, method)] = rule
    return found


def test_served_document_is_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc == openapi_document()
    assert doc["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(doc).validate()  # against the OpenAPI 3.1 meta-schema
    assert doc["servers"] == [{"url": PREFIX}]
    for op in _operations(doc).values():
        for answer in op["responses"].values():
            for media in answer.get("content", {}).values():
                ref = media["schema"].get("$ref", "")
                assert not ref or ref.split("/")[-1] in doc["components"]["schemas"], ref


def test_every_route_is_documented_and_every_operation_exists(
    app: Flask, doc: dict[str, Any]
) -> None:
    routes, operations = _routes(app), _operations(doc)
    assert set(routes) - set(operations) == set(), "routes missing from openapi.json"
    assert set(operations) - set(routes) == set(), "documented operations without a route"
    for key, rule in routes.items():
        assert rule.endpoint == "api." + operations[key]["operationId"], key


def test_path_parameters_match_the_rules(app: Flask, doc: dict[str, Any]) -> None:
    operations = _operations(doc)
    for key, rule in _routes(app).items():
        params = {p["name"]: p for p in operations[key].get("parameters", []) if p["in"] == "path"}
        assert set(params) == set(rule.arguments), key
        for name, converter in rule._converters.items():
            integer = isinstance(converter, BoundedIntConverter)
            assert (params[name]["schema"]["type"] == "integer") is integer, (key, name)
            assert params[name]["required"] is True


def _ids(web: Web, app: Flask) -> dict[str, Any]:
    with app.app_context(), unit_of_work() as uow:
        deal = uow.session.scalars(
            select(CanonicalDeal.id)
            .where(CanonicalDeal.org_id == web.org_id, CanonicalDeal.owner_id == web.cast.rep_a)
            .limit(1)
        ).one()
    return {
        "rep_id": web.cast.rep_a,
        "deal_id": deal,
        "run_id": 1,
        "dispute_id": _dispute(web, app),
        "period": "2026-Q1",
    }


def _dispute(web: Web, app: Flask) -> int:
    """A dispute of rep_a (the `rep` caller's own)."""
    from datetime import UTC, datetime

    from connector.disputes.service import DisputeRequest, RepRef, open_dispute

    req = DisputeRequest(kind="period", period="2026-Q1", reason_code="other", description="?")
    from webapp.db import org_unit

    with app.app_context(), org_unit(web.org_id) as unit:
        rep = RepRef(web.cast.rep_a, "Rep A", web.cast.manager_a)
        opened = open_dispute(unit, rep=rep, req=req, now=datetime.now(UTC))
        unit.commit()
        return opened.id


def _call(app: Flask, path: str, method: str, token: str | None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = app.test_client()
    if method == "GET":
        return client.get(PREFIX + path, headers=headers, **kwargs)
    return client.post(PREFIX + path, headers=headers, json=kwargs.pop("json", {}), **kwargs)


def _tokens(web: Web, app: Flask) -> dict[str, str]:
    return {
        "admin": web.admin_token(app=app),
        "ops": web.ops_token(app=app),
        "rep": web.token(web.cast.rep_a, app=app),
        "outsider": web.token(web.cast.rep_b, app=app),
    }


# The caller who may use each operation (None: public).
ALLOWED = {
    "my_earnings": "rep", "rep_earnings": "rep", "deal_estimate": "rep",
    "list_sync_runs": "ops", "request_sync_run": "ops", "get_sync_run": "ops",
    "active_mapping": "admin", "validate_mapping": "admin", "openapi": None,
    "list_disputes": "rep", "create_dispute": "rep", "get_dispute": "rep",
    "transition_dispute": "rep", "dispute_reasons": "rep", "my_plan": "rep",
    "accept_plan": "rep", "plan_acceptances": "admin", "period_statements": "admin",
    "approve_statement": "admin", "close_period": "admin", "payroll_csv": "admin",
    "payroll_json": "admin",
    "get_org": "ops", "pause_org": "ops", "resume_org": "ops", "disconnect_org": "admin",
    "org_connect_link": "admin",
}  # fmt: skip


def test_documented_statuses_are_the_ones_answered(
    web: Web, app: Flask, doc: dict[str, Any]
) -> None:
    ids, tokens = _ids(web, app), _tokens(web, app)
    for (path, method), op in _operations(doc).items():
        url = path.format(**ids)
        documented = set(op["responses"])
        allowed = ALLOWED[op["operationId"]]
        callers = [allowed] if allowed is None else [None, "outsider", allowed]
        if allowed == "rep":
            callers.remove("outsider")
            callers += ["ops"]
        for who in callers:
            response = _call(app, url, method, tokens.get(who or ""))
            assert str(response.status_code) in documented, (path, method, who, response.data)


def test_documented_query_parameters_are_read(web: Web, app: Flask, doc: dict[str, Any]) -> None:
    ids, tokens = _ids(web, app), _tokens(web, app)
    bad = {"limit": "0", "period": "2026-Q5", "sort": "size", "show": "none"}
    good = {"limit": "3", "period": "2026-Q1", "sort": "amount", "show": "all"}
    checked = 0
    for (path, method), op in _operations(doc).items():
        token = tokens.get(ALLOWED[op["operationId"]] or "")
        for param in op.get("parameters", []):
            if param["in"] != "query":
                continue
            name = param["name"]
            url = path.format(**ids)
            refused = _call(app, url, method, token, query_string={name: bad[name]})
            assert refused.status_code == 400, (path, name)
            assert name in refused.get_json()["error"]
            accepted = _call(app, url, method, token, query_string={name: good[name]})
            assert accepted.status_code == 200, (path, name, accepted.data[:200])
            checked += 1
    assert checked >= 3


def test_every_query_parameter_the_api_reads_is_documented(doc: dict[str, Any]) -> None:
    read: set[str] = set()
    for source in (Path(__file__).resolve().parents[2] / "webapp" / "api").glob("*.py"):
        text = source.read_text()
        read |= set(re.findall(r"(?:query_int|optional_int)\(\s*\"(\w+)\"", text))
        read |= set(re.findall(r"request\.(?:args|values)\.get(?:list)?\(\"(\w+)\"", text))
        if "period_param()" in text:
            read.add("period")
    documented = {
        p["name"]
        for op in _operations(doc).values()
        for p in op.get("parameters", [])
        if p["in"] == "query"
    }
    assert read, "found no query parameter read by the API: the scan is broken"
    assert read <= documented, read - documented
