"""Progress of a sync run: a one-line display on a terminal, silence otherwise."""

from __future__ import annotations

import time
from typing import Protocol, TextIO


class Progress(Protocol):
    """What the sync loop reports while it runs."""

    def stage(self, name: str, detail: str = "") -> None:
        """A new stage began (pull, calculate, store, write)."""

    def advance(self, done: int, total: int) -> None:
        """Part of the current stage is done."""

    def finish(self) -> None:
        """The run is over; leave the terminal clean."""


class QuietProgress:
    """No output (output is not a terminal, the clock, tests)."""

    def stage(self, name: str, detail: str = "") -> None:
        """Ignore."""

    def advance(self, done: int, total: int) -> None:
        """Ignore."""

    def finish(self) -> None:
        """Ignore."""


class TerminalProgress:
    """Rewrites one status line on a terminal: stage, counts and elapsed seconds."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._stage = ""
        self._started = time.monotonic()
        self._width = 0

    def _show(self, text: str) -> None:
        line = f"[{time.monotonic() - self._started:6.1f}s] {text}"
        pad = max(0, self._width - len(line))
        self._stream.write("\r" + line + " " * pad)
        self._stream.flush()
        self._width = len(line)

    def stage(self, name: str, detail: str = "") -> None:
        """Show the stage."""
        self._stage = name
        self._show(f"{name}{': ' + detail if detail else ''}")

    def advance(self, done: int, total: int) -> None:
        """Show the stage's counts."""
        self._show(f"{self._stage}: {done:,}/{total:,}")

    def finish(self) -> None:
        """End the status line."""
        if self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()


def progress_for(stream: TextIO) -> Progress:
    """A terminal display when `stream` is a terminal, else silence."""
    isatty = getattr(stream, "isatty", None)
    return TerminalProgress(stream) if isatty is not None and isatty() else QuietProgress()
