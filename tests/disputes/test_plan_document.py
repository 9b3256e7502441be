"""The readable plan document a rep accepts: every term of their plan, canonical bytes."""

from __future__ import annotations

from decimal import Decimal

from calc.model import Rep
from calc.plan import Plan, parse_plan_doc
from connector.reports.plan_document import plan_document

PLAN = {
    "id": "ae", "name": "Account Executive", "currency": "EUR", "period": "quarter",
    "quota": {"amount": 100000},
    "components": [
        {"id": "commission", "type": "commission", "gate": {"min_attainment": 0.5},
         "cap": {"amount": 20000},
         "tiers": {"basis": "attainment",
                   "table": [{"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.1}]}},
        {"id": "bonus", "type": "bonus", "min_attainment": 1.0, "amount": 2500},
        {"id": "spiff", "type": "spiff", "window": {"start": "2026-01-01", "end": "2026-03-31"},
         "criteria": [{"field": "product_family", "op": "eq", "value": "Analytics"}],
         "payout": {"per_deal": 300}, "max_payouts": 4},
    ],
    "draw": {"amount": 3000, "recoverable": True},
    "clawback": {"window_days": 60, "percent": 0.5},
}  # fmt: skip


def _plan(**changes: object) -> Plan:
    return parse_plan_doc(PLAN | changes).plans[0]


def test_the_document_states_every_term() -> None:
    doc = plan_document(_plan(), Rep(id="005A", name="Ana"), version=4)
    text = doc.text
    for expected in (
        "Compensation plan: Account Executive", "Plan ae, version 4", "for Ana, paid in EUR",
        "quota: EUR 100,000.00 per quarter", "from 0% of quota to 100% of quota at 5%",
        "from 100% of quota at 10%", "pays nothing below 50% attainment",
        "capped at EUR 20,000.00 a period", "bonus: EUR 2,500.00 at 100% attainment",
        "EUR 300.00 per deal, deals credited 2026-01-01 to 2026-03-31",
        "when product_family = Analytics", "at most 4 payouts",
        "draw: EUR 3,000.00 per quarter, recoverable",
        "cancelled within 60 days takes back 50% of what it paid",
    ):  # fmt: skip
        assert expected in text, expected
    assert doc.sha256 == plan_document(_plan(), Rep(id="005A", name="Ana"), version=4).sha256


def test_the_reps_own_quota_and_any_change_alter_the_checksum() -> None:
    base = plan_document(_plan(), Rep(id="005A", name="Ana"), version=4)
    own = plan_document(_plan(), Rep(id="005A", name="Ana", quota=Decimal("80000")), version=4)
    assert "quota: EUR 80,000.00 per quarter" in own.text and own.sha256 != base.sha256
    later = plan_document(_plan(), Rep(id="005A", name="Ana"), version=5)
    assert later.sha256 != base.sha256
    richer = plan_document(_plan(draw={"amount": 3500}), Rep(id="005A", name="Ana"), version=4)
    assert richer.sha256 != base.sha256
