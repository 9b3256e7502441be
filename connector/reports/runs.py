"""Sync runs shaped for the ops console and the runs API (pure: no I/O, `now` is given)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connector.store.run_reads import RunRecord

STAGES = ("pull", "calculate", "store", "write")
STALE_SECONDS = 120  # a running run silent this long has probably lost its process
FINISHED = ("succeeded", "partial", "failed")


def _iso(stamp: datetime | None) -> str | None:
    return stamp.isoformat().replace("+00:00", "Z") if stamp is not None else None


def run_json(run: RunRecord) -> dict[str, Any]:
    """The API shape of a run."""
    return {
        "id": run.id,
        "mode": run.mode,
        "status": run.status,
        "dry_run": run.dry_run,
        "requested_by": run.requested_by,
        "requested_at": _iso(run.requested_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "heartbeat_at": _iso(run.heartbeat_at),
        "duration_ms": run.duration_ms,
        "counts": run.counts,
        "api_calls": run.api_calls,
        "api_usage": run.api_usage,
        "api_limit": run.api_limit,
        "error": run.error,
    }


def duration_text(ms: int | None) -> str:
    """`850 ms`, `12.3 s`, `4 min 05 s`, `1 h 02 min`; a dash for none."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def seconds_text(seconds: int) -> str:
    """Whole seconds for a live clock: `7 s`, `2 min 05 s`."""
    seconds = max(0, seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def when_text(stamp: datetime | None) -> str:
    """`2026-01-31 17:04:05 UTC`; a dash for none."""
    return stamp.strftime("%Y-%m-%d %H:%M:%S UTC") if stamp is not None else "—"


def _count(run: RunRecord, key: str) -> int | None:
    value = run.counts.get(key)
    return int(value) if isinstance(value, int | float) and run.status in FINISHED else None


@dataclass(frozen=True, slots=True)
class RunRow:
    """One line of the run history."""

    id: int
    mode: str
    status: str
    dry_run: bool
    requested_by: str
    requested_at: str
    started: str
    duration: str
    pulled: int | None
    mapped: int | None
    issues: int | None
    written: int | None
    api_calls: int
    usage: str
    error: str | None


def usage_text(used: int | None, limit: int | None) -> str:
    """`1,234 / 15,000` API requests in the org's 24 h window; a dash when unknown."""
    if used is None or not limit:
        return "—"
    return f"{used:,} / {limit:,}"


def run_row(run: RunRecord) -> RunRow:
    """The history line of a run."""
    return RunRow(
        id=run.id,
        mode=run.mode,
        status=run.status,
        dry_run=run.dry_run,
        requested_by=run.requested_by or "—",
        requested_at=when_text(run.requested_at),
        started=when_text(run.started_at),
        duration=duration_text(run.duration_ms),
        pulled=_count(run, "pulled"),
        mapped=_count(run, "mapped"),
        issues=_count(run, "issues"),
        written=_count(run, "written"),
        api_calls=run.api_calls,
        usage=usage_text(run.api_usage, run.api_limit),
        error=run.error,
    )


@dataclass(frozen=True, slots=True)
class ProgressView:
    """Where an active run is: its stage, step, done/total and how fresh that is."""

    run_id: int
    status: str
    mode: str
    stage: str
    step: int  # 1-based position of the stage in STAGES; 0 before the first
    steps: int
    done: int
    total: int
    api_calls: int
    elapsed: str
    silent_seconds: int | None
    stale: bool
    text: str


def progress_view(run: RunRecord, *, now: datetime) -> ProgressView:
    """The progress of a queued or running run."""
    state = run.counts.get("progress") if run.status == "running" else None
    state = state if isinstance(state, dict) else {}
    stage = str(state.get("stage") or "")
    step = STAGES.index(stage) + 1 if stage in STAGES else 0
    done, total = int(state.get("done") or 0), int(state.get("total") or 0)
    since = run.started_at or run.requested_at
    elapsed = seconds_text(int((now - since).total_seconds()))
    beat = run.heartbeat_at or run.started_at
    silent = int((now - beat).total_seconds()) if run.status == "running" and beat else None
    return ProgressView(
        run_id=run.id,
        status=run.status,
        mode=run.mode,
        stage=stage,
        step=step,
        steps=len(STAGES),
        done=done,
        total=total,
        api_calls=run.api_calls,
        elapsed=elapsed,
        silent_seconds=silent,
        stale=silent is not None and silent > STALE_SECONDS,
        text=progress_text(run.status, stage, step, done, total),
    )


def progress_text(status: str, stage: str, step: int, done: int, total: int) -> str:
    """`Waiting for the clock`, `Step 2 of 4: calculate`, `Step 4 of 4: write 200/450`."""
    if status == "queued":
        return "Waiting for the clock to start it"
    if status != "running":
        return status.capitalize()
    if not stage:
        return "Starting"
    head = f"Step {step} of {len(STAGES)}: {stage}" if step else stage
    return f"{head} {done:,}/{total:,}" if total else head


def usage_points(runs: list[RunRecord], *, last: int = 20) -> list[tuple[int, int, str]]:
    """(run id, API calls, status) of the last finished runs, oldest first, for the chart."""
    finished = [r for r in runs if r.status in FINISHED]
    finished.sort(key=lambda r: (r.finished_at or r.requested_at, r.id))
    return [(r.id, r.api_calls, r.status) for r in finished[-last:]]


def latest_usage(runs: list[RunRecord]) -> tuple[int, int] | None:
    """(used, limit) of the org's API requests as last reported by a run."""
    reported = [r for r in runs if r.api_usage is not None and r.api_limit]
    if not reported:
        return None
    newest = max(reported, key=lambda r: (r.heartbeat_at or r.requested_at, r.id))
    return int(newest.api_usage or 0), int(newest.api_limit or 0)


def counts_table(run: RunRecord) -> list[tuple[str, Any]]:
    """The run's counts as (label, value) rows, stage timings left out."""
    labels = {
        "pulled": "Records pulled",
        "mapped": "Mapped",
        "changed": "Changed",
        "reps_recomputed": "Reps recomputed",
        "issues": "Issues",
        "to_write": "Records to write",
        "written": "Written",
        "write_calls": "Write calls",
    }
    return [(label, run.counts[key]) for key, label in labels.items() if key in run.counts]


def stage_times(run: RunRecord) -> list[tuple[str, str]]:
    """(stage, duration) of a finished run, in stage order."""
    seconds = run.counts.get("stage_seconds")
    if not isinstance(seconds, dict):
        return []
    order = {name: i for i, name in enumerate(STAGES)}
    items = sorted(seconds.items(), key=lambda kv: order.get(kv[0], len(STAGES)))
    return [(name, duration_text(int(float(value) * 1000))) for name, value in items]
