"""Web tests against a real synced org: the devorg's demo data, one full sync, then the app.

`web` is shared by the whole session and must be treated as read-only; a test that changes
state takes `web.fresh(tmp_path)`, an app on its own copy of the synced database.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from connector.deps import build_sync_deps
from connector.settings import Settings, load_settings
from connector.store.migrate import upgrade
from connector.store.people import all_people, team_below
from connector.store.roles import Holder, resolve_roles
from connector.sync import run_sync
from connector.sync.plans import ensure_demo_plan
from devorg.process import DevorgInfo, start_devorg
from tests.store_kit import unit_of_work
from webapp import create_app
from webapp.auth.session import Viewer, new_viewer


@dataclass
class Cast:
    """Users of the demo org with the relationships the tests need."""

    admin: str
    ops: str
    vp: str
    manager_a: str  # a front-line manager
    manager_b: str  # another front-line manager, not above manager_a's team
    rep_a: str  # reports to manager_a
    rep_a2: str  # also reports to manager_a
    rep_b: str  # reports to manager_b


@dataclass
class Web:
    """A synced demo org and an app on its database."""

    info: DevorgInfo
    settings: Settings
    org_id: str
    db_file: Path
    app: Flask
    cast: Cast
    # The org's profile and permission-set ids by name, as /canvas would learn them.
    setup_ids: dict[str, str] = field(default_factory=dict)

    def client(self) -> FlaskClient:
        """A test client of the shared app."""
        return self.app.test_client()

    def viewer(self, user_id: str, *, app: Flask | None = None, **identity: Any) -> Viewer:
        """The viewer /canvas would open for `user_id` (profile and permission sets given by
        name, with the org's ids for them, as the org reports both)."""
        app = app or self.app
        names = identity.get("permission_sets", ())
        profile = next(iter(identity.get("profile", ())), None)
        holder = Holder(
            user_id=user_id,
            username=identity.get("username", ""),
            profile_id=self.setup_ids.get(profile or ""),
            profile_name=profile,
            permission_sets=tuple((self.setup_ids.get(n, ""), n) for n in names),
        )
        with app.app_context(), unit_of_work() as uow:
            stored_id, roles = resolve_roles(uow.session, org_id=self.org_id, holder=holder)
        now = app.extensions["quotaflow.tokens"].clock()
        return new_viewer(
            user_id=stored_id, org_id=self.org_id, name=user_id, roles=roles, holder=holder, now=now
        )

    def token(self, user_id: str, *, app: Flask | None = None, **identity: Any) -> str:
        """A session token for `user_id`, as /canvas would issue."""
        app = app or self.app
        viewer = self.viewer(user_id, app=app, **identity)
        return str(app.extensions["quotaflow.tokens"].issue(viewer))

    def admin_token(self, *, app: Flask | None = None) -> str:
        """A session token for the org's System Administrator."""
        return self.token(
            self.cast.admin,
            app=app,
            profile=("System Administrator",),
            permission_sets=("Quotaflow_Admin",),
        )

    def ops_token(self, *, app: Flask | None = None) -> str:
        """A session token for the ops user (Quotaflow_Ops permission set)."""
        return self.token(self.cast.ops, app=app, permission_sets=("Quotaflow_Ops",))

    def fresh(self, tmp_path: Path) -> Flask:
        """An app on a private copy of the synced database (for tests that change state)."""
        copy = tmp_path / "web-copy.db"
        shutil.copyfile(self.db_file, copy)
        return create_app(self.settings.with_overrides(database_url=f"sqlite:///{copy}"))


def _cast(app: Flask, org_id: str) -> Cast:
    with app.app_context(), unit_of_work() as uow:
        everyone = all_people(uow.session, org_id=org_id)
        by_id = {p.id: p for p in everyone}
        managers = sorted({p.manager_id for p in everyone if p.manager_id and p.plan_id == "ae"})
        team_a = sorted(p.id for p in everyone if p.manager_id == managers[0])
        above_a = set()
        boss = by_id[managers[0]].manager_id
        while boss:
            above_a.add(boss)
            boss = by_id[boss].manager_id if boss in by_id else None
        other = next(
            m
            for m in managers[1:]
            if m not in above_a
            and managers[0] not in team_below(uow.session, org_id=org_id, manager_id=m)
        )
        vp = next(p.id for p in everyone if p.plan_id == "vp")
        team_b = sorted(p.id for p in everyone if p.manager_id == other)
    return Cast(
        admin="",
        ops="",
        vp=vp,
        manager_a=managers[0],
        manager_b=other,
        rep_a=team_a[0],
        rep_a2=team_a[1],
        rep_b=team_b[0],
    )


def synced_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """The demo org, synced once for the session: behind the `web` fixture of tests/conftest.py.

    The fixture is defined once, at the root, so that tests/webapp and tests/security share
    one synced org per test process (a fixture imported into a second conftest or module is
    a second fixture, synced again).
    """
    tmp = tmp_path_factory.mktemp("web")
    with start_devorg(tmp / "devorg", timeout=120) as info:
        db_file = tmp / "qf.db"
        env = info.quotaflow_env(database_url=f"sqlite:///{db_file}", auth="password")
        settings = load_settings(env).with_overrides(secret_key="web-test-key-" + "k" * 32)
        deps = build_sync_deps(settings)
        upgrade(deps.engine)
        org_id = deps.gateway.org_id()
        ensure_demo_plan(deps.sessions, org_id=org_id, now=datetime.now(UTC))
        # A pull reads what was modified before its start second; the seed's last second
        # becomes readable after it.
        time.sleep(1.1)
        summary = run_sync(deps, mode="full")
        assert summary.status == "succeeded", summary
        page = deps.gateway.query("SELECT Id, Username FROM User", include_deleted=False)
        users = {u["Username"]: u["Id"] for u in page.records}
        setup_ids = {
            r["Name"]: r["Id"]
            for soql in ("SELECT Id, Name FROM Profile", "SELECT Id, Name FROM PermissionSet")
            for r in deps.gateway.query(soql, include_deleted=False).records
        }
        deps.engine.dispose()
        app = create_app(settings)
        cast = _cast(app, org_id)
        cast.admin = users["admin@quotaflow.devorg"]
        cast.ops = users["ops@quotaflow.devorg"]
        yield Web(info, settings, org_id, db_file, app, cast, setup_ids)
