"""Rep views: earnings (Home and User pages), statements, the estimator, the Opportunity view.

Thin views: check access (`get_rep_or_404`, `get_deal_or_404`), call one read model in
`connector.reports`, render. "Today" is read here, once per request, and passed down.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from markupsafe import Markup, escape

from connector.reports.earnings import RepSummary, rep_summary
from connector.reports.estimate import deal_report
from connector.reports.open_deals import open_deal_estimates
from connector.reports.page_cache import PageCache
from connector.reports.rep_page import Page, build_page, current_page, stored
from connector.reports.spiffs import deal_spiff
from connector.store.people import Person
from connector.store.rep_pages import PageVersion
from webapp.access import get_deal_or_404, get_rep_or_404, stored_rep_page, visible_people
from webapp.auth.guard import check_roles, current_viewer, not_found, require
from webapp.auth.session import Viewer
from webapp.charts.gauge import attainment_gauge
from webapp.db import viewer_unit
from webapp.params import period_given, period_param
from webapp.render import fresh_token
from webapp.rendered import RenderedBodies

bp = Blueprint("rep", __name__)
METHODS = ["GET", "POST"]
STATEMENT_DEALS = 2000  # a manager's statement lists the team's deals: the CSV has them all


def today() -> date:
    """The as-of date of a page: today in UTC, like the sync's."""
    return datetime.now(UTC).date()


@bp.app_template_filter("rep_num")
def rep_num(value: Any) -> str:
    """A stored decimal string with thousands separators (`7650.00` -> `7,650.00`)."""
    try:
        return f"{Decimal(str(value)):,}"
    except (InvalidOperation, ValueError):
        return "—" if value is None else str(value)


# The rendered body of a stored page, per page version and viewer kind (own page or not, the
# route), with its title: the same for every request but for the session token, put in at the
# placeholder. The frame around it (title, tabs, the viewer's name) is kept per viewer kind.
TOKEN_SLOT = "qf-token-" + secrets.token_hex(16)
BODY_SLOT = "qf-body-" + secrets.token_hex(16)
NAME_SLOT = "qf-name-" + secrets.token_hex(16)


def _kept(name: str) -> RenderedBodies[tuple[str, str]]:
    """The app's rendered parts of one kind (bodies, frames): each app keeps its own."""
    key = "quotaflow.rendered." + name
    kept: RenderedBodies[tuple[str, str]] | None = current_app.extensions.get(key)
    if kept is None:
        kept = current_app.extensions.setdefault(key, RenderedBodies())
    return kept


# Statements and pages of other periods are computed once per committed calculation (and
# request) in each process; the current period's page is stored (connector/reports/rep_page.py).
PAGES = PageCache()


def _summary(person: Person, *, deal_limit: int | None = 100) -> RepSummary:
    as_of, period = today(), period_param()
    with viewer_unit() as unit:
        return PAGES.page(
            unit,
            key=("summary", person.id, as_of, period, deal_limit),
            compute=lambda: rep_summary(
                unit, rep_id=person.id, as_of=as_of, period=period, deal_limit=deal_limit
            ),
        )


def _rep_page(rep_id: str | None, *, roles: tuple[str, ...]) -> str:
    """The rep page of `rep_id` (None: the viewer's own), for viewers holding one of `roles`."""
    as_of = today()
    if period_given():  # another period: computed once per committed calculation
        viewer = current_viewer()
        check_roles(viewer, roles)
        person = get_rep_or_404(rep_id or viewer.user_id)
        period = period_param()
        with viewer_unit() as unit:
            page = PAGES.page(
                unit,
                key=("page", person.id, as_of, period),
                compute=lambda: build_page(unit, rep_id=person.id, as_of=as_of, period=period),
            )
        return _render(viewer, person, lambda: page, None, as_of=as_of)
    # The current period: the access check and the stored page in one statement.
    found = stored_rep_page(rep_id, roles=roles, as_of=as_of)
    viewer, person, version, body = found.viewer, found.rep, found.version, found.body
    if body is not None:
        return _render(viewer, person, lambda: stored(body), version, as_of=as_of)
    # Not stored for this calculation yet: computed, stored and served.
    with viewer_unit() as unit:
        page, version = current_page(unit, rep_id=person.id, as_of=as_of, now=datetime.now(UTC))
        unit.commit()
    return _render(viewer, person, lambda: page, version, as_of=as_of)


def _render(
    viewer: Viewer,
    person: Person,
    load: Callable[[], Page],
    version: PageVersion | None,
    *,
    as_of: date,
) -> str:
    """The page: its body (kept per stored page version) in its frame (kept per viewer kind),
    with this request's renewed session token put in."""
    own = person.id == viewer.user_id
    token = str(escape(fresh_token(viewer)))
    if version is None:  # not a stored page: rendered for this request alone
        page = load()
        title, body = _title(page, own=own), _body(page, own=own)
    else:
        kind = (viewer.org_id, person.id, version, as_of, own, request.endpoint)
        title, body = _kept("bodies").body(kind, lambda: _titled_body(load(), own=own))
    # The frame shows the viewer's name and their roles' tabs: kept per roles and route, the
    # name put in like the token (escaped as the template would).
    frame = (viewer.org_id, viewer.roles, request.endpoint, request.script_root, title)
    head, tail = _kept("frames").body(frame, lambda: _frame(viewer, title))
    head = head.replace(NAME_SLOT, str(escape(viewer.name)))
    return "".join((head, body, tail)).replace(TOKEN_SLOT, token)


