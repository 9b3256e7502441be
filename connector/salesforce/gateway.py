"""The gateway over simple-salesforce: the only code that catches its exceptions.

Every call goes through `_call`: an expired session re-authenticates once and repeats the
request; 5xx, 429 and connection errors are retried with backoff; REQUEST_LIMIT_EXCEEDED and
our own API budget stop the run. `Sforce-Limit-Info` is read from every response.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError

from connector.errors import ConfigError
from connector.salesforce.auth import Authenticator, Token, untrusted
from connector.salesforce.bulk_options import BulkOptions
from connector.salesforce.errors import (
    ApiBudgetExhausted,
    ApiLimitExceeded,
    AuthError,
    QueryLocatorExpired,
    SalesforceApiError,
    TransientFailure,
)
from connector.salesforce.retry import RetryPolicy

T = TypeVar("T")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
MIN_PAGE_SIZE, MAX_PAGE_SIZE = 200, 2000  # Salesforce's bounds for batchSize
MAX_COLLECTION = 200  # records per sObject Collections request


@dataclass(frozen=True, slots=True)
class GatewayOptions:
    """Tunables of the gateway (defaults suit a production org)."""

    page_size: int = MAX_PAGE_SIZE
    max_api_share: float = 0.8  # stop before this share of the org's daily API limit
    timeout: tuple[float, float] = (10.0, 120.0)  # connect, read seconds
    describe_ttl_seconds: float = 900.0
    bulk: BulkOptions | None = None  # None: the defaults (build_gateway sets it from settings)


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """The org's API calls used in the rolling 24 hours, and its limit."""

    used: int
    limit: int


@dataclass(frozen=True, slots=True)
class QueryPage:
    """One page of a SOQL result."""

    records: list[dict[str, Any]]
    next_url: str | None  # a path, e.g. /services/data/v62.0/query/01g...-2000
    total_size: int

    @property
    def done(self) -> bool:
        """True on the last page."""
        return self.next_url is None


def parse_limit_info(header: str) -> ApiUsage | None:
    """`api-usage=18/5000` (maybe followed by per-app usage) to ApiUsage."""
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "api-usage":
            used, _, limit = value.partition("/")
            if used.isdigit() and limit.isdigit():
                return ApiUsage(int(used), int(limit))
    return None


def _error_code(exc: SalesforceError) -> str | None:
    content = exc.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode") or "") or None
    if isinstance(content, dict):
        return str(content.get("errorCode") or content.get("error") or "") or None
    return None


def _error_message(exc: SalesforceError) -> str:
    content = exc.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("message") or content[0])
    return str(content)[:300]


