"""The org page and `/api/v1/org`: status, last run, lag, API usage, queue state; pause and
resume (ops, admin) and disconnect (admin), always of the caller's own org."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connector.orgs.registry import ensure_environment_org, org_views
from connector.sync.queue import request_sync
from tests.webapp.conftest import Web


def _bearer(web: Web, app: Any, who: str) -> dict[str, str]:
    cast = web.cast
    if who == "admin":
        viewer = web.viewer(cast.admin, app=app, profile=("System Administrator",))
    else:
        viewer = web.viewer(cast.ops, app=app, permission_sets=("Quotaflow_Ops",))
    return {"Authorization": f"Bearer {app.extensions['quotaflow.tokens'].issue(viewer)}"}


def test_org_status_pause_resume_disconnect(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    sessions = app.extensions["quotaflow.sessions"]
    client = app.test_client()
    ops, admin = _bearer(web, app, "ops"), _bearer(web, app, "admin")
    # Synced before the registry knew it: shown as unregistered, and it cannot be paused.
    body = client.get("/api/v1/org", headers=ops).json
    assert body["status"] == "unregistered" and body["last_run"]["status"] == "succeeded"
    assert body["lag_seconds"] >= 0 and body["api_usage"]["limit"] > 0
    assert client.post("/api/v1/org/pause", headers=ops).status_code == 409
    now = datetime.now(UTC)
    ensure_environment_org(
        sessions, org_id=web.org_id, instance_url=web.info.instance_url, login_url="x", now=now
    )
    request_sync(sessions, org_id=web.org_id, mode="full", requested_by="t", now=now)
    body = client.get("/api/v1/org", headers=ops).json
    assert (body["status"], body["source"]) == ("active", "environment")
    assert body["queue"] == {"state": "queued", "queued": 1, "running": 0}
    assert client.post("/api/v1/org/pause", headers=ops).json["status"] == "paused"
    page = client.get("/ops/org", headers=ops)
    assert page.status_code == 200 and "Resume syncs" in page.text
    assert "Disconnect" not in page.text  # ops may pause, only an admin disconnects
    assert client.post("/api/v1/org/resume", headers=ops).json["status"] == "active"
    assert client.post("/api/v1/org/disconnect", headers=ops).status_code == 403
    assert client.post("/api/v1/org/disconnect", headers=admin).json["status"] == "disconnected"
    assert [v.status for v in org_views(sessions)] == ["disconnected"]
    assert client.post("/api/v1/org/resume", headers=admin).status_code == 409
