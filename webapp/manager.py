"""The manager views: a team table with totals and an attainment histogram, and a leaderboard.

A manager sees themself and everyone below them in the ManagerId hierarchy; an admin may
open any manager's team with `?manager=<id>`. A team no viewer may see is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from flask import Blueprint, current_app, render_template, request
from markupsafe import Markup

from connector.reports.team import (
    METRIC_LABELS,
    METRICS,
    Calendar,
    Figures,
    UnknownChoice,
    attainment_bands,
    choose_period,
    contributors,
    figures,
    plan_calendar,
    team_rows,
    team_totals,
    year_start,
)
from connector.reports.team import (
    leaderboard as ranking,
)
from connector.store.people import Person
from connector.store.team_reads import (
    StoredPeriod,
)
from webapp.access import get_rep_or_404, team_of
from webapp.auth.guard import bad_request, current_viewer, require
from webapp.auth.session import Viewer
from webapp.charts.bars import meter
from webapp.charts.histogram import histogram
from webapp.db import org_unit, viewer_unit

bp = Blueprint("manager", __name__)

LEADERBOARD_SIZE = 100
ATTAINMENT_SCALE = Decimal("1.5")  # the table's bars run to 150% of quota
GOOD_BAND = 4  # histogram bands from 100% up are drawn green


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose team a page shows, and the period."""

    head: Person
    members: dict[str, Person]
    period: StoredPeriod
    periods: list[StoredPeriod]
    calendar: Calendar


def _today() -> datetime:
    return datetime.now(UTC)


def _team_of_head(viewer: Viewer, requested: str | None) -> tuple[Person, dict[str, Person]] | None:
    """The head of the team asked for and their team; None: an admin who has not chosen yet."""
    if not requested:
        if not viewer.has("manager"):
            return None
        requested = viewer.user_id
        if not viewer.has("admin"):
            return get_rep_or_404(requested), team_of(viewer)
    head = get_rep_or_404(requested)  # 404 unless it is the viewer, in their team, or admin
    with org_unit(viewer.org_id) as unit:
        members = unit.people.team_below(manager_id=head.id)
    return head, members


def _scope(viewer: Viewer) -> Scope | None:
    """The team and period of this request (400 for a period that does not exist)."""
    found = _team_of_head(viewer, request.values.get("manager"))
    if found is None:
        return None
    head, members = found
    with org_unit(viewer.org_id) as unit:
        document = unit.plans.active_plan_document()
        periods = unit.results.stored_periods()
    calendar = plan_calendar(document, head.plan_id)
    try:
        period = choose_period(
            periods, request.values.get("period"), calendar=calendar, as_of=_today().date()
        )
    except UnknownChoice as exc:
        raise bad_request(str(exc)) from None
    return Scope(head, members, period, periods, calendar)


def _figures(scope: Scope, *, ytd_for: list[str], won: bool) -> dict[str, Figures]:
    """Everyone's figures for the period (YTD for `ytd_for`, deals won if asked)."""
    ids = [scope.head.id, *scope.members]
    with viewer_unit() as unit:
        current = unit.results.period_rows(rep_ids=ids, period=scope.period.name)
        start = year_start(scope.period, scope.calendar)
        year = unit.results.year_rows(rep_ids=ytd_for, start=start, through=scope.period.start)
        counts = unit.results.deals_won(rep_ids=ids, period=scope.period.name) if won else {}
    return figures(current, year, counts)


def _attainment_bar(value: Decimal | None) -> Markup:
    title = "No result" if value is None else f"{value * 100:.1f}% of quota"
    return meter(value, title=title, scale=ATTAINMENT_SCALE, target=Decimal(1))


def _common(scope: Scope) -> dict[str, object]:
    return {
        "head": scope.head,
        "period": scope.period,
        "periods": scope.periods,
        "is_self": scope.head.id == current_viewer().user_id,
        "manager_arg": None if scope.head.id == current_viewer().user_id else scope.head.id,
        "drill": "rep.person" in current_app.view_functions,
    }


def _choose_manager(viewer: Viewer) -> str:
    """The admin's landing page: every manager of the org, to pick a team."""
    with org_unit(viewer.org_id) as unit:
        ids = unit.results.manager_ids()
        found = unit.people.people(ids=ids)
    managers = sorted(found.values(), key=lambda p: (p.name.lower(), p.id))
    return render_template("manager/choose.html", managers=managers)


@bp.route("/team", methods=["GET", "POST"])
@require("manager", "admin")
def team() -> str:
    """A manager's team: totals, the table of direct reports, the attainment distribution."""
    viewer = current_viewer()
    scope = _scope(viewer)
    if scope is None:
        return _choose_manager(viewer)
    rows_ids = [scope.head.id] + [
        m.id for m in scope.members.values() if m.manager_id == scope.head.id
    ]
    found = _figures(scope, ytd_for=rows_ids, won=False)
    reps = contributors(scope.head.id, scope.members)
    bands = attainment_bands(
        f.attainment for p in reps if (f := found.get(p.id)) and f.attainment is not None
    )
    chart = histogram(
        [(b.short, b.count) for b in bands],
        title=f"Attainment of {len(reps)} reps, {scope.period.name}",
        x_label="attainment, % of quota (reps per band)",
        good_from=GOOD_BAND,
    )
    return render_template(
        "manager/team.html",
        rows=team_rows(scope.head, scope.members, found),
        totals=team_totals(reps, found, payees=[scope.head, *scope.members.values()]),
        chart=chart,
        attainment_bar=_attainment_bar,
        **_common(scope),
    )


@bp.route("/team/leaderboard", methods=["GET", "POST"])
@require("manager", "admin")
def leaderboard() -> str:
    """The team's reps ranked by a chosen metric."""
    viewer = current_viewer()
    metric = request.values.get("metric") or "attainment"
    if metric not in METRICS:
        raise bad_request(f"Unknown metric {metric!r}: choose one of {', '.join(METRICS)}.")
    scope = _scope(viewer)
    if scope is None:
        return _choose_manager(viewer)
    found = _figures(scope, ytd_for=[], won=metric == "deals_won")
    reps = contributors(scope.head.id, scope.members)
    ranked = ranking(reps, found, metric)
    top = max((r.value for r in ranked), default=Decimal(0))
    bars = [meter(r.value, title=f"{r.person.name}", scale=top) for r in ranked[:LEADERBOARD_SIZE]]
    return render_template(
        "manager/leaderboard.html",
        ranked=list(zip(ranked[:LEADERBOARD_SIZE], bars, strict=True)),
        total=len(ranked),
        reps=len(reps),
        metric=metric,
        metrics=METRIC_LABELS,
        **_common(scope),
    )
