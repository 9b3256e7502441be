"""The canonical field registry: what a mapping can fill (reps, deals, splits, team members)
and which calculated results it can write back to Salesforce."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from calc.model import DEAL_FIELD_TYPES

ValueType = Literal["string", "decimal", "date", "boolean"]
TargetName = Literal["rep", "deal", "split", "team_member"]
TARGET_NAMES: tuple[TargetName, ...] = ("rep", "deal", "split", "team_member")


@dataclass(frozen=True, slots=True)
class CanonicalField:
    """A field of a canonical record: its value type and whether a mapping must provide it."""

    name: str
    type: ValueType
    must_map: bool = False  # the document must say where it comes from
    choices: tuple[str, ...] = ()  # allowed values (after transforms), if restricted


@dataclass(frozen=True, slots=True)
class Target:
    """One canonical record kind and the Salesforce object it is usually mapped from."""

    name: TargetName
    default_object: str
    fields: Mapping[str, CanonicalField]
    allows_attributes: bool


def _fields(*specs: CanonicalField) -> Mapping[str, CanonicalField]:
    return {spec.name: spec for spec in specs}


S: ValueType = "string"
D: ValueType = "decimal"
T: ValueType = "date"
B: ValueType = "boolean"

REP = Target(
    name="rep",
    default_object="User",
    allows_attributes=True,
    fields=_fields(
        CanonicalField("id", S, must_map=True),
        CanonicalField("name", S),
        CanonicalField("email", S),
        CanonicalField("manager_id", S),
        CanonicalField("is_active", B),
        CanonicalField("hire_date", T),
        CanonicalField("end_date", T),
        CanonicalField("plan_id", S),
        CanonicalField("quota", D),
        CanonicalField("target_incentive", D),
        CanonicalField("currency", S),
        # Used by plans with `territory: match` (docs/plan-effective-dating.md).
        CanonicalField("territory", S),
    ),
)

# The deal fields are calc's (`calc.model.DEAL_FIELD_TYPES`, the one list), typed here.
_VALUE_TYPES: Mapping[type, ValueType] = {str: S, Decimal: D, date: T, bool: B}

DEAL = Target(
    name="deal",
    default_object="Opportunity",
    allows_attributes=True,
    # `is_won` is filled by the document's `won` rule, never by `fields`.
    fields=_fields(
        *(
            CanonicalField(name, _VALUE_TYPES[kind], must_map=name == "id")
            for name, kind in DEAL_FIELD_TYPES.items()
        )
    ),
)

SPLIT = Target(
    name="split",
    default_object="OpportunitySplit",
    allows_attributes=False,
    fields=_fields(
        CanonicalField("deal_id", S, must_map=True),
        CanonicalField("rep_id", S, must_map=True),
        CanonicalField("percent", D, must_map=True),
        CanonicalField("split_type", S, choices=("revenue", "overlay")),
    ),
)

TEAM_MEMBER = Target(
    name="team_member",
    default_object="OpportunityTeamMember",
    allows_attributes=False,
    fields=_fields(
        CanonicalField("deal_id", S, must_map=True),
        CanonicalField("rep_id", S, must_map=True),
        CanonicalField("role", S, must_map=True),
    ),
)

TARGETS: Mapping[TargetName, Target] = {t.name: t for t in (REP, DEAL, SPLIT, TEAM_MEMBER)}

# Canonical fields that are never null on the calc model: a null source falls back to these
# when the document gives no default of its own.
MODEL_DEFAULTS: Mapping[TargetName, Mapping[str, object]] = {
    "rep": {"name": "", "is_active": True},
    "deal": {"name": "", "is_won": False, "is_closed": False},
    "split": {"split_type": "revenue"},
    "team_member": {},
}


@dataclass(frozen=True, slots=True)
class Result:
    """A calculated value that can be written back onto a Salesforce record."""

    name: str
    target: TargetName  # whose record receives it
    kind: Literal["number", "picklist"]
    min_scale: int = 0  # decimals the target field must keep
    values: tuple[str, ...] = ()  # for picklist results: every value that can be written
    description: str = ""


SPIFF_STATUSES = ("Not Eligible", "Eligible", "Qualified", "Paid")

RESULTS: Mapping[str, Result] = {
    r.name: r
    for r in (
        Result("attainment_pct", "rep", "number", 2, description="current-period attainment x 100"),
        Result(
            "attainment_ytd_pct", "rep", "number", 2, description="year-to-date attainment x 100"
        ),
        Result("earnings_period", "rep", "number", 2, description="gross earnings this period"),
        Result("earnings_ytd", "rep", "number", 2, description="gross earnings year to date"),
        Result(
            "deal_commission", "deal", "number", 2, description="owner's commission from the deal"
        ),
        Result("deal_credit", "deal", "number", 2, description="owner's credited amount"),
        Result(
            "spiff_status", "deal", "picklist", values=SPIFF_STATUSES, description="SPIFF status"
        ),
    )
}
