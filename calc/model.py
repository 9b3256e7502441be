"""calc's vocabulary: canonical reps, deals, splits and team members (frozen, Decimal money)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Literal, get_type_hints

SplitType = Literal["revenue", "overlay"]
AttrValue = str | Decimal | bool | date | None


@dataclass(frozen=True, slots=True)
class Assignment:
    """What a rep is assigned from `effective_from` through `effective_to` (inclusive).

    None at either end leaves that end open. A rep with assignments is paid, credited and
    rolled up under the one in force on each date (calc.assignments); the rep's own plan,
    manager, quota and target incentive are then those of the latest assignment.
    """

    effective_from: date | None
    effective_to: date | None
    plan_id: str | None
    manager_id: str | None = None
    quota: Decimal | None = None  # per pay period; overrides the plan's
    target_incentive: Decimal | None = None  # per pay period; overrides the plan's
    territory: str | None = None


@dataclass(frozen=True, slots=True)
class Rep:
    """A person who can be credited: a Salesforce User mapped to canonical fields."""

    id: str
    name: str = ""
    email: str | None = None
    manager_id: str | None = None
    is_active: bool = True
    hire_date: date | None = None
    end_date: date | None = None
    plan_id: str | None = None
    quota: Decimal | None = None  # per pay period; overrides the plan's
    target_incentive: Decimal | None = None  # per pay period; overrides the plan's
    currency: str | None = None
    attributes: Mapping[str, AttrValue] = field(default_factory=dict, hash=False)
    territory: str | None = None
    # Effective-dated plan, manager, quota and territory: in date order, contiguous. Empty:
    # the fields above apply on every date (one row per rep, the original form).
    assignments: tuple[Assignment, ...] = field(default=(), hash=False)


@dataclass(frozen=True, slots=True)
class Deal:
    """An opportunity mapped to canonical fields; `attributes` holds extra columns for criteria."""

    id: str
    name: str = ""
    owner_id: str | None = None
    amount: Decimal | None = None
    close_date: date | None = None
    is_won: bool = False
    is_closed: bool = False
    stage: str | None = None
    type: str | None = None
    product_family: str | None = None
    quantity: Decimal | None = None
    acv: Decimal | None = None
    tcv: Decimal | None = None
    term_months: Decimal | None = None
    cancel_date: date | None = None
    currency: str | None = None
    attributes: Mapping[str, AttrValue] = field(default_factory=dict, hash=False)


def _field_types(model: type) -> dict[str, type]:
    """Each canonical field of a model and its value type (`attributes` left out)."""
    hints = get_type_hints(model)
    out: dict[str, type] = {}
    for spec in fields(model):
        if spec.name != "attributes":
            kinds = getattr(hints[spec.name], "__args__", (hints[spec.name],))
            out[spec.name] = next(t for t in kinds if t is not type(None))
    return out


# The one list of deal fields: the CSV columns every deal has (calc.inputs), the fields a
# criterion or measure may name without an extra column (calc.plan_checks) and the deal
# fields a mapping can fill (mappings.registry), each with its value type.
DEAL_FIELD_TYPES: Mapping[str, type] = _field_types(Deal)
DEAL_FIELDS: tuple[str, ...] = tuple(DEAL_FIELD_TYPES)


@dataclass(frozen=True, slots=True)
class Split:
    """An OpportunitySplit: `revenue` splits of a deal sum to 100, `overlay` add on top."""

    deal_id: str
    rep_id: str
    percent: Decimal
    split_type: SplitType = "revenue"


@dataclass(frozen=True, slots=True)
class TeamMember:
    """An OpportunityTeamMember; its role may carry overlay credit through the crediting rules."""

    deal_id: str
    rep_id: str
    role: str
