"""Connected orgs on a PostgreSQL database, and `quotaflow worker` processes to run them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, text

from connector.settings import Settings
from devorg.process import DevorgInfo


def clean_database(url: str) -> None:
    """Drop everything a previous test left in the database."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def ca_bundle(path: Path, devorgs: list[DevorgInfo]) -> str:
    """One CA file trusting every devorg."""
    path.write_text("".join(Path(d.ca_cert).read_text() for d in devorgs))
    return str(path)


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of a worker process for these settings (no environment org)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SF_", "QUOTAFLOW_"))}
    env.update(
        {
            "QUOTAFLOW_DATABASE_URL": settings.database_url,
            "QUOTAFLOW_SECRET_KEY": settings.secret_key or "",
            "QUOTAFLOW_ENCRYPTION_KEY": ",".join(settings.encryption_keys),
            "QUOTAFLOW_PUBLIC_URL": settings.public_url or "",
            "QUOTAFLOW_CONNECT_LOGIN_URLS": ",".join(settings.connect_login_urls),
            "SF_CLIENT_ID": settings.sf_client_id or "",
            "SF_CLIENT_SECRET": settings.sf_client_secret or "",
            "SF_CA_BUNDLE": settings.sf_ca_bundle or "",
        }
    )
    return env


def start_worker(
    settings: Settings, log: IO[str], *, concurrency: int = 2
) -> subprocess.Popen[bytes]:
    """`quotaflow worker` in its own process group."""
    argv = [sys.executable, "-m", "webapp.cli", "worker", "--concurrency", str(concurrency)]
    return subprocess.Popen(
        argv, env=worker_env(settings), stdout=log, stderr=log, start_new_session=True
    )


def kill(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signal the worker's whole process group and reap it."""
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    proc.wait(timeout=30)


def wait_for(what: str, check: Callable[[], Any], *, timeout: float) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
