"""The rep page under load: its data is computed once per committed calculation, and a page
costs a fixed, small number of queries however many deals the rep's team has."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, update

from connector.store.results import CalcRun
from tests.store_kit import unit_of_work
from webapp.rep import PAGES

from .conftest import Web


@contextmanager
def _queries(web: Web) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = web.app.extensions["quotaflow.engine"]

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _page(web: Web, rep_id: str, token: str) -> list[str]:
    with _queries(web) as seen:
        response = web.client().post(f"/reps/{rep_id}", data={"qf_token": token})
        assert response.status_code == 200
    return seen


def test_the_rep_page_costs_the_same_few_queries_for_a_rep_and_the_vp(web: Web) -> None:
    PAGES.clear()
    cast = web.cast
    people = (cast.rep_a, cast.rep_b, cast.vp)
    tokens = {p: web.token(p) for p in people}
    cold = {p: _page(web, p, tokens[p]) for p in people}
    warm = {p: _page(web, p, tokens[p]) for p in people}
    # Cold: computed from indexed lookups, a bounded number whatever the number of deals
    # (a manager chain walk and a SPIFF window read more for some reps than for others).
    assert all(len(cold[p]) <= 30 for p in people)
    # Warm: computed once per committed calculation; what is left is the viewer's access
    # check and the one query for the page version, the same for a rep and for the VP
    # (whose results hold a line for every deal of the org).
    assert len(warm[cast.rep_a]) == len(warm[cast.rep_b]) == len(warm[cast.vp]) <= 6
    assert len(warm[cast.vp]) < len(cold[cast.vp])
    assert not any("period_results" in q or "canonical_deals" in q for q in warm[cast.vp])


def test_a_new_committed_calculation_refreshes_the_page(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    PAGES.clear()
    token = web.token(web.cast.rep_a, app=app)
    client = app.test_client()
    assert client.post(f"/reps/{web.cast.rep_a}", data={"qf_token": token}).status_code == 200
    misses = PAGES.misses
    assert client.post(f"/reps/{web.cast.rep_a}", data={"qf_token": token}).status_code == 200
    assert PAGES.misses == misses  # served from the cache
    with app.app_context(), unit_of_work() as uow:
        last = uow.session.query(CalcRun).order_by(CalcRun.id.desc()).first()
        assert last is not None
        uow.session.add(
            CalcRun(
                org_id=last.org_id, sync_run_id=last.sync_run_id, mode="incremental",
                status="committed", as_of=last.as_of, range_start=last.range_start,
                range_end=last.range_end, mapping_version_id=last.mapping_version_id,
                plan_version_id=last.plan_version_id, reps_computed=0,
                created_at=datetime.now(UTC), finished_at=datetime.now(UTC),
            )
        )  # fmt: skip
        uow.session.execute(update(CalcRun).where(CalcRun.id == -1).values(status="x"))
        uow.session.commit()
    assert client.post(f"/reps/{web.cast.rep_a}", data={"qf_token": token}).status_code == 200
    assert PAGES.misses > misses  # a new calculation: computed again
