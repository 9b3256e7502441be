"""Shaping an org's operations facts: lag (time since the last successful run), API usage,
queue state; the same JSON for the console, the API and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connector.store.org_reads import OrgFacts


def lag_seconds(facts: OrgFacts, *, now: datetime) -> int | None:
    """Whole seconds since the org's last successful run (None: never succeeded)."""
    if facts.last_success_at is None:
        return None
    return max(0, int((now - facts.last_success_at).total_seconds()))


def queue_state(facts: OrgFacts) -> str:
    """`running`, `queued`, or `idle`."""
    if facts.running:
        return "running"
    return "queued" if facts.queued else "idle"


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def org_json(facts: OrgFacts, *, now: datetime) -> dict[str, Any]:
    """The JSON of `GET /api/v1/org` (and a row of `quotaflow orgs list --json`)."""
    return {
        "org_id": facts.org_id,
        "status": facts.status or "unregistered",
        "source": facts.source,
        "instance_url": facts.instance_url,
        "connected_by": facts.connected_by,
        "last_run": None
        if facts.last_run_id is None
        else {
            "id": facts.last_run_id,
            "status": facts.last_run_status,
            "finished_at": _stamp(facts.last_run_finished_at),
        },
        "last_success_at": _stamp(facts.last_success_at),
        "lag_seconds": lag_seconds(facts, now=now),
        "api_usage": {"used": facts.api_usage, "limit": facts.api_limit},
        "queue": {"state": queue_state(facts), "queued": facts.queued, "running": facts.running},
    }


def human_lag(seconds: int | None) -> str:
    """`42 s`, `3 min`, `2 h 5 min`, or `never synced`."""
    if seconds is None:
        return "never synced"
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"
