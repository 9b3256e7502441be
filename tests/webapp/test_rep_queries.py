"""The rep page under load: its data is computed once per committed calculation and rep and
stored, and a page costs a fixed, small number of queries however many deals the rep's team
has. The stored page shows exactly what a fresh computation shows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
from flask import Flask
from sqlalchemy import delete, event, func, select

from connector.deps import build_sync_deps
from connector.reports.rep_page import build_page, decode, encode
from connector.store.rep_pages import RepPage
from connector.store.results import CalcRun
from connector.store.unit import OrgUnit
from connector.sync import run_sync
from tests.store_kit import unit_of_work
from webapp.rep import TOKEN_SLOT

from .conftest import Web


@contextmanager
def _queries(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []
    # The app's engine, and the pool of its single read-only statements.
    engines = [app.extensions["quotaflow.engine"], app.extensions["quotaflow.read_engine"]]

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def _get(app: Flask, rep_id: str, token: str) -> tuple[str, list[str]]:
    with _queries(app) as seen:
        response = app.test_client().post(f"/reps/{rep_id}", data={"qf_token": token})
        assert response.status_code == 200
    return response.get_data(as_text=True), seen


def _stored(app: Flask, org_id: str) -> dict[str, tuple[int, str]]:
    with app.app_context(), unit_of_work() as uow:
        rows = uow.session.execute(
            select(RepPage.rep_id, RepPage.calc_run_id, RepPage.body).where(
                RepPage.org_id == org_id
            )
        )
        return {rep: (run, body) for rep, run, body in rows}


def _drop_pages(app: Flask) -> None:
    with app.app_context(), unit_of_work() as uow:
        uow.session.execute(delete(RepPage))
        uow.session.commit()


def test_the_rep_page_costs_the_same_few_queries_for_a_rep_and_the_vp(
    web: Web, tmp_path: Path
) -> None:
    app = web.fresh(tmp_path)
    cast = web.cast
    people = (cast.rep_a, cast.rep_b, cast.vp)
    tokens = {p: web.token(p, app=app) for p in people}
    cold = {p: _get(app, p, tokens[p])[1] for p in people}
    warm = {p: _get(app, p, tokens[p])[1] for p in people}
    # Cold: computed from indexed lookups and stored, a bounded number whatever the number
    # of deals (a manager chain walk and a SPIFF window read more for some reps than others).
    assert all(len(cold[p]) <= 32 for p in people)
    assert all(any("INSERT INTO rep_pages" in q for q in cold[p]) for p in people)
    # Warm: one statement, the viewer's access check and the read of the stored page
    # together, the same for a rep and for the VP (whose results hold a line for every deal
    # of the org).
    assert len(warm[cast.rep_a]) == len(warm[cast.rep_b]) == len(warm[cast.vp]) == 1
    assert all("rep_pages" in q and "role_grants" in q for q in warm[cast.vp])
    for table in ("period_results", "canonical_deals", "calc_credits", "writeback_values"):
        assert not any(table in q for q in warm[cast.vp]), table


def test_the_stored_page_is_the_freshly_computed_one(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    cast = web.cast
    for person in (cast.rep_a, cast.manager_a, cast.vp):
        token = web.token(person, app=app)
        fresh_html, _ = _get(app, person, token)  # computed, then stored
        stored_html, seen = _get(app, person, token)  # served from the stored page
        assert not any("period_results" in q for q in seen)
        # Every figure and explanation alike; only the renewed session token differs.
        assert _without_tokens(stored_html) == _without_tokens(fresh_html)
        with app.app_context(), unit_of_work() as uow:
            body = _stored(app, web.org_id)[person][1]
            with OrgUnit(app.extensions["quotaflow.sessions"], web.org_id) as unit:
                computed = build_page(unit, rep_id=person, as_of=datetime.now(UTC).date())
            uow.session.rollback()
        stored = decode(type(computed), orjson.loads(body))
        assert stored == computed  # field for field: every Decimal and date
        assert orjson.dumps(encode(stored)) == orjson.dumps(encode(computed))
        assert computed.deals or computed.result is None or person != cast.vp


def _without_tokens(html: str) -> str:
    return re.sub(r'name="qf_token" value="[^"]*"', 'name="qf_token"', html)


def test_a_new_committed_calculation_refreshes_the_page(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    token = web.token(web.cast.rep_a, app=app)
    _get(app, web.cast.rep_a, token)
    first_run = _stored(app, web.org_id)[web.cast.rep_a][0]
    _html, seen = _get(app, web.cast.rep_a, token)
    assert not any("INSERT INTO rep_pages" in q for q in seen)  # served as stored
    with app.app_context(), unit_of_work() as uow:
        last = uow.session.query(CalcRun).order_by(CalcRun.id.desc()).first()
        assert last is not None
        newer = CalcRun(
            org_id=last.org_id, sync_run_id=last.sync_run_id, mode="incremental",
            status="committed", as_of=last.as_of, range_start=last.range_start,
            range_end=last.range_end, mapping_version_id=last.mapping_version_id,
            plan_version_id=last.plan_version_id, reps_computed=0,
            created_at=datetime.now(UTC), finished_at=datetime.now(UTC),
        )  # fmt: skip
        uow.session.add(newer)
        uow.session.commit()
        newer_id = newer.id
    _html, seen = _get(app, web.cast.rep_a, token)
    assert any("period_results" in q for q in seen)  # a new calculation: computed again
    assert _stored(app, web.org_id)[web.cast.rep_a][0] == newer_id != first_run


def test_a_page_of_another_day_is_not_served(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    token = web.token(web.cast.rep_a, app=app)
    _get(app, web.cast.rep_a, token)
    with app.app_context(), unit_of_work() as uow:
        uow.session.execute(RepPage.__table__.update().values(as_of=date(2001, 1, 1)))
        uow.session.commit()
    _html, seen = _get(app, web.cast.rep_a, token)
    assert any("period_results" in q for q in seen)
    _drop_pages(app)


def test_carry_forward_keeps_only_untouched_pages(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    cast = web.cast
    for person in (cast.rep_a, cast.rep_b, cast.manager_a):
        _get(app, person, web.token(person, app=app))
    stored = _stored(app, web.org_id)
    run = stored[cast.rep_a][0]
    with app.app_context(), unit_of_work() as uow:
        shown = dict(uow.session.execute(select(RepPage.rep_id, RepPage.deal_ids)).all())
    only_b = sorted(set(shown[cast.rep_b]) - set(shown[cast.manager_a]))
    assert only_b, "rep_b's page shows deals manager_a's does not"
    sessions = app.extensions["quotaflow.sessions"]
    with OrgUnit(sessions, web.org_id) as unit:
        carried = unit.rep_pages.carry_forward(
            from_run=run, to_run=run + 1000, stale_reps={cast.rep_a}, stale_deals={only_b[0]}
        )
        unit.commit()
    after = _stored(app, web.org_id)
    assert carried == 1
    assert after == {cast.manager_a: (run + 1000, stored[cast.manager_a][1])}


def test_an_incremental_run_that_touches_nobody_keeps_the_stored_pages(
    web: Web, tmp_path: Path
) -> None:
    app = web.fresh(tmp_path)
    token = web.token(web.cast.rep_a, app=app)
    before_html, _ = _get(app, web.cast.rep_a, token)
    before = _stored(app, web.org_id)[web.cast.rep_a]
    url = app.extensions["quotaflow.engine"].url.render_as_string(hide_password=False)
    settings = web.settings.with_overrides(database_url=url)
    deps = build_sync_deps(settings)
    try:
        summary = run_sync(deps, mode="incremental")
    finally:
        deps.engine.dispose()
    assert summary.status == "succeeded", summary
    after = _stored(app, web.org_id).get(web.cast.rep_a)
    with app.app_context(), unit_of_work() as uow:
        committed = uow.session.scalar(select(func.max(CalcRun.id)))
    # The run committed a new calculation; rep_a's page was re-stamped, not recomputed.
    assert after is not None and after[0] == committed != before[0]
    assert after[1] == before[1]
    after_html, seen = _get(app, web.cast.rep_a, token)
    assert not any("period_results" in q for q in seen)
    assert _without_tokens(after_html) == _without_tokens(before_html)


def test_a_kept_body_carries_each_request_its_own_session_token(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    token = web.token(web.cast.rep_a, app=app)
    _get(app, web.cast.rep_a, token)
    html, _ = _get(app, web.cast.rep_a, token)  # the body rendered by the first request
    assert TOKEN_SLOT not in html
    carried = set(re.findall(r'name="qf_token" value="([^"]*)"', html))
    assert len(carried) == 1  # the tabs (rendered now) and the body (kept) carry the same one
    renewed = carried.pop()
    again, _ = _get(app, web.cast.rep_a, renewed)  # and it is a working session token
    assert "qf-token-" not in again
