"""Plan administration: check an uploaded plan document (every problem, each with its path),
store and activate it, lock or unlock pay periods checked against the plan's period type, and
list and correct the effective dates of reps' plan, manager and quota changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from calc.errors import PlanError
from calc.plan import PlanDoc, error_path, parse_plan_doc
from connector.store.assignments import RepAssignment
from connector.store.periods import PeriodLock
from connector.store.plans import PlanVersion
from connector.store.unit import OrgUnit
from connector.sync.period_locks import lock_in
from connector.sync.plans import parse_plan_text
from mappings.safe_yaml import YamlError, load_yaml


@dataclass(frozen=True, slots=True)
class PlanProblem:
    """One thing wrong with a plan document, at a path like `plans[0].components[1].rate`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def _schema_problems(text: str) -> list[PlanProblem]:
    # calc reports the first problem only; an admin fixing an upload wants all of them.
    try:
        data = load_yaml(text)
    except YamlError:
        return []
    if not isinstance(data, Mapping):
        return []
    raw = dict(data)
    if "plans" not in raw and "id" in raw:  # one plan without `plans:`, as calc accepts
        crediting = raw.pop("crediting", None)
        raw = {"plans": [raw]} | ({"crediting": crediting} if crediting is not None else {})
    try:
        PlanDoc.model_validate(raw)
    except ValueError as exc:  # pydantic's ValidationError (connector does not import pydantic)
        errors = getattr(exc, "errors", None)
        return [
            PlanProblem(
                error_path(error["loc"]),
                str(error["msg"]).removeprefix("Value error, "),
            )
            for error in (errors() if callable(errors) else ())
        ]
    return []


def check_plan_text(text: str) -> tuple[dict[str, Any] | None, list[PlanProblem]]:
    """The JSON-safe document to store, or every problem found (nothing to store)."""
    if not text.strip():
        return None, [PlanProblem("", "the plan document is empty")]
    try:
        data, _doc = parse_plan_text(text, source="upload")
    except PlanError as exc:
        first = PlanProblem(exc.path, exc.reason)
        found = _schema_problems(text) if exc.path and not exc.path.startswith("line") else []
        return None, found or [first]
    return data, []


def upload_plan(
    unit: OrgUnit, *, text: str, by: str, now: datetime
) -> tuple[PlanVersion | None, bool, list[PlanProblem]]:
    """Check and store `text` as the active plan: (version, created, problems)."""
    data, problems = check_plan_text(text)
    if data is None:
        return None, False, problems
    row, created = unit.plans.add_plan_version(
        document=data, source_text=text, created_by=by, now=now
    )
    return row, created, []


def plan_period_kinds(unit: OrgUnit) -> set[str]:
    """The period types (month, quarter, year) of the active plan's plans; empty if none."""
    row = unit.plans.active_plan()
    if row is None:
        return set()
    doc = parse_plan_doc(row.document, source=f"plan version {row.version}")
    return {plan.period for plan in doc.plans}


def lock(unit: OrgUnit, *, name: str, by: str, now: datetime) -> PeriodLock:
    """Lock a period after checking its name against the active plan; ValueError if not one."""
    kinds = plan_period_kinds(unit)
    return lock_in(unit, name=name, by=by, now=now, kinds=kinds)


@dataclass(frozen=True, slots=True)
class AssignmentRow:
    """A change of a rep's plan, manager or quota, as the plans page lists it."""

    id: int
    rep_id: str
    rep_name: str
    effective_from: date
    plan_id: str | None
    manager: str | None
    quota: str | None
    seen_on: date
    corrected_by: str | None
    corrected_at: datetime | None


def assignment_rows(unit: OrgUnit, *, limit: int = 200) -> list[AssignmentRow]:
    """The changes the syncs have seen, newest first, with rep and manager names."""
    rows = unit.assignments.changes(limit=limit)
    people = unit.records.reps_by_id(
        ids={r.rep_id for r in rows} | {r.manager_id for r in rows if r.manager_id}
    )

    def name(rep_id: str | None) -> str | None:
        if rep_id is None:
            return None
        return str(people.get(rep_id, {}).get("name") or rep_id)

    return [
        AssignmentRow(
            r.id,
            r.rep_id,
            name(r.rep_id) or r.rep_id,
            r.effective_from,
            r.plan_id,
            name(r.manager_id),
            r.quota,
            r.seen_on,
            r.corrected_by,
            r.corrected_at,
        )
        for r in rows
        if r.effective_from is not None
    ]


# Effective dates outside these years are typing slips, not plan history.
FIRST_YEAR, LAST_YEAR = 1990, 2100


def parse_effective_date(text: str) -> date:
    """A corrected effective date from a form; ValueError with the reason if it is not one."""
    value = text.strip()
    try:
        if len(value) != 10:
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date (expected YYYY-MM-DD): {value[:40]!r}") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"{value} is outside {FIRST_YEAR}-{LAST_YEAR}")
    return day


def correct_assignment(
    unit: OrgUnit, *, assignment_id: int, text: str, by: str, now: datetime
) -> RepAssignment:
    """Correct a change's effective date (audited); ValueError with the reason if the date
    is not a date or would put the rep's history out of order, KeyError if no such change."""
    day = parse_effective_date(text)
    return unit.assignments.correct_effective_from(
        assignment_id=assignment_id, new_from=day, by=by, now=now
    )
