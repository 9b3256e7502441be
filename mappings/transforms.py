"""Named pure transforms: one record per transform, built once from its document spec.

`TRANSFORMS` holds, for every `op` of `mappings.schema.Transform`, what the rest of the
package needs to know about it: the source kinds it accepts (checked against the org's
describes), the kind it yields, the canonical type it already produces exactly, the field
paths and canonical fields it reads, how it builds its step, and the text the docs show.
Adding a transform is its model in `mappings/schema.py` plus its record here
(docs/contributing.md); tests/mappings/test_transform_registry.py checks every op has one.

Every step has the signature `step(value, raw, values, ctx) -> value`: `raw` is the Salesforce
record (query JSON), `values` the canonical fields mapped so far, `ctx` the MappingContext.
A bad value raises TransformFailure, which the record mapper turns into a RecordIssue.
Null passes through every transform except `constant` and `coalesce`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
from mappings.describe import Kind, picklist_values
from mappings.records import MappingContext
from mappings.registry import ValueType

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


# --- the registry -----------------------------------------------------------------------------

ANY_KIND: frozenset[Kind] = frozenset({"string", "number", "boolean", "date", "datetime"})
_NUMBERS: frozenset[Kind] = frozenset({"number"})


def _gives(kind: Kind) -> Callable[[Any, Kind], Kind]:
    return lambda _spec, _kind: kind


def _same(_spec: Any, kind: Kind) -> Kind:
    return kind


def _scalar_kind(value: object) -> Kind:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "any"
    return "date" if hasattr(value, "isoformat") else "number"


def _picklist_kind(spec: s.Picklist, _kind: Kind) -> Kind:
    kinds = {_scalar_kind(v) for v in [*spec.map.values(), spec.default] if v is not None}
    return kinds.pop() if len(kinds) == 1 else "any"


def _no_paths(_spec: Any) -> Iterator[tuple[str, str]]:
    return iter(())


def _no_fields(_spec: Any) -> Iterator[str]:
    return iter(())


def _coalesce_reads(spec: s.Coalesce) -> Iterator[tuple[str, str]]:
    for i, path in enumerate(spec.sources):
        yield f"sources.{i}", path


def _currency_reads(spec: s.ConvertCurrency) -> Iterator[tuple[str, str]]:
    if spec.currency_field and not spec.from_currency:
        yield "currency_field", spec.currency_field


def _timezone_problems(spec: s.ToDate) -> Iterator[tuple[str, str]]:
    if spec.timezone.upper() == "UTC":
        return
    try:
        ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        yield "timezone", f"unknown time zone {spec.timezone!r}"


def _picklist_values(spec: s.Picklist) -> Iterator[tuple[str, object]]:
    yield from spec.map.items()
    yield "default", spec.default


def _picklist_keys(spec: s.Picklist, field: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    # Keys compare case-insensitively, as the step does by default.
    known = {v.casefold() for v in picklist_values(field)}
    if not known:
        return
    for key in spec.map:
        if key.strip().casefold() not in known:
            yield f"map.{key}", f"{key!r} is not a value of the picklist {field['name']}"


def _no_source_problems(_spec: Any, _field: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    return iter(())


def _no_values(_spec: Any) -> Iterator[tuple[str, object]]:
    return iter(())


def _constant(spec: s.Constant) -> Step:
    constant = spec.value
    return lambda _value, _raw, _values, _ctx: constant


@dataclass(frozen=True, slots=True, kw_only=True)
class TransformRecord:
    """Everything the mapping code knows about one transform `op`.

    `accepts` has no default on purpose: a transform that forgot to say which source kinds
    it takes would otherwise take anything, and a mismatch would surface only as bad data.
    Exactly one of `convert` (needs only the value) or `build` (needs the raw record, the
    mapped values or the context) makes its step.
    """

    op: str
    model: type[Any]  # its pydantic model in mappings.schema
    display: str  # what it does, as the docs show it
    accepts: frozenset[Kind]  # the kinds of value it may be given (ANY_KIND: any)
    output: Callable[[Any, Kind], Kind]  # the kind it yields, from its spec and its input kind
    yields: ValueType | None = None  # the canonical type it already yields exactly, if any
    convert: Callable[[Any], Convert] | None = None
    build: Callable[[Any], Step] | None = None
    reads: Callable[[Any], Iterable[tuple[str, str]]] = _no_paths  # (where, source path)
    depends: Callable[[Any], Iterable[str]] = _no_fields  # canonical (decimal) fields it reads
    problems: Callable[[Any], Iterable[tuple[str, str]]] = _no_paths  # (where, reason)
    # First in the list: problems against the source field's describe (where, reason).
    source_problems: Callable[[Any, Mapping[str, Any]], Iterable[tuple[str, str]]] = (
        _no_source_problems
    )
    # Last in the list: the fixed values it yields as (label, value), checked against the
    # canonical field's choices.
    values: Callable[[Any], Iterable[tuple[str, object]]] = _no_values
    needs_rates: bool = False  # reads the org's currency rates (one CurrencyType query)

    def __post_init__(self) -> None:
        if (self.convert is None) == (self.build is None):
            raise TypeError(f"transform {self.op!r}: give exactly one of convert or build")
        if not self.accepts:
            raise TypeError(f"transform {self.op!r}: accepts no kind of value")
        if self.op not in model_ops(self.model):
            raise TypeError(f"transform {self.op!r}: not an op of {self.model.__name__}")


def model_ops(model: type[Any]) -> tuple[str, ...]:
    """The `op` values a transform model's discriminator takes."""
    return tuple(str(a) for a in get_args(model.model_fields["op"].annotation))


