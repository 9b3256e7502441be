"""API: a rep's earnings in the `quotaflow calc` result shape, and a deal's estimate.

Same access as the HTML views (`rep.person`, `rep.deal`): a rep the viewer may not see, or a
deal involving nobody they may see, is a 404; participants they may not see are counted,
never named.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from calc.money import money_str
from connector.reports.earnings import earnings_envelope
from connector.reports.estimate import DealReport, Participant, deal_report
from connector.reports.spiffs import DealSpiff, deal_spiff
from webapp.access import get_deal_or_404, get_rep_or_404, visible_people
from webapp.api import bp
from webapp.auth.guard import current_viewer, not_found, require
from webapp.db import viewer_unit
from webapp.params import period_param
from webapp.rep import today


def _earnings(rep_id: str) -> Response:
    person = get_rep_or_404(rep_id)
    period = period_param()
    with viewer_unit() as unit:
        body = earnings_envelope(unit, rep_id=person.id, as_of=today(), period=period)
    return jsonify(body)


@bp.get("/me/earnings")
@require("rep", "manager")
def my_earnings() -> Response:
    """The caller's results (`?period=`; default every period of the current year)."""
    return _earnings(current_viewer().user_id)


@bp.get("/reps/<rep_id>/earnings")
@require()
def rep_earnings(rep_id: str) -> Response:
    """A visible rep's results, same shape."""
    return _earnings(rep_id)


def _participant(p: Participant) -> dict[str, Any]:
    return {
        "rep_id": p.rep_id,
        "name": p.name,
        "credit_types": list(p.credit_types),
        "percent": money_str(p.percent),
        "credited": money_str(p.credited),
        "period": p.period,
        "amount": money_str(p.amount),
        "lines": list(p.lines),
    }


def estimate_body(
    report: DealReport, spiff: DealSpiff, *, seen: set[str], owner_visible: bool
) -> dict[str, Any]:
    """The estimate as JSON: visible participants in full, hidden ones only counted."""
    deal = report.deal
    shown = [p for p in report.participants if p.rep_id in seen]
    hidden = len({p.rep_id for p in report.participants} - seen)
    checks = [{"spiff": c.rule.id, "counts": c.ok, "why": c.verdict} for c in spiff.checks]
    return {
        "deal_id": deal.id,
        "name": deal.name,
        "state": report.state,
        "as_of": report.as_of.isoformat(),
        "currency": report.currency,
        "amount": None if deal.amount is None else money_str(deal.amount),
        "stage": deal.stage,
        "close_date": None if deal.close_date is None else deal.close_date.isoformat(),
        "owner_id": deal.owner_id if owner_visible else None,
        "owner_amount": money_str(report.owner_amount()) if owner_visible else None,
        "participants": [_participant(p) for p in shown],
        "hidden_participants": hidden,
        "unresolved": list(report.unresolved),
        "spiff": {
            "status": spiff.status,
            "source": spiff.source,
            "checks": checks if owner_visible else [],
        },
    }


@bp.get("/deals/<deal_id>/estimate")
@require()
def deal_estimate(deal_id: str) -> Response:
    """What the deal pays (or would pay if won today) each participant the caller may see."""
    viewer = current_viewer()
    get_deal_or_404(deal_id)
    with viewer_unit() as unit:
        report = deal_report(unit, deal_id=deal_id, as_of=today())
        if report is None:
            raise not_found(f"Opportunity {deal_id}")
        spiff = deal_spiff(unit, report=report)
    owner = report.deal.owner_id
    ids = {p.rep_id for p in report.participants} | ({owner} if owner else set())
    seen = visible_people(viewer, ids)
    return jsonify(estimate_body(report, spiff, seen=seen, owner_visible=owner in seen))
