"""The lease that keeps one run per org at a time (a run's inputs: connector/sync/state.py)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from connector.errors import RetriableError
from connector.store.lease import LeaseBusy
from connector.store.results import SessionFactory
from connector.store.unit import OrgLease

log = logging.getLogger("quotaflow.sync")


class SyncBusy(RetriableError):
    """Another run holds the org's lease (the request is coalesced with it)."""


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
            except LeaseBusy as exc:
                log.warning(
                    "org %s: the sync lease was not renewed (%s); trying again in %.0f s",
                    org_id, exc, ttl.total_seconds() / 3,
                )  # fmt: skip
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
