"""Two orgs connected through /connect, against two devorgs whose record ids collide (the same
seed): each org's reps see only their own earnings, and each org's writes land only in its own
devorg. One Quotaflow database, one web app, one shared connected app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.orgs.registry import disconnect, secret_box, set_canvas_secret, set_paused
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.sync.plans import ensure_demo_plan
from connector.tasks.org_sync import OrgSyncer
from devorg.credentials import ADMIN_USERNAME
from devorg.process import DevorgInfo, start_devorg
from tests.devorg.conftest import http_session
from tests.orgs.connect_kit import CALLBACK, connect, connect_settings, share_connected_app
from tests.webapp.canvas_kit import envelope, set_canvas_url, sign, signed_request
from webapp import create_app

API = "/services/data/v62.0"
APP_URL = "https://quotaflow.test/canvas"


@pytest.fixture(scope="module")
def devorgs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevorgInfo, DevorgInfo]]:
    tmp = tmp_path_factory.mktemp("two")
    args = ["--callback-url", CALLBACK, "--canvas-url", APP_URL]
    with start_devorg(tmp / "a", timeout=180, extra_args=args) as a:
        share_connected_app(tmp / "b", a)
        with start_devorg(tmp / "b", timeout=180, extra_args=args) as b:
            yield a, b


def _admin(info: DevorgInfo) -> tuple[requests.Session, dict[str, str]]:
    session = http_session(info)
    token = session.post(
        info.login_url + "/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": info.client_id,
            "client_secret": info.client_secret,
            "username": ADMIN_USERNAME,
            "password": info.password,
        },
        timeout=30,
    ).json()["access_token"]
    return session, {"Authorization": f"Bearer {token}"}


def _query(info: DevorgInfo, soql: str) -> list[dict[str, Any]]:
    session, headers = _admin(info)
    response = session.get(f"{info.instance_url}{API}/query/", params={"q": soql}, headers=headers)
    response.raise_for_status()
    records: list[dict[str, Any]] = response.json()["records"]
    return records


def _stats(info: DevorgInfo, *, reset: bool = False) -> dict[str, Any]:
    session = http_session(info)
    if reset:
        session.post(f"{info.instance_url}/__devorg/stats/reset", timeout=30).raise_for_status()
    body: dict[str, Any] = session.get(f"{info.instance_url}/__devorg/stats", timeout=30).json()
    return body


def _earnings(app: Any, info: DevorgInfo, user_id: str) -> dict[str, Any]:
    client = app.test_client()
    opened = client.post(
        "/canvas",
        data={"signed_request": signed_request(info, user_id)},
        headers={"Accept": "application/json"},
    )
    assert opened.status_code == 200, opened.text
    token = opened.json["token"]
    answer = client.get("/api/v1/me/earnings", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json
    return body


def test_two_orgs_never_cross(devorgs: tuple[DevorgInfo, DevorgInfo], tmp_path: Path) -> None:
    a, b = devorgs
    assert a.org_id != b.org_id
    # The same seed: the same record ids in both orgs.
    won = "SELECT Id, Amount, OwnerId FROM Opportunity WHERE IsWon = true ORDER BY Id LIMIT 1"
    [deal_a], [deal_b] = _query(a, won), _query(b, won)
    assert deal_a["Id"] == deal_b["Id"] and deal_a["OwnerId"] == deal_b["OwnerId"]
    rep = deal_a["OwnerId"]
    # Org B's copy of the deal is worth three times as much.
    session, headers = _admin(b)
    patched = session.patch(
        f"{b.instance_url}{API}/sobjects/Opportunity/{deal_b['Id']}",
        json={"Amount": deal_b["Amount"] * 3},
        headers=headers,
    )
    assert patched.status_code == 204, patched.text

    # Each devorg has a CA of its own; real orgs share the system store.
    bundle = tmp_path / "cas.pem"
    bundle.write_text(Path(a.ca_cert).read_text() + Path(b.ca_cert).read_text())
    settings = connect_settings(tmp_path / "qf.db", [a, b]).with_overrides(
        sf_canvas_secret=a.client_secret, sf_ca_bundle=str(bundle)
    )
    engine = make_engine(settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    app = create_app(settings)
    for info in (a, b):
        assert "Org connected" in connect(app.test_client(), info)
        ensure_demo_plan(sessions, org_id=info.org_id, now=datetime.now(UTC))
    set_canvas_url(a, APP_URL)
    set_canvas_url(b, APP_URL)
    time.sleep(1.1)  # a pull reads what was modified before its start second

    syncer = OrgSyncer(settings, engine=engine, sessions=sessions)
    for this, other in ((a, b), (b, a)):
        _stats(other, reset=True)
        summary = syncer.run(this.org_id, mode="full")
        assert summary is not None and summary.status == "succeeded", summary
        assert summary.written > 0
        # Not one call, read or write, reached the other org.
        assert _stats(other)["api_calls"] == 0

    commission = f"SELECT Estimated_Commission__c FROM Opportunity WHERE Id = '{deal_a['Id']}'"
    [written_a], [written_b] = _query(a, commission), _query(b, commission)
    assert written_b["Estimated_Commission__c"] == pytest.approx(
        3 * written_a["Estimated_Commission__c"]
    )

    # The same user id in both orgs: each sees the earnings of their own org.
    mine_a, mine_b = _earnings(app, a, rep), _earnings(app, b, rep)

    def owner_credit(body: dict[str, Any]) -> Decimal:
        [credit] = [
            c
            for c in body["credits"]
            if c["deal_id"] == deal_a["Id"] and c["credit_type"] == "owner"
        ]
        return Decimal(credit["amount"])

    assert owner_credit(mine_a) == Decimal(str(deal_a["Amount"]))
    assert owner_credit(mine_b) == 3 * Decimal(str(deal_a["Amount"]))
    engine.dispose()


def test_own_canvas_secret_pause_and_disconnect(
    devorgs: tuple[DevorgInfo, DevorgInfo], tmp_path: Path
) -> None:
    a, _ = devorgs
    settings = connect_settings(tmp_path / "qf.db", [a]).with_overrides(
        sf_canvas_secret=a.client_secret
    )
    engine = make_engine(settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    app = create_app(settings)
    assert "Org connected" in connect(app.test_client(), a)
    now = datetime.now(UTC)
    ensure_demo_plan(sessions, org_id=a.org_id, now=now)
    syncer = OrgSyncer(settings, engine=engine, sessions=sessions)
    set_paused(sessions, a.org_id, paused=True, now=now)
    assert syncer.run(a.org_id, mode="full") is None  # a paused org does not sync
    set_paused(sessions, a.org_id, paused=False, now=now)
    summary = syncer.run(a.org_id, mode="full")
    assert summary is not None and summary.status == "succeeded"

    def canvas(signed: str) -> Any:
        return app.test_client().post(
            "/canvas", data={"signed_request": signed}, headers={"Accept": "application/json"}
        )

    admin = _query(a, f"SELECT Id FROM User WHERE Username = '{ADMIN_USERNAME}'")[0]["Id"]
    shared = signed_request(a, admin)
    assert canvas(shared).status_code == 200
    # The org gets a Canvas app of its own: only its secret is accepted for this org now.
    box = secret_box(settings)
    set_canvas_secret(sessions, a.org_id, "own-canvas-secret", box=box, now=now)
    refused = canvas(signed_request(a, admin))
    assert refused.status_code == 403 and "signature does not match" in refused.text
    assert canvas(sign(envelope(signed_request(a, admin)), "own-canvas-secret")).status_code == 200
    # Disconnected: its users are turned away, its data stays.
    disconnect(sessions, a.org_id, http=http_session(a), box=box, now=now)
    resigned = sign(envelope(signed_request(a, admin)), "own-canvas-secret")
    assert canvas(resigned).status_code == 403
    assert syncer.run(a.org_id, mode="full") is None
    engine.dispose()
