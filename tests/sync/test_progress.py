"""The progress display: one rewritten line on a terminal, nothing when not a terminal."""

from __future__ import annotations

import io

from connector.sync.progress import QuietProgress, TerminalProgress, progress_for
from connector.sync.summary import SyncSummary


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_gets_a_status_line_and_a_pipe_gets_nothing() -> None:
    tty = _Tty()
    progress = progress_for(tty)
    assert isinstance(progress, TerminalProgress)
    progress.stage("pull")
    progress.stage("write")
    progress.advance(200, 450)
    progress.finish()
    text = tty.getvalue()
    assert "\rpull" not in text and "] pull" in text and "write: 200/450" in text
    assert text.endswith("\r") and "\n" not in text  # cleared, no stray lines
    pipe = io.StringIO()
    quiet = progress_for(pipe)
    assert isinstance(quiet, QuietProgress)
    quiet.stage("pull")
    quiet.finish()
    assert pipe.getvalue() == ""


def test_summary_names_every_figure() -> None:
    summary = SyncSummary(
        run_id=7,
        org_id="00D",
        mode="incremental",
        status="partial",
        pulled=1200,
        mapped=1190,
        issues=2,
        written=35,
        write_calls=1,
        api_calls=9,
        seconds=1.234,
    )
    text = "\n".join(summary.lines())
    for part in (
        "sync run 7 (incremental): partial",
        "pulled 1,200",
        "mapped 1,190",
        "issues 2",
        "written 35 records in 1 calls",
        "API calls 9",
        "1.23 s",
    ):
        assert part in text
