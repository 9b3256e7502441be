"""The demo's sign-in-as chooser: links into the devorg's Lightning pages as any user.

It exists only when the app is built with `demo_mode`, which only `quotaflow demo` sets (no
environment variable can), and it grants nothing itself: each link opens the devorg's page
for that user, and the devorg POSTs a real signed request into the app, as Salesforce would.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from webapp.db import org_directory, org_unit

bp = Blueprint("demo", __name__)
REPS_LISTED = 8


def _org_id() -> str | None:
    orgs = org_directory().with_mapping()
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
        with org_unit(org_id) as unit:
            people = unit.people.all_people()
            deals = unit.records.sample_deals(owner_ids=[p.id for p in people])
            granted = unit.roles.grants()
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
