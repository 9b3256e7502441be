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


def _html_session(web: Web, app: Any, who: str) -> dict[str, str]:
    """The form fields of a page session (token and CSRF) of `who`."""
    cast = web.cast
    if who == "admin":
        viewer = web.viewer(cast.admin, app=app, profile=("System Administrator",))
    else:
        viewer = web.viewer(cast.ops, app=app, permission_sets=("Quotaflow_Ops",))
    tokens = app.extensions["quotaflow.tokens"]
    return {"qf_token": tokens.issue(viewer), "qf_csrf": tokens.csrf(viewer)}


def test_connect_another_org_is_for_admins_and_lists_what_they_connected(
    web: Web, tmp_path: Path
) -> None:
    from cryptography.fernet import Fernet
    from itsdangerous import URLSafeTimedSerializer

    from connector.orgs.registry import register_connection, secret_box
    from connector.salesforce.webflow import Connection
    from webapp import create_app

    copy = tmp_path / "connect.db"
    copy.write_bytes(web.db_file.read_bytes())
    settings = web.settings.with_overrides(
        database_url=f"sqlite:///{copy}",
        sf_client_id="3MVG9test",
        sf_client_secret="secret",
        public_url="https://qf.example.com",
        encryption_keys=(Fernet.generate_key().decode(),),
    )
    app = create_app(settings)
    client = app.test_client()
    admin, ops = _html_session(web, app, "admin"), _html_session(web, app, "ops")
    page = client.post("/ops/org", data=admin).text
    assert "Connect another org" in page and "No other org connected from here yet" in page
    assert "Connect another org" not in client.post("/ops/org", data=ops).text
    assert client.post("/ops/org/connect", data=ops).status_code == 403
    assert client.post("/ops/org/connect", data={"qf_token": admin["qf_token"]}).status_code == 403
    answer = client.post("/ops/org/connect", data=admin)
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith("https://qf.example.com/connect?ticket=")
    ticket = location.split("ticket=", 1)[1]
    signer = URLSafeTimedSerializer(settings.secret_key, salt="quotaflow-connect-ticket")
    assert signer.loads(ticket)["by"].endswith(f"(from org {web.org_id})")

    api = client.post("/api/v1/org/connect-link", headers=_bearer(web, app, "admin"))
    assert api.status_code == 200 and api.json["expires_in_seconds"] == 600
    assert api.json["url"].startswith("https://qf.example.com/connect?ticket=")
    refused = client.post("/api/v1/org/connect-link", headers=_bearer(web, app, "ops"))
    assert refused.status_code == 403

    # What the callback registers for that ticket, and an org connected by someone else.
    sessions, now = app.extensions["quotaflow.sessions"], datetime.now(UTC)
    box = secret_box(settings)
    for org_id, by in (
        ("00DSUBSIDIARY00001", signer.loads(ticket)["by"]),
        ("00DSTRANGER0000001", "cli:operator"),
        ("00DOTHERFAMILY0001", "Bo (from org 00DOTHERFAMILY0002)"),
    ):
        connection = Connection(org_id, "005x", "a@b.c", f"https://{org_id}.example", "", "rt")
        register_connection(
            sessions, connection, login_url="https://login.salesforce.com",
            connected_by=by, box=box, now=now,
        )  # fmt: skip
    page = client.post("/ops/org", data=admin).text
    assert 'data-org="00DSUBSIDIARY00001"' in page and "https://00DSUBSIDIARY00001.example" in page
    assert "00DSTRANGER0000001" not in page and "00DOTHERFAMILY0001" not in page
    assert "00DSUBSIDIARY00001" not in client.post("/ops/org", data=ops).text
