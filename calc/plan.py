"""The plan document schema (pydantic): plans, components, crediting rules.

`parse_plan_doc(data)` takes the already-parsed YAML/JSON structure and returns a frozen
`PlanDoc`, or raises `PlanError` whose message gives the path and the reason, e.g.
`plans[0].components[1].tiers.table[2].from: must be greater than the previous tier's from`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from calc.criteria import CRITERION_OPS, Eq
from calc.criteria import Criterion as Criterion  # plans hold criteria; their home is calc.criteria
from calc.errors import PlanError
from calc.plan_checks import check_doc, format_loc

CreditType = Literal["owner", "split", "overlay", "team", "rollup"]
COMPONENT_TYPES = ("commission", "target_incentive", "bonus", "spiff")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Tier(_Model):
    """One row of a tier table; it applies from `from` up to the next row's `from`."""

    start: Decimal = Field(alias="from")
    rate: Decimal | None = None
    base_rate_multiple: Decimal | None = None


class Tiers(_Model):
    """A tier table with its basis, mode and scope."""

    basis: Literal["amount", "attainment"] = "attainment"
    mode: Literal["marginal", "retroactive"] = "marginal"
    scope: Literal["period", "deal"] = "period"
    table: list[Tier] = Field(min_length=1)


class Gate(_Model):
    """The component pays nothing below this period attainment."""

    min_attainment: Decimal


class Multiplier(_Model):
    """A whole-component factor: decelerator (`below_attainment`) or accelerator."""

    factor: Decimal
    below_attainment: Decimal | None = None
    min_attainment: Decimal | None = None


class Cap(_Model):
    """Most the component pays: in one period (`amount`), in a fiscal year (`annual`), or on
    one deal (`per_deal`, a windfall cap). Give one or more; calc.caps applies them."""

    amount: Decimal | None = None
    annual: Decimal | None = None
    per_deal: Decimal | None = None


class Band(_Model):
    """One band of a payout curve."""

    start: Decimal = Field(alias="from")
    multiplier: Decimal


class Curve(_Model):
    """A payout curve over attainment."""

    mode: Literal["marginal", "retroactive"] = "marginal"
    table: list[Band] = Field(min_length=1)


_CREDIT_DEFAULT: list[CreditType] = ["owner", "split"]


class _Component(_Model):
    id: str = Field(min_length=1)
    name: str | None = None
    credit_types: list[CreditType] | None = None  # default: the plan's credit_types
    gate: Gate | None = None
    multipliers: list[Multiplier] = Field(default_factory=list)
    cap: Cap | None = None
    # `to_date` / `annual`: measured year to date (tiers, curve, gate, multipliers, bonus on
    # the fiscal year's credit so far, against the quota so far or the whole year's quota)
    # and paid as a true-up each period (calc.ytd). None: measured on the period alone.
    ytd: Literal["to_date", "annual"] | None = None
    # A rate above 1 pays more than the deal is worth: almost always `rate: 10` meant 10%.
    allow_rate_above_one: bool = False

    @property
    def label(self) -> str:
        """The display name used in explanations."""
        return self.name or self.id


class Commission(_Component):
    """Commission: a flat rate or a tier table on credited amounts."""

    type: Literal["commission"]
    rate: Decimal | None = None
    tiers: Tiers | None = None


class TargetIncentive(_Component):
    """Target incentive x the payout curve over attainment."""

    type: Literal["target_incentive"]
    target: Decimal | None = None
    curve: Curve


class Bonus(_Component):
    """A fixed amount once period attainment reaches `min_attainment`."""

    type: Literal["bonus"]
    min_attainment: Decimal
    amount: Decimal


class Window(_Model):
    """Inclusive credit-date window of a SPIFF."""

    start: date
    end: date


class Payout(_Model):
    """What a qualifying deal pays: per deal, per unit, or a rate on the credit."""

    per_deal: Decimal | None = None
    per_unit: Decimal | None = None
    unit_field: str = "quantity"
    rate: Decimal | None = None


class Spiff(_Component):
    """A sales incentive on deals matching criteria inside a window."""

    type: Literal["spiff"]
    window: Window
    criteria: list[Criterion] = Field(default_factory=list)
    payout: Payout
    max_payouts: int | None = None


