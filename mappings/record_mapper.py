"""The compiled record mapper of one object: field recipes in dependency order, run per raw record.

Mapping a record never raises for bad data: it returns the canonical record or a RecordIssue.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from calc.model import Deal, Rep, Split, TeamMember
from mappings import schema as s
from mappings.convert import Convert, Raw, TransformFailure, coerce, path_getter, to_bool
from mappings.errors import MappingError
from mappings.expr import parse_expr
from mappings.records import EMPTY_CONTEXT, MappingContext, RecordIssue
from mappings.registry import MODEL_DEFAULTS, TARGETS, TargetName, ValueType
from mappings.structure import dependencies, field_specs, field_types, source_paths
from mappings.transforms import Step, build_step, record_of, value_converter

Compute = Callable[[Raw, dict[str, object], MappingContext], object]
_MISSING = "REQUIRED_VALUE_MISSING"
_MODELS: Mapping[TargetName, type[Any]] = {
    "rep": Rep,
    "deal": Deal,
    "split": Split,
    "team_member": TeamMember,
}


@dataclass(frozen=True, slots=True)
class _FieldRecipe:
    name: str
    label: str  # "amount (Amount)", used in issue reasons
    compute: Compute
    required: bool | str
    default: object
    attribute: bool


def _origin(spec: s.FieldSpec) -> Callable[[Raw, dict[str, object]], object]:
    if spec.source is not None:
        get = path_getter(spec.source)
        return lambda raw, _values: get(raw)
    if spec.expr is not None:
        evaluate = parse_expr(spec.expr)[0]
        return lambda _raw, values: evaluate(values)
    return lambda _raw, _values: None


def _finisher(convert: Convert, choices: tuple[str, ...]) -> Convert:
    if not choices:
        return convert
    allowed = frozenset(choices)

    def finish(value: object) -> object:
        value = convert(value)
        if value is not None and value not in allowed:
            raise TransformFailure(f"{value!r} is not one of {', '.join(choices)}")
        return value

    return finish


def _chain(converters: list[Convert]) -> Convert:
    if len(converters) == 1:
        return converters[0]
    if len(converters) == 2:
        first, second = converters
        return lambda value: second(first(value))

    def chained(value: object) -> object:
        for convert in converters:
            value = convert(value)
        return value

    return chained


def _compute(spec: s.FieldSpec, value_type: ValueType, finish: Convert, *, exact: bool) -> Compute:
    """`finish` is the final coercion; `exact` when it is only that (no choices to check)."""
    transforms = spec.transforms
    skip_final = exact and bool(transforms) and record_of(transforms[-1]).yields == value_type
    converters = [value_converter(t) for t in transforms]
    if spec.source is not None and all(c is not None for c in converters):
        # The common case (a field, then value-only transforms) as one composed function.
        chain = [c for c in converters if c is not None] + ([] if skip_final else [finish])
        convert = _chain(chain)
        if "." not in spec.source:
            name = spec.source
            return lambda raw, _values, _ctx: convert(raw.get(name))
        get = path_getter(spec.source)
        return lambda raw, _values, _ctx: convert(get(raw))
    origin = _origin(spec)
    steps: tuple[Step, ...] = tuple(build_step(t) for t in transforms)

    def compute(raw: Raw, values: dict[str, object], ctx: MappingContext) -> object:
        value = origin(raw, values)
        for step in steps:
            value = step(value, raw, values, ctx)
        return finish(value)

    return compute


def _won_recipe(rule: s.WonRule) -> _FieldRecipe:
    get = path_getter(rule.field)
    if rule.in_ is None:

        def compute(raw: Raw, _values: dict[str, object], _ctx: MappingContext) -> object:
            return to_bool(get(raw)) or False

    else:
        # Picklist values compare case-insensitively: exports and integrations often re-case them.
        won = frozenset(v.strip().casefold() for v in rule.in_)

        def compute(raw: Raw, _values: dict[str, object], _ctx: MappingContext) -> object:
            value = get(raw)
            return value is not None and str(value).strip().casefold() in won

    return _FieldRecipe("is_won", f"is_won ({rule.field})", compute, False, False, False)


def _order(specs: Mapping[str, s.FieldSpec]) -> list[str]:
    done: list[str] = []
    pending = dict.fromkeys(specs)
    while pending:
        ready = [n for n in pending if not (dependencies(specs[n]) & set(pending))]
        if not ready:  # a cycle; structure_problems reports it before we get here
            raise MappingError([])
        done.extend(ready)
        for name in ready:
            del pending[name]
    return done


class RecordMapper:
    """The compiled mapping of one Salesforce object to one canonical record type."""

    def __init__(self, target: TargetName, mapping: s.ObjectMapping) -> None:
        self.target = target
        self.object_name = mapping.object
        self._model = _MODELS[target]
        self._has_attributes = TARGETS[target].allows_attributes
        recipes = self._build_recipes(mapping)
        self._rows = tuple((p.name, p.compute, p.required, p.default, p.label) for p in recipes)
        self._attribute_names = tuple(p.name for p in recipes if p.attribute)
        rule = mapping.include_rule() if isinstance(mapping, s.RepMapping) else None
        self._include = None if rule is None else (rule, path_getter(rule.field))
        self.input_paths = _input_paths(mapping)
        self._getters = tuple((p, path_getter(p)) for p in sorted(self.input_paths))

    def _build_recipes(self, mapping: s.ObjectMapping) -> tuple[_FieldRecipe, ...]:
        registry = TARGETS[self.target].fields
        types = field_types(self.target, mapping)
        specs = field_specs(mapping)
        recipes: list[_FieldRecipe] = []
        if isinstance(mapping, s.DealMapping):
            recipes.append(_won_recipe(mapping.won))
        for name in _order(specs):
            spec = specs[name]
            canonical = registry.get(name)
            convert = coerce(types[name])
            choices = canonical.choices if canonical else ()
            finish = _finisher(convert, choices)
            default = (
                spec.default if spec.default is not None else _model_default(self.target, name)
            )
            required = True if canonical and canonical.must_map else spec.required
            label = f"{name} ({spec.source or spec.expr or 'derived'})"
            recipes.append(
                _FieldRecipe(
                    name,
                    label,
                    _compute(spec, types[name], finish, exact=not choices),
                    required,
                    None if default is None else convert(default),
                    canonical is None,
                )
            )
        return tuple(recipes)

    def includes(self, raw: Raw) -> bool:
        """Whether `raw` passes the mapping's `include` rule (every record when it has none)."""
        if self._include is None:
            return True
        rule, get = self._include
        return rule.matches(get(raw))

    def map(self, raw: Raw, ctx: MappingContext = EMPTY_CONTEXT) -> Any:
        """The canonical record for `raw`, or a RecordIssue saying why not."""
        values: dict[str, object] = {}  # canonical fields and attributes, for expressions
        issues: list[tuple[str, str, str]] = []
        for name, compute, required, default, label in self._rows:
            try:
                value = compute(raw, values, ctx)
            except TransformFailure as exc:
                issues.append((name, f"{label}: {exc}", "MAPPING_FAILED"))
                value = None
            if value is None:
                if required is True:
                    issues.append((name, f"{label} is required but is null", _MISSING))
                elif required == "when_won" and values.get("is_won"):
                    reason = f"{label} is required on a won deal but is null"
                    issues.append((name, reason, _MISSING))
                value = default
            values[name] = value
        if issues:
            return self._issue(raw, issues)
        if self._has_attributes:
            attributes = {name: values.pop(name) for name in self._attribute_names}
            return self._model(**values, attributes=attributes)
        return self._model(**values)

    def _issue(self, raw: Raw, issues: list[tuple[str, str, str]]) -> RecordIssue:
        record_id = raw.get("Id")
        return RecordIssue(
            object_name=self.object_name,
            record_id=record_id if isinstance(record_id, str) else None,
            field=issues[0][0],
            reason="; ".join(reason for _, reason, _ in issues),
            code=issues[0][2],
        )

    def input_hash(self, raw: Raw) -> str:
        """sha256 of only the mapped input fields: unchanged when only our write-back changed."""
        return hashlib.sha256(_HASH_JSON.encode(self.input_pairs(raw)).encode()).hexdigest()

    def input_pairs(self, raw: Raw) -> list[list[object]]:
        """`[path, value]` of every mapped input field, in path order: what the input hash is
        taken of (its JSON as `_HASH_JSON` writes it)."""
        return [[path, get(raw)] for path, get in self._getters]


# The input hash's JSON, as `json.dumps(pairs, separators=(",", ":"), default=str,
# ensure_ascii=False)` writes it (stored hashes stay valid), built once, not per record.
_HASH_JSON = json.JSONEncoder(separators=(",", ":"), default=str, ensure_ascii=False)


def _model_default(target: TargetName, name: str) -> object:
    return MODEL_DEFAULTS[target].get(name)


def _input_paths(mapping: s.ObjectMapping) -> frozenset[str]:
    return frozenset({"Id", *source_paths(mapping)})
