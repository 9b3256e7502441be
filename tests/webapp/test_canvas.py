"""POST /canvas: real signed requests from the devorg open sessions; every bad one is a 403.

Replays are bounded by the OAuth token inside the request, checked with the org: a request
whose token was revoked, belongs to someone else, or names another org is refused.
"""

from __future__ import annotations

import copy
import random
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from connector.settings import load_settings
from tests.webapp.canvas_kit import envelope, revoke, set_canvas_url, sign, signed_request
from tests.webapp.conftest import Web
from webapp import create_app
from webapp.auth.identity import IdentityCache

JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module", autouse=True)
def _canvas_url(web: Web) -> Iterator[None]:
    set_canvas_url(web.info, "http://127.0.0.1:9/canvas")
    yield


def _post(app: Flask, signed: str, *, json_answer: bool = True) -> Any:
    return app.test_client().post(
        "/canvas", data={"signed_request": signed}, headers=JSON if json_answer else {}
    )


def _assert_refused(response: Any, status: int = 403) -> str:
    assert response.status_code == status, response.data[:500]
    message = str(response.get_json()["error"])
    assert "Traceback" not in message
    return message


def test_a_real_signed_request_opens_a_session(web: Web) -> None:
    response = _post(web.app, signed_request(web.info, web.cast.rep_a))
    assert response.status_code == 200, response.data
    body = response.get_json()
    assert body["user"]["id"] == web.cast.rep_a
    assert body["user"]["roles"] == ["rep"]
    assert body["expires_in"] == 1800
    # The token works as a Bearer token and never appears in a URL of the answer.
    viewer = web.app.extensions["quotaflow.tokens"].verify(body["token"])
    assert viewer.user_id == web.cast.rep_a


def test_roles_come_from_grants_and_the_hierarchy(web: Web) -> None:
    cases = {
        web.cast.manager_a: ["manager", "rep"],
        "admin@quotaflow.devorg": ["admin", "ops"],
        "ops@quotaflow.devorg": ["ops"],
    }
    for user, roles in cases.items():
        body = _post(web.app, signed_request(web.info, user)).get_json()
        assert body["user"]["roles"] == roles, user


def test_a_user_without_any_role_is_refused(web: Web) -> None:
    signed = signed_request(web.info, "integration@quotaflow.devorg")
    message = _assert_refused(_post(web.app, signed))
    assert "no Quotaflow access" in message


def test_a_forged_signature_is_refused(web: Web) -> None:
    good = signed_request(web.info, web.cast.rep_a)
    doc = envelope(good)
    doc["userId"] = doc["context"]["user"]["userId"] = web.cast.manager_a
    forged = sign(doc, "not-the-secret")
    assert "signature does not match" in _assert_refused(_post(web.app, forged))
    # The right signature over another envelope does not carry over either.
    other = good.split(".", 1)[0] + "." + sign(doc, web.info.canvas_secret).split(".", 1)[1]
    assert "signature does not match" in _assert_refused(_post(web.app, other))


def test_a_wrong_algorithm_is_refused(web: Web) -> None:
    doc = envelope(signed_request(web.info, web.cast.rep_a))
    for algorithm in ("HMACSHA1", "none", "", None, 256):
        doc["algorithm"] = algorithm
        message = _assert_refused(_post(web.app, sign(doc, web.info.canvas_secret)))
        assert "algorithm" in message


