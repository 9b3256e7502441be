"""Rendered page parts kept per process, keyed by what they show (a stored page version, the
viewer kind): rendered once, then served until the key changes or they fall out."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Generic, TypeVar

MAX_BODIES = 2048
T = TypeVar("T")


class RenderedBodies(Generic[T]):
    """A least-recently-used map from a key (org, rep, page version, as-of, viewer kind...) to
    what was rendered for it."""

    def __init__(self, size: int = MAX_BODIES) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = Lock()
        self.hits = 0

    def body(self, key: Hashable | None, render: Callable[[], T]) -> T:
        """The value of `key`, rendered at most once while kept (None: always rendered)."""
        if key is None:
            return render()
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
        value = render()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every entry (tests)."""
        with self._lock:
            self._entries.clear()
