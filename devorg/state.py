"""The live state of one devorg process: database, secrets, faults, usage and stats."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from devorg.bulk import BulkJobs
from devorg.config import DevorgConfig
from devorg.credentials import Credentials
from devorg.faults import Faults
from devorg.locators import Locators
from devorg.store import Database
from devorg.tls import TlsFiles

_DAY_MS = 24 * 3600 * 1000


class ApiUsage:
    """API calls in the last 24 hours, as reported by `Sforce-Limit-Info`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._calls: deque[int] = deque()
        self._lock = threading.Lock()

    def _trim(self, now: int) -> None:
        while self._calls and self._calls[0] <= now - _DAY_MS:
            self._calls.popleft()

    def used(self) -> int:
        """Calls counted in the last 24 hours."""
        with self._lock:
            self._trim(int(time.time() * 1000))
            return len(self._calls)

    def try_count(self) -> bool:
        """Count one call; False (and not counted) when the daily limit is already reached."""
        now = int(time.time() * 1000)
        with self._lock:
            self._trim(now)
            if len(self._calls) >= self.limit:
                return False
            self._calls.append(now)
            return True

    def reset(self, *, limit: int | None = None) -> None:
        """Forget every counted call (and optionally change the limit)."""
        with self._lock:
            self._calls.clear()
            if limit is not None:
                self.limit = limit


class Stats:
    """API calls by endpoint kind, plus rejected calls by error code."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()
        self.noop_updates = 0

    def count(self, kind: str) -> None:
        """One API call of this kind."""
        with self._lock:
            self.calls[kind] += 1

    def noop_update(self) -> None:
        """One record updated to the values it already held (a write sent twice)."""
        with self._lock:
            self.noop_updates += 1

    def reject(self, error_code: str) -> None:
        """One call refused before it ran (401, 403, 503)."""
        with self._lock:
            self.rejected[error_code] += 1

    def snapshot(self) -> dict[str, Any]:
        """The `GET /__devorg/stats` body."""
        with self._lock:
            return {
                "api_calls": sum(self.calls.values()),
                "by_kind": dict(sorted(self.calls.items())),
                "rejected": dict(sorted(self.rejected.items())),
                "noop_updates": self.noop_updates,
            }

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self.calls.clear()
            self.rejected.clear()
            self.noop_updates = 0


@dataclass
class Org:
    """Everything the Flask app reads and changes."""

    config: DevorgConfig
    db: Database
    creds: Credentials
    tls: TlsFiles
    locators: Locators
    faults: Faults = field(default_factory=Faults)
    stats: Stats = field(default_factory=Stats)
    usage: ApiUsage = field(default_factory=lambda: ApiUsage(100_000))
    base_url: str = ""
    seeded: dict[str, Any] | None = None  # seed summary when this process seeded the org
    bulk: BulkJobs = field(default_factory=BulkJobs)  # Bulk API 2.0 jobs and their worker
