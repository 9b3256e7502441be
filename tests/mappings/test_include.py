"""The rep mapping's `include` rule: only Standard users become reps unless the admin says
otherwise, and mappings stored before the rule existed get it too."""

from __future__ import annotations

from typing import Any

from mappings.compile import compile_mapping
from mappings.defaults import default_mapping
from mappings.loader import document_to_data, dump_mapping, load_mapping
from mappings.schema import IncludeRule, MappingDocument
from mappings.validate import validate_against_describe

Describes = dict[str, dict[str, Any]]


def _without_include() -> dict[str, Any]:
    data = document_to_data(default_mapping())
    del data["rep"]["include"]
    return data


def test_the_default_mapping_shows_the_rule() -> None:
    rule = default_mapping().rep.include
    assert isinstance(rule, IncludeRule)
    assert (rule.field, rule.in_) == ("UserType", ["Standard"])
    # Exported, so admins see (and can change) it.
    text = dump_mapping(default_mapping())
    assert "include:" in text and "UserType" in text
    assert "include" in document_to_data(default_mapping())["rep"]


def test_a_stored_mapping_without_the_rule_gets_it() -> None:
    # Documents stored before the rule existed have no `include` key.
    old = MappingDocument.model_validate(_without_include())
    assert old == default_mapping()
    null = MappingDocument.model_validate(_without_include() | {})
    assert null.rep.include_rule() == IncludeRule(field="UserType", in_=["Standard"])


def test_include_all_takes_every_user_and_survives_export() -> None:
    data = _without_include()
    data["rep"]["include"] = "all"
    doc = MappingDocument.model_validate(data)
    assert doc.rep.include_rule() is None
    again = load_mapping(dump_mapping(doc))
    assert again.rep.include == "all"
    plan = compile_mapping(again).mappers["rep"]
    assert plan.includes({"Id": "005", "UserType": "Guest"})


def test_only_listed_user_types_are_included() -> None:
    plan = compile_mapping(default_mapping()).mappers["rep"]
    assert plan.includes({"UserType": "Standard"})
    assert plan.includes({"UserType": " standard "})  # picklist values compare case-insensitively
    for kind in ("AutomatedProcess", "CloudIntegrationUser", "Guest", "CsnOnly", "PowerPartner"):
        assert not plan.includes({"UserType": kind}), kind
    assert not plan.includes({"UserType": None})
    assert not plan.includes({})
    data = document_to_data(default_mapping())
    data["rep"]["include"] = {"field": "UserType", "in": ["Standard", "PowerPartner"]}
    partners = compile_mapping(MappingDocument.model_validate(data)).mappers["rep"]
    assert partners.includes({"UserType": "PowerPartner"})


def test_the_rule_field_is_pulled() -> None:
    compiled = compile_mapping(default_mapping())
    assert "UserType" in compiled.fields_to_pull("User")


def test_a_rep_object_other_than_user_has_no_default_rule() -> None:
    data = document_to_data(default_mapping())
    del data["rep"]["include"]
    data["rep"]["object"] = "Sales_Rep__c"
    doc = MappingDocument.model_validate(data)
    assert doc.rep.include is None


def test_validation_checks_the_rule_against_the_org(describes: Describes) -> None:
    data = document_to_data(default_mapping())
    data["rep"]["include"] = {"field": "UserKind", "in": ["Standard"]}
    problems = [
        str(p) for p in validate_against_describe(MappingDocument.model_validate(data), describes)
    ]
    assert any(p.startswith("rep.include.field") for p in problems), problems
    data["rep"]["include"] = {"field": "UserType", "in": ["Standard", "Robot"]}
    problems = [
        str(p) for p in validate_against_describe(MappingDocument.model_validate(data), describes)
    ]
    assert problems == ["rep.include.in.1: 'Robot' is not a value of the picklist UserType"]
    data["rep"]["include"] = {"field": "IsActive", "in": ["true"]}
    problems = [
        str(p) for p in validate_against_describe(MappingDocument.model_validate(data), describes)
    ]
    assert any("IsActive is a boolean" in p for p in problems), problems
    data["rep"]["include"] = {"field": "UserType", "in": []}
    assert "rep.include" in str(_invalid(data))


def _invalid(data: dict[str, Any]) -> Exception:
    try:
        MappingDocument.model_validate(data)
    except Exception as exc:  # pydantic's ValidationError
        return exc
    raise AssertionError("accepted")
