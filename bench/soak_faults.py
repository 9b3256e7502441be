"""The soak's fault schedule: what the devorg injects, and when the clock is killed.

Drawn up front from the seeded generator, so one seed gives one schedule. Kinds: expired
sessions, 503 bursts, latency windows, UNABLE_TO_LOCK_ROW on records the sync is about to
write (the deals and reps just changed), one REQUEST_LIMIT_EXCEEDED window, Bulk API 2.0
jobs failing part-way; late commits are made by the driver itself (a share of its edits),
and SIGKILLs of the clock are scheduled here too (some aimed at a moment when a run is in
progress).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from soak_org import OrgClient


@dataclass(frozen=True)
class Event:
    """At `at` seconds into the soak, do `kind` (with `doc` for the devorg)."""

    at: float
    kind: str
    doc: dict[str, Any] = field(default_factory=dict)


def schedule(rng: random.Random, *, seconds: float, kills: int, midrun_kills: int) -> list[Event]:
    """Every fault and kill of a soak of this length, in time order."""
    events: list[Event] = []
    per_minute = max(1.0, seconds / 60)

    def spread(n: int, kind: str, **doc: Any) -> None:
        for _ in range(n):
            events.append(Event(rng.uniform(2, seconds - 3), kind, dict(doc)))

    spread(round(3 * per_minute), "expire_sessions")
    for _ in range(round(3 * per_minute)):
        events.append(
            Event(rng.uniform(2, seconds - 3), "unavailable", {"calls": rng.randint(3, 8)})
        )
    for _ in range(round(2 * per_minute)):
        start = rng.uniform(2, seconds - 10)
        ms = rng.choice((100, 200, 400))
        events.append(Event(start, "latency", {"ms": ms, "jitter_ms": ms // 4}))
        events.append(Event(start + rng.uniform(4, 9), "latency_off"))
    spread(round(6 * per_minute), "lock_rows")
    # The next Bulk API 2.0 job fails part-way (while the clock runs with Bulk forced on, a
    # query job the pull falls back from, or an ingest job whose rest goes through REST).
    for _ in range(round(per_minute)):
        after = rng.randint(0, 40)
        events.append(
            Event(rng.uniform(2, seconds - 3), "bulk_job_failure", {"jobs": 1, "after_rows": after})
        )
    window = 5 if seconds <= 90 else 15
    events.append(
        Event(rng.uniform(seconds * 0.3, seconds * 0.6), "request_limit", {"seconds": window})
    )
    # Kills: the aimed ones early (a killed run's lease lingers up to its 60 s time to live).
    for n in range(kills):
        aimed = n < midrun_kills
        at = rng.uniform(5, seconds * 0.25) if aimed and n == 0 else rng.uniform(5, seconds - 5)
        events.append(Event(at, "kill_midrun" if aimed else "kill"))
    return sorted(events, key=lambda e: e.at)


class Injector:
    """Applies fault events to the devorg and counts them by kind."""

    def __init__(self, client: OrgClient, rng: random.Random) -> None:
        self.client = client
        self.rng = rng
        self.counts: Counter[str] = Counter()

    def apply(self, event: Event, *, recent: list[str]) -> None:
        """Inject one fault (lock_rows picks among `recent`: records about to be written back)."""
        doc: dict[str, Any]
        if event.kind == "expire_sessions":
            doc = {"expire_sessions": True}
        elif event.kind == "unavailable":
            doc = {"unavailable": event.doc}
        elif event.kind == "latency":
            doc = {"latency": event.doc}
        elif event.kind == "latency_off":
            self.client.control("POST", "faults", {"latency": {"ms": 0, "jitter_ms": 0}})
            return
        elif event.kind == "bulk_job_failure":
            doc = {"bulk_job_failure": event.doc}
        elif event.kind == "request_limit":
            doc = {"request_limit_exceeded": event.doc}
        elif event.kind == "lock_rows":
            if not recent:
                return
            ids = self.rng.sample(recent, min(len(recent), self.rng.randint(1, 3)))
            # Mostly fewer locked attempts than the sync's retries; the first lock of a soak,
            # and one in four after it, outlasts them (a long Apex batch holding the row).
            first = self.counts["lock_rows"] == 0
            doc = {"lock_rows": {i: 6 if first else self.rng.choice((1, 2, 3, 6)) for i in ids}}
        else:
            raise ValueError(event.kind)
        self.client.control("POST", "faults", doc)
        self.counts[event.kind] += 1

    def clear(self) -> None:
        """Remove every fault."""
        self.client.control("DELETE", "faults")
