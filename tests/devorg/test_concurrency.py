"""Many clients at once: the threaded server and its SQLite access stay consistent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

API = "/services/data/v62.0"


def _worker(api: Any, n: int) -> list[int]:
    statuses = []
    for i in range(5):
        created = api.call(
            "POST",
            f"{API}/sobjects/Opportunity/",
            json={
                "Name": f"Conc-{n}-{i}",
                "StageName": "Prospecting",
                "CloseDate": "2026-07-01",
            },
        )
        statuses.append(created.status_code)
        record_id = created.json()["id"]
        statuses.append(
            api.call(
                "PATCH", f"{API}/sobjects/Opportunity/{record_id}", json={"Amount": i}
            ).status_code
        )
        page = api.call(
            "GET",
            f"{API}/query/",
            params={"q": f"SELECT Id, Amount FROM Opportunity WHERE Name = 'Conc-{n}-{i}'"},
        )
        statuses.append(page.status_code)
        assert page.json()["records"][0]["Amount"] == float(i)
    return statuses


def test_parallel_clients(api: Any) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: _worker(api, n), range(8)))
    assert {s for statuses in results for s in statuses} == {200, 201, 204}
    count = api.call(
        "GET",
        f"{API}/query/",
        params={"q": "SELECT COUNT() FROM Opportunity WHERE Name LIKE 'Conc-%'"},
    ).json()["totalSize"]
    assert count == 40
