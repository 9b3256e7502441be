"""Test helper: call one org's repositories, each call in an OrgUnit of its own, committed.

`store = committed(sessions, ORG)`, then `store.runs.create_run(...)` opens a unit, calls the
repository method, commits and closes: the shape of the old commit-on-their-own store
functions, for tests that check one step at a time. Product code uses `OrgUnit` directly.
"""

from __future__ import annotations

from typing import Any

from connector.store.repositories import SessionFactory
from connector.store.unit import OrgUnit


class _Repo:
    def __init__(self, sessions: SessionFactory, org_id: str, name: str) -> None:
        self._sessions, self._org_id, self._name = sessions, org_id, name

    def __getattr__(self, method: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            with OrgUnit(self._sessions, self._org_id) as unit:
                result = getattr(getattr(unit, self._name), method)(*args, **kwargs)
                unit.commit()
                return result

        return call


class Committed:
    """Each attribute is a repository of `OrgUnit` whose calls commit one by one."""

    def __init__(self, sessions: SessionFactory, org_id: str) -> None:
        self._sessions, self._org_id = sessions, org_id

    def __getattr__(self, name: str) -> _Repo:
        return _Repo(self._sessions, self._org_id, name)


def committed(sessions: SessionFactory, org_id: str) -> Any:
    """A `Committed` view of the org's repositories."""
    return Committed(sessions, org_id)


class RawUnit:
    """A session on the current app's database for test set-up and checks (raw rows, any
    org); rolled back unless committed. Product code uses `webapp.db.viewer_unit`/`org_unit`."""

    def __init__(self) -> None:
        from flask import current_app

        self._factory: SessionFactory = current_app.extensions["quotaflow.sessions"]
        self._session: Any = None

    @property
    def session(self) -> Any:
        """The open session."""
        return self._session

    def __enter__(self) -> RawUnit:
        self._session = self._factory()
        return self

    def __exit__(self, *exc: object) -> None:
        self._session.close()
        self._session = None

    def commit(self) -> None:
        """Keep what was done."""
        self._session.commit()


def unit_of_work() -> RawUnit:
    """A `RawUnit` on the current app's database."""
    return RawUnit()
