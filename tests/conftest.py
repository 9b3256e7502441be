"""Shared fixtures: settings on a temporary SQLite file, and a throwaway PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.repositories import SessionFactory

# The machine's PostgreSQL (trust auth). CI must exercise it; elsewhere a missing server skips.
PG_ADMIN_URL = os.environ.get(
    "QUOTAFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # driver or network error: report why
        return f"PostgreSQL at {PG_ADMIN_URL} unreachable: {exc.__class__.__name__}"
    return None


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    """Settings pointing at a fresh SQLite file."""
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'quotaflow.db'}",
        secret_key="test-key-0123456789abcdef0123456789abcdef",
    )


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for this test session, dropped at the end."""
    problem = _pg_reachable()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    name = f"qf_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for each storage backend: a fresh SQLite file, then a fresh PG schema."""
    if request.param == "sqlite":
        yield Settings(
            database_url=f"sqlite:///{tmp_path / 'qf.db'}",
            secret_key="test-key-0123456789abcdef0123456789abcdef",
        )
        return
    url: str = request.getfixturevalue("pg_database_url")
    engine = create_engine(url)
    # Each test gets a clean database: drop everything the previous test created.
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield Settings(database_url=url, secret_key="test-key-0123456789abcdef0123456789abcdef")


@pytest.fixture
def sessions(store_settings: Settings) -> Iterator[SessionFactory]:
    """A migrated store on each backend of `store_settings`, as a session factory."""
    engine = make_engine(store_settings)
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo org synced once per test process, shared read-only by the web and security
    tests (`web.fresh(tmp_path)` gives a test its own copy of the database to change)."""
    from tests.webapp.conftest import synced_demo

    yield from synced_demo(tmp_path_factory)
