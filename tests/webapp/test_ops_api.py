"""The sync runs API: history, one run, and requesting a run (202, queued for the clock)."""

from __future__ import annotations

from pathlib import Path

from tests.webapp.conftest import Web

RUN_KEYS = {
    "id", "mode", "status", "dry_run", "requested_by", "requested_at", "started_at",
    "finished_at", "heartbeat_at", "duration_ms", "counts", "api_calls", "api_usage",
    "api_limit", "error",
}  # fmt: skip


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_list_runs_shape_and_limit(web: Web) -> None:
    client, headers = web.client(), _bearer(web.ops_token())
    response = client.get("/api/v1/sync/runs?limit=5", headers=headers)
    assert response.status_code == 200
    runs = response.get_json()["runs"]
    assert 1 <= len(runs) <= 5
    run = runs[-1]
    assert set(run) == RUN_KEYS
    assert run["status"] == "succeeded" and run["mode"] == "full"
    assert run["api_calls"] > 0 and run["duration_ms"] >= 0 and run["counts"]["pulled"] > 0
    assert run["started_at"].endswith("Z")
    for bad in ("0", "201", "x"):
        refused = client.get(f"/api/v1/sync/runs?limit={bad}", headers=headers)
        assert refused.status_code == 400 and "limit" in refused.get_json()["error"]


def test_get_one_run_and_404(web: Web) -> None:
    client, headers = web.client(), _bearer(web.admin_token())
    first = client.get("/api/v1/sync/runs", headers=headers).get_json()["runs"][-1]
    one = client.get(f"/api/v1/sync/runs/{first['id']}", headers=headers)
    assert one.status_code == 200 and one.get_json() == first
    missing = client.get("/api/v1/sync/runs/99999", headers=headers)
    assert missing.status_code == 404 and "error" in missing.get_json()


def test_request_run_is_202_and_coalesces(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    client, headers = app.test_client(), _bearer(web.ops_token(app=app))
    first = client.post("/api/v1/sync/runs", headers=headers, json={"mode": "incremental"})
    assert first.status_code == 202
    body = first.get_json()
    assert body["status"] == "queued" and isinstance(body["id"], int)
    second = client.post("/api/v1/sync/runs", headers=headers, json={"mode": "full"})
    assert second.status_code == 202 and second.get_json()["id"] == body["id"]
    run = client.get(f"/api/v1/sync/runs/{body['id']}", headers=headers).get_json()
    assert run["status"] == "queued" and run["mode"] == "full"
    assert run["requested_by"] == web.cast.ops


def test_request_run_bad_mode_is_400(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    client, headers = app.test_client(), _bearer(web.ops_token(app=app))
    bad = client.post("/api/v1/sync/runs", headers=headers, json={"mode": "sideways"})
    assert bad.status_code == 400 and "sideways" in bad.get_json()["error"]
    weird = client.post("/api/v1/sync/runs", headers=headers, json=["full"])
    assert weird.status_code == 400
    listed = client.get("/api/v1/sync/runs", headers=headers).get_json()["runs"]
    assert all(r["status"] != "queued" for r in listed)


def test_request_run_from_a_form_needs_csrf(web: Web, tmp_path: Path) -> None:
    # Without a Bearer header the API is a form post like any other: no CSRF token, no run.
    app = web.fresh(tmp_path)
    token = web.ops_token(app=app)
    response = app.test_client().post("/api/v1/sync/runs", data={"qf_token": token})
    assert response.status_code == 403


def test_api_needs_a_session(web: Web) -> None:
    assert web.client().get("/api/v1/sync/runs").status_code == 401
