"""Processes of a soak: the `quotaflow` CLI, the clock (killed with SIGKILL), the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from devorg.process import DevorgInfo


def cli_env(login: DevorgInfo, database_url: str, *, interval: int) -> dict[str, str]:
    """The environment a Quotaflow process reads (docs/reference/settings.md), for the devorg."""
    env = dict(os.environ)
    env.update(login.quotaflow_env(database_url=database_url, auth="password"))
    env["QUOTAFLOW_SYNC_INTERVAL"] = str(interval)
    return env


def bulk_forced(env: dict[str, str]) -> dict[str, str]:
    """The same environment with the Bulk API 2.0 path forced on: every pull that spans more
    than one page reads through a query job, every write-back goes through an ingest job."""
    return {**env, "QUOTAFLOW_BULK_THRESHOLD": "1", "QUOTAFLOW_BULK_WRITE_THRESHOLD": "1"}


def quotaflow(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    """Run one `quotaflow` command to completion; its stdout (RuntimeError if it failed)."""
    argv = [sys.executable, "-m", "webapp.cli", *args]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"quotaflow {' '.join(args)}: exit {out.returncode}: {out.stderr}")
    return out.stdout


class Clock:
    """The `quotaflow clock` process, restartable; logs appended to one file. Each start takes
    the next of `envs` in turn (the soak alternates Bulk API 2.0 forced on and the defaults)."""

    def __init__(self, envs: list[dict[str, str]], log_path: Path) -> None:
        self.envs = envs
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """Start a clock process."""
        self._log = self.log_path.open("ab")
        argv = [sys.executable, "-m", "webapp.cli", "clock"]
        env = self.envs[self.starts % len(self.envs)]
        self.proc = subprocess.Popen(argv, env=env, stdout=self._log, stderr=self._log)
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL: no cleanup, no lease release, a run cut wherever it was."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM: the running sync finishes, then the clock exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=300)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()

    @property
    def pid(self) -> int:
        """The current clock process id."""
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        """Whether the process is running."""
        return self.proc is not None and self.proc.poll() is None


class Store:
    """Read-only SQL over Quotaflow's database (any SQLAlchemy URL)."""

    def __init__(self, database_url: str) -> None:
        self.engine: Engine = create_engine(database_url)

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """The rows of one query."""
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]

    def holder_pid(self) -> int | None:
        """The pid in the org's run lease (holders are host:pid:suffix), None when free."""
        found = self.rows("SELECT holder FROM sync_leases")
        if not found:
            return None
        parts = str(found[0][0]).split(":")
        return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None

    def in_run(self, pid: int) -> bool:
        """Whether process `pid` is running a sync: it holds the lease (also taken briefly to
        poll the run queue) and the newest run is `running` (older ones may be left over)."""
        newest = self.rows("SELECT status FROM sync_runs ORDER BY id DESC LIMIT 1")
        return self.holder_pid() == pid and bool(newest) and newest[0][0] == "running"

    def wait_for_run(self, pid: int, timeout: float) -> bool:
        """Wait until process `pid` is running a sync (True), or time out."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.in_run(pid):
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        """Dispose of the engine."""
        self.engine.dispose()
