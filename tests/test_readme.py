"""README's Quick start has exactly two commands, and CI runs the second one verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:\w+)?\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "Quick start must hold exactly one code block"
    return [line for line in blocks[0].splitlines() if line.strip()]


def test_quick_start_has_exactly_two_commands() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2
    assert commands[0].endswith("quotaflow demo")


def test_ci_runs_the_second_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _quick_start_commands()[1] in ci


def test_procfile_processes() -> None:
    procs = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert "webapp:create_app()" in procs["web"] and procs["web"].startswith("gunicorn")
    assert procs["clock"] == "quotaflow clock"
    assert procs["release"] == "quotaflow db upgrade"
