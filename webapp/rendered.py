"""Rendered page parts kept per process, keyed by what they show (a stored page version, the
viewer kind): rendered once, then served until the key changes or they fall out."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from connector.reports.page_cache import KeptValues

MAX_BODIES = 2048
T = TypeVar("T")


class RenderedBodies(KeptValues[T]):
    """A least-recently-used map from a key (org, rep, page version, as-of, viewer kind...) to
    what was rendered for it."""

    def __init__(self, size: int = MAX_BODIES) -> None:
        super().__init__(size)

    def body(self, key: Hashable | None, render: Callable[[], T]) -> T:
        """The value of `key`, rendered at most once while kept (None: always rendered)."""
        if key is None:
            return render()
        return self.get(key, render)
