"""Third-party clients as judges of the devorg: the Salesforce CLI and singer's
tap-salesforce, installed from npm and PyPI by `tools.ensure_tools` (cached), run against a
`quotaflow devorg serve` over real HTTPS.

These tests are in the default run and in CI. Deselect them with `-m "not thirdparty"`
where the package registries are out of reach; when they are selected and the tools cannot
be installed, they fail (never skip) with the installer's message.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devorg.credentials import ADMIN_USERNAME
from devorg.process import DevorgInfo, start_devorg
from tests.thirdparty.tools import InstallError, Tools, ensure_tools

API = "/services/data/v62.0"
LOGIN_HOST = "login.salesforce.com"
_INSTALL_REPORT: dict[str, float] = {}


@pytest.fixture(scope="session")
def tools() -> Tools:
    """The installed judges (installing them on first use)."""
    return install_or_fail()


def install_or_fail() -> Tools:
    """`ensure_tools()`, turning an InstallError into a test failure (never a skip)."""
    started = time.monotonic()
    try:
        found = ensure_tools()
    except InstallError as exc:
        pytest.fail(
            "could not install the third-party judges from the package registries "
            f"(npm, PyPI): {exc}\nDeselect them with -m 'not thirdparty' where the "
            "registries are unreachable.",
            pytrace=False,
        )
    _INSTALL_REPORT.update(found.install_seconds)
    _INSTALL_REPORT["total"] = time.monotonic() - started
    return found


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how long installing the judges took in this session (0: all cached)."""
    if _INSTALL_REPORT:
        parts = ", ".join(f"{k} {v:.1f}s" for k, v in _INSTALL_REPORT.items())
        terminalreporter.write_line(f"third-party judges install: {parts}")


@pytest.fixture(scope="session")
def judged_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevorgInfo]:
    """A demo-seeded devorg whose certificate also names login.salesforce.com."""
    data_dir: Path = tmp_path_factory.mktemp("judged-devorg")
    with start_devorg(
        data_dir, seed="demo", extra_args=["--tls-name", LOGIN_HOST], timeout=300
    ) as info:
        yield info


class AdminApi:
    """REST calls as the seeded System Administrator (to arrange data for the judges)."""

    def __init__(self, info: DevorgInfo) -> None:
        self.info = info
        self.session = requests.Session()
        self.session.verify = info.ca_cert
        self.session.trust_env = False
        response = self.session.post(
            info.login_url + "/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": info.client_id,
                "client_secret": info.client_secret,
                "username": ADMIN_USERNAME,
                "password": info.password,
            },
            timeout=30,
        )
        response.raise_for_status()
        self.token: str = response.json()["access_token"]

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A REST request with the admin's bearer token."""
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.session.request(
            method, self.info.instance_url + path, headers=headers, timeout=60, **kwargs
        )

    def query(self, soql: str, *, all_rows: bool = False) -> list[dict[str, Any]]:
        """Every record of a query (following nextRecordsUrl)."""
        resource = "queryAll" if all_rows else "query"
        response = self.call("GET", f"{API}/{resource}", params={"q": soql})
        response.raise_for_status()
        body = response.json()
        rows: list[dict[str, Any]] = body["records"]
        while not body["done"]:
            response = self.call("GET", body["nextRecordsUrl"])
            response.raise_for_status()
            body = response.json()
            rows += body["records"]
        return rows

    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A `/__devorg` control-plane request."""
        return self.session.request(
            method, self.info.instance_url + "/__devorg" + path, timeout=60, **kwargs
        )


@pytest.fixture(scope="session")
def admin(judged_org: DevorgInfo) -> AdminApi:
    """The admin's REST access to the judged devorg."""
    return AdminApi(judged_org)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a judge: no proxy or CA settings inherited from the caller."""
    dropped = {"HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE"}
    env = {k: v for k, v in os.environ.items() if k.upper() not in dropped}
    env.update(extra)
    return env


def run_json(argv: list[str], env: dict[str, str], timeout: float = 120) -> Any:
    """Run a judge in $HOME (the CLI writes project config into an sfdx project it runs
    in, as this repository is one) and parse its stdout as one JSON document."""
    done = subprocess.run(
        argv, capture_output=True, text=True, env=env, timeout=timeout, cwd=env["HOME"]
    )
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        output = done.stdout[-3000:] + "\n" + done.stderr[-3000:]
        pytest.fail(f"{argv[2:]} exit {done.returncode}, no JSON on stdout:\n{output}")


@pytest.fixture(scope="session")
def sf_env(
    tools: Tools, judged_org: DevorgInfo, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The CLI's environment: its own HOME (auth files), the devorg's CA, no phoning home."""
    return clean_env(
        HOME=str(tmp_path_factory.mktemp("sf-home")),
        PATH=tools.path_env(),
        NODE_EXTRA_CA_CERTS=judged_org.ca_cert,
        SF_DISABLE_TELEMETRY="true",
        SF_AUTOUPDATE_DISABLE="true",
        SF_SKIP_NEW_VERSION_CHECK="true",
        SF_HIDE_RELEASE_NOTES="true",
        SF_USE_GENERIC_UNIX_KEYCHAIN="true",
    )


def _sf_login(tools: Tools, info: DevorgInfo, env: dict[str, str], alias: str, token: str) -> Any:
    argv = tools.sf_argv(
        "org",
        "login",
        "access-token",
        "--instance-url",
        info.instance_url,
        "--alias",
        alias,
        "--no-prompt",
        "--json",
    )
    return run_json(argv, {**env, "SF_ACCESS_TOKEN": token})


@pytest.fixture(scope="session")
def sf_login(tools: Tools, judged_org: DevorgInfo, admin: AdminApi, sf_env: dict[str, str]) -> Any:
    """`sf org login access-token` with the admin's token (read from SF_ACCESS_TOKEN)."""
    return _sf_login(tools, judged_org, sf_env, "devorg", admin.token)


@pytest.fixture(scope="session")
def sf(tools: Tools, sf_env: dict[str, str], sf_login: Any) -> Callable[..., Any]:
    """`sf ARGS... --target-org devorg --json` as the admin; returns the parsed JSON."""
    assert sf_login["status"] == 0, sf_login
    return lambda *args: run_json(tools.sf_argv(*args, "--target-org", "devorg", "--json"), sf_env)


@pytest.fixture(scope="session")
def sf_integration(
    tools: Tools, judged_org: DevorgInfo, admin: AdminApi, sf_env: dict[str, str]
) -> Callable[..., Any]:
    """`sf ARGS... --json` as the integration user (its permission set applies)."""
    response = admin.session.post(
        judged_org.login_url + "/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": judged_org.client_id,
            "client_secret": judged_org.client_secret,
            "username": judged_org.username,
            "password": judged_org.password,
        },
        timeout=30,
    )
    response.raise_for_status()
    login = _sf_login(tools, judged_org, sf_env, "integration", response.json()["access_token"])
    assert login["status"] == 0, login
    return lambda *args: run_json(
        tools.sf_argv(*args, "--target-org", "integration", "--json"), sf_env
    )