def test_a_replayed_request_is_refused_once_its_token_is_revoked(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    signed = signed_request(web.info, web.cast.rep_a)
    assert _post(app, signed).status_code == 200
    revoke(web.info, envelope(signed)["client"]["oauthToken"])
    # A fresh identity cache: what any other worker, or this one a minute later, would do.
    app.extensions["quotaflow.identity"] = IdentityCache(
        app.extensions["quotaflow.identity"]._client
    )
    assert "could not be verified" in _assert_refused(_post(app, signed))


def test_the_cached_answer_ages_out(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    now = [1000.0]
    app.extensions["quotaflow.identity"] = IdentityCache(
        app.extensions["quotaflow.identity"]._client, ttl=60, clock=lambda: now[0]
    )
    signed = signed_request(web.info, web.cast.rep_a)
    assert _post(app, signed).status_code == 200
    revoke(web.info, envelope(signed)["client"]["oauthToken"])
    now[0] += 30
    assert _post(app, signed).status_code == 200  # within the cache window: one check a minute
    now[0] += 31
    _assert_refused(_post(app, signed))


def test_another_users_token_is_refused(web: Web) -> None:
    mine = envelope(signed_request(web.info, web.cast.rep_a))
    theirs = envelope(signed_request(web.info, web.cast.rep_b))
    mine["client"]["oauthToken"] = theirs["client"]["oauthToken"]
    message = _assert_refused(_post(web.app, sign(mine, web.info.canvas_secret)))
    assert "could not be verified" in message


def test_another_org_is_refused(web: Web) -> None:
    doc = envelope(signed_request(web.info, web.cast.rep_a))
    doc["context"]["organization"]["organizationId"] = "00D000000000001AAA"
    message = _assert_refused(_post(web.app, sign(doc, web.info.canvas_secret)))
    assert "could not be verified" in message


@pytest.mark.parametrize(
    "path",
    [
        ("userId",),
        ("client", "oauthToken"),
        ("client", "instanceUrl"),
        ("context", "organization", "organizationId"),
        ("context", "user", "userId"),
        ("context",),
        ("client",),
    ],
)
def test_missing_fields_are_refused(web: Web, path: tuple[str, ...]) -> None:
    doc = envelope(signed_request(web.info, web.cast.rep_a))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    message = _assert_refused(_post(web.app, sign(doc, web.info.canvas_secret)))
    assert "has no" in message


def test_garbage_and_truncated_input_is_refused(web: Web) -> None:
    good = signed_request(web.info, web.cast.rep_a)
    half = good[: len(good) // 2]
    for bad in ("", ".", "abc", "a.b", good[:20], half, good + "x", "é.€", "x" * 70_000):
        _assert_refused(_post(web.app, bad))
    # No form field at all, or a JSON body instead of a form: also a plain 403.
    _assert_refused(web.app.test_client().post("/canvas", headers=JSON))
    client = web.app.test_client()
    _assert_refused(client.post("/canvas", json={"signed_request": good}, headers=JSON))


def test_refusals_are_plain_html_for_browsers(web: Web) -> None:
    response = _post(web.app, "garbage", json_answer=False)
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert b"signed request was refused" in response.data
    assert b"Traceback" not in response.data


def _mutate(rng: random.Random, good: str, doc: dict[str, Any], secret: str) -> str:
    kind = rng.randrange(6)
    if kind == 0:  # random printable text
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(0, 300)))
    if kind == 1:  # flip, drop or insert characters of a real one
        chars = list(good)
        for _ in range(rng.randrange(1, 5)):
            i = rng.randrange(len(chars))
            op = rng.randrange(3)
            if op == 0:
                chars[i] = rng.choice(string.printable)
            elif op == 1:
                del chars[i]
            else:
                chars.insert(i, rng.choice("=./+-_"))
        return "".join(chars)
    if kind == 2:  # truncated anywhere
        return good[: rng.randrange(len(good))]
    if kind == 3:  # validly signed JSON of a random shape
        junk: Any = rng.choice([None, 1, "x", [], {}, {"algorithm": "HMACSHA256"}, [1, {"a": 2}]])
        return sign(junk, secret)
    # A validly signed envelope with one value replaced by a random type (a made-up
    # instanceUrl is not one of the org's hosts: a clean 403 before any call, not a crash).
    mutated = copy.deepcopy(doc)
    node = mutated
    path = rng.choice(
        [
            ("userId",),
            ("client", "instanceUrl"),
            ("client", "oauthToken"),
            ("context", "user"),
            ("context", "organization", "organizationId"),
            ("context", "environment", "record"),
        ]
    )
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = rng.choice(
        [None, 0, -1, 1.5, True, "", "x" * 500, [], {}, "https://127.0.0.1:1"]
    )
    return sign(mutated, secret)


@pytest.mark.slow
def test_fuzz_never_gets_a_500(web: Web) -> None:
    rng = random.Random(20261123)
    good = signed_request(web.info, web.cast.rep_a)
    doc = envelope(good)
    client = web.app.test_client()
    statuses: dict[int, int] = {}
    for _ in range(1200):
        bad = _mutate(rng, good, doc, web.info.canvas_secret)
        response = client.post("/canvas", data={"signed_request": bad}, headers=JSON)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code != 500, (bad[:200], response.data[:300])
        if response.status_code != 200:  # a mutation may leave a valid request intact
            assert response.get_json()["error"]
    assert statuses.get(403, 0) > 1000, statuses


def test_demo_chooser_exists_only_in_demo_mode(web: Web) -> None:
    assert web.app.test_client().get("/demo").status_code == 404
    # No environment variable switches demo mode on.
    env = {"QUOTAFLOW_SECRET_KEY": "k", "QUOTAFLOW_DEMO": "1", "QUOTAFLOW_DEMO_MODE": "true"}
    settings = load_settings(env)
    assert settings.demo_mode is False
    demo_app = create_app(web.settings.with_overrides(demo_mode=True))
    page = demo_app.test_client().get("/demo")
    assert page.status_code == 200
    assert b"/lightning/page/home?user=" in page.data


def test_the_sync_learned_the_orgs_host_from_the_integration_login(web: Web) -> None:
    from connector.store.org_hosts import org_hosts
    from tests.store_kit import unit_of_work

    with web.app.app_context(), unit_of_work() as uow:
        learned = org_hosts(uow.session, org_id=web.org_id)
    assert learned == {web.info.instance_url.rstrip("/").lower()}
    # Signed requests naming any other host are refused without a call (tests/security).
    doc = envelope(signed_request(web.info, web.cast.rep_a))
    doc["client"]["instanceUrl"] = "https://127.0.0.1:9"
    assert "could not be verified" in _assert_refused(
        _post(web.app, sign(doc, web.info.canvas_secret))
    )
