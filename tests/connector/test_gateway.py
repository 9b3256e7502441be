"""Gateway edges at the wire (`responses`): re-auth, retries, limits, query locators."""

from __future__ import annotations

import pytest
import requests
import responses

from connector.salesforce.auth import Authenticator
from connector.salesforce.errors import (
    ApiBudgetExhausted,
    ApiLimitExceeded,
    AuthError,
    QueryLocatorExpired,
    SalesforceApiError,
    TransientFailure,
)
from connector.salesforce.gateway import ApiUsage, Gateway, GatewayOptions, parse_limit_info
from connector.salesforce.retry import RetryPolicy
from connector.settings import Settings

LOGIN = "https://login.example.test"
INSTANCE = "https://org.example.test"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
QUERY_ALL = f"{INSTANCE}/services/data/v62.0/queryAll/"
NEXT_PATH = "/services/data/v62.0/query/01gXX-2000"


def _token(n: int) -> dict[str, str]:
    return {
        "access_token": f"tok-{n}",
        "instance_url": INSTANCE,
        "id": f"{LOGIN}/id/00D000000000001AAA/005000000000001AAA",
    }


def _gateway(*, attempts: int = 4, share: float = 0.8) -> tuple[Gateway, list[float]]:
    slept: list[float] = []
    settings = Settings(
        sf_login_url=LOGIN, sf_auth="password", sf_client_id="c", sf_client_secret="s",
        sf_username="u", sf_password="p",
    )  # fmt: skip
    retry = RetryPolicy(attempts=attempts, base_seconds=0.5, sleep=slept.append)
    session = requests.Session()
    auth = Authenticator(settings, session=session, retry=retry)
    options = GatewayOptions(page_size=200, max_api_share=share)
    return Gateway(auth, session=session, api_version="62.0", options=options, retry=retry), slept


def _page(ids: list[str], *, next_url: str | None = None) -> dict[str, object]:
    return {
        "totalSize": 3,
        "done": next_url is None,
        **({"nextRecordsUrl": next_url} if next_url else {}),
        "records": [{"attributes": {"type": "User"}, "Id": i} for i in ids],
    }


LIMIT = {"Sforce-Limit-Info": "api-usage=10/1000"}


@responses.activate
def test_expired_session_reauthenticates_once_and_repeats_the_same_page() -> None:
    responses.post(TOKEN_URL, json=_token(1))
    responses.post(TOKEN_URL, json=_token(2))
    responses.get(QUERY_ALL, json=_page(["a"], next_url=NEXT_PATH), headers=LIMIT)
    expired = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    responses.get(INSTANCE + NEXT_PATH, status=401, json=expired)
    responses.get(INSTANCE + NEXT_PATH, json=_page(["b"]), headers=LIMIT)
    gateway, _ = _gateway()
    first = gateway.query("SELECT Id FROM User")
    assert first.next_url == NEXT_PATH
    second = gateway.query_more(NEXT_PATH)
    assert [r["Id"] for r in second.records] == ["b"]
    assert second.done
    urls = [c.request.url for c in responses.calls]
    assert urls.count(TOKEN_URL) == 2
    # The same nextRecordsUrl is asked again with the new token; the query is not re-run.
    assert urls.count(INSTANCE + NEXT_PATH) == 2
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer tok-2"
    assert responses.calls[1].request.headers["Sforce-Query-Options"] == "batchSize=200"


@responses.activate
def test_a_fresh_session_rejected_again_is_fatal_not_a_loop() -> None:
    responses.post(TOKEN_URL, json=_token(1))
    responses.post(TOKEN_URL, json=_token(2))
    expired = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    responses.get(QUERY_ALL, status=401, json=expired)
    gateway, _ = _gateway()
    with pytest.raises(AuthError, match="freshly issued"):
        gateway.query("SELECT Id FROM User")
    assert len(responses.calls) == 4  # login, query, login, query


