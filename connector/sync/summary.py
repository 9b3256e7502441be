"""What a sync run did, for the CLI, the demo, the clock's log and the bench."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    """One record's fields that a run writes (or, in a dry run, would write)."""

    object_name: str
    record_id: str
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SyncSummary:
    """Counts of one run (pulled, mapped, issues, written, API calls, seconds)."""

    run_id: int
    org_id: str
    mode: str
    status: str  # succeeded | partial | failed
    dry_run: bool = False
    pulled: int = 0
    mapped: int = 0
    changed: int = 0
    reps_recomputed: int = 0
    issues: int = 0
    to_write: int = 0
    written: int = 0
    write_calls: int = 0
    api_calls: int = 0
    seconds: float = 0.0
    error: str | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    writes: tuple[PlannedWrite, ...] = ()

    def counts(self) -> dict[str, Any]:
        """The counts stored on the SyncRun row."""
        return {
            "pulled": self.pulled,
            "mapped": self.mapped,
            "changed": self.changed,
            "reps_recomputed": self.reps_recomputed,
            "issues": self.issues,
            "to_write": self.to_write,
            "written": self.written,
            "write_calls": self.write_calls,
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
        }

    def lines(self) -> list[str]:
        """The human summary printed at the end of a run."""
        verb = "would write" if self.dry_run else "written"
        done = self.to_write if self.dry_run else self.written
        head = f"sync run {self.run_id} ({self.mode}{', dry run' if self.dry_run else ''}): "
        out = [
            head + self.status,
            f"  pulled {self.pulled:,}  mapped {self.mapped:,}  changed {self.changed:,}  "
            f"reps recomputed {self.reps_recomputed:,}",
            f"  issues {self.issues:,}  {verb} {done:,} records in "
            f"{self.write_calls:,} calls  API calls {self.api_calls:,}  {self.seconds:.2f} s",
        ]
        if self.error:
            out.append(f"  error: {self.error}")
        return out
