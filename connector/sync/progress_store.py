"""Progress of a sync run kept in the database, so the ops console can show it live.

The current stage and its done/total go into `SyncRun.counts["progress"]` of the running
run (the run's final counts replace them). Writes are throttled: at every stage change and
at most once per `min_interval` seconds while a stage advances.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from connector.store.results import SessionFactory
from connector.store.unit import OrgUnit
from connector.sync.progress import Progress

log = logging.getLogger("quotaflow.sync")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StoredProgress:
    """A Progress that persists the stage and counts of the org's running run."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        org_id: str,
        run_id: int | None = None,
        clock: Callable[[], datetime] = _utc_now,
        min_interval: float = 1.0,
    ) -> None:
        self._sessions = sessions
        self._org_id = org_id
        self._run_id = run_id
        self._clock = clock
        self._min_interval = min_interval
        self._state: dict[str, Any] = {}
        self._saved_at = float("-inf")

    def _save(self) -> None:
        self._saved_at = time.monotonic()
        try:
            with OrgUnit(self._sessions, self._org_id) as unit:
                unit.runs.record_progress(
                    run_id=self._run_id, progress=self._state, now=self._clock()
                )
                unit.commit()
        except Exception:  # progress is advisory: a failed write must never fail the run
            log.warning("could not store sync progress", exc_info=True)

    def stage(self, name: str, detail: str = "") -> None:
        """A new stage began: store it at once."""
        self._state = {"stage": name, "detail": detail, "done": 0, "total": 0}
        self._save()

    def advance(self, done: int, total: int) -> None:
        """Part of the stage is done: store it if the last write is old enough or it is over."""
        self._state = {**self._state, "done": done, "total": total}
        if done >= total or time.monotonic() - self._saved_at >= self._min_interval:
            self._save()

    def finish(self) -> None:
        """Nothing to do: the run's final counts replace the progress."""


class BothProgress:
    """Reports to two Progress displays (the terminal and the database)."""

    def __init__(self, first: Progress, second: Progress) -> None:
        self._all = (first, second)

    def stage(self, name: str, detail: str = "") -> None:
        """Tell both."""
        for p in self._all:
            p.stage(name, detail)

    def advance(self, done: int, total: int) -> None:
        """Tell both."""
        for p in self._all:
            p.advance(done, total)

    def finish(self) -> None:
        """Tell both."""
        for p in self._all:
            p.finish()
