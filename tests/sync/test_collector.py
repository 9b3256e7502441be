"""The collector's thresholds are raised while any sync runs and put back by the last one."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from connector.errors import ConnectorError
from connector.sync import run as run_module
from connector.sync import run_sync
from connector.sync.collector import RUN_THRESHOLD, fewer_collections

from .conftest import Org, running_org  # type: ignore[import-not-found]


@pytest.fixture(autouse=True)
def default_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_overlapping_runs_keep_the_thresholds_raised_until_the_last_one_ends() -> None:
    entered, leave_a, a_left = threading.Event(), threading.Event(), threading.Event()

    def run_a() -> None:
        with fewer_collections():
            entered.set()
            leave_a.wait(10)
        a_left.set()

    thread = threading.Thread(target=run_a)
    thread.start()
    assert entered.wait(10)
    assert gc.get_threshold() == RUN_THRESHOLD
    with fewer_collections():
        leave_a.set()
        assert a_left.wait(10)
        thread.join(10)
        # A ended while this one still runs: nothing is lowered under it.
        assert gc.get_threshold() == RUN_THRESHOLD
    assert gc.get_threshold() == (700, 10, 10)


def test_thresholds_set_higher_by_the_operator_are_never_lowered() -> None:
    gc.set_threshold(100_000, 5, 500)
    with fewer_collections():
        assert gc.get_threshold() == (100_000, 20, 500)
    assert gc.get_threshold() == (100_000, 5, 500)


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    with running_org(tmp_path_factory.mktemp("collector")) as running:
        yield running


def test_a_sync_runs_its_stages_with_fewer_collections_and_restores_them_even_on_failure(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int, int]] = []
    real_pull = run_module.run_pull

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        return real_pull(*args, **kwargs)

    monkeypatch.setattr(run_module, "run_pull", watched)
    assert run_sync(org.deps, mode="full").status == "succeeded"
    assert seen == [RUN_THRESHOLD]
    assert gc.get_threshold() == (700, 10, 10)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        raise ConnectorError("Salesforce went away")

    monkeypatch.setattr(run_module, "run_pull", broken)
    assert run_sync(org.deps, mode="incremental").status == "failed"
    assert seen[-1] == RUN_THRESHOLD
    assert gc.get_threshold() == (700, 10, 10)
