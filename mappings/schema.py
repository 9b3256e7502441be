"""The mapping document (pydantic): where each canonical field comes from and how it is shaped.

Documents are validated once, when loaded; records are then mapped by the plain functions
that `mappings.compile` builds from the document, never through pydantic.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from mappings.api_names import api_name_problem, path_problem
from mappings.registry import TargetName, ValueType

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _scalar_in(value: Any) -> Any:
    # JSON has no date type: "2026-01-01" read back from a JSON export is the same date.
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


Scalar = Annotated[
    StrictBool | StrictInt | Decimal | date | str | None, BeforeValidator(_scalar_in)
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ToDecimal(_Model):
    """Text or number to Decimal; `thousands` separators are dropped ("1,250.00")."""

    op: Literal["to_decimal"]
    thousands: str = ","
    decimal: str = "."


class ToDate(_Model):
    """Date or datetime text to a date; datetimes are read in `timezone` (they arrive in UTC)."""

    op: Literal["to_date"]
    timezone: str = "UTC"


class ToBool(_Model):
    """true/false, yes/no, 1/0 (any case) to a boolean."""

    op: Literal["to_bool"]


class Text(_Model):
    """To text (`to_str` also trims), upper or lower case."""

    op: Literal["to_str", "upper", "lower"]


class Picklist(_Model):
    """Translate values through `map`; others become `default`, stay as they are, or fail."""

    op: Literal["picklist"]
    map: dict[str, Scalar]
    default: Scalar = None
    unmapped: Literal["default", "keep", "error"] = "default"
    case_sensitive: bool = False


class Arith(_Model):
    """`value <operator> operand`, the operand a number or another canonical field."""

    op: Literal["arith"]
    operator: Literal["+", "-", "*", "/"]
    value: Decimal | None = None
    field: str | None = None

    @model_validator(mode="after")
    def _one_operand(self) -> Arith:
        if (self.value is None) == (self.field is None):
            raise ValueError("give exactly one of `value` or `field`")
        return self


class Round(_Model):
    """Round half-up to `places` decimals."""

    op: Literal["round"]
    places: int = Field(2, ge=0, le=10)


class Constant(_Model):
    """Always `value`, whatever the source holds."""

    op: Literal["constant"]
    value: Scalar


class Coalesce(_Model):
    """The value if not null, else the first non-null of `sources` (fields or parent paths)."""

    op: Literal["coalesce"]
    sources: list[str] = Field(min_length=1)

    @field_validator("sources")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for path in value:
            _check_path(path)
        return value


class ConvertCurrency(_Model):
    """Convert money with the org's rates, from the record's currency (or `from_currency`)."""

    op: Literal["convert_currency"]
    currency_field: str | None = "CurrencyIsoCode"
    from_currency: str | None = None
    to: str = "corporate"  # or an ISO code

    @field_validator("currency_field")
    @classmethod
    def _currency_field(cls, value: str | None) -> str | None:
        return None if value is None else _check_path(value)


def _op_shorthand(value: Any) -> Any:
    # `- to_decimal` is the same as `- {op: to_decimal}`.
    return {"op": value} if isinstance(value, str) else value


Transform = Annotated[
    Annotated[
        ToDecimal
        | ToDate
        | ToBool
        | Text
        | Picklist
        | Arith
        | Round
        | Constant
        | Coalesce
        | ConvertCurrency,
        Field(discriminator="op"),
    ],
    BeforeValidator(_op_shorthand),
]


def _check_path(path: str) -> str:
    # An API name (`Amount`, `Comp_Plan__c`) or a parent path of up to five relationships
    # (`Account.Industry`, `Owner.Manager.Email`), as SOQL allows.
    problem = path_problem(path)
    if problem:
        raise ValueError(problem)
    return path


def _check_name(name: str, what: str) -> str:
    problem = api_name_problem(name, what=what)
    if problem:
        raise ValueError(problem)
    return name


def _source_shorthand(value: Any) -> Any:
    # `name: Name` is the same as `name: {source: Name}`.
    return {"source": value} if isinstance(value, str) else value


class FieldSpec(_Model):
    """Where one canonical field comes from: a source path or an expression, then transforms."""

    source: str | None = None
    expr: str | None = None  # arithmetic over canonical fields, e.g. "amount * 12 / term_months"
    transforms: list[Transform] = Field(default_factory=list)
    required: bool | Literal["when_won"] = False
    default: Scalar = None

    @field_validator("source")
    @classmethod
    def _source_path(cls, value: str | None) -> str | None:
        return None if value is None else _check_path(value)

    @model_validator(mode="after")
    def _one_origin(self) -> FieldSpec:
        if self.source is not None and self.expr is not None:
            raise ValueError("give `source` or `expr`, not both")
        if self.source is None and self.expr is None:
            first = self.transforms[0] if self.transforms else None
            if not isinstance(first, Constant | Coalesce):
                raise ValueError("give a `source`, an `expr`, or start with a constant/coalesce")
        return self


class AttributeSpec(FieldSpec):
    """A custom attribute (e.g. `region`) that plan criteria can use, with its value type."""

    type: ValueType = "string"


FieldEntry = Annotated[FieldSpec, BeforeValidator(_source_shorthand)]
AttributeEntry = Annotated[AttributeSpec, BeforeValidator(_source_shorthand)]


class WonRule(_Model):
    """When a deal counts as won: a boolean field (`IsWon`) or a field's value `in` a list."""

    field: str
    in_: list[str] | None = Field(None, alias="in")

    @field_validator("field")
    @classmethod
    def _field_path(cls, value: str) -> str:
        return _check_path(value)


