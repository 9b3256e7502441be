"""The devorg schema: describe JSON, SQLite tables and record ids."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from devorg import schema

BASE = "/services/data"


def _describe(name: str) -> dict[str, Any]:
    body = schema.describe_sobject(name, base_url=BASE, api_version="62.0")
    assert body is not None
    return body


def _described_field(obj: str, name: str) -> dict[str, Any]:
    return next(f for f in _describe(obj)["fields"] if f["name"] == name)


@pytest.mark.parametrize(
    ("obj", "name", "expected"),
    [
        ("User", "Quota_Attainment__c", {"type": "percent", "precision": 6, "scale": 2,
                                         "custom": True}),
        ("User", "Earnings_To_Date__c", {"type": "currency", "precision": 16, "scale": 2}),
        ("Opportunity", "Estimated_Commission__c", {"type": "currency", "precision": 16,
                                                    "scale": 2}),
        ("Opportunity", "SPIFF_Status__c", {"type": "picklist", "restrictedPicklist": True}),
        ("Opportunity", "Amount", {"type": "currency", "custom": False, "nillable": True}),
        ("Opportunity", "IsWon", {"type": "boolean", "createable": False, "updateable": False}),
        ("Opportunity", "OwnerId", {"type": "reference", "referenceTo": ["User"],
                                    "relationshipName": "Owner", "nillable": False}),
        ("OpportunitySplit", "SplitTypeId", {"referenceTo": ["OpportunitySplitType"],
                                             "relationshipName": "SplitType"}),
        ("OpportunitySplit", "SplitAmount", {"type": "currency", "createable": False}),
        ("OpportunityLineItem", "TotalPrice", {"type": "currency"}),
        ("Account", "Name", {"type": "string", "nameField": True, "nillable": False}),
        ("User", "SystemModstamp", {"type": "datetime", "soapType": "xsd:dateTime"}),
        ("OpportunityTeamMember", "TeamMemberRole", {"type": "picklist"}),
    ],
)  # fmt: skip
def test_describe_fields(obj: str, name: str, expected: dict[str, Any]) -> None:
    field = _described_field(obj, name)
    assert {key: field[key] for key in expected} == expected


def test_spiff_status_picklist_values_exactly() -> None:
    values = [
        p["value"] for p in _described_field("Opportunity", "SPIFF_Status__c")["picklistValues"]
    ]
    assert values == ["Not Eligible", "Eligible", "Qualified", "Paid"]
    entry = _described_field("Opportunity", "SPIFF_Status__c")["picklistValues"][0]
    assert set(entry) == {"active", "defaultValue", "label", "validFor", "value"}


def test_describe_header_and_urls() -> None:
    body = _describe("opportunity")  # object names are case-insensitive
    assert body["name"] == "Opportunity" and body["keyPrefix"] == "006"
    assert body["urls"]["sobject"] == "/services/data/v62.0/sobjects/Opportunity"
    assert body["deletable"] is True and body["queryable"] is True
    children = {c["relationshipName"] for c in body["childRelationships"]}
    assert {"OpportunitySplits", "OpportunityTeamMembers", "OpportunityLineItems"} <= children
    same = schema.describe_sobject("Opportunity", base_url=BASE + "/v62.0", api_version="62.0")
    assert same == body


def test_describe_unknown_object_is_none() -> None:
    assert schema.describe_sobject("Widget__c", base_url=BASE, api_version="62.0") is None


def test_describe_global_lists_every_object() -> None:
    body = schema.describe_global(base_url=BASE, api_version="62.0")
    names = [o["name"] for o in body["sobjects"]]
    assert names == list(schema.OBJECTS)
    required = {"User", "Opportunity", "OpportunitySplit", "OpportunityTeamMember", "Account"}
    assert required | {"OpportunityLineItem"} <= set(names)


def test_users_cannot_be_deleted_and_have_no_is_deleted() -> None:
    for name in ("User", "Profile", "CurrencyType", "OpportunitySplitType"):
        obj = schema.OBJECTS[name]
        assert not obj.deletable and not obj.has_is_deleted
    assert schema.OBJECTS["Opportunity"].has_is_deleted


def test_field_lookup_is_case_insensitive() -> None:
    obj = schema.get_object("OPPORTUNITY")
    assert obj is not None
    spec = obj.field("spiff_status__C")
    assert spec is not None and spec.name == "SPIFF_Status__c"
    assert obj.field("Nope") is None
    rel = obj.relationship("owner")
    assert rel is not None and rel.name == "OwnerId"


def test_create_tables_is_idempotent_and_matches_the_fields() -> None:
    conn = sqlite3.connect(":memory:")
    schema.create_tables(conn)
    schema.create_tables(conn)
    for obj in schema.OBJECTS.values():
        info = conn.execute(f'PRAGMA table_info("{obj.name}")').fetchall()
        assert [(row[1], row[2]) for row in info] == [
            (f.name, schema.sql_type(f)) for f in obj.fields
        ]
        indexes = {row[1] for row in conn.execute(f'PRAGMA index_list("{obj.name}")')}
        assert f"ix_{obj.name}_modstamp" in indexes
        cols = [row[2] for row in conn.execute(f'PRAGMA index_info("ix_{obj.name}_modstamp")')]
        assert cols == ["SystemModstamp", "Id"]
    assert schema.sql_type(schema.OBJECTS["Opportunity"].fields[0]) == "TEXT"


@pytest.mark.parametrize(
    ("field_type", "sql"),
    [("datetime", "INTEGER"), ("date", "TEXT"), ("boolean", "INTEGER"), ("currency", "REAL"),
     ("percent", "REAL"), ("double", "REAL"), ("int", "INTEGER"), ("picklist", "TEXT"),
     ("reference", "TEXT")],
)  # fmt: skip
def test_storage_types(field_type: str, sql: str) -> None:
    assert schema.sql_type(schema.FieldSpec(name="X", type=field_type, label="X")) == sql


def test_ids_are_18_characters_ordered_and_checksummed() -> None:
    ids = [schema.new_id("Opportunity", n) for n in (0, 1, 61, 62, 10**6, 62**9 - 1)]
    assert all(len(i) == 18 and i.startswith("006") for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # The documented example of Salesforce's case-safe id suffix.
    assert schema.to_id18("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert schema.to_id18(ids[3][:15]) == ids[3]
    assert schema.object_for_id(ids[0]) is schema.OBJECTS["Opportunity"]
