"""The soak's own client of the devorg: plain `requests`, independent of the connector.

It acts as a Salesforce user (REST writes) and as the test harness (`/__devorg` control
plane). Injected faults hit this client too, so every call rides them out: a 401 logs in
again, 503 and REQUEST_LIMIT_EXCEEDED wait and retry, UNABLE_TO_LOCK_ROW retries.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from devorg.credentials import ADMIN_USERNAME
from devorg.process import DevorgInfo

API = "/services/data/v62.0"
RETRY_CODES = {"SERVER_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED", "UNABLE_TO_LOCK_ROW"}


class OrgError(RuntimeError):
    """A call the devorg refused for good (after retries)."""

    def __init__(self, status: int, code: str, text: str) -> None:
        super().__init__(f"HTTP {status} {code}: {text[:300]}")
        self.status = status
        self.code = code


@dataclass
class CallCounter:
    """API calls this client made (to subtract from the devorg's totals)."""

    api: int = 0
    retries: int = 0
    by_code: dict[str, int] = field(default_factory=dict)


def _error_code(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return str(response.status_code)
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("errorCode", response.status_code))
    return str(response.status_code)


class OrgClient:
    """REST and control-plane calls with retries; thread-safe enough for one thread each."""

    def __init__(self, login: DevorgInfo, *, deadline_s: float = 120.0) -> None:
        self.login = login
        self.http = requests.Session()
        self.http.trust_env = False  # this machine's REQUESTS_CA_BUNDLE would replace verify
        self.http.verify = login.ca_cert
        self.counter = CallCounter()
        self.deadline_s = deadline_s
        self._token: str | None = None

    def _authenticate(self) -> None:
        response = self.http.post(
            f"{self.login.login_url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": self.login.client_id,
                "client_secret": self.login.client_secret,
                # A person editing the CRM: the integration user may not (field security).
                "username": ADMIN_USERNAME,
                # Salesforce takes the security token appended to the password.
                "password": self.login.password + self.login.security_token,
            },
            timeout=30,
        )
        response.raise_for_status()
        self._token = str(response.json()["access_token"])

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One REST call (path under /services/data/vXX.X), riding out injected faults."""
        give_up = time.monotonic() + self.deadline_s
        while True:
            if self._token is None:
                self._authenticate()
            headers = {"Authorization": f"Bearer {self._token}"}
            url = path if path.startswith("http") else f"{self.login.instance_url}{path}"
            response = self.http.request(method, url, headers=headers, timeout=60, **kwargs)
            self.counter.api += 1
            if response.status_code < 300:
                return response
            code = _error_code(response)
            self.counter.by_code[code] = self.counter.by_code.get(code, 0) + 1
            if time.monotonic() > give_up:
                raise OrgError(response.status_code, code, response.text)
            if response.status_code == 401:
                self._token = None
            elif code in RETRY_CODES or response.status_code >= 500:
                time.sleep(0.5 if code != "REQUEST_LIMIT_EXCEEDED" else 1.0)
            else:
                raise OrgError(response.status_code, code, response.text)
            self.counter.retries += 1

    def query(self, soql: str, *, all_rows: bool = False) -> list[dict[str, Any]]:
        """Every record of a SOQL query, following nextRecordsUrl."""
        endpoint = "queryAll" if all_rows else "query"
        body = self.api("GET", f"{API}/{endpoint}/", params={"q": soql}).json()
        records: list[dict[str, Any]] = list(body["records"])
        while not body["done"]:
            body = self.api("GET", body["nextRecordsUrl"]).json()
            records += body["records"]
        return records

    def create(self, obj: str, fields: dict[str, Any]) -> str:
        """POST a new record; its id."""
        return str(self.api("POST", f"{API}/sobjects/{obj}/", json=fields).json()["id"])

    def update(self, obj: str, record_id: str, fields: dict[str, Any]) -> None:
        """PATCH one record."""
        self.api("PATCH", f"{API}/sobjects/{obj}/{record_id}", json=fields)

    def delete(self, obj: str, record_id: str) -> None:
        """DELETE one record (to the recycle bin)."""
        self.api("DELETE", f"{API}/sobjects/{obj}/{record_id}")

    def composite(self, method: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """sObject Collections create or update, all or none (as the split editor saves)."""
        body = {"allOrNone": True, "records": records}
        results: list[dict[str, Any]] = self.api(
            method, f"{API}/composite/sobjects", json=body
        ).json()
        failed = [r for r in results if not r.get("success")]
        if failed:
            raise OrgError(400, "COMPOSITE", str(failed[:2]))
        return results

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """A `/__devorg` control-plane call (not counted, not faulted)."""
        url = f"{self.login.instance_url}/__devorg/{path}"
        response = self.http.request(method, url, json=body, timeout=60)
        if response.status_code >= 300:
            raise OrgError(response.status_code, _error_code(response), response.text)
        return response.json() if response.content else None


class OrgFile:
    """Read-only view of the devorg's SQLite file, for polling write-back values.

    Polling through the API would itself be slowed and refused by the injected faults
    (and counted as API calls); the file shows a committed value the moment it lands.
    """

    def __init__(self, data_dir: str) -> None:
        path = Path(data_dir) / "devorg.db"
        # One connection, used by one thread at a time (the caller serialises).
        self.conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, timeout=30, check_same_thread=False
        )

    def values(self, obj: str, ids: Iterable[str], fields: list[str]) -> dict[str, dict[str, Any]]:
        """{id: {field: stored value}} of these records (missing ids are left out)."""
        wanted = list(ids)
        out: dict[str, dict[str, Any]] = {}
        cols = ", ".join(f'"{f}"' for f in ["Id", *fields])
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f'SELECT {cols} FROM "{obj}" WHERE Id IN ({marks})'
            for row in self.conn.execute(sql, chunk):
                out[row[0]] = dict(zip(fields, row[1:], strict=True))
        return out

    def close(self) -> None:
        """Close the file."""
        self.conn.close()
