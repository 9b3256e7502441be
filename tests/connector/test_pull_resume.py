"""A pull killed with SIGKILL after some pages: the next run loses nothing and repeats nothing."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from connector.deps import PullOptions, SyncDeps
from connector.pull import PullOutcome
from tests.store_kit import committed as in_units

if TYPE_CHECKING:
    from conftest import DevorgClient

Pull = Callable[..., PullOutcome]

# The child: the same wiring as production, page size 200, no lookback (so the resumed run
# visibly starts at the committed watermark instead of re-reading the last five minutes).
CHILD = """
import json, sys
from datetime import timedelta
from connector.deps import PullOptions, build_sync_deps
from connector.pull import pull_once
from connector.salesforce.gateway import GatewayOptions
from connector.settings import Settings

config = json.loads(open(sys.argv[1]).read())
deps = build_sync_deps(
    Settings(**config["settings"]),
    gateway_options=GatewayOptions(page_size=200),
    pull_options=PullOptions(lookback=timedelta(0)),
)
print(pull_once(deps, org_id=config["org_id"]))
"""


def _committed_deals(deps: SyncDeps, org_id: str) -> dict[str, int | None]:
    rows = in_units(deps.sessions, org_id).records.load_canonical(kind="deal", include_deleted=True)
    return {i: r.changed_run_id for i, r in rows.items()}


def _kill_after_pages(
    argv: list[str], deps: SyncDeps, org_id: str, *, at_least: int
) -> dict[str, int | None]:
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None:
            committed = _committed_deals(deps, org_id)
            if len(committed) >= at_least:
                os.kill(child.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
    return _committed_deals(deps, org_id)


@pytest.mark.slow
def test_a_killed_pull_resumes_from_the_last_committed_page(
    org: DevorgClient, deps: SyncDeps, pull: Pull, tmp_path: Path
) -> None:
    org_id = org.info.org_id
    org.make_deals(org.make_reps(3), 3000)
    devorg_ids = {r["Id"] for r in org.query("SELECT Id FROM Opportunity")}
    config = tmp_path / "child.json"
    config.write_text(json.dumps({"settings": dataclasses.asdict(deps.settings), "org_id": org_id}))
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    time.sleep(1.1)  # let the creates fall before the child's run start (whole seconds)
    org.faults({"latency": {"ms": 120}})  # slow enough to kill it after a few pages

    committed = _kill_after_pages(
        [sys.executable, str(script), str(config)], deps, org_id, at_least=600
    )
    assert 600 <= len(committed) < len(devorg_ids)  # killed in the middle
    mark = in_units(deps.sessions, org_id).records.load_watermarks()["Opportunity"]
    killed_run = next(iter(set(committed.values())))
    assert [r.status for r in in_units(deps.sessions, org_id).runs.list_runs()] == ["running"]

    org.control("DELETE", "faults")
    deps = dataclasses.replace(deps, options=PullOptions(lookback=timedelta(0)))
    outcome = pull(deps, org_id=org_id)
    assert outcome.ok and outcome.result is not None, outcome.error
    assert (
        in_units(deps.sessions, org_id).runs.fail_interrupted_runs(now=deps.clock(), keep=None) == 1
    )

    after = _committed_deals(deps, org_id)
    again = outcome.result.changed["deal"]
    assert set(after) == devorg_ids  # nothing lost
    assert again.isdisjoint(committed)  # nothing twice
    assert again | set(committed) == devorg_ids
    assert all(after[i] == killed_run for i in committed)
    opp = outcome.result.objects["Opportunity"]
    # It started at the committed watermark: only rows at that same SystemModstamp repeat.
    assert opp.fetched - opp.duplicates == len(devorg_ids) - len(committed)
    assert (
        in_units(deps.sessions, org_id).records.load_watermarks()["Opportunity"].modstamp
        >= mark.modstamp
    )
