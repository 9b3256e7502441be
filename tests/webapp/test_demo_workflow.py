"""The demo's workflow data: disputes in different states and one period ready to close."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from connector.close.demo import seed_workflow_demo
from tests.webapp.conftest import Web
from webapp.db import org_unit


def test_the_demo_seeds_disputes_and_a_period_ready_to_close(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    with app.app_context(), org_unit(web.org_id) as unit:
        done = seed_workflow_demo(unit, now=datetime.now(UTC))
        unit.commit()
        states = Counter(d.state for d in unit.disputes.find(rep_ids=None))
    assert done.disputes == 4 and done.ready_period is not None and done.approved > 10
    assert states == Counter({"submitted": 1, "in_review": 1, "needs_info": 1, "resolved": 1})
    token = web.admin_token(app=app)
    status = (
        app.test_client()
        .get(
            f"/api/v1/periods/{done.ready_period}/statements",
            headers={"Authorization": f"Bearer {token}"},
        )
        .get_json()
    )
    assert status["blockers"]["open_disputes"] == []
    assert status["blockers"]["unapproved_statements"] == []
    assert {s["state"] for s in status["statements"]} == {"approved"}
    with app.app_context(), org_unit(web.org_id) as unit:  # a second run seeds nothing more
        again = seed_workflow_demo(unit, now=datetime.now(UTC))
    assert again.disputes == 0 and again.ready_period is None
