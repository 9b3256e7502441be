"""The manager views on the synced demo org: who may see which team, and what the pages show."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from connector.reports.team import contributors, figures, team_totals
from connector.store.people import person, team_below
from connector.store.team_reads import period_rows
from tests.store_kit import unit_of_work

from .conftest import Web

PERIOD = "2026-Q1"


def _post(
    web: Web, url: str, user: str | None = None, *, token: str | None = None
) -> tuple[int, str]:
    client: FlaskClient = web.client()
    response = client.post(url, data={"qf_token": token or web.token(user or "")})
    return response.status_code, response.get_data(as_text=True)


def test_a_rep_is_refused(web: Web) -> None:
    status, html = _post(web, "/team", web.cast.rep_a)
    assert status == 403 and "roles do not include" in html
    status, _ = _post(web, "/team/leaderboard", web.cast.rep_a)
    assert status == 403


def test_no_session_is_refused(web: Web) -> None:
    assert web.client().get("/team").status_code == 401


def test_manager_sees_own_team(web: Web) -> None:
    status, html = _post(web, f"/team?period={PERIOD}", web.cast.manager_a)
    assert status == 200, html
    assert "My team" in html
    for rep in (web.cast.rep_a, web.cast.rep_a2):
        assert rep in html or _rep_name(web, rep) in html
    assert _rep_name(web, web.cast.rep_b) not in html
    assert 'role="img"' in html and "<title>Attainment of" in html
    assert 'class="qf-chart"' in html


def test_team_totals_match_the_stored_results(web: Web) -> None:
    status, html = _post(web, f"/team?period={PERIOD}", web.cast.manager_a)
    assert status == 200
    with web.app.app_context(), unit_of_work() as uow:
        members = team_below(uow.session, org_id=web.org_id, manager_id=web.cast.manager_a)
        rows = period_rows(uow.session, org_id=web.org_id, rep_ids=members, period=PERIOD)
    found = figures(rows)
    reps = contributors(web.cast.manager_a, members)
    totals = team_totals(reps, found, payees=members.values())
    assert totals.reps == len(members) > 0
    assert totals.quota > 0
    expected = f"${totals.quota:,.2f}"
    assert expected in html
    assert f"${totals.credit:,.2f}" in html


def test_manager_b_cannot_open_manager_a_team(web: Web) -> None:
    status, html = _post(web, f"/team?manager={web.cast.manager_a}", web.cast.manager_b)
    assert status == 404
    assert _rep_name(web, web.cast.rep_a) not in html
    status, _ = _post(web, f"/team/leaderboard?manager={web.cast.manager_a}", web.cast.manager_b)
    assert status == 404
    # nor a rep of that team as if they were a sub-manager
    status, _ = _post(web, f"/team?manager={web.cast.rep_a}", web.cast.manager_b)
    assert status == 404


def test_admin_opens_any_team_and_gets_a_chooser_without_one(web: Web) -> None:
    token = web.admin_token()
    status, html = _post(web, f"/team?manager={web.cast.manager_a}&period={PERIOD}", token=token)
    assert status == 200, html
    assert "Team of" in html and _rep_name(web, web.cast.rep_a) in html
    status, html = _post(web, "/team", token=token)
    assert status == 200
    assert "Choose a manager" in html and web.cast.manager_a in html


def test_admin_asking_for_nobody_gets_404(web: Web) -> None:
    status, _ = _post(web, "/team?manager=005000000000000AAA", token=web.admin_token())
    assert status == 404


def test_vp_sees_sub_managers_linking_to_their_teams(web: Web) -> None:
    status, html = _post(web, f"/team?period={PERIOD}", web.cast.vp)
    assert status == 200, html
    assert "Team of " in html  # the sub-team link of a second-line manager
    with web.app.app_context(), unit_of_work() as uow:
        below = team_below(uow.session, org_id=web.org_id, manager_id=web.cast.vp)
    direct = [p for p in below.values() if p.manager_id == web.cast.vp]
    assert direct and all(p.name in html for p in direct)
    # a sub-manager inside the VP's team is open to the VP
    sub = next(p.id for p in direct if any(m.manager_id == p.id for m in below.values()))
    status, html = _post(web, f"/team?manager={sub}&period={PERIOD}", web.cast.vp)
    assert status == 200


def test_unknown_period_is_400_naming_it(web: Web) -> None:
    status, html = _post(web, "/team?period=1999-Q9", web.cast.manager_a)
    assert status == 400 and "1999-Q9" in html


def test_period_chooser_is_a_post_form_with_the_session_in_the_body(web: Web) -> None:
    status, html = _post(web, "/team", web.cast.manager_a)
    assert status == 200
    assert 'name="period"' in html and 'method="post"' in html
    assert "qf_token=" not in html  # never in a URL


def test_period_from_the_filter_form(web: Web) -> None:
    response = web.client().post(
        "/team", data={"qf_token": web.token(web.cast.manager_a), "period": PERIOD}
    )
    assert response.status_code == 200
    assert f'<option value="{PERIOD}" selected>' in response.get_data(as_text=True)


@pytest.mark.parametrize("metric", ["attainment", "credit", "earnings", "deals_won"])
def test_leaderboard_ranks_by_each_metric(web: Web, metric: str) -> None:
    status, html = _post(web, f"/team/leaderboard?metric={metric}&period={PERIOD}", web.cast.vp)
    assert status == 200, html
    assert 'aria-pressed="true"' in html
    ranks = [int(n) for n in re.findall(r'<td class="qf-num">(\d+)</td>\s*<th scope="row"', html)]
    assert ranks and ranks[0] == 1 and ranks == sorted(ranks)


def test_leaderboard_by_attainment_is_descending(web: Web) -> None:
    status, html = _post(web, f"/team/leaderboard?metric=attainment&period={PERIOD}", web.cast.vp)
    assert status == 200
    values = [Decimal(v.replace(",", "")) for v in re.findall(r">(-?[\d,]+\.\d)%</td>", html)]
    assert values and values == sorted(values, reverse=True)


def test_leaderboard_metric_from_the_form(web: Web) -> None:
    response = web.client().post(
        f"/team/leaderboard?period={PERIOD}",
        data={"qf_token": web.token(web.cast.manager_a), "metric": "credit"},
    )
    assert response.status_code == 200
    assert "By credit" in response.get_data(as_text=True)


def test_unknown_metric_is_400_naming_it(web: Web) -> None:
    status, html = _post(web, "/team/leaderboard?metric=vibes", web.cast.manager_a)
    assert status == 400 and "vibes" in html


def test_get_with_bearer_works(web: Web) -> None:
    token = web.token(web.cast.manager_a)
    response = web.client().get(
        f"/team/leaderboard?period={PERIOD}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


def _rep_name(web: Web, rep_id: str) -> str:
    with web.app.app_context(), unit_of_work() as uow:
        found = person(uow.session, org_id=web.org_id, rep_id=rep_id)
    assert found is not None
    return found.name


def test_names_drill_down_to_the_rep_and_outsiders_cannot(web: Web) -> None:
    if "rep.person" not in web.app.view_functions:
        pytest.skip("the rep view is not registered yet")
    status, html = _post(web, f"/team?period={PERIOD}", web.cast.manager_a)
    assert status == 200
    assert f'action="/reps/{web.cast.rep_a}"' in html
    status, _ = _post(web, f"/reps/{web.cast.rep_a}", web.cast.manager_b)
    assert status == 404
    status, _ = _post(web, f"/reps/{web.cast.rep_a}", token=web.admin_token())
    assert status == 200