class WritebackTarget(_Model):
    """The Salesforce object and field a result is written to."""

    object: str
    field: str

    @field_validator("object")
    @classmethod
    def _object_name(cls, value: str) -> str:
        return _check_name(value, "object API name")

    @field_validator("field")
    @classmethod
    def _field_name(cls, value: str) -> str:
        return _check_name(value, "field API name")


def _writeback_shorthand(value: Any) -> Any:
    # `attainment_pct: User.Quota_Attainment__c`
    if isinstance(value, str) and value.count(".") == 1:
        obj, field = value.split(".")
        return {"object": obj, "field": field}
    return value


WritebackEntry = Annotated[WritebackTarget, BeforeValidator(_writeback_shorthand)]


class ObjectMapping(_Model):
    """How one Salesforce object becomes canonical records."""

    object: str
    fields: dict[str, FieldEntry]

    @field_validator("object")
    @classmethod
    def _object_name(cls, value: str) -> str:
        return _check_name(value, "object API name")


class IncludeRule(_Model):
    """Which source records become canonical records: those whose `field` is one of `in`
    (case-insensitive); the others are skipped, and one that was mapped before is removed."""

    field: str
    in_: list[str] = Field(alias="in", min_length=1)

    @field_validator("field")
    @classmethod
    def _field_path(cls, value: str) -> str:
        return _check_path(value)

    def matches(self, value: object) -> bool:
        """Whether a record whose `field` holds `value` is included."""
        wanted = {v.strip().casefold() for v in self.in_}
        return value is not None and str(value).strip().casefold() in wanted


# A User query returns Salesforce's own users too (Automated Process, integration users, site
# guests, Chatter Free, partner and portal users): only Standard users are people who sell.
STANDARD_USERS: dict[str, Any] = {"field": "UserType", "in": ["Standard"]}


class RepMapping(ObjectMapping):
    """User (usually) -> Rep, with custom attributes and the rule for who is a rep."""

    attributes: dict[str, AttributeEntry] = Field(default_factory=dict)
    # `all`: every record is a rep. Left out (or null) on a User mapping: Standard users only,
    # so mappings stored before the rule existed get it too.
    include: IncludeRule | Literal["all"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_include(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and data.get("include") is None
            and str(data.get("object", "")).casefold() == "user"
        ):
            return {**data, "include": STANDARD_USERS}
        return data

    def include_rule(self) -> IncludeRule | None:
        """The rule records must pass to become reps (None: every record)."""
        return self.include if isinstance(self.include, IncludeRule) else None


class DealMapping(ObjectMapping):
    """Opportunity (usually) -> Deal, with the won rule and custom attributes."""

    won: WonRule
    attributes: dict[str, AttributeEntry] = Field(default_factory=dict)


class MappingDocument(_Model):
    """A whole mapping: four objects and the write-back targets."""

    format: Literal[1] = 1
    name: str = "mapping"
    description: str = ""
    rep: RepMapping
    deal: DealMapping
    split: ObjectMapping | None = None
    team_member: ObjectMapping | None = None
    writeback: dict[str, WritebackEntry] = Field(default_factory=dict)

    def targets(self) -> dict[TargetName, ObjectMapping]:
        """The object mappings present, by target name (rep, deal, split, team_member)."""
        found: dict[TargetName, ObjectMapping | None] = {
            "rep": self.rep,
            "deal": self.deal,
            "split": self.split,
            "team_member": self.team_member,
        }
        return {name: m for name, m in found.items() if m is not None}