@responses.activate
def test_503_burst_is_retried_with_growing_jittered_backoff() -> None:
    responses.post(TOKEN_URL, json=_token(1))
    busy = [{"message": "Server temporarily unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
    for _ in range(3):
        responses.get(QUERY_ALL, status=503, json=busy)
    responses.get(QUERY_ALL, json=_page(["a"]), headers=LIMIT)
    gateway, slept = _gateway(attempts=4)
    assert [r["Id"] for r in gateway.query("SELECT Id FROM User").records] == ["a"]
    assert len(slept) == 3
    assert all(0 <= s <= ceiling for s, ceiling in zip(slept, (0.5, 1.0, 2.0), strict=True))
    assert gateway.calls == 4  # every REST response is an API call


@responses.activate
def test_429_and_connection_errors_are_retried_then_give_up() -> None:
    responses.post(TOKEN_URL, json=_token(1))
    responses.get(QUERY_ALL, status=429, body="slow down")
    responses.get(QUERY_ALL, body=requests.ConnectionError("reset by peer"))
    responses.get(QUERY_ALL, status=502, body="bad gateway")
    gateway, slept = _gateway(attempts=3)
    with pytest.raises(TransientFailure, match="HTTP 502"):
        gateway.query("SELECT Id FROM User")
    assert len(slept) == 2


@responses.activate
def test_request_limit_exceeded_is_fatal_with_an_actionable_message() -> None:
    responses.post(TOKEN_URL, json=_token(1))
    refused = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    responses.get(QUERY_ALL, status=403, json=refused)
    gateway, slept = _gateway()
    with pytest.raises(ApiLimitExceeded, match="24-hour API request limit") as caught:
        gateway.query("SELECT Id FROM User")
    assert "resumes" in str(caught.value)
    assert slept == []  # no retries: retrying only burns more of the limit
    assert len(responses.calls) == 2


@responses.activate
def test_limit_info_is_read_and_the_gateway_stops_at_the_configured_share() -> None:
    responses.post(TOKEN_URL, json=_token(1))
    responses.get(QUERY_ALL, json=_page(["a"]), headers={"Sforce-Limit-Info": "api-usage=79/100"})
    responses.get(QUERY_ALL, json=_page(["b"]), headers={"Sforce-Limit-Info": "api-usage=80/100"})
    gateway, _ = _gateway(share=0.8)
    gateway.query("SELECT Id FROM User")
    assert gateway.usage == ApiUsage(79, 100)
    gateway.query("SELECT Id FROM User")
    assert gateway.usage == ApiUsage(80, 100)
    with pytest.raises(ApiBudgetExhausted, match="80 of its 100"):
        gateway.query("SELECT Id FROM User")
    assert len(responses.calls) == 3  # the third query was never sent


@responses.activate
def test_expired_query_locator_and_bad_queries() -> None:
    responses.post(TOKEN_URL, json=_token(1))
    gone = [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]
    responses.get(INSTANCE + NEXT_PATH, status=400, json=gone)
    bad = [{"message": "No such column 'Foo' on entity 'User'", "errorCode": "INVALID_FIELD"}]
    responses.get(QUERY_ALL, status=400, json=bad)
    gateway, _ = _gateway()
    with pytest.raises(QueryLocatorExpired):
        gateway.query_more(NEXT_PATH)
    with pytest.raises(SalesforceApiError, match="INVALID_FIELD") as caught:
        gateway.query("SELECT Foo FROM User")
    assert caught.value.error_code == "INVALID_FIELD"


@responses.activate
def test_describe_is_cached() -> None:
    responses.post(TOKEN_URL, json=_token(1))
    url = f"{INSTANCE}/services/data/v62.0/sobjects/User/describe"
    responses.get(url, json={"name": "User", "fields": [{"name": "Id"}]})
    gateway, _ = _gateway()
    assert gateway.describe("User")["name"] == "User"
    assert gateway.describe("User")["name"] == "User"
    assert len(responses.calls) == 2
    with pytest.raises(SalesforceApiError):
        gateway.describe("User/../limits")


def test_parse_limit_info() -> None:
    assert parse_limit_info("api-usage=18/5000") == ApiUsage(18, 5000)
    header = "api-usage=25/5000; per-app-api-usage=17/250(appName=sample)"
    assert parse_limit_info(header) == ApiUsage(25, 5000)
    assert parse_limit_info("per-app-api-usage=1/2(appName=x)") is None
