"""Issue 13 item 5: a session does not outlive the loss of a role.

Replays the report: roles were frozen in the session token for its whole 8-hour life, so a
removed grant or a Salesforce user deactivated since (User.IsActive = false, which the sync
stores) kept working. Now roles are resolved again on every page (each page renews the
token) and on any API call whose roles are older than five minutes. The clock is the token
issuer's, controlled here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from calc.model import Rep
from connector.pull.codec import encode
from connector.settings import Settings
from connector.store.canonical import CanonicalRep
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.roles import Holder, RoleGrant, add_grant, materialize_defaults
from webapp import create_app
from webapp.auth.session import ROLES_MAX_AGE_SECONDS, new_viewer

ORG = "00D5g000000AbCdEAK"
OPS_USER = "0055g000000000DAAQ"
REP = "0055g000000000EAAQ"
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@dataclass
class Harness:
    app: Flask
    sessions: sessionmaker[Session]
    clock: list[float]

    def token(self, user_id: str) -> str:
        """A session opened now for `user_id`, as /canvas opens it."""
        from webapp.auth.guard import refreshed

        viewer = new_viewer(
            user_id=user_id,
            org_id=ORG,
            name=user_id,
            roles=set(),
            holder=Holder(user_id=user_id),
            now=self.clock[0],
        )
        with self.app.test_request_context():
            viewer = refreshed(viewer, now=self.clock[0])
        return str(self.app.extensions["quotaflow.tokens"].issue(viewer))

    def api(self, path: str, token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return self.app.test_client().get(path, headers=headers).status_code

    def page(self, path: str, token: str) -> tuple[int, str | None]:
        """Status and the renewed token the page hands out."""
        response = self.app.test_client().post(path, data={"qf_token": token})
        found = re.search(r'name="qf_token" value="([^"]+)"', response.text)
        return response.status_code, found.group(1) if found else None


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qf.db'}", secret_key="s" * 40)
    engine = make_engine(settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        materialize_defaults(session, org_id=ORG, now=NOW)
        add_grant(
            session,
            org_id=ORG,
            role="ops",
            principal_kind="user",
            principal=OPS_USER,
            created_by="test",
            now=NOW,
        )
        # What the sync stores for an active Salesforce user on a comp plan.
        session.add(
            CanonicalRep(
                org_id=ORG,
                id=REP,
                payload=encode(Rep(id=REP, name="Rey Rep", plan_id="ae")),
                deleted=False,
                manager_id=None,
                updated_at=NOW,
            )
        )
        session.commit()
    app = create_app(settings)
    clock = [time.time()]
    app.extensions["quotaflow.tokens"].clock = lambda: clock[0]
    yield Harness(app, sessions, clock)
    engine.dispose()


def _remove_ops_grant(harness: Harness) -> None:
    with harness.sessions() as session:
        session.execute(delete(RoleGrant).where(RoleGrant.principal == OPS_USER))
        session.commit()


def _deactivate_rep(harness: Harness) -> None:
    # The next sync after an admin deactivates the user stores IsActive = false.
    with harness.sessions() as session:
        row = session.get(CanonicalRep, (ORG, REP))
        assert row is not None
        row.payload = encode(Rep(id=REP, name="Rey Rep", plan_id="ae", is_active=False))
        session.commit()


def test_a_removed_grant_stops_api_access_within_five_minutes(harness: Harness) -> None:
    token = harness.token(OPS_USER)
    assert harness.api("/api/v1/sync/runs", token) == 200
    _remove_ops_grant(harness)
    harness.clock[0] += ROLES_MAX_AGE_SECONDS - 1
    assert harness.api("/api/v1/sync/runs", token) == 200  # inside the documented bound
    harness.clock[0] += 1
    assert harness.api("/api/v1/sync/runs", token) == 403


def test_a_page_renewal_resolves_roles_again(harness: Harness) -> None:
    token = harness.token(OPS_USER)
    status, renewed = harness.page("/ops/runs", token)
    assert status == 200 and renewed
    _remove_ops_grant(harness)
    assert harness.page("/ops/runs", renewed)[0] == 403
    assert harness.page("/ops/runs", token)[0] == 403


def test_a_deactivated_user_loses_access(harness: Harness) -> None:
    token = harness.token(REP)
    assert harness.page("/rep", token)[0] == 200
    assert harness.api("/api/v1/me/earnings", token) != 403
    _deactivate_rep(harness)
    assert harness.page("/rep", token)[0] == 403  # at once on a page
    harness.clock[0] += ROLES_MAX_AGE_SECONDS
    assert harness.api("/api/v1/me/earnings", token) == 403  # within five minutes on the API


def test_a_kept_role_keeps_working_and_a_new_grant_applies(harness: Harness) -> None:
    token = harness.token(OPS_USER)
    for _ in range(4):  # twenty minutes of browsing, each page renewing the token
        harness.clock[0] += ROLES_MAX_AGE_SECONDS
        status, renewed = harness.page("/ops/runs", token)
        assert status == 200 and renewed
        token = renewed
    assert harness.page("/admin/access", token)[0] == 403
    with harness.sessions() as session:
        add_grant(
            session,
            org_id=ORG,
            role="admin",
            principal_kind="user",
            principal=OPS_USER,
            created_by="test",
            now=NOW,
        )
        session.commit()
    assert harness.page("/admin/access", token)[0] == 200


def test_the_session_still_ends_after_eight_hours(harness: Harness) -> None:
    token = harness.token(OPS_USER)
    harness.clock[0] += 8 * 60 * 60 + 1
    assert harness.api("/api/v1/sync/runs", token) == 401
