"""One table over every route of the app: who must be refused, and that they are.

Rep A asks for rep B's resources, a manager for another team's, a rep (or a manager) for
admin and ops pages; the HTML views and the JSON API give the same answers. A route added
without a row here fails `test_every_route_is_covered`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
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
    form: tuple[tuple[str, str], ...] = ()  # sent as the form or the JSON body

    @property
    def id(self) -> str:
        args = ",".join(f"{k}={v}" for k, v in self.values + self.form)
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
    ids["dispute_a"] = _dispute(app, web, cast.rep_a, cast.manager_a)
    ids["dispute_b"] = _dispute(app, web, cast.rep_b, cast.manager_b)
    yield Setup(web, app, ids)


def _dispute(app: Flask, web: Web, rep: str, manager: str) -> str:
    """A period dispute of `rep`, taken for review by the admin (so it can be resolved)."""
    from connector.disputes.service import DisputeRequest, RepRef, act, open_dispute
    from connector.disputes.workflow import Actor, Inputs

    now = datetime.now(UTC)
    req = DisputeRequest(kind="period", period="2026-Q1", reason_code="other", description="?")
    admin = Actor(web.cast.admin, "Admin", frozenset({"admin"}))
    from webapp.db import org_unit

    with app.app_context(), org_unit(web.org_id) as unit:
        opened = open_dispute(unit, rep=RepRef(rep, rep, manager), req=req, now=now)
        act(unit, dispute_id=opened.id, action="review", actor=admin, inputs=Inputs(), now=now)
        unit.commit()
        return str(opened.id)


REP_RESOURCES = ("rep.person", "rep.estimator", "rep.statement", "rep.statement_csv")
API_REP = ("api.rep_earnings",)
DEAL_RESOURCES = ("rep.deal", "api.deal_estimate")
ADMIN_ONLY = (
    "disputes.admin_settings", "disputes.settings_save", "disputes.reason_save",
    "close.acceptance", "api.plan_acceptances", "close.lock", "close.payroll_csv",
    "close.payroll_json", "api.close_period", "api.payroll_csv", "api.payroll_json",
    "admin.roles", "admin.grant_add",
    "admin.grant_remove", "admin.mappings",
    "admin.mapping_activate", "admin.mapping_history", "admin.mapping_preview",
    "admin.mapping_save", "admin.mapping_validate", "admin.period_lock", "admin.period_unlock",
    "admin.plans", "admin.plan_activate", "admin.plan_upload", "api.active_mapping",
    "api.validate_mapping", "admin.writeback_field_add", "admin.writeback_field_remove",
    "ops_org.disconnect_org", "api.disconnect_org", "admin.assignment_correct",
    "ops_org.connect_another", "api.org_connect_link",
)  # fmt: skip
OPS_OR_ADMIN = (
    "ops.issues", "ops.retry", "ops.runs", "ops.run", "ops.resync", "api.list_sync_runs",
    "api.request_sync_run", "api.get_sync_run", "ops_org.org", "ops_org.pause",
    "ops_org.resume", "api.get_org", "api.pause_org", "api.resume_org",
)  # fmt: skip
# Cannot be reached with any Canvas session: only with the cookie a connect link sets.
CONNECT = ("connect.connect_page", "connect.connect_start", "connect.connect_callback")
MANAGER_OR_ADMIN = ("manager.team", "manager.leaderboard")
REP_ONLY = ("rep.home", "api.my_earnings")
ROUTE_ARGS = {
    "version": 1, "run_id": 1, "dispute_id": 1, "period": "2026-Q1", "assignment_id": 1,
}  # fmt: skip
DISPUTE_VIEWS = ("disputes.detail", "api.get_dispute")
DISPUTE_ACTIONS = ("disputes.act", "api.transition_dispute")
DISPUTE_LISTS = ("disputes.index", "api.list_disputes", "api.dispute_reasons")
DISPUTE_OPEN = ("disputes.new", "disputes.create", "api.create_dispute")
MY_PLAN = ("close.my_plan", "api.my_plan", "close.accept_plan", "api.accept_plan")
CLOSE_TEAM = ("close.statements", "api.period_statements", "close.approve", "api.approve_statement")
RESOLVE = (("action", "resolve"), ("resolution", "approved"), ("amount", "5"), ("note", "ok"))


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
    return cases + _dispute_cases()


def _dispute_cases() -> list[Case]:
    cases: list[Case] = []
    for endpoint in DISPUTE_VIEWS + DISPUTE_ACTIONS:
        cases += [
            Case(endpoint, "rep_a", (("dispute_id", "dispute_b"),), 404),
            Case(endpoint, "manager_a", (("dispute_id", "dispute_b"),), 404),
            Case(endpoint, "manager_b", (("dispute_id", "dispute_a"),), 404),  # another team
            Case(endpoint, "ops", (("dispute_id", "dispute_a"),), 403),
        ]
    for endpoint in DISPUTE_VIEWS:
        cases += [
            Case(endpoint, who, (("dispute_id", "dispute_a"),), 200)
            for who in ("rep_a", "manager_a", "admin")
        ]
    for endpoint in DISPUTE_ACTIONS:
        cases += [
            # A rep cannot resolve their own dispute, nor their manager it.
            Case(endpoint, "rep_a", (("dispute_id", "dispute_a"),), 403, RESOLVE),
            Case(endpoint, "manager_a", (("dispute_id", "dispute_a"),), 403, RESOLVE),
            Case(endpoint, "rep_a", (("dispute_id", "dispute_a"),), 400),  # no action given
            Case(endpoint, "admin", (("dispute_id", "dispute_a"),), 409, (("action", "review"),)),
        ]
    for endpoint in DISPUTE_LISTS:
        cases += [Case(endpoint, "ops", (), 403)]
        cases += [Case(endpoint, who, (), 200) for who in ("rep_a", "manager_a", "admin")]
    for endpoint in DISPUTE_OPEN:
        cases += [Case(endpoint, who, (), 403) for who in ("ops", "admin")]
    cases += [Case("disputes.new", "rep_a", (), 200), Case("disputes.create", "rep_a", (), 400)]
    cases += [Case("api.create_dispute", "rep_a", (), 400)]
    for endpoint in MY_PLAN:
        cases += [Case(endpoint, who, (), 403) for who in ("ops", "admin")]
    cases += [Case("close.my_plan", "rep_a", (), 200), Case("api.my_plan", "rep_a", (), 200)]
    cases += [
        Case("close.accept_plan", "rep_a", (), 400),
        Case("api.accept_plan", "rep_a", (), 400),
    ]
    return cases + _close_cases()


def _close_cases() -> list[Case]:
    cases: list[Case] = []
    rep_a = (("rep_id", "rep_a"),)
    for endpoint in CLOSE_TEAM:
        cases += [Case(endpoint, who, rep_a, 403) for who in ("rep_a", "ops")]
    for endpoint in ("close.statements", "api.period_statements"):
        cases += [Case(endpoint, who, (), 200) for who in ("manager_a", "admin")]
    approve_a = (("period", "2026-Q1"), ("rep_id", "rep_a"))
    cases += [
        # A manager of another team cannot approve (or even see) rep A's statement.
        Case("api.approve_statement", "manager_b", rep_a, 404),
        Case("close.approve", "manager_b", (), 404, approve_a),
        Case("api.approve_statement", "admin", rep_a, 409),  # the manager approves first
        Case("close.approve", "admin", (), 400),  # no period given
    ]
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
    path_args = {k: v for k, v in ROUTE_ARGS.items() if k in rule.arguments}
    path_args.update({k: v for k, v in resolved.items() if k in rule.arguments})
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
        if case.endpoint.startswith("api."):
            return client.post(url, headers=headers, json=dict(case.form))
        return client.post(url, headers=headers, data=dict(case.form))
    return client.post(url, data={"qf_token": token, "qf_csrf": csrf, **dict(case.form)})


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
    covered = {case.endpoint for case in CASES} | PUBLIC | set(CONNECT)
    endpoints = {rule.endpoint for rule in setup.app.url_map.iter_rules()}
    assert endpoints - covered == set(), "routes without an authorization case"


@pytest.mark.parametrize(
    "endpoint",
    sorted(
        set(REP_RESOURCES + API_REP + DEAL_RESOURCES + ADMIN_ONLY + OPS_OR_ADMIN)
        | set(MANAGER_OR_ADMIN + REP_ONLY)
        | set(DISPUTE_VIEWS + DISPUTE_ACTIONS + DISPUTE_LISTS + DISPUTE_OPEN + MY_PLAN)
        | set(CLOSE_TEAM)
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
        # /connect/start checks a CSRF token of its own (tests/orgs/test_connect.py).
        and rule.endpoint not in CONNECT
    )


def test_every_state_changing_form_needs_the_csrf_token(setup: Setup) -> None:
    app = setup.app
    endpoints = _post_only_endpoints(app)
    assert len(endpoints) >= 10, endpoints
    client = app.test_client()
    for endpoint in endpoints:
        # Each form is refused for its CSRF token by a viewer who holds the route's role.
        rep_only = endpoint in ("disputes.create", "close.accept_plan")
        token, csrf = _token(setup, "rep_a" if rep_only else "admin")
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


@pytest.mark.parametrize("endpoint", CONNECT)
@pytest.mark.parametrize("who", ["admin", "ops", "rep_a"])
def test_connect_pages_refuse_every_canvas_session(setup: Setup, endpoint: str, who: str) -> None:
    # An admin of one org must not connect other orgs with their session: /connect takes only
    # the cookie of a connect link (docs/orgs.md).
    rule = next(r for r in setup.app.url_map.iter_rules() if r.endpoint == endpoint)
    token, csrf = _token(setup, who)
    client = setup.app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    if "GET" in (rule.methods or ()):
        assert client.get(rule.rule, headers=bearer).status_code == 401
    else:
        answer = client.post(rule.rule, data={"qf_token": token, "qf_csrf": csrf, "csrf": csrf})
        assert answer.status_code == 401
