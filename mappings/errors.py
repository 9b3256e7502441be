"""The mappings package's error root: a mapping document that cannot be used as written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a mapping document, at a dotted path such as `deal.fields.amount`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class MappingError(Exception):
    """A mapping document is invalid; `problems` lists every problem found, each with its path."""

    def __init__(self, problems: Sequence[Problem], *, source: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        super().__init__(self._summary())

    def _summary(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        count = len(self.problems)
        if count == 1:
            return f"{prefix}{self.problems[0]}"
        head = f"{prefix}{count} problems: "
        return head + "; ".join(str(p) for p in self.problems)
