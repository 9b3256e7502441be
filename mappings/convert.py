"""Value conversions: Salesforce JSON values to Decimal, date, bool and text, and field paths.

These are the implicit conversions that end every field's chain (to the canonical type) and
the bodies of the to_decimal, to_date, to_bool and to_str transforms. Null stays null.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from mappings.registry import ValueType

Raw = Mapping[str, object]
Convert = Callable[[object], object]
Getter = Callable[[Raw], object]


class TransformFailure(ValueError):
    """A value that a transform cannot handle (the message says why)."""


_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def path_getter(path: str) -> Getter:
    """Read a field or a parent path (`Account.Industry`) from query JSON; a null parent is null."""
    parts = path.split(".")
    if len(parts) == 1:
        name = parts[0]
        return lambda raw: raw.get(name)
    if len(parts) == 2:
        parent, child = parts

        def two(raw: Raw) -> object:
            up = raw.get(parent)
            return up.get(child) if isinstance(up, Mapping) else None

        return two

    def deep(raw: Raw) -> object:
        node: object = raw
        for part in parts:
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        return node

    return deep


def _text_number_parser(thousands: str, decimal: str) -> Callable[[str], Decimal | None]:
    grouped = None
    if thousands:
        t, d = re.escape(thousands), re.escape(decimal)
        grouped = re.compile(rf"^[+-]?\d{{1,3}}({t}\d{{3}})+({d}\d+)?$")

    def from_text(text: str) -> Decimal | None:
        s_ = text.strip()
        if not s_:
            return None
        negative = s_.startswith("(") and s_.endswith(")")  # accounting style (1,250.00)
        if negative:
            s_ = s_[1:-1].strip()
        if thousands and thousands in s_:
            if grouped is None or not grouped.match(s_):
                raise TransformFailure(f"{text!r} is not a number (misplaced {thousands!r})")
            s_ = s_.replace(thousands, "")
        if decimal != ".":
            s_ = s_.replace(decimal, ".")
        if not _PLAIN_NUMBER.match(s_):
            raise TransformFailure(f"{text!r} is not a number")
        number = Decimal(s_)
        return -number if negative else number

    return from_text


def decimal_converter(*, thousands: str = ",", decimal: str = ".") -> Convert:
    """Numbers and numeric text to Decimal; blank text is null."""
    from_text = _text_number_parser(thousands, decimal)

    def convert(value: object) -> object:
        kind = type(value)
        if value is None or kind is Decimal:
            return value
        if kind is float:
            if not math.isfinite(value):  # type: ignore[arg-type]
                raise TransformFailure(f"{value!r} is not a finite number")
            return Decimal(repr(value))
        if kind is int:
            return Decimal(value)  # type: ignore[arg-type]
        if kind is str:
            return from_text(value)  # type: ignore[arg-type]
        raise TransformFailure(f"{value!r} is not a number")

    return convert


def date_converter(*, timezone: str = "UTC") -> Convert:
    """Dates and datetimes (`2026-01-31T17:04:05.000+0000`) to a date in `timezone`."""
    zone: tzinfo = UTC if timezone.upper() == "UTC" else ZoneInfo(timezone)

    def from_datetime(moment: datetime) -> date:
        if moment.tzinfo is None:  # Salesforce datetimes are UTC
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(zone).date()

    def convert(value: object) -> object:
        if value is None or type(value) is date:
            return value
        if isinstance(value, datetime):
            return from_datetime(value)
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            try:
                if len(text) == 10:
                    return date.fromisoformat(text)
                return from_datetime(datetime.fromisoformat(text))
            except ValueError:
                raise TransformFailure(f"{value!r} is not a date") from None
        raise TransformFailure(f"{value!r} is not a date")

    return convert


def to_bool(value: object) -> object:
    """Booleans, yes/no/true/false/1/0 text (any case) and 0/1 numbers to a boolean."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        if not text:
            return None
    elif isinstance(value, int | float | Decimal) and value in (0, 1):
        return bool(value)
    raise TransformFailure(f"{value!r} is not true or false")


def to_str(value: object) -> object:
    """Text, trimmed (blank is null); numbers, booleans and dates in their plain form."""
    if value is None:
        return None
    if type(value) is str:
        text = value.strip()
        return text or None
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping | list):
        raise TransformFailure(f"{value!r} is not a single value")
    return str(value)


CONVERTERS: Mapping[ValueType, Convert] = {
    "decimal": decimal_converter(),
    "date": date_converter(),
    "boolean": to_bool,
    "string": to_str,
}


def coerce(value_type: ValueType) -> Convert:
    """The implicit conversion to a canonical value type that ends every field's chain."""
    return CONVERTERS[value_type]
