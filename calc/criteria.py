"""Deal criteria (`{field, op, value}`): one pydantic model per operator, and deal field access.

Each operator's model carries the value type it takes (a plan giving `gt` a list is refused
when it is read, instead of never matching), the text the rep views show for it, and its
predicate. Adding an operator is one model here plus its name in `OPERATORS` and the union
`Criterion` (docs/contributing.md); tests/calc/test_criteria_operators.py checks each.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)

from calc.model import DEAL_FIELD_TYPES, AttrValue, Deal

Scalar = StrictBool | StrictInt | Decimal | date | str | None

Predicate = Callable[[Deal], bool]
_SLOTS = frozenset(Deal.__slots__)
_TEXT_FIELDS = frozenset(n for n, kind in DEAL_FIELD_TYPES.items() if kind is str)


def field_value(deal: Deal, name: str) -> AttrValue:
    """A deal field by name: a canonical field, else an extra column from `attributes`."""
    if name in _SLOTS and name != "attributes":
        value: AttrValue = getattr(deal, name)
        return value
    return deal.attributes.get(name)


def _coerce(value: object, like: object) -> object:
    """Bring a deal value to the type of the criterion value (CSV extras arrive as text)."""
    if value is None:
        return None
    if isinstance(like, bool):
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1", "yes", "y", "t")
    if isinstance(like, int | float | Decimal):
        try:
            return value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation:
            return None
    if isinstance(like, date):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            return None
    return value if isinstance(value, str) else str(value)


def _norm(like: object) -> object:
    if isinstance(like, float | int) and not isinstance(like, bool):
        return Decimal(str(like))
    return like


class _Criterion(BaseModel):
    """A test on one deal field; each operator is one subclass (one record per operator)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    field: str
    # How the rep views and the docs show the operator ("amount > 5000").
    display: ClassVar[str]
    # The value it takes, as the error message and the docs say it.
    takes: ClassVar[str]

    @field_validator("value", mode="wrap", check_fields=False)
    @classmethod
    def _value_kind(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # One clear reason instead of one error per member of the value's union type.
        try:
            return handler(value)
        except ValidationError:
            op = cls.op_name()
            raise ValueError(f"`{op}` takes {cls.takes}, not {value!r}") from None

    @classmethod
    def op_name(cls) -> str:
        """The operator's name in a plan (`gt`)."""
        return str(get_args(cls.model_fields["op"].annotation)[0])

    def predicate(self) -> Predicate:
        """The compiled test; a missing deal value matches only `ne`."""
        raise NotImplementedError


class _Ordered(_Criterion):
    # A number or a date; text compares in text order (an ISO date read from JSON is text).
    value: StrictInt | Decimal | date | str
    takes: ClassVar[str] = "one number, date or text"
    holds: ClassVar[Callable[[Any, Any], Any]]

    def predicate(self) -> Predicate:
        name, right, holds = self.field, _norm(self.value), type(self).holds

        def test(deal: Deal) -> bool:
            left = _coerce(field_value(deal, name), right)
            if left is None:
                return False
            try:
                return bool(holds(left, right))
            except TypeError:  # a text attribute against a number: never ordered
                return False

        return test


class Eq(_Criterion):
    """The field equals the value (`is_won: true`, a product family, a region)."""

    op: Literal["eq"] = "eq"
    value: Scalar = None
    display: ClassVar[str] = "="
    takes: ClassVar[str] = "one value (text, number, date, true/false or null)"

    def predicate(self) -> Predicate:
        name, right = self.field, _norm(self.value)
        if name == "is_won" and right is True:
            return lambda deal: deal.is_won  # the default eligibility, on every deal: keep it fast
        if isinstance(right, str) and name in _TEXT_FIELDS:
            # A text field against text (a product family): _coerce leaves both as they are.
            return lambda deal: getattr(deal, name) == right
        return lambda deal: _coerce(field_value(deal, name), right) == right


class Ne(_Criterion):
    """The field differs from the value; a deal without the field matches."""

    op: Literal["ne"]
    value: Scalar = None
    display: ClassVar[str] = "≠"
    takes: ClassVar[str] = "one value (text, number, date, true/false or null)"

    def predicate(self) -> Predicate:
        name, right = self.field, _norm(self.value)
        return lambda deal: _coerce(field_value(deal, name), right) != right


class Gt(_Ordered):
    """The field is above the value."""

    op: Literal["gt"]
    display: ClassVar[str] = ">"
    holds: ClassVar[Callable[[Any, Any], Any]] = operator.gt


class Ge(_Ordered):
    """The field is at least the value."""

    op: Literal["ge"]
    display: ClassVar[str] = "≥"
    holds: ClassVar[Callable[[Any, Any], Any]] = operator.ge


class Lt(_Ordered):
    """The field is below the value."""

    op: Literal["lt"]
    display: ClassVar[str] = "<"
    holds: ClassVar[Callable[[Any, Any], Any]] = operator.lt


class Le(_Ordered):
    """The field is at most the value."""

    op: Literal["le"]
    display: ClassVar[str] = "≤"
    holds: ClassVar[Callable[[Any, Any], Any]] = operator.le


class In(_Criterion):
    """The field is one of the values (one value alone is a list of one)."""

    op: Literal["in"]
    value: list[StrictBool | StrictInt | Decimal | date | str] | StrictInt | Decimal | date | str
    display: ClassVar[str] = "in"
    takes: ClassVar[str] = "a list of values (or one value)"

    def predicate(self) -> Predicate:
        name = self.field
        options = self.value if isinstance(self.value, list) else [self.value]
        normed = [_norm(o) for o in options]
        return lambda deal: any(_coerce(field_value(deal, name), o) == o for o in normed)


OPERATORS: tuple[type[_Criterion], ...] = (Eq, Ne, Gt, Ge, Lt, Le, In)


def _default_op(value: Any) -> Any:
    # `{field: segment, value: SMB}` is the same as `{field: segment, op: eq, value: SMB}`.
    if isinstance(value, Mapping) and "op" not in value:
        return {**value, "op": "eq"}
    return value


Criterion = Annotated[
    Annotated[Eq | Ne | Gt | Ge | Lt | Le | In, Field(discriminator="op")],
    BeforeValidator(_default_op),
]
CRITERION_OPS: tuple[str, ...] = tuple(m.op_name() for m in OPERATORS)


def criterion_text(criterion: Criterion) -> str:
    """A criterion as a person reads it: `amount > 5000`, `region in EMEA, APAC`."""
    return f"{criterion.field} {criterion.display} {value_text(criterion.value)}"


def value_text(value: object) -> str:
    """A criterion or deal value as shown to a person."""
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    return "(blank)" if value is None or value == "" else str(value)


def compile_criterion(criterion: Criterion) -> Predicate:
    """A predicate for one criterion; a missing deal value matches only `ne`."""
    return criterion.predicate()


def compile_all(criteria: Sequence[Criterion]) -> Predicate:
    """A predicate true when every criterion holds."""
    preds = [compile_criterion(c) for c in criteria]
    if len(preds) == 1:
        return preds[0]
    return lambda deal: all(p(deal) for p in preds)


def numeric_value(deal: Deal, name: str) -> Decimal | None:
    """A numeric deal field (the plan's measure or a SPIFF unit field), or None."""
    value = field_value(deal, name)
    if value is None or isinstance(value, bool | date):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def date_value(deal: Deal, name: str) -> date | None:
    """A date deal field (the plan's credit date), or None."""
    value = field_value(deal, name)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None
