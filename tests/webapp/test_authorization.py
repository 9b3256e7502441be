"""One table over every route of the app: who must be refused, and that they are.

Rep A asks for rep B's resources, a manager for another team's, a rep (or a manager) for
admin and ops pages; the HTML views and the JSON API give the same answers. A route added
without a row here fails `test_every_route_is_covered`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from connector.store.deal_reads import deal_people
from connector.store.people import team_below
from tests.store_kit import unit_of_work
from tests.webapp.conftest import Web

PUBLIC = {"health.healthz", "static", "canvas.canvas", "api.openapi"}


@dataclass(frozen=True)
class Case:
    """`who` asks for `endpoint` with `values`; expected status `status`."""

    endpoint: str
    who: str
    values: tuple[tuple[str, Any], ...]
    status: int

    @property
    def id(self) -> str:
        args = ",".join(f"{k}={v}" for k, v in self.values)
        return f"{self.endpoint}[{args}]-as-{self.who}-{self.status}"


@dataclass
class Setup:
    web: Web
    app: Flask
    ids: dict[str, str]


def _deal_only_involving(app: Flask, web: Web, rep: str, outsiders: set[str]) -> str:
    from connector.store.canonical import CanonicalDeal
    from connector.store.deal_reads import sample_deals  # noqa: F401  (documents the source)

    with app.app_context(), unit_of_work() as uow:
        session = uow.session
        deals = session.query(CanonicalDeal.id).filter(
            CanonicalDeal.org_id == web.org_id, CanonicalDeal.owner_id == rep
        )
        for (deal_id,) in deals.order_by(CanonicalDeal.id):
            if not deal_people(session, org_id=web.org_id, deal_id=deal_id) & outsiders:
                return str(deal_id)
    raise AssertionError(f"no deal of {rep} that involves none of {sorted(outsiders)}")


@pytest.fixture(scope="module")
def setup(web: Web, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    app = web.fresh(tmp_path_factory.mktemp("authz"))
    cast = web.cast
    with app.app_context(), unit_of_work() as uow:
        team_a = set(team_below(uow.session, org_id=web.org_id, manager_id=cast.manager_a))
        team_b = set(team_below(uow.session, org_id=web.org_id, manager_id=cast.manager_b))
    ids = {
        "rep_a": cast.rep_a,
        "rep_b": cast.rep_b,
        "manager_a": cast.manager_a,
        "deal_a": _deal_only_involving(app, web, cast.rep_a, team_b | {cast.manager_b}),
        "deal_b": _deal_only_involving(app, web, cast.rep_b, team_a | {cast.manager_a, cast.rep_a}),
    }
    yield Setup(web, app, ids)


REP_RESOURCES = ("rep.person", "rep.estimator", "rep.statement", "rep.statement_csv")
API_REP = ("api.rep_earnings",)
DEAL_RESOURCES = ("rep.deal", "api.deal_estimate")
ADMIN_ONLY = (
    "admin.roles", "admin.grant_add", "admin.grant_remove", "admin.mappings",
    "admin.mapping_activate", "admin.mapping_history", "admin.mapping_preview",
    "admin.mapping_save", "admin.mapping_validate", "admin.period_lock", "admin.period_unlock",
    "admin.plans", "admin.plan_activate", "admin.plan_upload", "api.active_mapping",
    "api.validate_mapping", "admin.writeback_field_add", "admin.writeback_field_remove",
    "admin.assignment_correct",
)  # fmt: skip
OPS_OR_ADMIN = (
    "ops.issues", "ops.retry", "ops.runs", "ops.run", "ops.resync", "api.list_sync_runs",
    "api.request_sync_run", "api.get_sync_run",
)  # fmt: skip
MANAGER_OR_ADMIN = ("manager.team", "manager.leaderboard")
REP_ONLY = ("rep.home", "api.my_earnings")
ROUTE_ARGS = {"version": 1, "run_id": 1, "assignment_id": 1}


def _cases() -> list[Case]:
    cases: list[Case] = []
    for endpoint in (*REP_RESOURCES, *API_REP):
        cases += [
            Case(endpoint, "rep_a", (("rep_id", "rep_b"),), 404),
            Case(endpoint, "rep_a", (("rep_id", "manager_a"),), 404),  # not upward either
            Case(endpoint, "manager_b", (("rep_id", "rep_a"),), 404),
            Case(endpoint, "ops", (("rep_id", "rep_a"),), 404),
            Case(endpoint, "rep_a", (("rep_id", "rep_a"),), 200),
            Case(endpoint, "manager_a", (("rep_id", "rep_a"),), 200),
            Case(endpoint, "admin", (("rep_id", "rep_b"),), 200),
        ]
    for endpoint in DEAL_RESOURCES:
        cases += [
            Case(endpoint, "rep_a", (("deal_id", "deal_b"),), 404),
            Case(endpoint, "manager_a", (("deal_id", "deal_b"),), 404),
            Case(endpoint, "manager_b", (("deal_id", "deal_a"),), 404),
            Case(endpoint, "ops", (("deal_id", "deal_a"),), 404),
            Case(endpoint, "rep_a", (("deal_id", "deal_a"),), 200),
            Case(endpoint, "manager_a", (("deal_id", "deal_a"),), 200),
            Case(endpoint, "admin", (("deal_id", "deal_b"),), 200),
        ]
    for endpoint in ADMIN_ONLY:
        cases += [Case(endpoint, who, (), 403) for who in ("rep_a", "manager_a", "ops")]
    for endpoint in OPS_OR_ADMIN:
        cases += [Case(endpoint, who, (), 403) for who in ("rep_a", "manager_a")]
    for endpoint in MANAGER_OR_ADMIN:
        cases += [
            Case(endpoint, "rep_a", (), 403),
            Case(endpoint, "ops", (), 403),
            Case(endpoint, "manager_b", (("manager", "manager_a"),), 404),
            Case(endpoint, "manager_a", (), 200),
        ]
    for endpoint in REP_ONLY:
        cases += [Case(endpoint, "ops", (), 403), Case(endpoint, "rep_a", (), 200)]
    return cases


CASES = _cases()


def _token(setup: Setup, who: str) -> tuple[str, str]:
    web, app = setup.web, setup.app
    cast = web.cast
    if who == "admin":
        viewer = web.viewer(cast.admin, app=app, profile=("System Administrator",))
    elif who == "ops":
        viewer = web.viewer(cast.ops, app=app, permission_sets=("Quotaflow_Ops",))
    else:
        viewer = web.viewer(getattr(cast, who), app=app)
    tokens = app.extensions["quotaflow.tokens"]
    return tokens.issue(viewer), tokens.csrf(viewer)


def _request(setup: Setup, case: Case, *, as_api: bool) -> Any:
    app = setup.app
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == case.endpoint)
    resolved = {k: setup.ids.get(v, v) for k, v in case.values}
    path_args = {k: v for k, v in resolved.items() if k in rule.arguments}
    path_args.update({k: v for k, v in ROUTE_ARGS.items() if k in rule.arguments})
    query = {k: v for k, v in resolved.items() if k not in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        url = url_for(case.endpoint, **path_args, **query)
    token, csrf = _token(setup, case.who)
    client = app.test_client()
    method = "GET" if "GET" in (rule.methods or ()) else "POST"
    if as_api or case.endpoint.startswith("api."):
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if method == "GET":
            return client.get(url, headers=headers)
        return client.post(url, headers=headers, json={})
    return client.post(url, data={"qf_token": token, "qf_csrf": csrf})


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_route_authorization(setup: Setup, case: Case) -> None:
    response = _request(setup, case, as_api=False)
    if case.status == 200:
        assert response.status_code == 200, response.data[:300]
        return
    assert response.status_code == case.status, response.data[:300]
    if not case.endpoint.startswith("api."):
        # The same request with a Bearer header (the API's way in) is refused the same way.
        again = _request(setup, case, as_api=True)
        assert again.status_code == case.status, again.data[:300]
    body = response.get_data(as_text=True)
    for secret in setup.ids.values():
        if secret in body and case.status == 404:
            # A refusal may echo the id that was asked for, never anything about it.
            assert "$" not in body


def test_every_route_is_covered(setup: Setup) -> None:
    covered = {case.endpoint for case in CASES} | PUBLIC
    endpoints = {rule.endpoint for rule in setup.app.url_map.iter_rules()}
    assert endpoints - covered == set(), "routes without an authorization case"


@pytest.mark.parametrize(
    "endpoint",
    sorted(
        set(REP_RESOURCES + API_REP + DEAL_RESOURCES + ADMIN_ONLY + OPS_OR_ADMIN)
        | set(MANAGER_OR_ADMIN + REP_ONLY)
    ),
)
def test_no_session_is_401(setup: Setup, endpoint: str) -> None:
    app = setup.app
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    args = {a: setup.ids.get("rep_a") for a in rule.arguments}
    args.update({k: v for k, v in ROUTE_ARGS.items() if k in rule.arguments})
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **args)
    client = app.test_client()
    assert client.post(url, data={}).status_code in (401, 405)
    assert client.post(url, data={"qf_token": "forged.token.value"}).status_code in (401, 405)
    assert client.get(url, headers={"Authorization": "Bearer nope"}).status_code in (401, 405)


# POST-only because the edited document is a form body, but it stores nothing.
READ_ONLY_POSTS = {"admin.mapping_validate"}


def _post_only_endpoints(app: Flask) -> list[str]:
    return sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" not in (rule.methods or ())
        and rule.endpoint not in PUBLIC
        and not rule.endpoint.startswith("api.")
        and rule.endpoint not in READ_ONLY_POSTS
    )


def test_every_state_changing_form_needs_the_csrf_token(setup: Setup) -> None:
    app = setup.app
    endpoints = _post_only_endpoints(app)
    assert len(endpoints) >= 10, endpoints
    token, csrf = _token(setup, "admin")
    client = app.test_client()
    for endpoint in endpoints:
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        args = {k: v for k, v in ROUTE_ARGS.items() if k in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            url = url_for(endpoint, **args)
        refused = client.post(url, data={"qf_token": token})
        assert refused.status_code == 403, (endpoint, refused.data[:200])
        assert b"CSRF" in refused.data
        wrong = client.post(url, data={"qf_token": token, "qf_csrf": csrf[::-1]})
        assert wrong.status_code == 403, endpoint
        assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 405
