"""Gathering a run's inputs from the store: canonical records and what changed since the last
committed calculation, and the lease that keeps one run per org at a time."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from calc.adjustments import Adjustment
from calc.currency import Rates
from calc.model import Deal, Rep, Split, TeamMember
from connector.errors import RetriableError
from connector.pull.codec import decode
from connector.store.results import SessionFactory
from connector.store.unit import OrgLease, OrgUnit
from connector.sync.scope import Changes, changes_from

log = logging.getLogger("quotaflow.sync")


class SyncBusy(RetriableError):
    """Another run holds the org's lease (the request is coalesced with it)."""


@dataclass(frozen=True, slots=True)
class Inputs:
    """Live canonical records and the changes since the last committed calculation."""

    reps: list[Rep]
    deals: list[Deal]
    splits: list[Split]
    team: list[TeamMember]
    changes: Changes
    adjustments: list[Adjustment] = field(default_factory=list)
    rates: Rates | None = None  # the org's exchange rates (None: deals in other currencies
    # than the plan's are unresolved)


def load_inputs(unit: OrgUnit, *, changed_in: set[int] | None) -> Inputs:
    """Every canonical record; changed = changed by one of the runs `changed_in` (None: all)."""
    live: dict[str, list[Any]] = {}
    changed: dict[str, set[str]] = {}
    deal_of: dict[str, dict[str, str]] = {"split": {}, "team_member": {}}
    for kind in ("rep", "deal", "split", "team_member"):
        rows = unit.records.load_canonical(kind=kind, include_deleted=True)
        live[kind] = []
        changed[kind] = set()
        for row in rows.values():
            is_new = changed_in is None or row.changed_run_id in changed_in
            if is_new:
                changed[kind].add(row.record_id)
            if kind in deal_of and row.payload.get("deal_id"):
                deal_of[kind][row.record_id] = str(row.payload["deal_id"])
            if not row.deleted:
                live[kind].append(decode(kind, row.payload))
    adjustments = unit.adjustments.for_calc()
    rates = unit.rates.for_calc()
    return Inputs(
        reps=live["rep"],
        deals=live["deal"],
        splits=live["split"],
        team=live["team_member"],
        changes=changes_from(changed, deal_of["split"], deal_of["team_member"]),
        adjustments=adjustments,
        rates=rates,
    )


def default_holder() -> str:
    """A lease holder name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseLost(SyncBusy):
    """Another process took the org's lease while this run was between stages."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A held lease; `confirm()` renews it now and raises LeaseLost if it is gone."""

    sessions: SessionFactory
    org_id: str
    holder: str
    ttl: timedelta
    clock: Callable[[], datetime]

    def confirm(self) -> None:
        """Renew now (a long SQLite transaction can delay the background renewal)."""
        lease = OrgLease(self.sessions, self.org_id)
        if not lease.try_acquire(holder=self.holder, now=self.clock(), ttl=self.ttl):
            raise LeaseLost(f"the sync lease of org {self.org_id} was taken by another process")


@contextmanager
def held_lease(
    sessions: SessionFactory,
    *,
    org_id: str,
    holder: str,
    ttl: timedelta,
    wait_seconds: float,
    clock: Callable[[], datetime],
) -> Iterator[Lease]:
    """Hold the org's run lease for the block, renewing it in the background; SyncBusy if taken."""
    deadline = time.monotonic() + wait_seconds
    lease = OrgLease(sessions, org_id)
    while not lease.try_acquire(holder=holder, now=clock(), ttl=ttl):
        if time.monotonic() >= deadline:
            raise SyncBusy(f"another sync of org {org_id} is running; this request joins it")
        time.sleep(0.5)
    stop = threading.Event()

    def keep_alive() -> None:
        # Renew well before expiry, so a long write-back never loses the lease.
        while not stop.wait(ttl.total_seconds() / 3):
            try:
                if not lease.renew(holder=holder, now=clock(), ttl=ttl):
                    log.error("org %s: the sync lease was lost to another holder", org_id)
            except Exception:  # a database hiccup: try again at the next renewal
                log.exception("org %s: renewing the sync lease failed", org_id)

    thread = threading.Thread(target=keep_alive, name="sync-lease", daemon=True)
    thread.start()
    try:
        yield Lease(sessions, org_id, holder, ttl, clock)
    finally:
        stop.set()
        thread.join(timeout=5)
        lease.release(holder=holder)