def _title(page: Page, *, own: bool) -> str:
    return "My earnings" if own else page.name


def _titled_body(page: Page, *, own: bool) -> tuple[str, str]:
    return _title(page, own=own), _body(page, own=own)


def _frame(viewer: Viewer, title: str) -> tuple[str, str]:
    """The page around its body (the viewer's roles, the route), split where the body goes."""
    html = render_template(
        "rep/home.html",
        title=title,
        body=Markup(BODY_SLOT),
        qf_token=TOKEN_SLOT,
        viewer=replace(viewer, name=NAME_SLOT),
    )
    head, _slot, tail = html.partition(BODY_SLOT)
    return head, tail


def _body(page: Page, *, own: bool) -> str:
    """The page body with a placeholder where the session token goes."""
    attainment = page.result["attainment"] if page.result else None
    return render_template(
        "rep/_home_body.html",
        s=page,
        own=own,
        labels={c.id: c.label for c in page.components},
        gauge=attainment_gauge(None if attainment is None else Decimal(attainment)),
        qf_token=TOKEN_SLOT,
    )


@bp.route("/rep", methods=METHODS)
def home() -> str:
    """The viewer's own earnings (reps and managers)."""
    return _rep_page(None, roles=("rep", "manager"))


@bp.route("/reps/<rep_id>", methods=METHODS)
def person(rep_id: str) -> str:
    """A visible rep's earnings (the User page, and managers' drill-down): any viewer."""
    return _rep_page(rep_id, roles=())


@bp.route("/reps/<rep_id>/statement", methods=METHODS)
@require()
def statement(rep_id: str) -> str:
    """A printable statement of one period (`?period=`, default the current one)."""
    person = get_rep_or_404(rep_id)
    summary = _summary(person, deal_limit=STATEMENT_DEALS)
    labels = {c.id: c.label for c in summary.components}
    own = person.id == current_viewer().user_id
    return render_template("rep/statement.html", s=summary, person=person, labels=labels, own=own)


CSV_COLUMNS = (
    "rep_id",
    "rep_name",
    "period",
    "deal_id",
    "deal_name",
    "component",
    "credit_type",
    "base",
    "rate",
    "amount",
    "explain",
)


def _cell(value: object) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: names come from the CRM.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def statement_rows(summary: RepSummary) -> list[list[str]]:
    """The statement's lines as CSV rows (text cells guarded against formula injection)."""
    period = summary.period or ""
    rows = []
    lines = [(d.deal_id, d.name, ln) for d in summary.deals for ln in d.lines]
    lines += [("", "", ln) for ln in summary.other_lines]
    for deal_id, name, ln in lines:
        rows.append(
            [
                summary.rep_id,
                _cell(summary.name),
                period,
                deal_id,
                _cell(name),
                _cell(ln["component"]),
                ln.get("credit_type") or "",
                ln["base"],
                ln["rate"],
                ln["amount"],
                _cell(ln["explain"]),
            ]
        )
    return rows


@bp.route("/reps/<rep_id>/statement.csv", methods=METHODS)
@require()
def statement_csv(rep_id: str) -> Response:
    """The statement's lines as CSV."""
    summary = _summary(get_rep_or_404(rep_id), deal_limit=None)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(statement_rows(summary))
    name = f"statement-{rep_id}-{summary.period or 'none'}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/reps/<rep_id>/estimate", methods=METHODS)
@require()
def estimator(rep_id: str) -> str:
    """The rep's open deals, each with what it would pay if won today."""
    person = get_rep_or_404(rep_id)
    with viewer_unit() as unit:
        found = open_deal_estimates(unit, rep_id=person.id, as_of=today())
    return render_template("rep/estimator.html", e=found, person=person)


@bp.route("/deals/<deal_id>", methods=METHODS)
@require()
def deal(deal_id: str) -> str:
    """The Opportunity view: what the deal pays everyone the viewer may see, and its SPIFF."""
    viewer = current_viewer()
    get_deal_or_404(deal_id)
    with viewer_unit() as unit:
        report = deal_report(unit, deal_id=deal_id, as_of=today())
        if report is None:  # deleted between the check and now
            raise not_found(f"Opportunity {deal_id}")
        spiff = deal_spiff(unit, report=report)
    ids = {p.rep_id for p in report.participants}
    owner = report.deal.owner_id
    seen = visible_people(viewer, ids | ({owner} if owner else set()))
    shown = [p for p in report.participants if p.rep_id in seen]
    return render_template(
        "rep/deal.html",
        r=report,
        shown=shown,
        hidden=len(ids - seen),
        owner_visible=owner in seen,
        spiff=spiff,
    )
