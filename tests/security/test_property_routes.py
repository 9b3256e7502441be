"""Property-based run over every route: generated requests never get a 5xx.

The JSON API is driven by schemathesis from its own OpenAPI document (positive and
negative cases, every role's session and none), each answer checked for a documented
status, content type and body schema. Every HTML route is driven by Hypothesis: each
role's session (with its CSRF token) posts generated values, hostile ones included, for
every form field the pages render or the views read (as a form, or as the query string of
a GET with the session in a Bearer header), plus generated path ids. The run is
bounded in examples per route and role so it stays well under a minute. The number of
generated requests and of 5xx answers is printed (`-s`), repeated in pytest's closing
summary (tests/security/conftest.py) and recorded as the test's `generated_requests`.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from connector.store.canonical import CanonicalDeal
from tests.store_kit import unit_of_work
from tests.webapp.canvas_kit import sign
from tests.webapp.conftest import Web
from webapp.params import BoundedIntConverter

API_EXAMPLES = 5  # per operation, caller and generation mode
FORM_EXAMPLES = 5  # per HTML route and caller
ROOT = Path(__file__).resolve().parents[2]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The deep values exhaust the YAML and JSON readers' recursion yet stay cheap to parse;
# test_no_500.py replays the 20000-deep attack itself.
HOSTILE = [
    "", " ", "0", "-1", "1", "²", "٣", "1²", "9" * 30, "2147483648", "2147483647",
    "2026-02-30", "!!int 0x", "[" * 600, "[" * 1200 + "]" * 1200, "a: &a [x, x]\nb: [*a, *a]",
    "\x00", "\u2028", "'; DROP TABLE x;--", "<script>x</script>",
    "=HYPERLINK(\"http://x\")", "full", "incremental", "yaml", "form", "all", "open",
    "2026-Q1", "2026-13", "admin", "ops", "user", "profile", "permission_set", "deal", "rep",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    st.from_regex(r"[0-9]{1,12}", fullmatch=True),
)
RUN = settings(
    max_examples=FORM_EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def app(web: Web, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return web.fresh(tmp_path_factory.mktemp("property"))


def _sessions(web: Web, app: Flask) -> dict[str, dict[str, str]]:
    tokens = app.extensions["quotaflow.tokens"]
    viewers = {
        "admin": web.viewer(web.cast.admin, app=app, profile=("System Administrator",)),
        "ops": web.viewer(web.cast.ops, app=app, permission_sets=("Quotaflow_Ops",)),
        "manager": web.viewer(web.cast.manager_a, app=app),
        "rep": web.viewer(web.cast.rep_a, app=app),
    }
    return {
        who: {"qf_token": tokens.issue(v), "qf_csrf": tokens.csrf(v)} for who, v in viewers.items()
    }


def _known_ids(web: Web, app: Flask) -> dict[str, list[str]]:
    with app.app_context(), unit_of_work() as uow:
        deals = uow.session.scalars(
            select(CanonicalDeal.id).where(CanonicalDeal.org_id == web.org_id).limit(5)
        ).all()
    reps = [web.cast.rep_a, web.cast.rep_b, web.cast.manager_a, web.cast.vp]
    return {"rep_id": reps, "deal_id": list(deals), "period": ["2026-Q1", "2026-Q2", "2026"]}


def _field_names(app: Flask, sessions: dict[str, dict[str, str]], rep_id: str) -> list[str]:
    """Every form field the views read or the pages render (the mapping editor's cells too)."""
    names: set[str] = set()
    for path in (ROOT / "webapp").rglob("*.py"):
        text = path.read_text()
        names |= set(re.findall(r"request\.(?:values|form|args)\.get(?:list)?\(\"(\w+)\"", text))
        names |= set(re.findall(r"(?:query_int|optional_int|form_ints)\(\"(\w+)\"", text))
    client = app.test_client()
    pages = ["/admin/mappings", "/admin/plans", "/admin/access", "/ops/runs", "/ops/issues"]
    pages += ["/team", "/team/leaderboard", f"/reps/{rep_id}/estimate", "/admin/disputes"]
    for page in pages:
        html = client.post(page, data=sessions["admin"]).get_data(as_text=True)
        names |= set(re.findall(r'name="([^"{}]+)"', html))
    names |= {"role", "principal_kind", "principal", "grant"}  # the access form's fields
    # The dispute forms (read through one helper, for forms and JSON bodies alike).
    names |= {"kind", "deal_id", "component", "credit_type", "reason", "expected_amount"}
    names |= {"description", "action", "note", "resolution", "amount", "sort", "show"}
    names |= {"version", "document_sha256"}  # accepting a plan
    names |= {"rep_id", "override_reason"}  # approving a statement, closing a period
    return sorted(names - {"qf_token", "qf_csrf", "viewport", "referrer"})


def _path_values(rule: Any, ids: dict[str, list[str]]) -> st.SearchStrategy[dict[str, str]]:
    parts: dict[str, st.SearchStrategy[str]] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, BoundedIntConverter):
            parts[name] = st.one_of(
                st.sampled_from(["1", "2", "²", "9" * 30, "2147483648", "0"]),
                st.from_regex(r"[0-9]{1,12}", fullmatch=True),
            )
        else:
            parts[name] = st.one_of(st.sampled_from(ids[name]), st.text(min_size=1, max_size=24))
    return st.fixed_dictionaries(parts)


