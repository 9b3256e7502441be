"""Deal criteria (`{field, op, value}`) compiled into predicates, and deal field access."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from calc.model import AttrValue, Deal

if TYPE_CHECKING:
    from calc.plan import Criterion

Predicate = Callable[[Deal], bool]
_SLOTS = frozenset(Deal.__slots__)


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


def _compare(op: str, left: object, right: object) -> bool:
    if op == "eq":
        return left == right
    if op == "ne":
        return left != right
    if left is None:
        return False
    try:
        if op == "gt":
            return bool(left > right)  # type: ignore[operator]
        if op == "ge":
            return bool(left >= right)  # type: ignore[operator]
        if op == "lt":
            return bool(left < right)  # type: ignore[operator]
        return bool(left <= right)  # type: ignore[operator]
    except TypeError:
        return False


def compile_criterion(criterion: Criterion) -> Predicate:
    """A predicate for one criterion; a missing deal value matches only `ne`."""
    name, op = criterion.field, criterion.op
    if op == "in":
        options = criterion.value if isinstance(criterion.value, list) else [criterion.value]
        normed = [_norm(o) for o in options]
        return lambda deal: any(
            _coerce(field_value(deal, name), o) == o for o in normed if o is not None
        )
    right = _norm(criterion.value)
    if name == "is_won" and op == "eq" and right is True:
        return lambda deal: deal.is_won  # the default eligibility, on every deal: keep it fast
    return lambda deal: _compare(op, _coerce(field_value(deal, name), right), right)


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
