"""Field values between Salesforce JSON and SQLite storage: round trips, formats and errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devorg import schema
from devorg.values import (
    FieldValueError,
    derived_values,
    format_datetime,
    parse_datetime_literal,
    to_json,
    to_storage,
)

OPP = schema.OBJECTS["Opportunity"]
BAD = "INVALID_TYPE_ON_FIELD_IN_RECORD"
RANGE = "NUMBER_OUTSIDE_VALID_RANGE"
JAN1 = "2026-01-01T00:00:00.000+0000"
USER = schema.OBJECTS["User"]


def _field(obj: schema.ObjectSpec, name: str) -> schema.FieldSpec:
    spec = obj.field(name)
    assert spec is not None
    return spec


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.000+0000", 0),
        ("1970-01-01T01:00:00+01:00", 0),
        ("1969-12-31T19:00:00-05:00", 0),
        ("1970-01-01T00:00:01.5Z", 1500),
        ("1970-01-01T00:00:00.123456Z", 123),
        ("2026-01-31T17:04:05.000+0000", 1769879045000),
        ("2026-01-31T18:34:05+0130", 1769879045000),
        ("2026-01-31T17:04:05", 1769879045000),  # no zone: UTC
    ],
)
def test_parse_datetime_literal(text: str, ms: int) -> None:
    assert parse_datetime_literal(text) == ms


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-01-31",
        "2026-13-01T00:00:00Z",
        "2026-01-31T25:00:00Z",
        "2026-01-31T00:00+01:75",
        "x",
    ],
)
def test_parse_datetime_literal_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime_literal(text)


def test_format_datetime_is_salesforce_output_form() -> None:
    assert format_datetime(1769879045007) == "2026-01-31T17:04:05.007+0000"
    assert format_datetime(0) == "1970-01-01T00:00:00.000+0000"


@given(st.integers(min_value=0, max_value=253402300799999))
def test_datetime_round_trip(ms: int) -> None:
    assert parse_datetime_literal(format_datetime(ms)) == ms


@pytest.mark.parametrize(
    ("obj", "name", "json_in", "stored", "json_out"),
    [
        (OPP, "Amount", 125000, 125000.0, 125000.0),
        # Stored as sent, beyond the field's scale (Salesforce Help 000385689).
        (OPP, "Amount", "99.999", 99.999, 99.999),
        (OPP, "Amount", 0.125, 0.125, 0.125),
        (OPP, "Amount", None, None, None),
        (OPP, "Probability", 75, 75.0, 75.0),
        (OPP, "CloseDate", "2026-03-31", "2026-03-31", "2026-03-31"),
        (OPP, "CloseDate", "2026-03-31T10:00:00.000+0000", "2026-03-31", "2026-03-31"),
        (OPP, "Name", "Big deal", "Big deal", "Big deal"),
        (OPP, "Description", "", None, None),  # an empty string is stored as null
        (OPP, "SPIFF_Status__c", "Qualified", "Qualified", "Qualified"),
        (OPP, "SPIFF_Status__c", None, None, None),
        (OPP, "LeadSource", "Not in the list", "Not in the list", "Not in the list"),
        (OPP, "OwnerId", "005000000000001", "005000000000001AAA", "005000000000001AAA"),
        (USER, "IsActive", True, 1, True),
        (USER, "IsActive", "false", 0, False),
        (USER, "IsActive", None, 0, False),
        (USER, "Quota_Attainment__c", 87.456, 87.456, 87.456),
        (USER, "Earnings_To_Date__c", "12345.6", 12345.6, 12345.6),
        (OPP, "LastModifiedDate", "2026-01-01T01:00:00+01:00", 1767225600000, JAN1),
        (OPP, "LastModifiedDate", "2026-01-01", 1767225600000, JAN1),
    ],
)  # fmt: skip
def test_round_trips(
    obj: schema.ObjectSpec, name: str, json_in: object, stored: object, json_out: object
) -> None:
    spec = _field(obj, name)
    assert to_storage(spec, json_in) == stored
    assert to_json(spec, stored) == json_out
    assert type(to_json(spec, stored)) is type(json_out)


@pytest.mark.parametrize(
    ("obj", "name", "value", "code", "message"),
    [
        (OPP, "Amount", "abc", BAD, "Amount: value not of required type: abc"),
        (OPP, "Amount", True, BAD, "Amount: value not of required type: true"),
        (OPP, "Amount", "NaN", BAD, "Amount: value not of required type: NaN"),
        (OPP, "CloseDate", "2026-02-30", BAD, "Close Date: value not of"),
        (OPP, "CloseDate", 20260101, BAD, "Close Date: value not of"),
        (OPP, "Name", ["x"], BAD, "Opportunity Name: value not of required type"),
        (USER, "IsActive", "yes", BAD, "Active: value not of required type: yes"),
        (OPP, "Name", "x" * 121, "STRING_TOO_LONG",
         "Opportunity Name: data value too large: " + "x" * 121 + " (max length=120)"),
        (OPP, "SPIFF_Status__c", "Pending", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
         "SPIFF Status: bad value for restricted picklist field: Pending"),
        (OPP, "Amount", 1e14, RANGE, "Amount: value outside of valid range on"),
        (OPP, "Probability", 1000, RANGE, "Probability (%): value outside of valid range"),
        (USER, "Quota_Attainment__c", 10000, RANGE, "Quota Attainment: value outside"),
        (OPP, "Name", None, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]"),
        (OPP, "AccountId", "not-an-id", "MALFORMED_ID",
         "Account ID: id value of incorrect type: not-an-id"),
        (OPP, "AccountId", "005000000000001", "FIELD_INTEGRITY_EXCEPTION",
         "Account ID: id value of incorrect type"),
    ],
)  # fmt: skip
def test_errors(obj: schema.ObjectSpec, name: str, value: object, code: str, message: str) -> None:
    with pytest.raises(FieldValueError) as caught:
        to_storage(_field(obj, name), value)
    assert caught.value.error_code == code
    assert caught.value.message.startswith(message)
    assert caught.value.to_json() == {
        "message": caught.value.message,
        "errorCode": code,
        "fields": [name],
    }


def test_largest_amount_that_fits() -> None:
    assert to_storage(_field(OPP, "Amount"), "99999999999999.99") == 99999999999999.99


@pytest.mark.parametrize(
    ("obj_name", "record", "derived"),
    [
        ("User", {"FirstName": "Ada", "LastName": "Lovelace"}, {"Name": "Ada Lovelace"}),
        ("User", {"FirstName": None, "LastName": "Cher"}, {"Name": "Cher"}),
        ("Opportunity", {"StageName": "Closed Won"}, {"IsClosed": 1, "IsWon": 1,
                                                    "Probability": 100.0,
                                                    "ForecastCategoryName": "Closed"}),
        ("Opportunity", {"StageName": "Closed Lost", "Probability": 5},
         {"IsClosed": 1, "IsWon": 0, "ForecastCategoryName": "Omitted"}),
        ("Opportunity", {"StageName": "Prospecting", "ForecastCategoryName": "Best Case"},
         {"IsClosed": 0, "IsWon": 0, "Probability": 10.0}),
        ("Opportunity", {"Amount": 5.0}, {}),
        ("Account", {"Name": "Acme"}, {}),
    ],
)  # fmt: skip
def test_derived_values(
    obj_name: str, record: dict[str, object], derived: dict[str, object]
) -> None:
    assert derived_values(obj_name, record) == derived
