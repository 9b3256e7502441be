"""Named pure transforms, built once from their document specs into plain functions.

Every step has the signature `step(value, raw, values, ctx) -> value`: `raw` is the Salesforce
record (query JSON), `values` the canonical fields mapped so far, `ctx` the MappingContext.
A bad value raises TransformFailure, which the record mapper turns into a RecordIssue.
Null passes through every transform except `constant` and `coalesce`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from mappings import schema as s
from mappings.convert import (
    Convert,
    Raw,
    TransformFailure,
    date_converter,
    decimal_converter,
    path_getter,
    to_bool,
    to_str,
)
from mappings.records import MappingContext

Values = Mapping[str, object]
Step = Callable[[object, Raw, Values, MappingContext], object]


def _case(upper: bool) -> Convert:
    def convert(value: object) -> object:
        text = to_str(value)
        if text is None:
            return None
        assert isinstance(text, str)
        return text.upper() if upper else text.lower()

    return convert


def _simple(convert: Convert) -> Step:
    return lambda value, _raw, _values, _ctx: convert(value)


def value_converter(spec: s.Transform) -> Convert | None:
    """The transform as a one-argument function, if it needs nothing but the value."""
    if isinstance(spec, s.ToDecimal):
        return decimal_converter(thousands=spec.thousands, decimal=spec.decimal)
    if isinstance(spec, s.ToDate):
        return date_converter(timezone=spec.timezone)
    if isinstance(spec, s.ToBool):
        return to_bool
    if isinstance(spec, s.Text):
        return to_str if spec.op == "to_str" else _case(spec.op == "upper")
    if isinstance(spec, s.Picklist):
        return _picklist(spec)
    if isinstance(spec, s.Round):
        return _round(spec.places)
    return None


def build_step(spec: s.Transform) -> Step:
    """One document transform as a plain function."""
    convert = value_converter(spec)
    if convert is not None:
        return _simple(convert)
    if isinstance(spec, s.Arith):
        return _arith(spec)
    if isinstance(spec, s.Constant):
        constant = spec.value
        return lambda _value, _raw, _values, _ctx: constant
    if isinstance(spec, s.Coalesce):
        return _coalesce(spec)
    assert isinstance(spec, s.ConvertCurrency), spec
    return _convert_currency(spec)


def _picklist(spec: s.Picklist) -> Convert:
    fold = (lambda text: text) if spec.case_sensitive else str.casefold
    table = {fold(key.strip()): value for key, value in spec.map.items()}
    default, unmapped = spec.default, spec.unmapped

    def convert(value: object) -> object:
        if value is None:
            return None
        key = value if type(value) is str else to_str(value)
        assert isinstance(key, str)
        found = table.get(fold(key.strip()), table)
        if found is not table:
            return found
        if unmapped == "default":
            return default
        if unmapped == "keep":
            return value
        raise TransformFailure(f"{value!r} is not one of {', '.join(spec.map)}")

    return convert


def _number(value: object, what: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(repr(value))
    raise TransformFailure(f"{what} is not a number: {value!r}")


def _arith(spec: s.Arith) -> Step:
    operator, constant, field = spec.operator, spec.value, spec.field

    def step(value: object, _raw: Raw, values: Values, _ctx: MappingContext) -> object:
        if value is None:
            return None
        operand = constant if field is None else values.get(field)
        if operand is None:
            return None
        a, b = _number(value, "value"), _number(operand, field or "operand")
        if operator == "+":
            return a + b
        if operator == "-":
            return a - b
        if operator == "*":
            return a * b
        if not b:
            raise TransformFailure(f"division by zero ({field or 'value'} is 0)")
        return a / b

    return step


def _round(places: int) -> Convert:
    exponent = Decimal(1).scaleb(-places)

    def convert(value: object) -> object:
        if value is None:
            return None
        try:
            return _number(value, "value").quantize(exponent, rounding=ROUND_HALF_UP)
        except InvalidOperation:
            raise TransformFailure(f"{value!r} is too large to round") from None

    return convert


def _coalesce(spec: s.Coalesce) -> Step:
    getters = [path_getter(path) for path in spec.sources]

    def step(value: object, raw: Raw, _values: Values, _ctx: MappingContext) -> object:
        if value is not None and value != "":
            return value
        for get in getters:
            found = get(raw)
            if found is not None and found != "":
                return found
        return None

    return step


def _convert_currency(spec: s.ConvertCurrency) -> Step:
    fixed = spec.from_currency.upper() if spec.from_currency else None
    read = path_getter(spec.currency_field) if spec.currency_field and not fixed else None
    to = spec.to.upper()

    def rate(ctx: MappingContext, code: str) -> Decimal:
        found = ctx.rates.get(code)
        if found is None or not found:
            raise TransformFailure(f"no conversion rate for currency {code}")
        return found

    def step(value: object, raw: Raw, _values: Values, ctx: MappingContext) -> object:
        if value is None:
            return None
        amount = _number(value, "amount")
        source = fixed or (str(read(raw) or "").upper() if read else "")
        target = ctx.corporate_currency if to == "CORPORATE" else to
        # A single-currency org has no CurrencyIsoCode: every amount is already corporate.
        if not source or source == target:
            return amount
        corporate = amount / rate(ctx, source)
        return (
            corporate
            if target is None or target == ctx.corporate_currency
            else (corporate * rate(ctx, target))
        )

    return step