Component = Annotated[Commission | TargetIncentive | Bonus | Spiff, Field(discriminator="type")]


class Quota(_Model):
    """Quota per period (`amount`) or per year (`annual`, optional `weights` per period)."""

    amount: Decimal | None = None
    annual: Decimal | None = None
    weights: list[Decimal] | None = None
    proration: Literal["none", "month", "day"] = "day"
    ramp: list[Decimal] | None = None


class Draw(_Model):
    """A per-period guarantee; a recoverable draw is paid back from later earnings."""

    amount: Decimal
    recoverable: bool = True
    # `fiscal_year`: what is still owed of a recoverable draw is forgiven at each fiscal
    # year start; `never`: it carries until recovered.
    reset: Literal["never", "fiscal_year"] = "never"
    # Paid for the rep's first `periods` periods on the plan only (None: every period).
    periods: StrictInt | None = None


class Clawback(_Model):
    """A won deal cancelled within `window_days` of its credit reverses `percent` of its pay."""

    window_days: int
    percent: Decimal = Decimal(1)
    # `deal_lines`: reverse what the deal's own lines earned; `recalculate`: reverse the
    # difference the deal made to its period (tiers it lifted, bonuses it unlocked).
    mode: Literal["deal_lines", "recalculate"] = "deal_lines"


def _default_eligible() -> list[Criterion]:
    return [Eq(field="is_won", value=True)]


class Plan(_Model):
    """One compensation plan."""

    id: str = Field(min_length=1)
    name: str | None = None
    currency: str = "USD"
    period: Literal["month", "quarter", "year"] = "quarter"
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    credit_types: list[CreditType] = Field(default_factory=lambda: list(_CREDIT_DEFAULT))
    measure: str = "amount"
    credit_date: str = "close_date"
    eligible: list[Criterion] = Field(default_factory=_default_eligible)
    quota: Quota | None = None
    target_incentive: Decimal | None = None
    components: list[Component] = Field(default_factory=list)
    draw: Draw | None = None
    clawback: Clawback | None = None
    # A period whose pay is negative (clawbacks above earnings): `carry` the negative as a
    # balance recovered from later earnings, or `forgive` it.
    negative_balance: Literal["carry", "forgive"] = "carry"
    # `match`: the plan pays a rep only on deals whose `territory` field equals the rep's
    # territory in force on the credit date (calc.assignments); `any`: territory is not used.
    territory: Literal["any", "match"] = "any"


class Rollup(_Model):
    """Managers up the ManagerId chain get rollup credit, for `levels` levels or `all`."""

    levels: int | str = "all"

    @field_validator("levels", mode="before")
    @classmethod
    def _levels(cls, value: object) -> int | str:
        if value == "all":
            return "all"
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        raise ValueError("must be a whole number of at least 1, or 'all'")


class Crediting(_Model):
    """Document-wide crediting rules."""

    team_roles: dict[str, Decimal] = Field(default_factory=dict)
    rollup: Rollup | None = None


class PlanDoc(_Model):
    """A validated plan document: several plans and the crediting rules."""

    plans: list[Plan] = Field(min_length=1)
    crediting: Crediting = Field(default_factory=Crediting)

    def plan(self, plan_id: str) -> Plan | None:
        """The plan with this id, if any."""
        return next((p for p in self.plans if p.id == plan_id), None)


def error_path(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a plan path: `plans[0].components[1].criteria[0].value`.
    The tags pydantic adds for a tagged union (`spiff`, `gt`) are left out."""
    return format_loc(loc, COMPONENT_TYPES + CRITERION_OPS)


def parse_plan_doc(data: object, *, source: str = "plan") -> PlanDoc:
    """Validate a parsed plan document (one plan or `plans: [...]`); PlanError on a problem."""
    if not isinstance(data, Mapping):
        raise PlanError("", "a plan document must be a mapping", source=source)
    raw = dict(data)
    if "plans" not in raw and "id" in raw:
        crediting = raw.pop("crediting", None)
        raw = {"plans": [raw]} | ({"crediting": crediting} if crediting is not None else {})
    try:
        doc = PlanDoc.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise PlanError(error_path(first["loc"]), reason, source=source) from None
    check_doc(doc, source=source)
    return doc
