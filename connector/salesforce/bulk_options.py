"""When the connector uses Bulk API 2.0, and how long its jobs may take (set from settings)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from connector.errors import ConfigError


@dataclass(frozen=True, slots=True)
class BulkOptions:
    """When the Bulk path is used, and how long its jobs may take."""

    # Rows of one object a pull expects (the REST query's totalSize) at or above which it reads
    # them through a query job; 0 never does (QUOTAFLOW_BULK_THRESHOLD).
    query_threshold: int = 50_000
    # Records of one object a write-back sends at or above which it writes them through an
    # ingest job; 0 never does (QUOTAFLOW_BULK_WRITE_THRESHOLD).
    ingest_threshold: int = 10_000
    # Seconds a job may stay queued or in progress before it is aborted (QUOTAFLOW_BULK_TIMEOUT).
    timeout_seconds: float = 1800.0
    # Seconds an aborted ingest job is given to stop and report what it wrote.
    abort_grace_seconds: float = 60.0
    poll_first_seconds: float = 0.25
    # Polls back off by this factor to `poll_max_seconds`: a job is seen done at most half its
    # run time late (doubling let a 17 s job be seen at 31 s), and a job of a million rows
    # that runs a few minutes is still polled fewer than twenty times.
    poll_growth: float = 1.5
    poll_max_seconds: float = 20.0
    # Rows per results set (`maxRecords`): fewer, larger sets mean fewer calls.
    result_rows: int = 100_000
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    def __post_init__(self) -> None:
        if self.query_threshold < 0 or self.ingest_threshold < 0:
            raise ConfigError("Bulk API thresholds must be 0 (off) or a positive row count")
        if self.timeout_seconds <= 0 or self.result_rows < 1:
            raise ConfigError("the Bulk API timeout and result set size must be positive")

    def use_query(self, expected: int) -> bool:
        """Whether a pull expecting `expected` rows reads them through a query job."""
        return self.query_threshold > 0 and expected >= self.query_threshold

    def use_ingest(self, records: int) -> bool:
        """Whether `records` records of one object are written through an ingest job."""
        return self.ingest_threshold > 0 and records >= self.ingest_threshold
