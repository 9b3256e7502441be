"""A devorg per test module (real HTTPS), a client for arranging data in it, and sync deps."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
import requests

from connector.deps import PullOptions, SyncDeps, build_sync_deps
from connector.pull import PullOutcome, pull_once
from connector.salesforce.gateway import GatewayOptions
from connector.salesforce.retry import RetryPolicy
from connector.settings import Settings, load_settings
from connector.store.engine import make_engine
from connector.store.migrate import upgrade
from devorg.process import DevorgInfo, start_devorg

API = "/services/data/v62.0"


class DevorgClient:
    """Arranges data and faults in the devorg directly over REST (not through the connector)."""

    def __init__(self, info: DevorgInfo) -> None:
        self.info = info
        self.http = requests.Session()
        self.http.verify = info.ca_cert
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify`
        self.base = info.instance_url
        self._login()

    def _login(self) -> None:
        info = self.info
        form = {
            "grant_type": "password",
            "client_id": info.client_id,
            "client_secret": info.client_secret,
            "username": info.username,
            "password": info.password + info.security_token,
        }
        body = self._ok(self.http.post(f"{info.login_url}/services/oauth2/token", data=form))
        self.http.headers["Authorization"] = f"Bearer {body['access_token']}"

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.http.request(method, url, **kwargs)
        if response.status_code == 401:  # a test expired every session: log in again
            self._login()
            response = self.http.request(method, url, **kwargs)
        return self._ok(response)

    @staticmethod
    def _ok(response: requests.Response) -> Any:
        assert response.status_code < 300, f"{response.status_code}: {response.text[:500]}"
        return response.json()

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every record of a query (following nextRecordsUrl)."""
        body = self._call("GET", f"{self.base}{API}/queryAll/", params={"q": soql})
        records = list(body["records"])
        while not body["done"]:
            body = self._call("GET", self.base + body["nextRecordsUrl"])
            records += body["records"]
        return records

    def create(self, object_name: str, rows: Sequence[dict[str, Any]]) -> list[str]:
        """Create records 200 at a time; their ids in order."""
        ids: list[str] = []
        for start in range(0, len(rows), 200):
            batch = [{"attributes": {"type": object_name}, **r} for r in rows[start : start + 200]]
            url = f"{self.base}{API}/composite/sobjects/"
            results = self._call("POST", url, json={"allOrNone": True, "records": batch})
            assert all(r["success"] for r in results), results[:3]
            ids += [r["id"] for r in results]
        return ids

    def update(self, object_name: str, rows: Sequence[dict[str, Any]]) -> None:
        """Update records (each row has `Id`) 200 at a time."""
        for start in range(0, len(rows), 200):
            batch = [{"attributes": {"type": object_name}, **r} for r in rows[start : start + 200]]
            url = f"{self.base}{API}/composite/sobjects/"
            results = self._call("PATCH", url, json={"allOrNone": True, "records": batch})
            assert all(r["success"] for r in results), results[:3]

    def delete(self, ids: Sequence[str]) -> None:
        """Soft-delete records (they go to the recycle bin: IsDeleted = true in queryAll)."""
        for start in range(0, len(ids), 200):
            chunk = ",".join(ids[start : start + 200])
            url = f"{self.base}{API}/composite/sobjects/"
            self._call("DELETE", url, params={"ids": chunk, "allOrNone": "true"})

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the devorg's test control plane under /__devorg/."""
        response = self.http.request(method, f"{self.base}/__devorg/{path}", json=body)
        return self._ok(response)

    def faults(self, doc: dict[str, Any]) -> None:
        """Inject faults."""
        self.control("POST", "faults", doc)

    def api_calls(self) -> int:
        """API calls the devorg has counted so far."""
        return int(self.control("GET", "stats")["api_usage"]["used"])

    def profile_id(self) -> str:
        """Some profile for new users."""
        return str(self.query("SELECT Id FROM Profile")[0]["Id"])

    def make_reps(self, n: int) -> list[str]:
        """Create `n` active users on the `ae` plan."""
        tag = uuid.uuid4().hex[:8]
        profile = self.profile_id()
        rows = [
            {
                "Username": f"rep{i}.{tag}@example.test",
                "LastName": f"Rep{i}",
                "FirstName": "Test",
                "Email": f"rep{i}.{tag}@example.test",
                "IsActive": True,
                "ProfileId": profile,
                "TimeZoneSidKey": "America/New_York",
                "Comp_Plan__c": "ae",
            }
            for i in range(n)
        ]
        return self.create("User", rows)

    def make_deals(self, owners: Sequence[str], n: int, *, amount: float = 1000.0) -> list[str]:
        """Create `n` won opportunities spread over `owners`."""
        rows = [
            {
                "Name": f"Deal {i}",
                "OwnerId": owners[i % len(owners)],
                "CloseDate": "2026-03-15",
                "StageName": "Closed Won",
                "Amount": amount,
            }
            for i in range(n)
        ]
        return self.create("Opportunity", rows)


@pytest.fixture(scope="module")
def devorg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevorgClient]:
    """One empty devorg per test module."""
    with start_devorg(tmp_path_factory.mktemp("devorg"), seed="empty") as info:
        yield DevorgClient(info)


@pytest.fixture
def org(devorg: DevorgClient) -> Iterator[DevorgClient]:
    """The module's devorg with faults cleared before and after the test."""
    devorg.control("DELETE", "faults")
    devorg.control("POST", "limits", {"reset": True, "max": 1_000_000})
    yield devorg
    devorg.control("DELETE", "faults")


def settled_pull(deps: SyncDeps, **kwargs: Any) -> PullOutcome:
    """`pull_once` after the clock passes the next whole second.

    SOQL datetimes have whole seconds, so a run leaves changes stamped in the second it starts
    to the next run; tests that just wrote data wait for that second to end.
    """
    now = time.time()
    time.sleep(math.ceil(now) - now + 0.01)
    return pull_once(deps, **kwargs)


@pytest.fixture
def pull() -> Callable[..., PullOutcome]:
    """`settled_pull`, for test modules (which cannot import conftest)."""
    return settled_pull


def connector_settings(info: DevorgInfo, database_url: str) -> Settings:
    """Settings that point the connector at the devorg (password flow) and a store."""
    env = info.quotaflow_env(database_url=database_url, auth="password")
    return load_settings(env).with_overrides(secret_key="test-key-0123456789abcdef0123456789abcdef")


def make_deps(settings: Settings, *, page_size: int = 2000, share: float = 0.8) -> SyncDeps:
    """Sync deps on a migrated store, with quick retries."""
    engine = make_engine(settings)
    upgrade(engine)
    return build_sync_deps(
        settings,
        engine=engine,
        gateway_options=GatewayOptions(page_size=page_size, max_api_share=share),
        pull_options=PullOptions(lookback=timedelta(minutes=5)),
        retry=RetryPolicy(attempts=5, base_seconds=0.01, cap_seconds=0.05),
    )


@pytest.fixture
def deps(org: DevorgClient, store_settings: Settings) -> Iterator[SyncDeps]:
    """Deps for the devorg on each store backend (SQLite, then PostgreSQL)."""
    built = make_deps(connector_settings(org.info, store_settings.database_url), page_size=200)
    yield built
    built.engine.dispose()
