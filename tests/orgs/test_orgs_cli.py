"""`quotaflow orgs`: list, pause/resume, disconnect (revokes the token), purge, rotate-key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.fernet import Fernet

from connector.orgs.registry import org_views, secret_box
from connector.store.models import SyncRun
from connector.store.orgs import RegisteredOrg
from devorg.process import DevorgInfo
from tests.devorg.conftest import http_session
from tests.orgs.connect_kit import connect
from webapp.cli import main

OTHER = "00D000000000777AAA"


@pytest.fixture
def connected(app_env: Any, devorg: DevorgInfo, monkeypatch: pytest.MonkeyPatch) -> Any:
    app, settings, sessions = app_env
    assert "Org connected" in connect(app.test_client(), devorg)
    monkeypatch.setenv("QUOTAFLOW_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("QUOTAFLOW_ENCRYPTION_KEY", ",".join(settings.encryption_keys))
    monkeypatch.setenv("SF_CA_BUNDLE", devorg.ca_cert)
    monkeypatch.setenv("QUOTAFLOW_CONNECT_LOGIN_URLS", devorg.login_url)
    return settings, sessions


def _refresh_works(devorg: DevorgInfo, token: str) -> bool:
    response = http_session(devorg).post(
        devorg.login_url + "/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token,
            "client_id": devorg.client_id,
            "client_secret": devorg.client_secret,
        },
        timeout=30,
    )
    return response.status_code == 200


def test_lifecycle(connected: Any, devorg: DevorgInfo, capsys: pytest.CaptureFixture[str]) -> None:
    settings, sessions = connected
    org = devorg.org_id
    assert main(["orgs", "list"]) == 0
    listed = capsys.readouterr().out
    assert org in listed and "never synced" in listed and "idle" in listed
    assert main(["orgs", "list", "--json"]) == 0
    assert '"state": "idle"' in capsys.readouterr().out
    assert main(["orgs", "pause", org]) == 0
    assert [v.status for v in org_views(sessions)] == ["paused"]
    assert main(["orgs", "resume", org]) == 0
    assert [v.status for v in org_views(sessions)] == ["active"]
    with sessions() as session:
        row = session.get(RegisteredOrg, org)
        token = secret_box(settings).open(row.refresh_token)
        now = datetime.now(UTC)
        session.add(SyncRun.queued(org_id=org, mode="full", now=now))
        session.add(SyncRun.queued(org_id=OTHER, mode="full", now=now))
        session.commit()
    assert _refresh_works(devorg, token)
    assert main(["orgs", "purge", org, "--yes"]) == 2  # still connected
    assert "disconnect it before purging" in capsys.readouterr().err
    assert main(["orgs", "disconnect", org]) == 0
    assert "token revoked" in capsys.readouterr().out
    assert not _refresh_works(devorg, token)
    [view] = org_views(sessions)
    assert view.status == "disconnected"
    assert main(["orgs", "resume", org]) == 2
    assert main(["orgs", "purge", org]) == 2  # needs --yes
    assert main(["orgs", "purge", org, "--yes"]) == 0
    assert "sync_runs: 1" in capsys.readouterr().out
    assert org_views(sessions) == []
    with sessions() as session:
        # The other org's rows are untouched.
        assert [r.org_id for r in session.query(SyncRun).all()] == [OTHER]


def test_unknown_org_is_named(connected: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["orgs", "pause", "00Dnope"]) == 2
    assert "00Dnope" in capsys.readouterr().err


def test_rotate_key(connected: Any, devorg: DevorgInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, sessions = connected
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("QUOTAFLOW_ENCRYPTION_KEY", ",".join((new, *settings.encryption_keys)))
    assert main(["orgs", "rotate-key"]) == 0
    with sessions() as session:
        sealed = session.get(RegisteredOrg, devorg.org_id).refresh_token
    only_new = settings.with_overrides(encryption_keys=(new,))
    assert _refresh_works(devorg, secret_box(only_new).open(sealed))


def test_disconnect_that_cannot_revoke_keeps_the_org_unless_forced(
    connected: Any, devorg: DevorgInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, sessions = connected
    monkeypatch.delenv("SF_CA_BUNDLE")  # the devorg's certificate is no longer trusted
    assert main(["orgs", "disconnect", devorg.org_id]) == 2
    assert [v.status for v in org_views(sessions)] == ["active"]
    assert main(["orgs", "disconnect", devorg.org_id, "--force"]) == 0
    assert [v.status for v in org_views(sessions)] == ["disconnected"]


def test_set_canvas_secret(connected: Any, devorg: DevorgInfo, tmp_path: Any) -> None:
    settings, sessions = connected
    secret_file = tmp_path / "canvas.txt"
    secret_file.write_text("own-secret\n")
    assert main(["orgs", "set-canvas-secret", devorg.org_id, "--from-file", str(secret_file)]) == 0
    [view] = org_views(sessions)
    assert view.own_canvas_secret
    with sessions() as session:
        sealed = session.get(RegisteredOrg, devorg.org_id).canvas_secret
    assert secret_box(settings).open(sealed) == "own-secret"
    assert main(["orgs", "set-canvas-secret", devorg.org_id, "--shared"]) == 0
    assert not org_views(sessions)[0].own_canvas_secret
    secret_file.write_text("")
    assert main(["orgs", "set-canvas-secret", devorg.org_id, "--from-file", str(secret_file)]) == 2
