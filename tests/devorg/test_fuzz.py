"""Garbage to every route: always a Salesforce-shaped answer, never a 500 or a stack trace."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

API = "/services/data/v62.0"
ID = "0065g0000000001AAA"
PATHS = [
    "/services/data/",
    f"{API}/",
    f"{API}/limits/",
    f"{API}/query/",
    f"{API}/queryAll/",
    f"{API}/query/01gAAAAAAAAAAAAAAA-200",
    f"{API}/query/-",
    f"{API}/sobjects/",
    f"{API}/sobjects/Opportunity/",
    f"{API}/sobjects/Opportunity/describe/",
    f"{API}/sobjects/Opportunity/updated/",
    f"{API}/sobjects/Opportunity/deleted/",
    f"{API}/sobjects/Opportunity/{ID}",
    f"{API}/sobjects/User/{ID}",
    f"{API}/sobjects/%00/%ff",
    f"{API}/composite/sobjects",
    "/services/oauth2/token",
    "/services/oauth2/revoke",
    "/services/oauth2/userinfo",
    "/__devorg/faults",
    "/__devorg/stats",
    "/__devorg/stats/reset",
    "/__devorg/limits",
    "/__devorg/late-commit",
    "/__devorg/undelete",
    "/nowhere",
]
BODIES: list[bytes] = [
    b"",
    b"null",
    b"{",
    b"[]",
    b"[{}]",
    b'{"records": "x"}',
    b'{"records": [1, "a", null, {"attributes": 5}]}',
    b'{"records": [{"attributes": {"type": 7}, "id": 5}]}',
    b'{"allOrNone": "yes", "records": []}',
    b'{"Name": {"nested": true}, "Amount": [1], "CloseDate": 5}',
    b'{"object": 5, "fields": [], "age_seconds": "x"}',
    b'{"object": "Opportunity", "id": 5, "fields": {}}',
    b'{"ids": [1, 2]}',
    b'{"max": -1}',
    b'{"latency": {"ms": "slow"}}',
    '{"Name": "\u2603"}'.encode(),
    b"\xff\xfe\x00garbage",
    json.dumps({"q": "x" * 5000}).encode(),
]
QUERIES = [
    "",
    "q=",
    "q=SELECT",
    "q=%00",
    "q=SELECT+Id+FROM+Opportunity+WHERE+Name+=+'",
    "start=x&end=y",
    "fields=%2C%2C",
    "ids=,,",
    "grant_type=password",
]


def _check(response: Any) -> None:
    assert response.status_code < 500 or response.status_code == 503, response.text
    assert "Traceback" not in response.text
    if response.status_code >= 400 and "/oauth2/" not in response.url:
        body = response.json()
        assert isinstance(body, list) and body and {"message", "errorCode"} <= body[0].keys()
    assert "Sforce-Limit-Info" in response.headers


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS)
def test_garbage_never_breaks_a_route(api: Any, path: str) -> None:
    rng = random.Random(path)
    for method in ("GET", "POST", "PATCH", "DELETE", "PUT"):
        for body in rng.sample(BODIES, 3):
            query = rng.choice(QUERIES)
            url = path + ("?" + query if query else "")
            _check(api.call(method, url, data=body, headers={"Content-Type": "application/json"}))
    api.control("DELETE", "/faults")
    api.control("POST", "/limits", json={"reset": True, "max": 100_000})


@pytest.mark.slow
def test_every_body_on_the_write_routes(api: Any) -> None:
    write_routes = (
        f"{API}/sobjects/Opportunity/",
        f"{API}/sobjects/Opportunity/{ID}",
        f"{API}/composite/sobjects",
        "/__devorg/late-commit",
        "/__devorg/faults",
    )
    for path in write_routes:
        for method in ("POST", "PATCH"):
            for body in BODIES:
                _check(api.call(method, path, data=body))
    api.control("DELETE", "/faults")
