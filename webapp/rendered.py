"""Rendered page bodies kept per process, keyed by the stored page version they show."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock

MAX_BODIES = 2048


class RenderedBodies:
    """A least-recently-used map from (org, rep, page version, as-of, viewer kind) to HTML."""

    def __init__(self, size: int = MAX_BODIES) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = Lock()
        self.hits = 0

    def body(self, key: Hashable | None, render: Callable[[], str]) -> str:
        """The body of `key`, rendered at most once while kept (None: always rendered)."""
        if key is None:
            return render()
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
        html = render()
        with self._lock:
            self._entries[key] = html
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return html

    def clear(self) -> None:
        """Forget every body (tests)."""
        with self._lock:
            self._entries.clear()
