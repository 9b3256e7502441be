"""No OAuth token, consumer secret, password, session token or signed request in any log line.

Captures every log record at DEBUG (urllib3's wire lines included) while a full sync runs
against the devorg and while users open Quotaflow through real Canvas signed requests,
browse, call the API, post forms (good, refused and unreadable ones), then greps every
formatted line, traceback included, for each secret that crossed the process.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.deps import SyncDeps, stored_mapping_source
from connector.salesforce.auth import Authenticator
from connector.salesforce.gateway import Gateway
from connector.salesforce.http import make_http_session
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.sync import run_sync
from connector.sync.plans import ensure_demo_plan
from tests.webapp.canvas_kit import envelope, set_canvas_url, signed_request
from tests.webapp.conftest import Web

TOKEN_FIELD = re.compile(r'name="qf_token" value="([^"]+)"')
CSRF_FIELD = re.compile(r'name="qf_csrf" value="([^"]+)"')


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[_Capture]:
    handler = _Capture()
    root = logging.getLogger()
    loggers = [root] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    levels = {logger: logger.level for logger in loggers}
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in levels.items():
        logger.removeHandler(handler)
        logger.setLevel(level)


def _wire_recorder(secrets: set[str]) -> Any:
    def record(response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        auth = response.request.headers.get("Authorization", "")
        if auth:
            secrets.add(auth.partition(" ")[2])
        if "/oauth2/token" in response.url and response.ok:
            body = response.json()
            secrets.update(str(body[k]) for k in ("access_token", "refresh_token") if k in body)

    return record


def _full_sync(web: Web, tmp_path: Path, secrets: set[str]) -> None:
    settings = web.settings.with_overrides(database_url=f"sqlite:///{tmp_path / 'logs.db'}")
    session = make_http_session(settings.sf_ca_bundle)
    session.hooks["response"].append(_wire_recorder(secrets))
    engine = make_engine(settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    deps = SyncDeps(
        settings=settings,
        engine=engine,
        sessions=sessions,
        gateway=Gateway(
            Authenticator(settings, session=session),
            session=session,
            api_version=settings.sf_api_version,
        ),
        mapping_source=stored_mapping_source(sessions),
    )
    ensure_demo_plan(sessions, org_id=web.org_id, now=datetime.now(UTC))
    time.sleep(1.1)  # the pull reads what was modified before its start second
    summary = run_sync(deps, mode="full")
    engine.dispose()
    assert summary.status == "succeeded", summary


def _web_session(web: Web, tmp_path: Path, secrets: set[str]) -> None:
    app = web.fresh(tmp_path)
    client = app.test_client()
    set_canvas_url(web.info, "http://127.0.0.1:9/canvas")
    for user in (web.cast.rep_a, web.cast.admin, web.cast.ops):
        signed = signed_request(web.info, user)
        secrets.update({signed, *signed.split(".", 1), envelope(signed)["client"]["oauthToken"]})
        opened = client.post("/canvas", data={"signed_request": signed})
        assert opened.status_code == 200, opened.data[:300]
        page = opened.get_data(as_text=True)
        token, csrf = TOKEN_FIELD.search(page), CSRF_FIELD.search(page)
        assert token
        secrets.add(token.group(1))
        form = {"qf_token": token.group(1), "qf_csrf": csrf.group(1) if csrf else ""}
        secrets.add(form["qf_csrf"])
        api = client.post(
            "/canvas", data={"signed_request": signed}, headers={"Accept": "application/json"}
        )
        bearer = api.get_json()["token"]
        secrets.add(bearer)
        headers = {"Authorization": f"Bearer {bearer}"}
        for path in ("/api/v1/me/earnings", "/api/v1/sync/runs", "/api/v1/mappings/active"):
            client.get(path, headers=headers)
        client.get("/api/v1/me/earnings", headers={"Authorization": f"Bearer {bearer}x"})
        client.post("/rep", data=form)
        client.post(
            "/admin/mappings/validate", data={**form, "mode": "yaml", "document": "[" * 5000}
        )
        client.post("/admin/plans/upload", data={**form, "plan_text": "when: 2026-02-30"})
        client.post("/ops/runs/resync", data={**form, "mode": "full"})
        client.post("/admin/periods/lock", data={"qf_token": form["qf_token"], "period": "2026-Q1"})
        forged = signed[:-4] + "AAAA"
        client.post("/canvas", data={"signed_request": forged})


@pytest.mark.slow
def test_no_secret_in_any_log_line(web: Web, tmp_path: Path, captured: _Capture) -> None:
    settings = web.settings
    secrets = {
        str(value)
        for value in (
            settings.sf_client_secret,
            settings.sf_password,
            settings.sf_canvas_secret,
            settings.secret_key,
        )
        if value
    }
    _full_sync(web, tmp_path / "sync", secrets)
    (tmp_path / "web").mkdir()
    _web_session(web, tmp_path / "web", secrets)
    secrets = {s for s in secrets if len(s) >= 8}
    # Salesforce access tokens are `<org id>!<secret>`: the part after `!` alone is secret.
    secrets |= {s.split("!", 1)[1] for s in secrets if "!" in s and len(s.split("!", 1)[1]) >= 8}
    assert len(secrets) >= 15, sorted(s[:6] for s in secrets)
    lines = captured.lines
    assert len(lines) >= 50, lines  # the run really was captured (urllib3 logs every call)
    assert any("urllib3" in line for line in lines)
    leaks = [(s[:6] + "…", line[:200]) for line in lines for s in secrets if s in line]
    assert leaks == []
