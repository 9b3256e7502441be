"""The demo's sign-in-as chooser: links into the devorg's Lightning pages as any user.

It exists only when the app is built with `demo_mode`, which only `quotaflow demo` sets (no
environment variable can), and it grants nothing itself: each link opens the devorg's page
for that user, and the devorg POSTs a real signed request into the app, as Salesforce would.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from connector.store.deal_reads import sample_deals
from connector.store.mapping_versions import known_org_ids
from connector.store.people import all_people
from connector.store.roles import grants
from webapp.db import unit_of_work

bp = Blueprint("demo", __name__)
REPS_LISTED = 8


def _org_id() -> str | None:
    with unit_of_work() as uow:
        orgs = known_org_ids(uow.session)
    return orgs[0] if orgs else None


@bp.get("/")
@bp.get("/demo")
def chooser() -> Any:
    """Who to be: admin, ops, the VP, managers and reps, each a link to a devorg page."""
    settings = current_app.extensions["quotaflow.settings"]
    base = (settings.sf_login_url or "").rstrip("/")
    org_id = _org_id()
    people: list[Any] = []
    deals: dict[str, str] = {}
    if org_id is not None:
        with unit_of_work() as uow:
            people = all_people(uow.session, org_id=org_id)
            deals = sample_deals(uow.session, org_id=org_id, owner_ids=[p.id for p in people])
            granted = grants(uow.session, org_id=org_id)
    else:
        granted = []
    managers = {p.manager_id for p in people if p.manager_id}
    by_plan: dict[str, list[Any]] = {"vp": [], "manager": [], "ae": []}
    for person in people:
        if not person.plan_id:  # admins and integration users: not paid, listed above
            continue
        key = "vp" if person.plan_id == "vp" else "manager" if person.id in managers else "ae"
        by_plan[key].append(person)
    return render_template(
        "demo/chooser.html",
        base=base,
        vps=by_plan["vp"],
        managers=by_plan["manager"][:REPS_LISTED],
        reps=by_plan["ae"][:REPS_LISTED],
        deals=deals,
        grants=granted,
    )
