"""A sync killed in the middle of write-back: the next run ends with the CRM correct and
every record written exactly once (the unsettled ones are pending; the echo of what was
written before the kill is read back as equal and not written again)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.store.models import SyncRun
from connector.sync import SyncOptions, run_sync

from .conftest import (  # type: ignore[import-not-found]
    crm_values,
    env_for,
    expected_values,
    export_org,
    next_second,
    run_calc,
    running_org,
)

CHILD = textwrap.dedent(
    """
    from datetime import timedelta
    from connector.deps import build_sync_deps
    from connector.settings import load_settings
    from connector.sync import SyncOptions, run_sync

    deps = build_sync_deps(load_settings())
    run_sync(deps, mode="full", options=SyncOptions(lease_ttl=timedelta(seconds=2)))
    """
)


@pytest.mark.slow
def test_killed_during_writeback_then_run_again(tmp_path: Path) -> None:
    with running_org(tmp_path) as org:
        org.client.faults({"latency": {"ms": 150, "jitter_ms": 0}})
        env = {**os.environ, **env_for(org.info, org.settings.database_url)}
        log = (tmp_path / "child.log").open("w")
        child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stderr=log)
        deadline = time.monotonic() + 120
        while org.client.write_calls() < 4:
            if child.poll() is not None:
                raise AssertionError((tmp_path / "child.log").read_text()[-3000:])
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait()
        time.sleep(1.0)  # a request in flight at the kill still completes on the server
        org.client.faults({"latency": {"ms": 0, "jitter_ms": 0}})

        keys_of = _written_keys(org)
        first = keys_of()
        assert first, "the first run wrote nothing before it was killed"
        next_second()
        options = SyncOptions(lease_wait_seconds=30)
        second = run_sync(org.deps, mode="incremental", options=options)
        assert second.status == "succeeded", second.error
        again = {(w.object_name, w.record_id) for w in second.writes}
        assert not first & again, "a record written before the kill was written again"

        as_of = org.deps.clock().date()
        start, end = f"{as_of.year - 1}-01-01", f"{as_of.year}-12-31"
        exported = export_org(org.client, tmp_path / "ref")
        calc_out = run_calc(tmp_path / "ref", start=start, end=end)
        expected = expected_values(
            calc_out, exported, as_of=as_of.isoformat(), window=(start, end), estimates={}
        )
        actual = crm_values(exported, expected.keys())
        wrong = [k for k, v in expected.items() if {f: actual[k][f] for f in v} != v]
        assert not wrong, wrong[:3]
        # Every record now holding a value got it from exactly one of the two runs.
        assert first | again == keys_of()
        with org.deps.sessions() as session:
            runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        assert [(r.status, r.error) for r in runs[:1]] == [
            ("failed", "interrupted (process ended)")
        ]


def _written_keys(org):  # type: ignore[no-untyped-def]
    def keys() -> set[tuple[str, str]]:
        users = org.client.query(
            "SELECT Id FROM User WHERE Earnings_To_Date__c != null OR Quota_Attainment__c != null"
        )
        opps = org.client.query(
            "SELECT Id FROM Opportunity WHERE SPIFF_Status__c != null "
            "OR Estimated_Commission__c != null"
        )
        return {("User", u["Id"]) for u in users} | {("Opportunity", o["Id"]) for o in opps}

    return keys
