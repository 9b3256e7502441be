"""Run a devorg in a child process (used by `quotaflow demo`, tests and benchmarks)."""

from __future__ import annotations

import dataclasses
import json
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

STARTUP_TIMEOUT_SECONDS = 600.0


class DevorgStartError(RuntimeError):
    """The devorg process exited or stayed silent before announcing itself."""


@dataclass(frozen=True)
class DevorgInfo:
    """The devorg's JSON line: where it listens and how to log in."""

    instance_url: str
    login_url: str
    ca_cert: str
    client_id: str
    client_secret: str
    username: str
    password: str
    canvas_secret: str
    jwt_key_file: str
    security_token: str = ""
    org_id: str = ""
    data_dir: str = ""

    def quotaflow_env(self, *, database_url: str, auth: str = "jwt") -> dict[str, str]:
        """The environment variables (docs/reference/settings.md) that point Quotaflow here."""
        env = {
            "QUOTAFLOW_DATABASE_URL": database_url,
            "SF_LOGIN_URL": self.login_url,
            "SF_AUTH": auth,
            "SF_CLIENT_ID": self.client_id,
            "SF_USERNAME": self.username,
            "SF_CA_BUNDLE": self.ca_cert,
            "SF_CANVAS_SECRET": self.canvas_secret,
        }
        if auth == "jwt":
            env["SF_PRIVATE_KEY_FILE"] = self.jwt_key_file
        else:
            env["SF_CLIENT_SECRET"] = self.client_secret
        if auth == "password":
            # Salesforce takes the security token appended to the password.
            env["SF_PASSWORD"] = self.password + self.security_token
        return env


def parse_announcement(line: str) -> DevorgInfo:
    """The DevorgInfo of one JSON line (unknown keys are ignored)."""
    data = json.loads(line)
    names = {f.name for f in dataclasses.fields(DevorgInfo)}
    return DevorgInfo(**{k: v for k, v in data.items() if k in names})


def serve_command(
    data_dir: Path | str,
    *,
    seed: str = "demo",
    reps: int | None = None,
    deals: int | None = None,
    port: int = 0,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The argv that runs a devorg with these options."""
    argv = [sys.executable, "-m", "devorg", "serve", "--data-dir", str(data_dir)]
    argv += ["--seed", seed, "--port", str(port)]
    if reps is not None and deals is not None:
        argv += ["--reps", str(reps), "--deals", str(deals)]
    return argv + list(extra_args)


def _read_line(proc: subprocess.Popen[str], log: IO[str], timeout: float) -> str:
    assert proc.stdout is not None
    stdout = proc.stdout
    lines: queue.Queue[str] = queue.Queue()
    # readline blocks: a helper thread reads, the deadline covers a child that hangs.
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        line = ""
    if line.endswith("\n"):
        return line
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    log.seek(0)
    stderr = log.read()[-4000:]
    raise DevorgStartError(f"devorg did not start (exit status {proc.returncode}):\n{stderr}")


@contextmanager
def start_devorg(
    data_dir: Path | str,
    *,
    seed: str = "demo",
    reps: int | None = None,
    deals: int | None = None,
    port: int = 0,
    extra_args: Sequence[str] = (),
    timeout: float = STARTUP_TIMEOUT_SECONDS,
) -> Iterator[DevorgInfo]:
    """Start `python -m devorg serve`, yield its DevorgInfo, stop it (and wait) on exit."""
    argv = serve_command(
        data_dir, seed=seed, reps=reps, deals=deals, port=port, extra_args=extra_args
    )
    # stderr goes to a file: a pipe nobody drains would eventually block the server.
    with tempfile.TemporaryFile("w+", prefix="devorg-", suffix=".log") as log:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            info = parse_announcement(_read_line(proc, log, timeout))
            yield info
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


@contextmanager
def start_devorgs(
    data_root: Path | str,
    *,
    count: int,
    reps: int | None = None,
    deals: int | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = STARTUP_TIMEOUT_SECONDS,
) -> Iterator[list[DevorgInfo]]:
    """Start `python -m devorg serve-many` (`count` orgs in one process, in data directories
    `data_root/org<i>`), yield their DevorgInfo in that order, stop the process on exit."""
    argv = serve_command(data_root, reps=reps, deals=deals, extra_args=extra_args)
    argv[argv.index("serve")] = "serve-many"
    argv += ["--count", str(count)]
    with tempfile.TemporaryFile("w+", prefix="devorgs-", suffix=".log") as log:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            # The process opens every org before it announces the first.
            infos = [parse_announcement(_read_line(proc, log, timeout))]
            infos += [parse_announcement(_read_line(proc, log, 30)) for _ in range(count - 1)]
            yield infos
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
