"""What a pull did: counts per object, the records that changed, API calls used."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class ObjectCounts:
    """Counts for one object in one pull."""

    fetched: int = 0  # rows Salesforce returned (lookback overlap included)
    pages: int = 0
    stored: int = 0  # raw records written
    duplicates: int = 0  # already stored at that SystemModstamp
    unchanged: int = 0  # mapped inputs unchanged (our write-back echo)
    changed: int = 0  # canonical records created, updated or deleted
    deleted: int = 0  # IsDeleted rows
    vanished: int = 0  # gone from Salesforce altogether (full reconcile)
    issues: int = 0  # records that failed to map
    restarts: int = 0  # queries re-run after an expired query locator
    bulk_jobs: int = 0  # Bulk API 2.0 query jobs that read rows
    bulk_fallbacks: int = 0  # query jobs abandoned (failed, timed out): REST read on

    def plus(self, **more: int) -> ObjectCounts:
        """These counts with `more` added."""
        return replace(self, **{k: getattr(self, k) + v for k, v in more.items()})


@dataclass(frozen=True, slots=True)
class PullResult:
    """The outcome of `run_pull`, for the sync loop and the run's summary."""

    org_id: str
    run_id: int
    mode: str
    objects: Mapping[str, ObjectCounts]
    changed: Mapping[str, frozenset[str]]  # canonical kind -> record ids that changed
    api_calls: int
    api_used: int | None
    api_limit: int | None
    seconds: float
    mapping_version_id: int | None = None
    field_lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def changed_kinds(self) -> frozenset[str]:
        """Canonical kinds with at least one changed record."""
        return frozenset(kind for kind, ids in self.changed.items() if ids)

    def counts(self) -> dict[str, Any]:
        """Counts per object, as stored on the SyncRun."""
        return {name: asdict(c) for name, c in self.objects.items()}
