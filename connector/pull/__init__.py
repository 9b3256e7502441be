"""The pull side of the connector: object specs, the incremental puller, the full reconcile.

`run_pull(deps, org_id=..., mode="incremental"|"full", run_id=..., now=...)` is what the
sync loop calls; `pull_once` wraps it in a SyncRun.
"""

from __future__ import annotations

from connector.pull.puller import run_pull
from connector.pull.result import ObjectCounts, PullResult
from connector.pull.run import PullOutcome, pull_once

__all__ = ["ObjectCounts", "PullOutcome", "PullResult", "pull_once", "run_pull"]
