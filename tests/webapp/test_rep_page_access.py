"""The rep page reads the viewer's access in the same statement as the stored page, from the
store's current state: a revoked grant, a rep moved to another manager or a deactivated user
counts on the very next request, however warm the page is."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import delete, update

from connector.store.canonical import CanonicalRep
from connector.store.roles import RoleGrant, add_grant
from tests.store_kit import unit_of_work

from .conftest import Web


def _page(app: Flask, path: str, token: str) -> tuple[int, str]:
    """Status, and the renewed token the page hands out (the old one while none)."""
    response = app.test_client().post(path, data={"qf_token": token})
    found = re.search(r'name="qf_token" value="([^"]+)"', response.text)
    return response.status_code, found.group(1) if found else token


def _warm(app: Flask, path: str, token: str) -> str:
    """The page viewed twice (computed and stored, then served as stored); the renewed token."""
    for _ in range(2):
        status, token = _page(app, path, token)
        assert status == 200, path
    return token


def test_a_revoked_grant_counts_on_the_next_request(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    cast = web.cast
    with app.app_context(), unit_of_work() as uow:
        add_grant(
            uow.session, org_id=web.org_id, role="admin", principal_kind="user",
            principal=cast.manager_b, created_by="test", now=datetime.now(UTC),
        )  # fmt: skip
        uow.session.commit()
    # manager_b sees rep_a (another team) only as an admin.
    token = _warm(app, f"/reps/{cast.rep_a}", web.token(cast.manager_b, app=app))
    with app.app_context(), unit_of_work() as uow:
        uow.session.execute(delete(RoleGrant).where(RoleGrant.principal == cast.manager_b))
        uow.session.commit()
    assert _page(app, f"/reps/{cast.rep_a}", token)[0] == 404
    assert _page(app, f"/reps/{cast.rep_b}", token)[0] == 200  # their own team still


def test_a_moved_rep_counts_on_the_next_request(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    cast = web.cast
    token_a = _warm(app, f"/reps/{cast.rep_a}", web.token(cast.manager_a, app=app))
    token_b = web.token(cast.manager_b, app=app)
    assert _page(app, f"/reps/{cast.rep_a}", token_b)[0] == 404
    # The next sync stores rep_a's new ManagerId.
    with app.app_context(), unit_of_work() as uow:
        uow.session.execute(
            update(CanonicalRep)
            .where(CanonicalRep.org_id == web.org_id, CanonicalRep.id == cast.rep_a)
            .values(manager_id=cast.manager_b)
        )
        uow.session.commit()
    assert _page(app, f"/reps/{cast.rep_a}", token_a)[0] == 404
    assert _page(app, f"/reps/{cast.rep_a}", token_b)[0] == 200
    assert _page(app, f"/reps/{cast.rep_a2}", token_a)[0] == 200


def test_a_deactivated_or_deleted_user_counts_on_the_next_request(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    cast = web.cast
    token = _warm(app, "/rep", web.token(cast.rep_a, app=app))
    boss = _warm(app, f"/reps/{cast.rep_a2}", web.token(cast.manager_a, app=app))
    with app.app_context(), unit_of_work() as uow:
        row = uow.session.get(CanonicalRep, (web.org_id, cast.rep_a))
        assert row is not None
        row.payload = {**row.payload, "is_active": False}
        uow.session.execute(
            update(CanonicalRep)
            .where(CanonicalRep.org_id == web.org_id, CanonicalRep.id == cast.rep_a2)
            .values(deleted=True)
        )
        uow.session.commit()
    assert _page(app, "/rep", token)[0] == 403  # no role at all
    assert _page(app, f"/reps/{cast.rep_a}", token)[0] == 403
    assert _page(app, f"/reps/{cast.rep_a2}", boss)[0] == 404  # gone from the org


def test_the_kept_frame_shows_each_viewer_their_own_name(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    cast = web.cast
    tokens = app.extensions["quotaflow.tokens"]
    names = {cast.rep_a: "<b>O'Neil & Co</b>", cast.rep_b: "Bea Rep"}
    pages = {}
    for _ in range(2):  # the second view is served from the kept body and frame
        for rep, name in names.items():
            viewer = replace(web.viewer(rep, app=app), name=name)
            status, _token = _page(app, "/rep", tokens.issue(viewer))
            assert status == 200
            response = app.test_client().post("/rep", data={"qf_token": tokens.issue(viewer)})
            pages[rep] = response.text
        assert (
            '<span class="qf-who" title="rep">&lt;b&gt;O&#39;Neil &amp; Co&lt;/b&gt;</span>'
            in (pages[cast.rep_a])
        )
        assert '<span class="qf-who" title="rep">Bea Rep</span>' in pages[cast.rep_b]
        assert "Bea Rep" not in pages[cast.rep_a] and "Neil" not in pages[cast.rep_b]
