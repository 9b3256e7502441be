"""Pages computed once per committed calculation: an in-process cache of page data.

A rep page reads only stored results, which change when a sync run commits a calculation
(every run commits one) or an admin activates another plan. The cache key holds both (read
in one query, `page_version`), so an entry is never served after either moved; the rest of
the key is what the page was asked for (rep, as-of day, period, limits). Each process keeps
its own bounded cache; access checks happen before it is consulted, never inside it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Generic, TypeVar, cast

from connector.store.unit import OrgUnit

T = TypeVar("T")
V = TypeVar("V")
MAX_ENTRIES = 4096


class KeptValues(Generic[V]):
    """A bounded least-recently-used map of computed values, shared by a process's threads.

    A value is computed outside the lock: two threads asking for the same new key at once may
    both compute it (the same value), which costs less than holding every reader up."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value kept for `key`, computed (and kept) when there is none."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
            self.misses += 1
        value = compute()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every entry and the counts (tests)."""
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0


class PageCache(KeptValues[object]):
    """A least-recently-used map from (page version, request) to computed page data."""

    def __init__(self, size: int = MAX_ENTRIES) -> None:
        super().__init__(size)

    def page(self, unit: OrgUnit, *, key: Hashable, compute: Callable[[], T]) -> T:
        """The page data of `key` for the org's current results, computed at most once."""
        full = (unit.org_id, unit.results.page_version(), key)
        return cast(T, self.get(full, compute))
