"""Plan acceptance: the document a rep is asked to accept, whether they have, and who has not.

A rep must accept the active plan version; importing a new version asks every rep again
(their last acceptance names an older version). The checksum of the document they were shown
is stored with the acceptance, so an acceptance of a page that changed meanwhile is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connector.reports.plan_document import PlanDocument, plan_document
from connector.reports.stored_book import active_doc, plan_of
from connector.store.close import PlanAcceptance
from connector.store.unit import OrgUnit


@dataclass(frozen=True, slots=True)
class MyPlan:
    """A rep's plan document at the active version and their acceptances."""

    document: PlanDocument
    acceptances: tuple[PlanAcceptance, ...]

    @property
    def accepted(self) -> bool:
        """Whether the rep accepted this version."""
        return any(a.plan_version == self.document.version for a in self.acceptances)


@dataclass(frozen=True, slots=True)
class AcceptanceRow:
    """One rep on the admins' list: their plan and the newest version they accepted."""

    rep_id: str
    name: str
    plan_id: str
    accepted_version: int | None
    accepted_at: datetime | None
    current: bool


def my_plan(unit: OrgUnit, *, rep_id: str) -> MyPlan | None:
    """The rep's document and acceptances; None when they have no plan in the active version."""
    version = unit.plans.active_plan()
    found = plan_of(unit, rep_id=rep_id)
    if version is None or found.plan is None or found.rep is None:
        return None
    document = plan_document(found.plan, found.rep, version=version.version)
    return MyPlan(document, tuple(unit.close.acceptances_of(rep_id=rep_id)))


def acceptance_report(unit: OrgUnit) -> tuple[int | None, list[AcceptanceRow]]:
    """The active version and every active rep on a plan, the ones who have not accepted it
    first."""
    version = unit.plans.active_plan()
    doc = active_doc(unit)
    if version is None or doc is None:
        return None, []
    plans = {p.id for p in doc.plans}
    latest = unit.close.latest_acceptances()
    rows = []
    for person in unit.people.all_people():
        if not person.is_active or person.plan_id not in plans:
            continue
        last = latest.get(person.id)
        rows.append(
            AcceptanceRow(
                rep_id=person.id,
                name=person.name,
                plan_id=str(person.plan_id),
                accepted_version=last.plan_version if last else None,
                accepted_at=last.accepted_at if last else None,
                current=last is not None and last.plan_version == version.version,
            )
        )
    rows.sort(key=lambda r: (r.current, r.name.casefold(), r.rep_id))
    return version.version, rows


def unaccepted_reps(unit: OrgUnit) -> set[str]:
    """Reps on a plan who have not accepted the active version (whose pay a hold stops)."""
    _, rows = acceptance_report(unit)
    return {r.rep_id for r in rows if not r.current}