def union_models(union: Any = s.Transform) -> tuple[type[Any], ...]:
    """The transform models of `schema.Transform` (or another such annotated union)."""
    found: list[type[Any]] = []

    def walk(annotation: Any) -> None:
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            found.append(annotation)
            return
        for arg in get_args(annotation):
            walk(arg)

    walk(union)
    return tuple(dict.fromkeys(found))


def registry_problems(
    records: Mapping[str, TransformRecord], models: Iterable[type[Any]]
) -> list[str]:
    """Why `records` does not describe exactly the ops of `models` (empty when it does)."""
    ops = {op: model for model in models for op in model_ops(model)}
    problems = [f"transform {op!r} has no record" for op in ops if op not in records]
    problems += [
        f"record {op!r} is not a transform of the schema" for op in records if op not in ops
    ]
    problems += [
        f"record {op!r} names {r.model.__name__}, not {ops[op].__name__}"
        for op, r in records.items()
        if op in ops and r.model is not ops[op]
    ]
    return problems


def _index(*records: TransformRecord) -> Mapping[str, TransformRecord]:
    table = {r.op: r for r in records}
    problems = registry_problems(table, union_models())
    if problems:
        raise TypeError("; ".join(problems))
    return table


TRANSFORMS: Mapping[str, TransformRecord] = _index(
    TransformRecord(
        op="to_decimal",
        model=s.ToDecimal,
        display="Text or number to a decimal number; `thousands` separators are dropped "
        '("1,250.00").',
        accepts=frozenset({"string", "number"}),
        output=_gives("number"),
        yields="decimal",
        convert=lambda spec: decimal_converter(thousands=spec.thousands, decimal=spec.decimal),
    ),
    TransformRecord(
        op="to_date",
        model=s.ToDate,
        display="Date or datetime text to a date; datetimes are read in `timezone` "
        "(Salesforce sends them in UTC).",
        accepts=frozenset({"string", "date", "datetime"}),
        output=_gives("date"),
        yields="date",
        convert=lambda spec: date_converter(timezone=spec.timezone),
        problems=_timezone_problems,
    ),
    TransformRecord(
        op="to_bool",
        model=s.ToBool,
        display="true/false, yes/no, 1/0 (any case) to a boolean.",
        accepts=frozenset({"string", "boolean", "number"}),
        output=_gives("boolean"),
        yields="boolean",
        convert=lambda _spec: to_bool,
    ),
    TransformRecord(
        op="to_str",
        model=s.Text,
        display="Any value to trimmed text.",
        accepts=ANY_KIND,
        output=_gives("string"),
        yields="string",
        convert=lambda _spec: to_str,
    ),
    TransformRecord(
        op="upper",
        model=s.Text,
        display="Text in upper case.",
        accepts=frozenset({"string", "number"}),
        output=_gives("string"),
        yields="string",
        convert=lambda _spec: _case(True),
    ),
    TransformRecord(
        op="lower",
        model=s.Text,
        display="Text in lower case.",
        accepts=frozenset({"string", "number"}),
        output=_gives("string"),
        yields="string",
        convert=lambda _spec: _case(False),
    ),
    TransformRecord(
        op="picklist",
        model=s.Picklist,
        display="Translate values through `map`; others become `default`, stay as they are "
        "(`unmapped: keep`) or fail (`unmapped: error`).",
        accepts=frozenset({"string", "boolean", "number"}),
        output=_picklist_kind,
        convert=_picklist,
        source_problems=_picklist_keys,
        values=_picklist_values,
    ),
    TransformRecord(
        op="arith",
        model=s.Arith,
        display="`value <operator> operand`, the operand a number (`value`) or another "
        "canonical field (`field`).",
        accepts=_NUMBERS,
        output=_gives("number"),
        build=_arith,
        depends=lambda spec: [spec.field] if spec.field else [],
    ),
    TransformRecord(
        op="round",
        model=s.Round,
        display="Round half-up to `places` decimals.",
        accepts=_NUMBERS,
        output=_gives("number"),
        yields="decimal",
        convert=lambda spec: _round(spec.places),
    ),
    TransformRecord(
        op="constant",
        model=s.Constant,
        display="Always `value`, whatever the source holds.",
        accepts=ANY_KIND,
        output=lambda spec, _kind: _scalar_kind(spec.value),
        build=_constant,
    ),
    TransformRecord(
        op="coalesce",
        model=s.Coalesce,
        display="The value if not null, else the first non-null of `sources` "
        "(fields or parent paths).",
        accepts=ANY_KIND,
        output=_same,
        build=_coalesce,
        reads=_coalesce_reads,
    ),
    TransformRecord(
        op="convert_currency",
        model=s.ConvertCurrency,
        display="Convert money with the org's rates, from the record's currency "
        "(`currency_field`) or `from_currency`, to the corporate currency or `to`.",
        accepts=_NUMBERS,
        output=_gives("number"),
        build=_convert_currency,
        reads=_currency_reads,
        needs_rates=True,
    ),
)


def record_of(spec: s.Transform) -> TransformRecord:
    """The registry record of one document transform."""
    return TRANSFORMS[spec.op]


def value_converter(spec: s.Transform) -> Convert | None:
    """The transform as a one-argument function, if it needs nothing but the value."""
    record = record_of(spec)
    return None if record.convert is None else record.convert(spec)


def build_step(spec: s.Transform) -> Step:
    """One document transform as a plain function."""
    record = record_of(spec)
    if record.build is not None:
        return record.build(spec)
    assert record.convert is not None
    return _simple(record.convert(spec))


def transform_paths(spec: s.Transform) -> Iterator[tuple[str, str]]:
    """(where inside the transform, source path) for every field path the transform reads."""
    yield from record_of(spec).reads(spec)


def transform_fields(spec: s.Transform) -> set[str]:
    """Canonical fields the transform reads (their values must be mapped before it runs)."""
    return set(record_of(spec).depends(spec))
