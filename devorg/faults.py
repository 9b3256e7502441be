"""Fault injection for the devorg (test control plane).

`POST /__devorg/faults` merges a JSON object into the active faults; `GET` shows them;
`DELETE` clears all. Every key is optional:

    {
      "expire_sessions": true,                  # every token issued so far is invalid now
      "expire_sessions_every": 30,              # ...and again every 30 s (0 turns it off)
      "request_limit_exceeded": {"calls": 5},   # next 5 API calls get 403 REQUEST_LIMIT_EXCEEDED
      "request_limit_exceeded": {"seconds": 10},#   or every call for the next 10 s
      "unavailable": {"calls": 3},              # next 3 API calls get 503 SERVER_UNAVAILABLE
      "latency": {"ms": 200, "jitter_ms": 50},  # every API call sleeps 200 +/- 50 ms
      "lock_rows": {"006...": 2},               # next 2 writes to that record: UNABLE_TO_LOCK_ROW
      "validation": {"006...": "Stage locked"}, # writes to that record fail with
                                                #   FIELD_CUSTOM_VALIDATION_EXCEPTION until
                                                #   cleared; a null message removes one id
      "bulk_job_failure": {"jobs": 1, "after_rows": 500}
                                                # the next Bulk API 2.0 job processed fails
                                                #   (state Failed) after 500 rows: an ingest
                                                #   job keeps those writes, the rest of its
                                                #   rows are unprocessed
    }

Faults apply to `/services/data/...` calls only (not OAuth, not `/__devorg`).
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from devorg.errors import ApiError, limit_exceeded, unavailable


class FaultError(ValueError):
    """The faults document is malformed."""


def _now_ms() -> int:
    return int(time.time() * 1000)


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FaultError(f"{name} must be a non-negative integer")
    return value


class Faults:
    """The active faults of one devorg process; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.sessions_expired_at_ms = 0
        self.expire_every_s = 0.0
        self.expire_every_start_ms = 0
        self.limit_calls = 0
        self.limit_until_ms = 0
        self.unavailable_calls = 0
        self.latency_ms = 0
        self.jitter_ms = 0
        self.lock_rows: dict[str, int] = {}
        self.validation: dict[str, str] = {}
        self.bulk_failures = 0
        self.bulk_failure_after = 0

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._reset()

    def apply(self, doc: Any) -> None:
        """Merge a faults document (shape in the module docstring); FaultError if malformed."""
        if not isinstance(doc, dict):
            raise FaultError("faults must be a JSON object")
        known = {
            "expire_sessions",
            "expire_sessions_every",
            "request_limit_exceeded",
            "unavailable",
            "latency",
            "lock_rows",
            "validation",
            "bulk_job_failure",
        }
        unknown = sorted(set(doc) - known)
        if unknown:
            raise FaultError(f"unknown fault(s): {', '.join(unknown)}")
        with self._lock:
            self._apply_sessions(doc)
            self._apply_calls(doc)
            self._apply_records(doc)

    def _apply_sessions(self, doc: dict[str, Any]) -> None:
        now = _now_ms()
        if doc.get("expire_sessions"):
            self.sessions_expired_at_ms = now
        if "expire_sessions_every" in doc:
            every = doc["expire_sessions_every"]
            if isinstance(every, bool) or not isinstance(every, int | float) or every < 0:
                raise FaultError("expire_sessions_every must be a number of seconds")
            self.expire_every_s = float(every)
            self.expire_every_start_ms = now

    def _apply_calls(self, doc: dict[str, Any]) -> None:
        if "request_limit_exceeded" in doc:
            spec = _object(doc["request_limit_exceeded"], "request_limit_exceeded")
            self.limit_calls = _count(spec.get("calls", 0), "request_limit_exceeded.calls")
            seconds = _count(spec.get("seconds", 0), "request_limit_exceeded.seconds")
            self.limit_until_ms = _now_ms() + seconds * 1000 if seconds else 0
        if "unavailable" in doc:
            spec = _object(doc["unavailable"], "unavailable")
            self.unavailable_calls = _count(spec.get("calls", 0), "unavailable.calls")
        if "latency" in doc:
            spec = _object(doc["latency"], "latency")
            self.latency_ms = _count(spec.get("ms", 0), "latency.ms")
            self.jitter_ms = _count(spec.get("jitter_ms", 0), "latency.jitter_ms")
        if "bulk_job_failure" in doc:
            spec = _object(doc["bulk_job_failure"], "bulk_job_failure")
            self.bulk_failures = _count(spec.get("jobs", 1), "bulk_job_failure.jobs")
            self.bulk_failure_after = _count(
                spec.get("after_rows", 0), "bulk_job_failure.after_rows"
            )

    def _apply_records(self, doc: dict[str, Any]) -> None:
        for record_id, attempts in _object(doc.get("lock_rows", {}), "lock_rows").items():
            self.lock_rows[record_id] = _count(attempts, f"lock_rows.{record_id}")
        for record_id, message in _object(doc.get("validation", {}), "validation").items():
            if message is None:
                self.validation.pop(record_id, None)
            elif isinstance(message, str) and message:
                self.validation[record_id] = message
            else:
                raise FaultError(f"validation.{record_id} must be a message or null")

    def snapshot(self) -> dict[str, Any]:
        """The active faults, for `GET /__devorg/faults`."""
        with self._lock:
            return {
                "sessions_expired_at_ms": self.sessions_expired_at_ms or None,
                "expire_sessions_every": self.expire_every_s or None,
                "request_limit_exceeded": {
                    "calls": self.limit_calls,
                    "until_ms": self.limit_until_ms or None,
                },
                "unavailable": {"calls": self.unavailable_calls},
                "latency": {"ms": self.latency_ms, "jitter_ms": self.jitter_ms},
                "lock_rows": dict(self.lock_rows),
                "validation": dict(self.validation),
                "bulk_job_failure": {
                    "jobs": self.bulk_failures,
                    "after_rows": self.bulk_failure_after,
                },
            }

    def sessions_valid_after_ms(self) -> int:
        """Tokens issued before this instant are expired."""
        with self._lock:
            cutoff = self.sessions_expired_at_ms
            if self.expire_every_s > 0:
                period_ms = int(self.expire_every_s * 1000)
                elapsed = _now_ms() - self.expire_every_start_ms
                cutoff = max(cutoff, self.expire_every_start_ms + elapsed // period_ms * period_ms)
            return cutoff

    def delay_seconds(self) -> float:
        """How long this API call should sleep (latency fault)."""
        with self._lock:
            if not self.latency_ms:
                return 0.0
            jitter = random.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0.0
            return max(0.0, self.latency_ms + jitter) / 1000

    def call_failure(self) -> ApiError | None:
        """A 503 or 403 this API call must answer with, consuming one injected failure."""
        with self._lock:
            if self.unavailable_calls > 0:
                self.unavailable_calls -= 1
                return unavailable()
            if self.limit_calls > 0:
                self.limit_calls -= 1
                return limit_exceeded()
            if self.limit_until_ms and _now_ms() < self.limit_until_ms:
                return limit_exceeded()
        return None

    def bulk_job_failure(self) -> int | None:
        """After how many rows the Bulk API job now starting must fail (None: it does not)."""
        with self._lock:
            if self.bulk_failures <= 0:
                return None
            self.bulk_failures -= 1
            return self.bulk_failure_after

    def record_failure(self, record_id: str) -> ApiError | None:
        """UNABLE_TO_LOCK_ROW or a validation-rule failure injected for a write to a record."""
        with self._lock:
            left = self.lock_rows.get(record_id, 0)
            if left > 0:
                self.lock_rows[record_id] = left - 1
                return ApiError(
                    400,
                    "UNABLE_TO_LOCK_ROW",
                    "unable to obtain exclusive access to this record or 1 records: " + record_id,
                    fields=[],
                )
            message = self.validation.get(record_id)
        if message is not None:
            return ApiError(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", message, fields=[])
        return None


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FaultError(f"{name} must be a JSON object")
    return value
