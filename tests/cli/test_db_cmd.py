"""`quotaflow db upgrade|current` against a fresh SQLite file and the real console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.cli import main


def test_db_upgrade_then_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QUOTAFLOW_DATABASE_URL", f"sqlite:///{tmp_path}/sub/q.db")
    assert main(["db", "upgrade"]) == 0
    assert "upgraded from empty to" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "already at revision" in capsys.readouterr().out
    assert main(["db", "current"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_bad_configuration_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QUOTAFLOW_SYNC_INTERVAL", "often")
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "quotaflow db: error: QUOTAFLOW_SYNC_INTERVAL: expected a whole number "
        "of seconds, got 'often'"
    ]


def test_console_script_runs(tmp_path: Path) -> None:
    env = {**os.environ, "QUOTAFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/q.db"}
    script = Path(sys.executable).with_name("quotaflow")
    result = subprocess.run(
        [str(script), "db", "upgrade"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "q.db").exists()
