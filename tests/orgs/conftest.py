"""A devorg whose connected app lists /connect's callback, and an app that may connect it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from devorg.process import DevorgInfo, start_devorg
from tests.orgs.connect_kit import CALLBACK, connect_settings
from webapp import create_app


@pytest.fixture(scope="session")
def devorg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevorgInfo]:
    """An empty devorg for the tests of this folder."""
    data_dir = tmp_path_factory.mktemp("devorg")
    args = ["--callback-url", CALLBACK]
    with start_devorg(data_dir, seed="empty", timeout=60, extra_args=args) as info:
        yield info


@pytest.fixture
def app_env(tmp_path: Path, devorg: DevorgInfo) -> Iterator[Any]:
    """(app, settings, session factory) on a fresh migrated SQLite file."""
    settings = connect_settings(tmp_path / "qf.db", [devorg])
    engine = make_engine(settings)
    upgrade(engine)
    app = create_app(settings)
    yield app, settings, make_session_factory(engine)
    engine.dispose()