def _url(rule: Any, values: dict[str, str]) -> str:
    url = rule.rule
    for name, value in values.items():
        url = re.sub(rf"<(?:\w+:)?{name}>", quote(value, safe="") or "x", url)
    return url


def _envelopes(web: Web) -> st.SearchStrategy[str]:
    secret = web.settings.sf_canvas_secret or ""
    docs = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=12,
    )
    shaped = st.fixed_dictionaries(
        {"algorithm": st.sampled_from(["HMACSHA256", "hmacsha256", "none"]), "userId": VALUES},
        optional={"client": docs, "context": docs},
    )
    return st.one_of(
        VALUES, docs.map(lambda d: sign(d, secret)), shaped.map(lambda d: sign(d, secret))
    )


@pytest.mark.slow
def test_property_run_over_every_route(web: Web, app: Flask, record_property: Any) -> None:
    started = time.monotonic()
    sessions = _sessions(web, app)
    ids = _known_ids(web, app)
    counts: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    _api_run(app, sessions, ids, counts, statuses)
    api_seconds = time.monotonic() - started
    _form_run(web, app, sessions, ids, counts, statuses)
    seconds = time.monotonic() - started
    total = sum(counts.values())
    server_errors = sum(n for code, n in statuses.items() if code >= 500)
    summary = {
        "generated_requests": total,
        "api_requests": counts["api"],
        "form_requests": counts["form"],
        "responses_5xx": server_errors,
        "statuses": dict(sorted(statuses.items())),
        "seconds": round(seconds, 1),
        "api_seconds": round(api_seconds, 1),
    }
    line = "property run: " + json.dumps(summary)
    print(line)
    record_property("property_run", line)
    record_property("generated_requests", total)
    record_property("responses_5xx", server_errors)
    assert server_errors == 0
    assert counts["api"] >= 8 * 5 * API_EXAMPLES  # operations x callers x at least one mode
    assert counts["form"] >= 25 * 4 * 2  # routes x roles, however much Hypothesis shrinks


def _api_run(
    app: Flask,
    sessions: dict[str, dict[str, str]],
    ids: dict[str, list[str]],
    counts: Counter[str],
    statuses: Counter[int],
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    callers = {who: {"Authorization": f"Bearer {s['qf_token']}"} for who, s in sessions.items()}
    callers["anonymous"] = {}
    for operation in operations:
        for headers in callers.values():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                real = {p.name: ids[p.name][0] for p in operation.path_parameters if p.name in ids}
                strategy = operation.as_strategy(generation_mode=mode)
                if real:
                    fixed = operation.as_strategy(generation_mode=mode, path_parameters=real)
                    strategy = st.one_of(strategy, fixed)

                _api_examples(strategy, headers, counts, statuses)()


def _form_run(
    web: Web,
    app: Flask,
    sessions: dict[str, dict[str, str]],
    ids: dict[str, list[str]],
    counts: Counter[str],
    statuses: Counter[int],
) -> None:
    fields = _field_names(app, sessions, ids["rep_id"][0])
    assert {"period", "mode", "document", "plan_text", "issue", "a", "b"} <= set(fields)
    forms = st.dictionaries(st.sampled_from(fields), VALUES, max_size=6)
    envelopes = _envelopes(web)
    client = app.test_client()
    rules = [
        r
        for r in app.url_map.iter_rules()
        if not r.rule.startswith("/api/") and r.endpoint != "static"
    ]
    assert len(rules) >= 25
    for rule in rules:
        for session in sessions.values():
            extra = st.fixed_dictionaries({"signed_request": envelopes})
            if rule.endpoint != "canvas.canvas":
                extra = st.just({})

            # GET-capable pages are also asked with the query string and a Bearer header.
            gets = st.booleans() if "GET" in (rule.methods or ()) else st.just(False)
            strategies = {
                "path": _path_values(rule, ids),
                "form": forms,
                "more": extra,
                "as_get": gets,
            }
            _form_examples(client, rule, session, strategies, counts, statuses)()


def _api_examples(
    strategy: Any, headers: dict[str, str], counts: Counter[str], statuses: Counter[int]
) -> Any:
    @settings(RUN, max_examples=API_EXAMPLES)
    @given(case=strategy)
    def call(case: Any) -> None:
        if headers:
            case.headers = {**(case.headers or {}), **headers}
        response = case.call()
        counts["api"] += 1
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    return call


def _form_examples(
    client: Any,
    rule: Any,
    session: dict[str, str],
    strategies: dict[str, Any],
    counts: Counter[str],
    statuses: Counter[int],
) -> Any:
    @RUN
    @given(**strategies)
    def post(
        path: dict[str, str], form: dict[str, str], more: dict[str, str], as_get: bool
    ) -> None:
        if as_get:
            bearer = {"Authorization": f"Bearer {session['qf_token']}"}
            response = client.get(_url(rule, path), query_string=form, headers=bearer)
        else:
            response = client.post(_url(rule, path), data={**form, **more, **session})
        counts["form"] += 1
        statuses[response.status_code] += 1
        assert response.status_code < 500, (rule.rule, path, form, response.data[:300])

    return post
