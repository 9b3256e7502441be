"""The clock: two clock processes on one PostgreSQL database never run two syncs at once,
and a resync requested from the CLI or the web is started within seconds."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from connector.store.models import SyncRun
from connector.sync.queue import request_sync

from .conftest import env_for, running_org  # type: ignore[import-not-found]

CLOCK = textwrap.dedent(
    """
    import logging, sys, threading
    from datetime import timedelta
    from connector.clock import ClockOptions, SyncWorker, run_clock
    from connector.deps import build_sync_deps
    from connector.settings import load_settings
    from connector.sync import SyncOptions

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    deps = build_sync_deps(load_settings())
    options = ClockOptions(
        interval_seconds=1,
        queue_poll_seconds=0.5,
        sync=SyncOptions(lease_ttl=timedelta(seconds=10)),
    )
    stop = threading.Event()
    # Stop when the test drops the sentinel file (or after two minutes, whatever happens).
    def watch():
        import os, time
        deadline = time.monotonic() + 120
        while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
    threading.Thread(target=watch, daemon=True).start()
    run_clock(SyncWorker(deps, options=options, holder=sys.argv[2]), stop=stop)
    """
)


@pytest.fixture
def pg_url(pg_database_url: str) -> Iterator[str]:
    engine = create_engine(pg_database_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield pg_database_url


@pytest.mark.slow
@pytest.mark.postgres
def test_two_clock_processes_never_sync_at_once(pg_url: str, tmp_path: Path) -> None:
    with running_org(tmp_path, database_url=pg_url) as org:
        env = {**os.environ, **env_for(org.info, pg_url)}
        logs = [tmp_path / f"clock-{n}.log" for n in "ab"]
        sentinel = tmp_path / "stop"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", CLOCK, str(sentinel), f"clock-{n}"],
                env=env,
                stderr=log.open("w"),
            )
            for n, log in zip("ab", logs, strict=True)
        ]
        time.sleep(6)
        # A resync requested from the CLI or the web: queued, then started by a clock.
        asked = datetime.now(UTC)
        run_id = request_sync(
            org.deps.sessions, org_id=org.org_id, mode="full", requested_by="web", now=asked
        )

        # Run until the requested run and at least one other have finished: on a loaded
        # machine the clocks take longer to start, so wait on what happened, not on a timer.
        def _done() -> bool:
            with org.deps.sessions() as session:
                runs = session.scalars(select(SyncRun)).all()
            ended = [r for r in runs if r.finished_at is not None]
            return len(ended) >= 2 and any(r.id == run_id for r in ended)

        deadline = time.monotonic() + 110
        while not _done() and time.monotonic() < deadline:
            time.sleep(0.5)
        sentinel.touch()
        for proc in procs:
            assert proc.wait(timeout=60) == 0
        with org.deps.sessions() as session:
            runs = session.scalars(select(SyncRun).order_by(SyncRun.started_at)).all()
    finished = [r for r in runs if r.finished_at is not None]
    assert len(finished) >= 2, [(r.id, r.status) for r in runs]
    assert all(r.status in {"succeeded", "partial"} for r in finished), [r.error for r in runs]
    for before, after in itertools.pairwise(finished):
        assert after.started_at >= before.finished_at, "two syncs of one org overlapped"
    requested = next(r for r in runs if r.id == run_id)
    assert requested.mode == "full" and requested.status == "succeeded"
    assert requested.started_at is not None and requested.started_at >= asked
    # Both clocks competed: one ran syncs while the other found the lease taken.
    texts = "".join(log.read_text() for log in logs)
    assert "sync run" in texts and "another process is running a sync" in texts
