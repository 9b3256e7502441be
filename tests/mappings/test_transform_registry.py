"""The transform registry: every transform of the schema has one complete record, read by all."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import Field

from mappings import schema as s
from mappings import transforms as t
from mappings.compile import compile_mapping
from mappings.defaults import default_mapping
from mappings.loader import document_to_data
from mappings.schema import MappingDocument
from mappings.structure import source_paths
from mappings.validate import validate_against_describe

Describes = dict[str, dict[str, Any]]


def _schema_ops() -> set[str]:
    # Independent of the registry: every discriminator value pydantic publishes for a field.
    schema = s.FieldSpec.model_json_schema()
    mapping = schema["properties"]["transforms"]["items"]["discriminator"]["mapping"]
    return set(mapping)


def test_every_transform_of_the_schema_has_a_complete_record() -> None:
    assert set(t.TRANSFORMS) == _schema_ops()
    assert t.registry_problems(t.TRANSFORMS, t.union_models()) == []
    for op, record in t.TRANSFORMS.items():
        assert record.op == op
        assert op in t.model_ops(record.model)
        assert record.accepts and record.accepts <= t.ANY_KIND, op
        assert (record.convert is None) != (record.build is None), op
        assert record.display.strip(), op


def test_a_record_without_its_accepted_kinds_cannot_be_made() -> None:
    whole = dataclasses.asdict(t.TRANSFORMS["round"])
    del whole["accepts"]
    with pytest.raises(TypeError, match="accepts"):
        t.TransformRecord(**whole)
    with pytest.raises(TypeError, match="accepts no kind"):
        t.TransformRecord(**whole, accepts=frozenset())


def test_a_record_must_build_its_step_one_way() -> None:
    whole = dataclasses.asdict(t.TRANSFORMS["round"]) | {"build": t.TRANSFORMS["arith"].build}
    with pytest.raises(TypeError, match="exactly one of convert or build"):
        t.TransformRecord(**whole)


def test_a_transform_missing_from_the_registry_is_named() -> None:
    class Double(s.ToBool):  # a newcomer's transform, added to the union but not registered
        op: Literal["double"]  # type: ignore[assignment]

    union = Annotated[s.ToDecimal | s.Round | Double, Field(discriminator="op")]
    records = {op: t.TRANSFORMS[op] for op in ("to_decimal", "round")}
    assert t.registry_problems(records, t.union_models(union)) == [
        "transform 'double' has no record"
    ]
    without_round = {k: v for k, v in t.TRANSFORMS.items() if k != "round"}
    assert t.registry_problems(without_round, t.union_models()) == [
        "transform 'round' has no record"
    ]


def test_validation_reads_the_accepted_kinds_from_the_record(
    describes: Describes, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = document_to_data(default_mapping())
    data["deal"]["fields"]["name"] = {"source": "Name", "transforms": ["upper"]}
    doc = MappingDocument.model_validate(data)
    assert validate_against_describe(doc, describes) == []
    narrowed = dataclasses.replace(t.TRANSFORMS["upper"], accepts=frozenset({"number"}))
    monkeypatch.setitem(t.TRANSFORMS, "upper", narrowed)  # type: ignore[arg-type]
    problems = [str(p) for p in validate_against_describe(doc, describes)]
    assert "deal.fields.name.transforms.0: upper cannot take a string field (Name)" in problems


def test_one_walk_gives_every_path_a_mapping_reads() -> None:
    data = document_to_data(default_mapping())
    data["deal"]["fields"]["amount"] = {
        "source": "Amount",
        "transforms": [
            {"op": "coalesce", "sources": ["Account.AnnualRevenue", "ExpectedRevenue"]},
            {"op": "convert_currency", "currency_field": "Account.CurrencyIsoCode"},
        ],
    }
    doc = MappingDocument.model_validate(data)
    paths = set(source_paths(doc.deal))
    assert {"Amount", "Account.AnnualRevenue", "ExpectedRevenue"} <= paths
    assert "Account.CurrencyIsoCode" in paths
    mapper = compile_mapping(doc).mappers["deal"]
    assert mapper.input_paths == frozenset({"Id", *paths})


def test_no_module_but_the_schema_and_the_registry_names_a_transform() -> None:
    # What keeps "adding a transform" at two files: everything else reads the record.
    root = Path(__file__).resolve().parents[2]
    names = "|".join(model.__name__ for model in t.union_models())
    pattern = re.compile(rf"\b(s|schema)\.({names})\b|from mappings\.schema import .*\b({names})\b")
    allowed = {root / "mappings" / "schema.py", root / "mappings" / "transforms.py"}
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("mappings", "connector", "webapp", "calc")
        for path in sorted((root / folder).rglob("*.py"))
        if path not in allowed
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
