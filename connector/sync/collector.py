"""The cyclic garbage collector while a sync runs: collect far less often, restore after.

A run allocates millions of small objects and keeps most of them to its end (pulled
payloads, credits, result lines, the kept calculation state). CPython's collector runs a
young collection every 700 net allocations and, as the heap grows, full collections that
walk every live object: at 200,000 deals that was a quarter of the first full sync's CPU
(49 full collections, ~19 s), for almost no garbage, since the run makes few reference
cycles. While any run is in progress the thresholds are raised; the last run to finish puts
back what was there before. Worker threads run several orgs' syncs at once, so entries are
counted: one run ending never lowers the thresholds under another still running.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# A young collection every 50,000 net allocations, a middle one every 20 of those, and a
# full one only after 100 middle ones (about 100 million net allocations).
RUN_THRESHOLD = (50_000, 20, 100)

_lock = threading.Lock()
_inside = 0
_saved: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's thresholds (never lower them) until the last entrant leaves."""
    global _inside, _saved
    with _lock:
        if _inside == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(*(max(a, b) for a, b in zip(_saved, RUN_THRESHOLD, strict=True)))
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                gc.set_threshold(*_saved)
