"""Plan documents in the database: parse, validate, version, activate, export.

Plans use the `quotaflow calc` document format. An upload is parsed and validated with
calc's own schema before anything is stored, so an invalid document never replaces the
active one; the original text (comments included) is kept for export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from calc.errors import PlanError
from calc.plan import PlanDoc, parse_plan_doc
from connector.store.plans import PlanVersion
from connector.store.results import SessionFactory
from connector.store.unit import OrgUnit
from mappings.safe_yaml import YamlError, load_yaml

DEMO_PLAN_PATH = Path(__file__).resolve().parent.parent / "demo_plan.yaml"


@dataclass(frozen=True, slots=True)
class ActivePlan:
    """The plan document a calculation uses, and its stored version id (for audit)."""

    version_id: int
    version: int
    doc: PlanDoc


def _json_safe(value: Any) -> Any:
    # YAML turns 2026-01-01 into a date; the stored JSON keeps the ISO text calc accepts.
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def parse_plan_text(text: str, *, source: str) -> tuple[dict[str, Any], PlanDoc]:
    """The JSON-safe document and its validated form; PlanError names the path on a problem."""
    try:
        data = load_yaml(text)  # JSON is YAML too
    except YamlError as exc:
        where = f"line {exc.line}" if exc.line else ("syntax" if exc.syntax else "")
        reason = f"not valid YAML or JSON: {exc.problem}" if exc.syntax else exc.problem
        raise PlanError(where, reason, source=source) from None
    doc = parse_plan_doc(data, source=source)
    return _json_safe(data), doc


def import_plan(
    sessions: SessionFactory,
    *,
    org_id: str,
    text: str,
    source: str,
    by: str | None,
    now: datetime,
) -> tuple[PlanVersion, bool]:
    """Validate and store `text` as the org's active plan; (version, created a new one)."""
    data, _doc = parse_plan_text(text, source=source)
    with OrgUnit(sessions, org_id) as unit:
        row, created = unit.plans.add_plan_version(
            document=data, source_text=text, created_by=by, now=now
        )
        unit.commit()
        return row, created


def load_active_plan(sessions: SessionFactory, *, org_id: str) -> ActivePlan | None:
    """The org's active plan document, validated again; None if no plan was ever imported."""
    with OrgUnit(sessions, org_id) as unit:
        row = unit.plans.active_plan()
        if row is None:
            return None
        doc = parse_plan_doc(row.document, source=f"plan version {row.version}")
        return ActivePlan(row.id, row.version, doc)


def export_plan_text(
    sessions: SessionFactory, *, org_id: str, version: int | None = None
) -> tuple[int, str] | None:
    """The text of the active (or a given) version as uploaded; None if there is none."""
    with OrgUnit(sessions, org_id) as unit:
        rows = unit.plans.plan_versions()
        wanted = next(
            (r for r in rows if (r.is_active if version is None else r.version == version)), None
        )
        return None if wanted is None else (wanted.version, wanted.source_text)


def demo_plan_text() -> str:
    """The shipped demo plan (AE tiers and accelerator, SPIFF, quota bonus, manager override)."""
    return DEMO_PLAN_PATH.read_text(encoding="utf-8")


def ensure_demo_plan(sessions: SessionFactory, *, org_id: str, now: datetime) -> ActivePlan:
    """Activate the demo plan for the org unless a plan is active already."""
    found = load_active_plan(sessions, org_id=org_id)
    if found is not None:
        return found
    import_plan(
        sessions,
        org_id=org_id,
        text=demo_plan_text(),
        source="demo_plan.yaml",
        by="quotaflow demo",
        now=now,
    )
    active = load_active_plan(sessions, org_id=org_id)
    assert active is not None
    return active
