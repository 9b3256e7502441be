"""Demo workflow data: a few disputes in different states, and the latest ended period with
every statement approved, ready to close. Used by `quotaflow demo` after its first sync; does
nothing when the org has disputes already (a restarted demo keeps what was done in it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from connector.close.statements import approve, statements
from connector.disputes.service import DisputeRequest, RepRef, act, open_dispute
from connector.disputes.workflow import Actor, Inputs
from connector.reports.stored_book import active_doc
from connector.store.people import Person
from connector.store.unit import OrgUnit

DEMO_ADMIN = Actor("", "Quotaflow demo admin", frozenset({"admin"}))


@dataclass(frozen=True, slots=True)
class DemoWorkflow:
    """What was seeded."""

    disputes: int
    ready_period: str | None
    approved: int


def _line(unit: OrgUnit, rep: str, period: str) -> dict[str, object] | None:
    for rep_id, result in unit.close.results_of_period(period=period):
        if rep_id == rep:
            return next((ln for ln in result.get("lines", []) if ln.get("deal_id")), None)
    return None


def _dispute(unit: OrgUnit, rep: Person, period: str, now: datetime, reason: str,
             text: str) -> int:  # fmt: skip
    line = _line(unit, rep.id, period)
    if line is None:
        req = DisputeRequest(kind="period", period=period, reason_code=reason, description=text)
    else:
        shown = Decimal(str(line["amount"]))
        req = DisputeRequest(
            kind="line", period=period, reason_code=reason, description=text,
            deal_id=str(line["deal_id"]), component=str(line["component"]),
            credit_type=str(line.get("credit_type") or "") or None, shown_amount=shown,
            expected_amount=(shown * Decimal("1.25")).quantize(Decimal("0.01")),
        )  # fmt: skip
    ref = RepRef(rep.id, rep.name, rep.manager_id)
    return open_dispute(unit, rep=ref, req=req, now=now).id


def _step(unit: OrgUnit, dispute_id: int, action: str, now: datetime,
          inputs: Inputs | None = None) -> None:  # fmt: skip
    act(unit, dispute_id=dispute_id, action=action, actor=DEMO_ADMIN, inputs=inputs or Inputs(),
        now=now)  # fmt: skip


def seed_workflow_demo(unit: OrgUnit, *, now: datetime) -> DemoWorkflow:
    """Seed the demo's disputes and ready period in `unit` (the caller commits)."""
    if unit.disputes.find(rep_ids=None, limit=1):
        return DemoWorkflow(0, None, 0)
    periods = unit.close.result_periods()
    ended = [p for p, end in periods if end < now.date()]
    current = next((p for p, end in periods if end >= now.date()), None)
    reps = [p for p in unit.people.all_people() if p.manager_id and p.plan_id == "ae"]
    opened = 0
    if current is not None and len(reps) >= 5:
        earlier = now - timedelta(days=6)
        ids = [
            _dispute(unit, reps[0], current, earlier, "missing_deal",
                     "My renewal with the Acme account is not on my statement."),
            _dispute(unit, reps[1], current, earlier, "wrong_split",
                     "I worked this deal 50/50 with my colleague; I got no split credit."),
            _dispute(unit, reps[2], current, earlier, "wrong_rate",
                     "I passed 100% of quota; this line still uses the 8% tier."),
            _dispute(unit, reps[3], current, earlier, "spiff_not_applied",
                     "This Analytics deal should have paid the SPIFF."),
        ]  # fmt: skip
        ask = Inputs(note="Which deal crossed 100%? Please give its name.")
        deny = Inputs(note="The deal closed after the SPIFF window ended.", resolution="denied")
        _step(unit, ids[1], "review", now - timedelta(days=5))
        _step(unit, ids[2], "review", now - timedelta(days=5))
        _step(unit, ids[2], "ask_info", now - timedelta(days=4), ask)
        _step(unit, ids[3], "review", now - timedelta(days=3))
        _step(unit, ids[3], "resolve", now - timedelta(days=2), deny)
        opened = len(ids)
    ready, approved = None, 0
    if ended:
        ready = ended[-1]
        approved = _approve_all(unit, ready, now)
    return DemoWorkflow(opened, ready, approved)


def _approve_all(unit: OrgUnit, period: str, now: datetime) -> int:
    doc = active_doc(unit)
    currency_of = {p.id: p.currency for p in doc.plans} if doc else {}
    people = {p.id: p for p in unit.people.all_people()}
    count = 0
    for s in statements(unit, period=period, currency_of=currency_of,
                        default="USD"):  # fmt: skip
        person = people.get(s.rep_id)
        manager = person.manager_id if person else None
        if manager:
            boss = Actor(manager, people[manager].name if manager in people else manager,
                         frozenset({"manager"}), manages_rep=True)  # fmt: skip
            approve(unit, period=period, statement=s, actor=boss,
                    has_manager=True, held=False, now=now)  # fmt: skip
            s = next(x for x in statements(unit, period=period,
                     currency_of=currency_of, default="USD") if x.rep_id == s.rep_id)  # fmt: skip
        approve(unit, period=period, statement=s, actor=DEMO_ADMIN,
                has_manager=bool(manager), held=False, now=now)  # fmt: skip
        count += 1
    return count