class Gateway:
    """Salesforce REST calls with auth, retries, limits and call accounting."""

    def __init__(
        self,
        auth: Authenticator,
        *,
        session: requests.Session,
        api_version: str,
        options: GatewayOptions | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._auth = auth
        self._session = session
        self._version = api_version
        self.options = options or GatewayOptions()
        self._retry = retry or RetryPolicy()
        self._client: tuple[Token, Salesforce] | None = None
        self._describes: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.calls = 0
        self.usage: ApiUsage | None = None
        session.hooks["response"].append(self._observe)

    # --- what callers use -------------------------------------------------------------

    def org_id(self) -> str:
        """The organization id of the credentials (from the token response's identity URL)."""
        return self._auth.token().org_id

    def instance_url(self) -> str:
        """The org's instance (My Domain) URL, as the integration login reported it."""
        return self._auth.token().instance_url

    def describe(self, object_name: str) -> dict[str, Any]:
        """`GET sobjects/X/describe`, cached for `describe_ttl_seconds`."""
        key = object_name.casefold()
        cached = self._describes.get(key)
        if cached and time.monotonic() - cached[0] < self.options.describe_ttl_seconds:
            return cached[1]
        if not _NAME.fullmatch(object_name):
            raise SalesforceApiError(f"{object_name!r} is not an sObject name")
        result: dict[str, Any] = self._call(
            lambda sf: dict(
                sf.restful(f"sobjects/{object_name}/describe", timeout=self.options.timeout) or {}
            )
        )
        self._describes[key] = (time.monotonic(), result)
        return result

    def query(self, soql: str, *, include_deleted: bool = True) -> QueryPage:
        """The first page of a SOQL query (`queryAll` when include_deleted)."""
        headers = {"Sforce-Query-Options": f"batchSize={self._page_size()}"}
        path = "queryAll/" if include_deleted else "query/"
        body = self._call(
            lambda sf: _json(
                sf._call_salesforce(
                    "GET",
                    f"{sf.base_url}{path}",
                    name="query",
                    params={"q": soql},
                    headers=headers,
                    timeout=self.options.timeout,
                )
            )
        )
        return _page(body)

    def query_more(self, next_url: str) -> QueryPage:
        """The page behind a `nextRecordsUrl` (a path on the instance, not a full URL)."""
        headers = {"Sforce-Query-Options": f"batchSize={self._page_size()}"}
        body = self._call(
            lambda sf: _json(
                sf._call_salesforce(
                    "GET",
                    f"https://{sf.sf_instance}{next_url}",
                    name="query_more",
                    headers=headers,
                    timeout=self.options.timeout,
                )
            )
        )
        return _page(body)

    def limits(self) -> dict[str, Any]:
        """`GET limits/` (DailyApiRequests and friends)."""
        result: dict[str, Any] = self._call(lambda sf: sf.limits(timeout=self.options.timeout))
        return result

    def composite_update(
        self, records: Sequence[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]:
        """`PATCH composite/sobjects` (at most 200 records, each with attributes.type and Id);
        the per-record results in order."""
        return self._collection("PATCH", records, all_or_none=all_or_none, idempotent=True)

    def composite_create(
        self, records: Sequence[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]:
        """`POST composite/sobjects` (at most 200 records, each with attributes.type); the
        per-record results in order. Never retried after a transient failure (the records
        may exist already): the caller looks for them before trying again."""
        return self._collection("POST", records, all_or_none=all_or_none, idempotent=False)

    def _collection(
        self,
        method: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool,
        idempotent: bool,
    ) -> list[dict[str, Any]]:
        if len(records) > MAX_COLLECTION:
            raise ValueError(f"at most {MAX_COLLECTION} records per sObject Collections call")
        body = {"allOrNone": all_or_none, "records": list(records)}
        result = self._call(
            lambda sf: sf.restful(
                "composite/sobjects", method=method, json=body, timeout=self.options.timeout
            ),
            idempotent=idempotent,
        )
        # Anything but a list (an empty body, an error object) has no per-record results.
        return list(result) if isinstance(result, list) else []

    def update_record(self, object_name: str, record_id: str, fields: Mapping[str, Any]) -> None:
        """`PATCH sobjects/X/id` (setting the same values twice is harmless, so it is retried)."""
        if not _NAME.fullmatch(object_name) or not _RECORD_ID.fullmatch(record_id):
            raise SalesforceApiError(f"{object_name}/{record_id} is not a record path")
        body = dict(fields)
        self._call(
            lambda sf: sf.restful(
                f"sobjects/{object_name}/{record_id}",
                method="PATCH",
                json=body,
                timeout=self.options.timeout,
            )
        )

    def jobs_request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        data: bytes | None = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> requests.Response:
        """One Bulk API 2.0 call under `jobs/` (re-authentication, retries and call accounting
        as for every call); the whole response, its body read."""
        if not path.startswith(("query", "ingest")):
            raise ValueError(f"not a Bulk API 2.0 resource: {path!r}")
        headers = {"Content-Type": content_type, "Accept": accept}

        def request(sf: Salesforce) -> requests.Response:
            # simple-salesforce's public calls parse JSON; Bulk results are CSV, so the raw
            # response is taken from the call its public methods make.
            response: requests.Response = sf._call_salesforce(
                method,
                f"{sf.base_url}jobs/{path}",
                name=f"jobs/{path}",
                headers=headers,
                json=json,
                data=data,
                params=params,
                timeout=self.options.timeout,
            )
            return response

        return self._call(request)

    @property
    def logins(self) -> int:
        """Token exchanges so far (the first login and every re-authentication)."""
        return self._auth.logins

    @property
    def http(self) -> requests.Session:
        """The HTTP session every call goes through (tests hook it at the wire)."""
        return self._session

    # --- the one place simple-salesforce exceptions are caught --------------------------

    def _call(self, request: Callable[[Salesforce], T], *, idempotent: bool = True) -> T:
        reauthenticated = False
        attempt = 0
        while True:
            self._check_budget()
            token, client = self._current()
            attempt += 1
            try:
                return request(client)
            except SalesforceError as exc:
                code = _error_code(exc)
                if exc.status == 401 and code == "INVALID_SESSION_ID":
                    # Sessions expire (timeout, logout, admin revoke). Log in again once and
                    # repeat the same request; a second rejection means the login itself is
                    # unusable, and looping would only burn API calls.
                    if reauthenticated:
                        raise AuthError(
                            "Salesforce rejected a freshly issued session (INVALID_SESSION_ID)"
                        ) from exc
                    self._auth.refresh(token)
                    reauthenticated = True
                    attempt -= 1
                    continue
                self._raise_or_wait(exc, code, attempt if idempotent else self._retry.attempts)
            except requests.exceptions.SSLError as exc:
                raise ConfigError(untrusted(token.instance_url, exc)) from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                if not idempotent or attempt >= self._retry.attempts:
                    raise TransientFailure(
                        f"Salesforce unreachable after {attempt} tries: {exc}"
                    ) from exc
                self._retry.wait(attempt)

    def _raise_or_wait(self, exc: SalesforceError, code: str | None, attempt: int) -> None:
        status = exc.status
        message = _error_message(exc)
        if code == "REQUEST_LIMIT_EXCEEDED":
            raise ApiLimitExceeded(
                "Salesforce refused the call: the org has used up its 24-hour API request "
                f"limit (REQUEST_LIMIT_EXCEEDED: {message}). Nothing after the last committed "
                "page was stored; the next run resumes there once calls free up. Lower the "
                "sync frequency or ask Salesforce for a higher limit."
            ) from exc
        if code == "INVALID_QUERY_LOCATOR":
            # Query cursors expire (15 minutes idle, or too many open per user).
            raise QueryLocatorExpired(message) from exc
        if status >= 500 or status == 429:
            if attempt >= self._retry.attempts:
                raise TransientFailure(
                    f"Salesforce kept failing with HTTP {status} ({code or 'no code'}) "
                    f"after {attempt} tries: {message}"
                ) from exc
            self._retry.wait(attempt)
            return
        raise SalesforceApiError(
            f"Salesforce refused the request ({code or status}): {message}",
            error_code=code,
            status=status,
        ) from exc

    # --- plumbing ---------------------------------------------------------------------

    def _current(self) -> tuple[Token, Salesforce]:
        token = self._auth.token()
        with self._lock:
            if self._client is None or self._client[0] is not token:
                client = Salesforce(
                    session_id=token.access_token,
                    instance_url=token.instance_url,
                    version=self._version,
                    session=self._session,
                    object_pairs_hook=dict,
                )
                self._client = (token, client)
            return self._client

    def _page_size(self) -> int:
        return max(MIN_PAGE_SIZE, min(MAX_PAGE_SIZE, self.options.page_size))

    def _check_budget(self) -> None:
        usage = self.usage
        share = self.options.max_api_share
        if usage is None or usage.limit <= 0 or usage.used < share * usage.limit:
            return
        raise ApiBudgetExhausted(
            f"stopped before the next call: the org has used {usage.used:,} of its "
            f"{usage.limit:,} daily API requests ({usage.used / usage.limit:.0%}), and this "
            f"service may use at most {share:.0%} (QUOTAFLOW_API_MAX_SHARE). The next run "
            "resumes from the last committed page once usage falls."
        )

    def _observe(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        # Only REST calls count against the API limit; the OAuth token endpoint does not.
        if "/services/data/" not in response.url:
            return
        with self._lock:
            self.calls += 1
            header = response.headers.get("Sforce-Limit-Info")
            usage = parse_limit_info(header) if header else None
            if usage is not None:
                self.usage = usage


def _json(response: requests.Response) -> Any:
    # A query page is most of what a pull reads: orjson decodes it several times faster than
    # simple-salesforce's `response.json()` (numbers come back as the same int and float).
    return orjson.loads(response.content)


def _page(body: Any) -> QueryPage:
    next_url = body.get("nextRecordsUrl") if not body.get("done", True) else None
    return QueryPage(
        records=list(body.get("records") or []),
        next_url=str(next_url) if next_url else None,
        total_size=int(body.get("totalSize") or 0),
    )
