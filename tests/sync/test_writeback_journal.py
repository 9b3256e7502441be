"""A run killed between a write-back call and the commit settling it: on resume the journaled
batch is read back from Salesforce, what landed is settled (its call counted once) and nothing
is written twice; a batch killed before it was sent is sent; a record changed in Salesforce
meanwhile is written again. Checked against the devorg's counters, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connector.salesforce.write_batches import WriteOptions
from connector.settings import Settings
from connector.store.models import SyncRun
from connector.store.results import WritebackValue
from connector.store.writeback_batches import WritebackBatch
from connector.sync import SyncOptions, run_sync
from connector.sync.run import run_locked

from .conftest import Org, next_second, running_org  # type: ignore[import-not-found]

OPTIONS = SyncOptions(write=WriteOptions(batch_size=100))


class Killed(BaseException):
    """The process dies: nothing in the run catches this."""


class Wire:
    """Wraps the gateway's sObject Collections update: records what each call sent, and
    kills the run before or after the call numbered `kill_at`."""

    def __init__(self, org: Org, *, kill_at: int | None, before: bool) -> None:
        self.sent: list[list[dict[str, Any]]] = []
        self.kill_at, self.before = kill_at, before
        self._real = org.deps.gateway.composite_update
        org.deps.gateway.composite_update = self  # type: ignore[method-assign]

    def __call__(self, records: list[dict[str, Any]], **kw: Any) -> Any:
        if self.kill_at == len(self.sent) + 1 and self.before:
            self.kill_at = None
            raise Killed
        result = self._real(records, **kw)
        self.sent.append(records)
        if self.kill_at == len(self.sent):
            self.kill_at = None
            raise Killed
        return result

    def ids(self, calls: slice = slice(None)) -> set[str]:
        return {r["id"] for call in self.sent[calls] for r in call}


@contextmanager
def _org(tmp_path: Path, settings: Settings) -> Iterator[Org]:
    with running_org(tmp_path, database_url=settings.database_url) as org:
        org.client.http.post(f"{org.info.instance_url}/__devorg/stats/reset")
        yield org


def _killed_run(org: Org) -> int:
    with pytest.raises(Killed):
        run_sync(org.deps, mode="full", options=OPTIONS)
    with org.deps.sessions() as session:
        run = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None and run.status == "running"
        return run.id


def _resume(org: Org, run_id: int) -> Any:
    """The same run resumed by another process (as a worker resumes a dead worker's run)."""
    return run_locked(org.deps, org_id=org.org_id, mode="full", run_id=run_id, options=OPTIONS)


def _recorded_write_calls(org: Org) -> int:
    with org.deps.sessions() as session:
        runs = session.scalars(select(SyncRun)).all()
    return sum(int((r.counts or {}).get("write_calls", 0)) for r in runs)


def _settled_everything(org: Org) -> None:
    with org.deps.sessions() as session:
        assert not session.scalars(select(WritebackValue).where(WritebackValue.pending)).all()
        journal = session.scalars(select(WritebackBatch)).all()
    assert journal and all(b.settled_at is not None for b in journal)
    next_second()
    check = run_sync(org.deps, mode="incremental", dry_run=True)
    assert check.to_write == 0, check.writes[:3]  # the CRM holds every wanted value


def _counters(org: Org) -> tuple[int, int]:
    stats = org.client.stats()
    return int(stats["by_kind"].get("composite_update", 0)), int(stats["noop_updates"])


def test_a_batch_that_landed_before_the_kill_is_not_sent_again(
    tmp_path: Path, store_settings: Settings
) -> None:
    with _org(tmp_path, store_settings) as org:
        wire = Wire(org, kill_at=2, before=False)
        run_id = _killed_run(org)
        landed = wire.ids(slice(1, 2))
        assert landed and len(wire.sent) == 2
        resumed = _resume(org, run_id)
        assert resumed.status == "succeeded", resumed.error
        assert not landed & wire.ids(slice(2, None)), "a landed batch was sent again"
        assert not landed & {w.record_id for w in resumed.writes}
        calls, noop = _counters(org)
        assert noop == 0
        # The killed attempt's calls (settled, and landed) are the resumed run's calls too.
        assert calls == len(wire.sent) == resumed.write_calls == _recorded_write_calls(org)
        _settled_everything(org)


def test_a_batch_killed_before_it_was_sent_is_sent_on_resume(
    tmp_path: Path, store_settings: Settings
) -> None:
    with _org(tmp_path, store_settings) as org:
        wire = Wire(org, kill_at=2, before=True)
        run_id = _killed_run(org)
        assert len(wire.sent) == 1
        resumed = _resume(org, run_id)
        assert resumed.status == "succeeded", resumed.error
        assert wire.ids(slice(0, 1)).isdisjoint(wire.ids(slice(1, None)))
        assert len(wire.sent) > 1  # the journaled, never-sent batch went out on resume
        calls, noop = _counters(org)
        assert noop == 0
        assert calls == len(wire.sent) == _recorded_write_calls(org)
        _settled_everything(org)


def test_a_record_changed_in_salesforce_meanwhile_is_written_again(tmp_path: Path) -> None:
    with running_org(tmp_path) as org:
        wire = Wire(org, kill_at=1, before=False)
        _killed_run(org)
        first = wire.sent[0]
        changed, untouched = first[0], first[1:]
        field = next(k for k in changed if k not in ("attributes", "id"))
        obj = changed["attributes"]["type"]
        other = -1 if isinstance(changed[field], (int, float)) else "changed by hand"
        org.client.patch(obj, changed["id"], {field: other})
        org.client.http.post(f"{org.info.instance_url}/__devorg/stats/reset")
        next_second()
        after = run_sync(org.deps, mode="incremental", options=OPTIONS)
        assert after.status == "succeeded", after.error
        again = wire.ids(slice(1, None))
        assert changed["id"] in again
        assert again.isdisjoint({r["id"] for r in untouched})
        written = org.client.query(f"SELECT Id, {field} FROM {obj} WHERE Id = '{changed['id']}'")
        assert written[0][field] == changed[field]
        calls, noop = _counters(org)
        assert noop == 0
        # The landed first call is recorded by the run that found it (the killed run failed).
        assert calls + 1 == _recorded_write_calls(org) == after.write_calls
        _settled_everything(org)
