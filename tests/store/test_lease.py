"""The run lease: one holder per org, expiry after a crash, and no overlap between processes."""

from __future__ import annotations

import itertools
import json
import logging
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.lease import LeaseBusy
from connector.store.migrate import upgrade
from connector.store.unit import OrgLease
from connector.sync.inputs import held_lease

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


def _sessions(settings: Settings):  # type: ignore[no-untyped-def]
    engine = make_engine(settings)
    upgrade(engine)
    return make_session_factory(engine)


def test_one_holder_at_a_time(store_settings: Settings) -> None:
    sessions = _sessions(store_settings)
    assert OrgLease(sessions, "00D1").try_acquire(holder="a", now=T0, ttl=TTL)
    assert not OrgLease(sessions, "00D1").try_acquire(holder="b", now=T0, ttl=TTL)
    # another org is independent
    assert OrgLease(sessions, "00D2").try_acquire(holder="b", now=T0, ttl=TTL)
    # re-acquiring our own lease extends it
    assert OrgLease(sessions, "00D1").try_acquire(holder="a", now=T0 + TTL / 2, ttl=TTL)
    assert not OrgLease(sessions, "00D1").try_acquire(holder="b", now=T0 + TTL, ttl=TTL)


def test_expired_lease_can_be_taken_and_the_old_holder_knows(store_settings: Settings) -> None:
    sessions = _sessions(store_settings)
    assert OrgLease(sessions, "00D1").try_acquire(holder="a", now=T0, ttl=TTL)
    later = T0 + TTL + timedelta(seconds=1)
    assert OrgLease(sessions, "00D1").try_acquire(holder="b", now=later, ttl=TTL)
    assert not OrgLease(sessions, "00D1").renew(holder="a", now=later, ttl=TTL)
    assert OrgLease(sessions, "00D1").renew(holder="b", now=later, ttl=TTL)


def test_release_frees_only_our_lease(store_settings: Settings) -> None:
    sessions = _sessions(store_settings)
    assert OrgLease(sessions, "00D1").try_acquire(holder="a", now=T0, ttl=TTL)
    OrgLease(sessions, "00D1").release(holder="b")
    assert not OrgLease(sessions, "00D1").try_acquire(holder="b", now=T0, ttl=TTL)
    OrgLease(sessions, "00D1").release(holder="a")
    assert OrgLease(sessions, "00D1").try_acquire(holder="b", now=T0, ttl=TTL)


WORKER = textwrap.dedent(
    """
    import json, sys, time
    from datetime import UTC, datetime, timedelta
    from connector.settings import Settings
    from connector.store.engine import make_engine, make_session_factory
    from connector.store.unit import OrgLease

    url, holder, out, ready = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    sessions = make_session_factory(make_engine(Settings(database_url=url)))
    # Both workers contend for the same 4 seconds, however long each took to start.
    open(f"{ready}/{holder}", "w").close()
    import os
    waited = time.time() + 60
    while len(os.listdir(ready)) < 2 and time.time() < waited:
        time.sleep(0.01)
    deadline = time.time() + 4
    spans = []
    while time.time() < deadline:
        now = datetime.now(UTC)
        if OrgLease(sessions, "00DX").try_acquire(holder=holder, now=now,
                       ttl=timedelta(seconds=30)):
            start = time.time()
            time.sleep(0.05)
            spans.append((start, time.time()))
            OrgLease(sessions, "00DX").release(holder=holder)
        time.sleep(0.01)
    json.dump(spans, open(out, "w"))
    """
)


@pytest.mark.slow
def test_two_processes_never_hold_the_lease_together(
    store_settings: Settings, tmp_path: Path
) -> None:
    _sessions(store_settings)  # migrate once, up front
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    ready = tmp_path / "ready"
    ready.mkdir()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                store_settings.database_url,
                name,
                str(tmp_path / f"{name}.json"),
                str(ready),
            ]
        )
        for name in ("clock-a", "clock-b")
    ]
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    spans = sorted(
        (start, end, name)
        for name in ("clock-a", "clock-b")
        for start, end in json.loads((tmp_path / f"{name}.json").read_text())
    )
    assert {name for _, _, name in spans} == {"clock-a", "clock-b"}, "both should get turns"
    for (_, end, _), (start, _, _) in itertools.pairwise(spans):
        assert start >= end, "two holders overlapped"


def test_a_dead_local_holder_is_taken_over_at_once(store_settings: Settings) -> None:
    import socket

    sessions = _sessions(store_settings)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()[:60]
    assert OrgLease(sessions, "00D1").try_acquire(holder=f"{host}:{dead.pid}:x", now=T0, ttl=TTL)
    # long before expiry, a live process takes over from the dead one
    assert OrgLease(sessions, "00D1").try_acquire(holder="b", now=T0, ttl=TTL)
    assert not OrgLease(sessions, "00D1").renew(holder=f"{host}:{dead.pid}:x", now=T0, ttl=TTL)


def test_a_live_or_remote_holder_is_respected(store_settings: Settings) -> None:
    import os
    import socket

    sessions = _sessions(store_settings)
    host = socket.gethostname()[:60]
    assert OrgLease(sessions, "00D1").try_acquire(
        holder=f"{host}:{os.getppid()}:x", now=T0, ttl=TTL
    )
    assert not OrgLease(sessions, "00D1").try_acquire(holder="b", now=T0, ttl=TTL)
    assert OrgLease(sessions, "00D2").try_acquire(holder="other-host:1:x", now=T0, ttl=TTL)
    assert not OrgLease(sessions, "00D2").try_acquire(holder="b", now=T0, ttl=TTL)


def test_a_renewal_blocked_by_a_long_sqlite_write_is_busy_not_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qf.db'}")
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()

    @event.listens_for(engine, "connect")
    def short_wait(conn: sqlite3.Connection, _record: object) -> None:
        conn.execute("PRAGMA busy_timeout=50")  # instead of 30 s, to keep the test quick

    sessions = make_session_factory(engine)
    caplog.set_level(logging.WARNING, logger="quotaflow.sync")
    with held_lease(
        sessions, org_id="00D1", holder="a", ttl=timedelta(seconds=0.3), wait_seconds=0,
        clock=lambda: datetime.now(UTC),
    ):  # fmt: skip
        # A run's long store transaction holds the database past the busy timeout.
        writer = sqlite3.connect(tmp_path / "qf.db")
        writer.execute("BEGIN IMMEDIATE")
        with pytest.raises(LeaseBusy, match="database is locked"):
            OrgLease(sessions, "00D1").renew(holder="a", now=datetime.now(UTC), ttl=TTL)
        time.sleep(0.5)  # the background renewal meets the busy database at least once
        writer.rollback()
        writer.close()
        assert OrgLease(sessions, "00D1").renew(holder="a", now=datetime.now(UTC), ttl=TTL)
    busy = [r for r in caplog.records if "was not renewed" in r.getMessage()]
    assert busy and all(r.levelno == logging.WARNING and r.exc_info is None for r in busy)
    assert "database is locked" in busy[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
