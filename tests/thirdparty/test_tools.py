"""The judges' installer: a machine without the registries' clients gets a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.thirdparty import conftest
from tests.thirdparty.tools import InstallError, ensure_tools


def test_missing_npm_is_an_install_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No node and no npm on PATH: Node 22 cannot be fetched, and the error says why.
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(InstallError, match="npm is not on PATH"):
        ensure_tools(tmp_path / "cache")
    assert not (tmp_path / "cache" / "node22" / ".quotaflow-installed").exists()


def test_unreachable_registry_is_an_install_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # npm pointed at a closed port: the install fails with npm's own output in the message.
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_offline", "false")
    monkeypatch.setattr("tests.thirdparty.tools._system_node", lambda: None)
    with pytest.raises(InstallError, match=r"npm install node@.* failed"):
        ensure_tools(tmp_path / "cache")


def test_an_install_error_fails_the_judges_rather_than_skipping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreachable() -> None:
        raise InstallError("npm install node@22 failed (exit 1):\nENOTFOUND registry.npmjs.org")

    monkeypatch.setattr(conftest, "ensure_tools", unreachable)
    with pytest.raises(pytest.fail.Exception, match=r"ENOTFOUND registry\.npmjs\.org"):
        conftest.install_or_fail()
