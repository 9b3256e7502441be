"""Bounded retries with exponential backoff and full jitter."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait before repeating a transient failure."""

    attempts: int = 5  # total tries, the first included
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    rand: Callable[[float, float], float] = field(default=random.uniform, compare=False)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try number `attempt` (1-based): full jitter."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** (attempt - 1)))
        return self.rand(0.0, ceiling)

    def wait(self, attempt: int, *, retry_after: float | None = None) -> None:
        """Sleep before the next try, honouring a server's Retry-After when longer."""
        delay = self.delay(attempt)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.cap_seconds))
        self.sleep(delay)
