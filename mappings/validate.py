"""Validate a mapping document against an org's describes, reporting every problem at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from mappings import schema as s
from mappings.describe import DescribeIndex, Describes, Kind, kind_of, picklist_values
from mappings.errors import MappingError, Problem
from mappings.registry import RESULTS, Result, TargetName, ValueType
from mappings.structure import field_specs, field_types, source_paths, structure_problems
from mappings.transforms import record_of, transform_paths
from mappings.writeback_rules import fields_read, is_read

_CANONICAL_ACCEPTS: Mapping[ValueType, frozenset[Kind]] = {
    "decimal": frozenset({"number", "string"}),
    "date": frozenset({"date", "datetime", "string"}),
    "boolean": frozenset({"boolean", "string", "number"}),
    "string": frozenset({"string", "number", "boolean", "date", "datetime"}),
}
_NUMERIC_TYPES = frozenset({"currency", "double", "percent", "int", "long"})


def validate_against_describe(doc: s.MappingDocument, describes: Describes) -> list[Problem]:
    """Every problem of `doc` for an org with these describes ({object name: describe JSON})."""
    index = DescribeIndex(describes)
    problems = structure_problems(doc)
    for target, mapping in doc.targets().items():
        problems.extend(_object_problems(target, mapping, index))
    problems.extend(_writeback_problems(doc, index, describes))
    return problems


def check_against_describe(doc: s.MappingDocument, describes: Describes) -> None:
    """Raise MappingError listing every problem; call it before pulling any data."""
    problems = validate_against_describe(doc, describes)
    if problems:
        raise MappingError(problems, source=f"mapping {doc.name!r} does not fit the org")


def describes_needed(doc: s.MappingDocument, describes: Describes) -> set[str]:
    """Objects whose describe is still needed to validate `doc` (mapped objects, then parents)."""
    index = DescribeIndex(describes)
    needed: set[str] = set()
    for mapping in doc.targets().values():
        if not index.has(mapping.object):
            needed.add(mapping.object)
            continue
        for path in source_paths(mapping):
            parent = index.parents_needed(mapping.object, path)
            if parent:
                needed.add(parent)
    return needed


def collect_describes(
    doc: s.MappingDocument, describe: Callable[[str], Mapping[str, Any] | None]
) -> dict[str, Mapping[str, Any]]:
    """Fetch every describe `doc` needs (mapped objects, then their parents) via `describe`,
    which returns None for an object the org does not have (validation then reports it)."""
    found: dict[str, Mapping[str, Any]] = {}
    missing: set[str] = set()
    for _ in range(8):  # mapped objects, then up to five parent levels
        needed = describes_needed(doc, found) - set(found) - missing
        if not needed:
            break
        for name in sorted(needed):
            result = describe(name)
            if result is None:
                missing.add(name)
            else:
                found[name] = result
    return found


def _object_problems(
    target: TargetName, mapping: s.ObjectMapping, index: DescribeIndex
) -> Iterator[Problem]:
    describe = index.describe(mapping.object)
    if describe is None:
        yield Problem(f"{target}.object", f"the org has no object {mapping.object!r} (no describe)")
        return
    if describe.get("queryable") is False:
        yield Problem(f"{target}.object", f"{mapping.object} cannot be queried")
    types = field_types(target, mapping)
    for name, spec in field_specs(mapping).items():
        section = "fields" if name in mapping.fields else "attributes"
        yield from _spec_problems(
            f"{target}.{section}.{name}", spec, types.get(name), mapping.object, index
        )
    if isinstance(mapping, s.DealMapping):
        yield from _won_problems(f"{target}.won", mapping.won, mapping.object, index)
    if isinstance(mapping, s.RepMapping) and (rule := mapping.include_rule()) is not None:
        yield from _include_problems(f"{target}.include", rule, mapping.object, index)


def _spec_problems(
    path: str, spec: s.FieldSpec, value_type: ValueType | None, obj: str, index: DescribeIndex
) -> Iterator[Problem]:
    kind: Kind = "number" if spec.expr is not None else "any"
    source_field: Mapping[str, Any] | None = None
    if spec.source is not None:
        resolved = index.resolve(obj, spec.source)
        if resolved.problem:
            yield Problem(f"{path}.source", resolved.problem)
        else:
            source_field = resolved.field
            assert source_field is not None
            kind = kind_of(source_field)
    for position, transform in enumerate(spec.transforms):
        where = f"{path}.transforms.{position}"
        yield from _transform_refs(where, transform, obj, index)
        record = record_of(transform)
        if kind != "any" and kind not in record.accepts:
            yield Problem(
                where,
                f"{transform.op} cannot take a {_describe_kind(kind, source_field, position)}",
            )
        if position == 0 and source_field is not None:
            for inside, reason in record.source_problems(transform, source_field):
                yield Problem(f"{where}.{inside}", reason)
        kind = record.output(transform, kind)
    if value_type is not None and kind != "any" and kind not in _CANONICAL_ACCEPTS[value_type]:
        yield Problem(path, f"a {kind} value cannot fill a {value_type} field; add a transform")


def _describe_kind(kind: Kind, field: Mapping[str, Any] | None, position: int) -> str:
    if field is not None and position == 0:
        return f"{field.get('type')} field ({field.get('name')})"
    return f"{kind} value"


def _transform_refs(
    where: str, transform: s.Transform, obj: str, index: DescribeIndex
) -> Iterator[Problem]:
    for inside, source in transform_paths(transform):
        resolved = index.resolve(obj, source)
        if resolved.problem:
            yield Problem(f"{where}.{inside}", resolved.problem)


def _won_problems(path: str, rule: s.WonRule, obj: str, index: DescribeIndex) -> Iterator[Problem]:
    resolved = index.resolve(obj, rule.field)
    if resolved.problem or resolved.field is None:
        yield Problem(f"{path}.field", resolved.problem or "not found")
        return
    field, kind = resolved.field, kind_of(resolved.field)
    if rule.in_ is None:
        if kind != "boolean":
            yield Problem(
                path, f"{rule.field} is a {field.get('type')}; list the won values with `in`"
            )
        return
    if kind == "boolean":
        yield Problem(f"{path}.in", f"{rule.field} is a checkbox; drop `in`")
        return
    known = {v.casefold() for v in picklist_values(field)}
    for i, value in enumerate(rule.in_):
        if known and value.strip().casefold() not in known:
            yield Problem(
                f"{path}.in.{i}", f"{value!r} is not a value of the picklist {field['name']}"
            )


def _include_problems(
    path: str, rule: s.IncludeRule, obj: str, index: DescribeIndex
) -> Iterator[Problem]:
    resolved = index.resolve(obj, rule.field)
    if resolved.problem or resolved.field is None:
        yield Problem(f"{path}.field", resolved.problem or "not found")
        return
    field = resolved.field
    if kind_of(field) != "string":
        yield Problem(f"{path}.field", f"{rule.field} is a {field.get('type')}; use a text field")
        return
    known = {v.casefold() for v in picklist_values(field)}
    for i, value in enumerate(rule.in_):
        if known and value.strip().casefold() not in known:
            yield Problem(
                f"{path}.in.{i}", f"{value!r} is not a value of the picklist {field['name']}"
            )


def _writeback_problems(
    doc: s.MappingDocument, index: DescribeIndex, describes: Describes
) -> Iterator[Problem]:
    read = fields_read(doc, describes)
    for name, wb in doc.writeback.items():
        result = RESULTS.get(name)
        if result is None:
            continue  # reported by structure_problems
        path = f"writeback.{name}"
        if not index.has(wb.object):
            yield Problem(f"{path}.object", f"the org has no object {wb.object!r} (no describe)")
            continue
        field = index.field(wb.object, wb.field)
        if field is None:
            yield Problem(f"{path}.field", f"{wb.object} has no field {wb.field!r}")
            continue
        if is_read((wb.object, wb.field), read):
            yield Problem(
                f"{path}.field", f"{wb.field} is also a mapped input; writing it would loop"
            )
        yield from _target_field_problems(path, result, field)


def _target_field_problems(
    path: str, result: Result, field: Mapping[str, Any]
) -> Iterator[Problem]:
    name, ftype = field.get("name"), str(field.get("type"))
    if not field.get("updateable", False) or field.get("calculated"):
        yield Problem(f"{path}.field", f"{name} is not updateable")
    if result.kind == "number":
        if ftype not in _NUMERIC_TYPES:
            yield Problem(
                f"{path}.field", f"{name} is a {ftype} field; {result.name} needs a number field"
            )
        elif int(field.get("scale") or 0) < result.min_scale:
            scale = field.get("scale") or 0
            needs = f"{result.name} needs {result.min_scale}"
            yield Problem(f"{path}.field", f"{name} keeps {scale} decimals; {needs}")
        return
    if ftype in ("picklist", "multipicklist"):
        values = picklist_values(field, active_only=True)
        missing = [v for v in result.values if v not in values]
        if missing:
            yield Problem(f"{path}.field", f"{name} lacks picklist values: {', '.join(missing)}")
    elif ftype in ("string", "textarea"):
        longest = max(len(v) for v in result.values)
        if int(field.get("length") or 0) < longest:
            yield Problem(
                f"{path}.field", f"{name} holds {field.get('length')} characters; {longest} needed"
            )
    else:
        yield Problem(
            f"{path}.field", f"{name} is a {ftype} field; {result.name} needs a picklist or text"
        )
