"""One pull as a SyncRun from start to finish (the CLI, the bench and tests use it; the sync
loop of the next issue adds mapping, recompute and write-back around `run_pull`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connector.deps import SyncDeps
from connector.errors import ConnectorError
from connector.pull.puller import run_pull
from connector.pull.result import PullResult
from connector.store.repositories import RunUsage


@dataclass(frozen=True, slots=True)
class PullOutcome:
    """The run id, and the result or the error that failed the run."""

    run_id: int
    result: PullResult | None
    error: str | None

    @property
    def ok(self) -> bool:
        """True when the run succeeded."""
        return self.error is None


def pull_once(
    deps: SyncDeps,
    *,
    org_id: str,
    mode: str = "incremental",
    now: datetime | None = None,
    requested_by: str | None = None,
) -> PullOutcome:
    """Record a SyncRun, pull, and finish the run `succeeded` or `failed` with the reason."""
    now = now or deps.clock()
    with deps.unit(org_id) as unit:
        run_id = unit.runs.create_run(mode=mode, now=now, requested_by=requested_by)
        unit.runs.start_run(run_id=run_id, now=now)
        unit.commit()
    calls_before = deps.gateway.calls
    try:
        result = run_pull(deps, org_id=org_id, mode=mode, run_id=run_id, now=now)
    except ConnectorError as exc:
        usage = deps.gateway.usage
        with deps.unit(org_id) as unit:
            unit.runs.finish_run(
                run_id=run_id,
                status="failed",
                now=deps.clock(),
                counts={},
                usage=RunUsage(
                    deps.gateway.calls - calls_before,
                    usage.used if usage else None,
                    usage.limit if usage else None,
                ),
                error=f"{type(exc).__name__}: {exc}",
            )
            unit.commit()
        return PullOutcome(run_id, None, f"{type(exc).__name__}: {exc}")
    with deps.unit(org_id) as unit:
        unit.runs.finish_run(
            run_id=run_id,
            status="succeeded",
            now=deps.clock(),
            counts=result.counts(),
            usage=RunUsage(result.api_calls, result.api_used, result.api_limit),
        )
        unit.commit()
    return PullOutcome(run_id, result, None)
