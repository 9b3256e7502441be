"""calc's errors: one root; only impossible plan configuration and unreadable input raise."""

from __future__ import annotations


class CalcError(Exception):
    """Root of every error raised by calc."""


class PlanError(CalcError):
    """A plan document that cannot be used; the message starts with the path, e.g. `plans[0].id`."""

    def __init__(self, path: str, reason: str, *, source: str = "plan") -> None:
        self.path = path
        self.reason = reason
        self.source = source
        super().__init__(f"{source}: {path}: {reason}" if path else f"{source}: {reason}")


class InputError(CalcError):
    """A bad input row: names the file, the line number (1 = header) and the column."""

    def __init__(self, source: str, line: int, column: str | None, reason: str) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.reason = reason
        where = f"{source}, line {line}" + (f", column {column}" if column else "")
        super().__init__(f"{where}: {reason}")
