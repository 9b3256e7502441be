"""The web app's database glue: one engine and session factory per app."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.unit import OrgDirectory, OrgUnit

T = TypeVar("T")


def init_db(app: Flask, settings: Settings) -> None:
    """Attach an engine and session factory to `app`."""
    engine = make_engine(settings)
    app.extensions["quotaflow.engine"] = engine
    app.extensions["quotaflow.sessions"] = make_session_factory(engine)
    # Single read-only statements (the warm rep page) on a pool of their own: autocommit (no
    # BEGIN and no ROLLBACK around the statement, which reads one consistent snapshot) and no
    # ping before each use; `read_once` retries on a fresh connection when one was dropped.
    reads = make_engine(settings, isolation_level="AUTOCOMMIT", pool_pre_ping=False)
    app.extensions["quotaflow.read_engine"] = reads
    app.extensions["quotaflow.read_sessions"] = make_session_factory(reads)


def engine() -> Engine:
    """The current app's engine."""
    result: Engine = current_app.extensions["quotaflow.engine"]
    return result


def org_unit(org_id: str) -> OrgUnit:
    """A unit of work of one org on the current app's database (sign-in, before a viewer)."""
    factory: sessionmaker[Session] = current_app.extensions["quotaflow.sessions"]
    return OrgUnit(factory, org_id)


def read_once(org_id: str, read: Callable[[OrgUnit], T]) -> T:
    """`read(unit)`: one read-only statement of one org in autocommit, run again once on a
    fresh connection if the pooled one turned out dead (the database restarted)."""
    factory: sessionmaker[Session] = current_app.extensions["quotaflow.read_sessions"]
    for attempt in (1, 2):
        try:
            with OrgUnit(factory, org_id) as unit:
                return read(unit)
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def org_directory() -> OrgDirectory:
    """The orgs the current app's database holds data for."""
    factory: sessionmaker[Session] = current_app.extensions["quotaflow.sessions"]
    return OrgDirectory(factory)


def viewer_unit() -> OrgUnit:
    """A unit of work of the signed-in viewer's org: a page can only reach its own org."""
    from webapp.auth.guard import current_viewer  # the guard itself uses org_unit

    return org_unit(current_viewer().org_id)


def database_ok() -> bool:
    """Whether the database answers a trivial query."""
    try:
        with engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not healthy"; the reason goes to the log
        current_app.logger.exception("database health check failed")
        return False
    return True
