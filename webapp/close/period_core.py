"""What the close pages share with the close API: the statements a viewer may approve, approving,
closing with the blockers, and the payroll export."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connector.close.period import Blockers, CloseRefused, PayrollExport, blockers, close_period
from connector.close.period import payroll_export as build_export
from connector.close.statements import ApprovalRefused, Statement, approve, statements
from connector.disputes.workflow import Actor
from connector.reports.acceptance import unaccepted_reps
from connector.reports.stored_book import active_doc, load_reps
from connector.store.close import PeriodClose
from connector.store.people import Person
from connector.store.unit import OrgUnit
from webapp.access import team_of
from webapp.auth.guard import Refused, bad_request, current_viewer, not_found
from webapp.auth.session import Viewer
from webapp.db import viewer_unit
from webapp.disputes.core import now, refuse
from webapp.params import PERIOD_PATTERN

_PERIOD = re.compile(PERIOD_PATTERN)
EMPLOYEE_NUMBER = "employee_number"  # a rep attribute, when the mapping maps one


@dataclass(frozen=True, slots=True)
class PeriodView:
    """A period's statements the viewer may see, the people, and (admins) its close."""

    period: str
    periods: tuple[str, ...]
    statements: tuple[Statement, ...]
    people: dict[str, Person]
    blockers: Blockers | None
    closed: PeriodClose | None


def checked_period(raw: str | None) -> str:
    """A period name from a request (400 when it is not one)."""
    text = (raw or "").strip()
    if not _PERIOD.fullmatch(text):
        raise bad_request("period: a period name like 2026-Q1, 2026-01 or 2026")
    return text


def _scope(viewer: Viewer) -> set[str] | None:
    return None if viewer.has("admin") else set(team_of(viewer))


def period_view(period: str | None) -> PeriodView:
    """The statements of `period` (default: the latest that has ended) the viewer may see."""
    viewer = current_viewer()
    today = now().date()
    with viewer_unit() as unit:
        known = unit.close.result_periods()
        ended = [p for p, end in known if end < today] or [p for p, _ in known]
        name = period or (ended[-1] if ended else None)
        if name is None:
            raise not_found("A period with results")
        doc = active_doc(unit)
        currency_of = {p.id: p.currency for p in doc.plans} if doc else {}
        default = doc.plans[0].currency if doc else "USD"
        rows = statements(unit, period=name, currency_of=currency_of,
                          default=default)  # fmt: skip
        scope = _scope(viewer)
        shown = tuple(s for s in rows if scope is None or s.rep_id in scope)
        found = blockers(unit, period=name, rows=rows) if scope is None else None
        closed = unit.close.period_close(period=name)
        names = unit.people.people(ids=[s.rep_id for s in shown])
    return PeriodView(name, tuple(p for p, _ in known), shown, names, found, closed)


def approve_from(period: str, rep_id: str) -> None:
    """Approve one statement one step (manager or admin); refusals are logged."""
    viewer = current_viewer()
    view = period_view(period)
    statement = next((s for s in view.statements if s.rep_id == rep_id), None)
    if statement is None:
        message = f"The statement of {rep_id} for {period} was not found, or you may not see it."
        raise refuse(viewer, f"approve statement {period} {rep_id}", 404, message)
    person = view.people.get(rep_id)
    actor = Actor(viewer.user_id, viewer.name, viewer.roles, manages_rep=rep_id in team_of(viewer))
    try:
        with viewer_unit() as unit:
            hold = unit.disputes.settings().hold_unaccepted
            held = hold and rep_id in unaccepted_reps(unit)
            has_manager = bool(person and person.manager_id)
            approve(unit, period=period, statement=statement, actor=actor,
                    has_manager=has_manager, held=held, now=now())  # fmt: skip
            unit.commit()
    except ApprovalRefused as exc:
        raise refuse(
            viewer, f"approve statement {period} {rep_id}", exc.status, exc.message
        ) from None


def close_from(period: str, values: Mapping[str, Any]) -> PeriodClose:
    """Close (lock) a period, with an override reason when something still blocks it."""
    viewer = current_viewer()
    view = period_view(period)
    reason = values.get("override_reason")
    if reason is not None and not isinstance(reason, str):
        raise bad_request("override_reason: must be text")
    assert view.blockers is not None  # admins only
    with viewer_unit() as unit:
        doc = active_doc(unit)
        kinds = tuple(sorted({p.period for p in doc.plans})) if doc else ()
        try:
            row = close_period(unit, period=period,
                               found=view.blockers, by=viewer.name, override_reason=reason,
                               kinds=kinds, now=now())  # fmt: skip
        except CloseRefused as exc:
            raise Refused(exc.status, exc.message) from None
        unit.commit()
    return row


def payroll(period: str) -> PayrollExport:
    """The payroll export of a closed period (409 when it is not closed)."""
    with viewer_unit() as unit:
        numbers = _employee_numbers(unit)
        try:
            return build_export(unit, period=period,
                                employee_numbers=numbers)  # fmt: skip
        except CloseRefused as exc:
            raise Refused(exc.status, exc.message) from None


def _employee_numbers(unit: OrgUnit) -> dict[str, str]:
    ids = [p.id for p in unit.people.all_people()]
    reps = load_reps(unit, ids=ids)
    out = {}
    for rep_id, rep in reps.items():
        value = rep.attributes.get(EMPLOYEE_NUMBER)
        if value not in (None, ""):
            out[rep_id] = str(value)
    return out
