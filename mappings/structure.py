"""Checks of a mapping document on its own (no org needed): names, expressions, cycles, defaults."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from mappings import schema as s
from mappings.convert import TransformFailure, coerce
from mappings.errors import Problem
from mappings.expr import ExprError, parse_expr
from mappings.registry import RESULTS, TARGETS, TargetName, ValueType
from mappings.transforms import record_of, transform_fields, transform_paths


def field_types(target: TargetName, mapping: s.ObjectMapping) -> dict[str, ValueType]:
    """Value type of every canonical field and custom attribute of one target."""
    types: dict[str, ValueType] = {n: f.type for n, f in TARGETS[target].fields.items()}
    for name, spec in getattr(mapping, "attributes", {}).items():
        types[name] = spec.type
    return types


def field_specs(mapping: s.ObjectMapping) -> dict[str, s.FieldSpec]:
    """The document's fields and attributes of one target, by name."""
    specs: dict[str, s.FieldSpec] = dict(mapping.fields)
    specs.update(getattr(mapping, "attributes", {}))
    return specs


def dependencies(spec: s.FieldSpec) -> set[str]:
    """Canonical fields a field reads (through `expr` or an `arith` with a field)."""
    deps: set[str] = set()
    if spec.expr is not None:
        with contextlib.suppress(ExprError):
            deps |= parse_expr(spec.expr)[1]
    for transform in spec.transforms:
        deps |= transform_fields(transform)
    return deps


def source_paths(mapping: s.ObjectMapping) -> Iterator[str]:
    """Every field path an object mapping reads: sources, paths its transforms read (their
    records in mappings.transforms say which), the won and include rules. The one walk over
    a mapping's inputs: the query, the input hash, the describes needed and the write-back
    loop check all use it."""
    for spec in field_specs(mapping).values():
        if spec.source:
            yield spec.source
        for transform in spec.transforms:
            for _where, path in transform_paths(transform):
                yield path
    if isinstance(mapping, s.DealMapping):
        yield mapping.won.field
    if isinstance(mapping, s.RepMapping) and (rule := mapping.include_rule()) is not None:
        yield rule.field


def structure_problems(doc: s.MappingDocument) -> list[Problem]:
    """Every problem visible from the document alone."""
    problems: list[Problem] = []
    for target, mapping in doc.targets().items():
        problems.extend(_target_problems(target, mapping))
    problems.extend(_writeback_problems(doc))
    return problems


def _target_problems(target: TargetName, mapping: s.ObjectMapping) -> Iterator[Problem]:
    registry = TARGETS[target]
    types = field_types(target, mapping)
    for name in mapping.fields:
        if name == "is_won" and target == "deal":
            yield Problem(f"{target}.fields.is_won", "is_won comes from the `won` rule")
        elif name not in registry.fields:
            known = ", ".join(registry.fields)
            yield Problem(f"{target}.fields.{name}", f"unknown canonical field (known: {known})")
    for name, canonical in registry.fields.items():
        if canonical.must_map and name not in mapping.fields:
            yield Problem(f"{target}.fields", f"{name} must be mapped")
    for name in getattr(mapping, "attributes", {}):
        path = f"{target}.attributes.{name}"
        if not s.ATTRIBUTE_NAME.fullmatch(name):
            yield Problem(path, "attribute names are lower_case letters, digits and _")
        elif name in registry.fields:
            yield Problem(path, f"{name} is a canonical field; map it under `fields`")
    for name, spec in field_specs(mapping).items():
        path = f"{target}.{_section(mapping, name)}.{name}"
        yield from _spec_problems(path, spec, types)
        if spec.required == "when_won" and target != "deal":
            yield Problem(f"{path}.required", "when_won applies to deal fields only")
        choices = registry.fields[name].choices if name in registry.fields else ()
        if choices:
            yield from _choice_problems(path, spec, choices)
    yield from _cycle_problems(target, mapping)


def _section(mapping: s.ObjectMapping, name: str) -> str:
    return "fields" if name in mapping.fields else "attributes"


def _spec_problems(
    path: str, spec: s.FieldSpec, types: Mapping[str, ValueType]
) -> Iterator[Problem]:
    own = path.rsplit(".", 1)[1]
    if spec.expr is not None:
        try:
            names = parse_expr(spec.expr)[1]
        except ExprError as exc:
            yield Problem(f"{path}.expr", str(exc))
            names = frozenset()
        for name in sorted(names):
            yield from _operand_problems(f"{path}.expr", name, types)
    for index, transform in enumerate(spec.transforms):
        where = f"{path}.transforms.{index}"
        for name in sorted(transform_fields(transform)):
            yield from _operand_problems(where, name, types)
        for inside, reason in record_of(transform).problems(transform):
            yield Problem(f"{where}.{inside}", reason)
    value_type = types.get(own)
    if spec.default is not None and value_type is not None:
        try:
            coerce(value_type)(spec.default)
        except TransformFailure as exc:
            yield Problem(f"{path}.default", f"not a {value_type}: {exc}")


def _choice_problems(path: str, spec: s.FieldSpec, choices: tuple[str, ...]) -> Iterator[Problem]:
    if not spec.transforms:
        return
    last = spec.transforms[-1]
    for key, value in record_of(last).values(last):
        if value is not None and value not in choices:
            where = f"{path}.transforms.{len(spec.transforms) - 1}"
            yield Problem(where, f"{key} -> {value!r}: must be one of {', '.join(choices)}")


def _operand_problems(path: str, name: str, types: Mapping[str, ValueType]) -> Iterator[Problem]:
    if name not in types:
        yield Problem(path, f"{name} is not a canonical field or attribute")
    elif types[name] != "decimal":
        yield Problem(path, f"{name} is a {types[name]}, arithmetic needs a decimal")


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """A dependency cycle (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _cycle_problems(target: TargetName, mapping: s.ObjectMapping) -> Iterator[Problem]:
    specs = field_specs(mapping)
    graph = {name: dependencies(spec) & set(specs) for name, spec in specs.items()}
    cycle = find_cycle(graph)
    if cycle:
        yield Problem(
            f"{target}.{_section(mapping, cycle[0])}.{cycle[0]}",
            "derived fields refer to each other in a cycle: " + " -> ".join(cycle),
        )


def _writeback_problems(doc: s.MappingDocument) -> Iterator[Problem]:
    targets = doc.targets()
    for result_name, wb in doc.writeback.items():
        path = f"writeback.{result_name}"
        result = RESULTS.get(result_name)
        if result is None:
            yield Problem(path, f"unknown result (known: {', '.join(RESULTS)})")
            continue
        expected = targets[result.target].object
        if wb.object.casefold() != expected.casefold():
            yield Problem(
                f"{path}.object",
                f"{result_name} belongs on the {result.target} object {expected}, not {wb.object}",
            )
