"""The warm rep page reads through a pool of its own without a ping before each use: when the
database dropped its connections (a restart, a failover), the read runs again on a fresh one
and the viewer never sees the error."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from calc.model import Rep
from connector.pull.codec import encode
from connector.settings import Settings
from connector.store.canonical import CanonicalRep
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.roles import Holder, materialize_defaults
from webapp import create_app
from webapp.auth.session import new_viewer

ORG = "00D5g000000AbCdEAK"
REP = "0055g000000000EAAQ"
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def test_a_dropped_connection_is_read_again(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        materialize_defaults(session, org_id=ORG, now=NOW)
        session.add(
            CanonicalRep(
                org_id=ORG, id=REP, payload=encode(Rep(id=REP, name="Rey Rep", plan_id="ae")),
                deleted=False, manager_id=None, updated_at=NOW,
            )
        )  # fmt: skip
        session.commit()
    engine.dispose()
    app = create_app(store_settings)
    viewer = new_viewer(
        user_id=REP, org_id=ORG, name="Rey", roles={"rep"}, holder=Holder(user_id=REP),
        now=time.time(),
    )  # fmt: skip
    token = app.extensions["quotaflow.tokens"].issue(viewer)

    def view() -> int:
        response = app.test_client().post("/rep", data={"qf_token": token})
        assert response.status_code != 200 or "My earnings" in response.text
        return response.status_code

    assert view() == 200
    assert view() == 200  # the read pool now holds a connection
    if store_settings.database_url.startswith("postgresql"):
        admin = create_engine(store_settings.database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            killed = conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        admin.dispose()
        assert killed
    assert view() == 200
    for name in ("quotaflow.engine", "quotaflow.read_engine"):
        app.extensions[name].dispose()
