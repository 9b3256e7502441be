"""`quotaflow worker` on PostgreSQL: queued requests deduplicated, one org's revoked token does
not stop another org, and a worker SIGKILLed mid-run loses nothing (the run resumes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connector.orgs.registry import secret_box
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.models import SyncRun
from connector.store.orgs import RegisteredOrg
from connector.sync.plans import ensure_demo_plan
from connector.sync.queue import request_sync
from connector.tasks.engine import build_app, defer_sync, ensure_schema
from devorg.process import DevorgInfo, start_devorg
from tests.devorg.conftest import http_session
from tests.orgs.connect_kit import CALLBACK, connect, connect_settings, share_connected_app
from tests.orgs.worker_kit import ca_bundle, clean_database, kill, start_worker, wait_for
from webapp import create_app

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevorgInfo, DevorgInfo]]:
    tmp = tmp_path_factory.mktemp("pair")
    args = ["--callback-url", CALLBACK]
    with start_devorg(tmp / "a", seed="empty", timeout=60, extra_args=args) as a:
        share_connected_app(tmp / "b", a)
        with start_devorg(tmp / "b", seed="empty", timeout=60, extra_args=args) as b:
            yield a, b


def _connected(url: str, devorgs: list[DevorgInfo], tmp: Path) -> tuple[Any, Any]:
    clean_database(url)
    settings = connect_settings(tmp / "unused.db", devorgs).with_overrides(
        database_url=url, sf_ca_bundle=ca_bundle(tmp / "cas.pem", devorgs)
    )
    engine = make_engine(settings)
    upgrade(engine)
    ensure_schema(settings)
    sessions = make_session_factory(engine)
    app = create_app(settings)
    for info in devorgs:
        assert "Org connected" in connect(app.test_client(), info)
        ensure_demo_plan(sessions, org_id=info.org_id, now=datetime.now(UTC))
    app.extensions["quotaflow.engine"].dispose()
    return settings, sessions


def _runs(sessions: Any, org_id: str) -> list[SyncRun]:
    with sessions() as session:
        return list(
            session.scalars(select(SyncRun).where(SyncRun.org_id == org_id).order_by(SyncRun.id))
        )


async def _defer_twice(settings: Any, org_id: str) -> tuple[bool, bool]:
    app = build_app(settings)
    async with app.open_async():
        return await defer_sync(app, org_id, None), await defer_sync(app, org_id, None)


def test_worker_runs_orgs_and_a_revoked_org_fails_alone(
    pair: tuple[DevorgInfo, DevorgInfo], pg_database_url: str, tmp_path: Path
) -> None:
    a, b = pair
    settings, sessions = _connected(pg_database_url, [a, b], tmp_path)
    # A wake-up requested while one waits is not queued twice.
    assert asyncio.run(_defer_twice(settings, a.org_id)) == (True, False)
    # Org B's admin revokes Quotaflow's access in Salesforce.
    with sessions() as session:
        sealed = session.get(RegisteredOrg, b.org_id).refresh_token
    token = secret_box(settings).open(sealed)
    revoked = http_session(b).post(b.login_url + "/services/oauth2/revoke", data={"token": token})
    assert revoked.status_code == 200
    time.sleep(1.1)
    now = datetime.now(UTC)
    for info in (a, b):
        request_sync(sessions, org_id=info.org_id, mode="full", requested_by="test", now=now)
    with (tmp_path / "worker.log").open("w+") as log:
        worker = start_worker(settings, log)
        try:
            finished = ("succeeded", "partial", "failed")
            wait_for(
                "both orgs' runs",
                lambda: all(
                    any(r.status in finished for r in _runs(sessions, o.org_id)) for o in (a, b)
                ),
                timeout=90,
            )
        finally:
            kill(worker)
            log.seek(0)
            output = log.read()
    # On a slow machine the pool's once-a-minute tick may queue one more run of each org
    # before the worker is stopped: every finished run counts, whichever queued it.
    runs_a = [r for r in _runs(sessions, a.org_id) if r.status in finished]
    runs_b = [r for r in _runs(sessions, b.org_id) if r.status in finished]
    assert runs_a and all(r.status == "succeeded" for r in runs_a), output[-3000:]
    assert runs_b and all(
        r.status == "failed" and "refused the refresh token" in (r.error or "") for r in runs_b
    ), [(r.status, r.error) for r in runs_b]


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_nothing(
    pg_database_url: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    args = ["--callback-url", CALLBACK, "--latency-ms", "300"]
    with start_devorg(tmp_path_factory.mktemp("crash"), timeout=180, extra_args=args) as org:
        settings, sessions = _connected(pg_database_url, [org], tmp_path)
        time.sleep(1.1)
        now = datetime.now(UTC)
        run_id = request_sync(sessions, org_id=org.org_id, mode="full", requested_by="t", now=now)
        with (tmp_path / "worker.log").open("w+") as log:
            first = start_worker(settings, log)
            try:
                wait_for(
                    "the run to start",
                    lambda: _runs(sessions, org.org_id)[0].status == "running",
                    timeout=60,
                )
                time.sleep(3)  # some pages committed
            finally:
                kill(first)
            assert _runs(sessions, org.org_id)[0].status == "running"
            second = start_worker(settings, log)
            try:
                done = wait_for(
                    "the interrupted run to finish",
                    lambda: [r for r in _runs(sessions, org.org_id) if r.finished_at is not None],
                    timeout=150,
                )
            except AssertionError as exc:
                log.seek(0)
                lines = [x for x in log.read().splitlines() if "quotaflow.poll" not in x]
                raise AssertionError("\n".join([str(exc), *lines[-60:]])) from None
            finally:
                kill(second)
                log.seek(0)
                output = log.read()
        # The same run, resumed by the second worker, not a failed one plus a new one.
        assert [(r.id, r.status) for r in done] == [(run_id, "succeeded")], output[-3000:]
        assert "resuming run(s)" in output
