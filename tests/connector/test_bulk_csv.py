"""Bulk API 2.0 CSV read through the describe types, and ingest data written as Salesforce
reads it (pure: no devorg)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connector.salesforce.bulk_csv import (
    BulkCsvError,
    column_types,
    ingest_cell,
    ingest_csv,
    parse_value,
    reader,
    rest_record,
    rest_rows,
    rest_value,
    typed_rows,
)

TYPES = {
    "Id": "id",
    "Amount": "currency",
    "IsDeleted": "boolean",
    "CloseDate": "date",
    "SystemModstamp": "datetime",
    "Name": "string",
    "NumberOfEmployees": "int",
    "SplitType.DeveloperName": "string",
}


def test_values_take_their_describe_type_and_empty_is_null() -> None:
    assert parse_value("boolean", "true") is True
    assert parse_value("boolean", "false") is False
    assert parse_value("currency", "1234.56") == Decimal("1234.56")
    assert parse_value("percent", "-0.5") == Decimal("-0.5")
    assert parse_value("int", "-42") == -42
    assert parse_value("date", "2026-02-28") == date(2026, 2, 28)
    assert parse_value("datetime", "2026-03-01T12:00:00.000Z") == datetime(
        2026, 3, 1, 12, tzinfo=UTC
    )
    assert parse_value("datetime", "2026-03-01T12:00:00.000+0100") == datetime(
        2026, 3, 1, 11, tzinfo=UTC
    )
    for kind in ("boolean", "currency", "int", "date", "datetime", "string"):
        assert parse_value(kind, "") is None


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("boolean", "TRUE"),
        ("boolean", "1"),
        ("currency", "12,5"),
        ("currency", "NaN"),
        ("double", "Infinity"),
        ("int", "1.0"),
        ("date", "2026-02-30"),
        ("datetime", "2026-03-01T12:00:00"),  # no zone: not what Salesforce writes
    ],
)
def test_a_value_that_is_not_its_type_is_refused(kind: str, text: str) -> None:
    with pytest.raises(ValueError):
        parse_value(kind, text)


def test_numbers_are_exact_and_rest_shaped_like_the_json_path() -> None:
    # The REST path's JSON reader yields floats; the Bulk path gives the same float whenever
    # the float is exactly the decimal written, so both store and hash the same payload.
    assert rest_value(Decimal("1234.56")) == 1234.56
    assert type(rest_value(Decimal("2000.0"))) is float
    # More significant digits than a float holds: kept exact, as text the mapping reads.
    assert rest_value(Decimal("1234567890123456.78")) == "1234567890123456.78"
    assert rest_value(datetime(2026, 3, 1, 12, 0, 0, 7000, tzinfo=UTC)) == (
        "2026-03-01T12:00:00.007+0000"
    )
    assert rest_value(date(2026, 3, 1)) == "2026-03-01"


def test_a_results_set_reads_quotes_line_breaks_crlf_and_nested_parents() -> None:
    text = (
        '"Id","Name","Amount","IsDeleted","SystemModstamp","SplitType.DeveloperName"\r\n'
        '"006A","Say ""hi"", then\r\nbye","10.5","false","2026-03-01T12:00:00.000Z","Revenue"\r\n'
        '"006B","","","true","2026-03-01T12:00:01.000Z",""\r\n'
    )
    header, rows = typed_rows(text, TYPES)
    records = [rest_record(header, r) for r in rows]
    assert records[0] == {
        "Id": "006A",
        "Name": 'Say "hi", then\r\nbye',
        "Amount": 10.5,
        "IsDeleted": False,
        "SystemModstamp": "2026-03-01T12:00:00.000+0000",
        "SplitType": {"DeveloperName": "Revenue"},
    }
    # No parent: null, as the REST API writes a missing parent.
    assert records[1]["SplitType"] is None and records[1]["Name"] is None
    assert records[1]["IsDeleted"] is True


def test_damaged_results_name_the_row_and_column() -> None:
    with pytest.raises(BulkCsvError, match=r"row 2, column Amount \(currency\): 'ten'"):
        typed_rows('"Id","Amount"\n"006A","1"\n"006B","ten"\n', TYPES)
    with pytest.raises(BulkCsvError, match="row 1: 1 values for 2 columns"):
        typed_rows('"Id","Amount"\n"006A"\n', TYPES)
    with pytest.raises(BulkCsvError, match="unreadable CSV"):
        list(reader('"Id"\n"006A"x"\n'))
    assert typed_rows("", TYPES) == ([], [])


def test_column_types_follow_relationships_through_the_parent_describe() -> None:
    describes = {
        "OpportunitySplit": {
            "fields": [
                {"name": "SplitAmount", "type": "currency"},
                {
                    "name": "SplitTypeId",
                    "type": "reference",
                    "relationshipName": "SplitType",
                    "referenceTo": ["OpportunitySplitType"],
                },
                {
                    "name": "WhoId",
                    "type": "reference",
                    "relationshipName": "Who",
                    "referenceTo": ["Contact", "Lead"],
                },
            ]
        },
        "OpportunitySplitType": {"fields": [{"name": "IsActive", "type": "boolean"}]},
    }
    fields = ["SplitAmount", "SplitType.IsActive", "Who.Name", "Missing"]
    assert column_types("OpportunitySplit", fields, describes) == {
        "SplitAmount": "currency",
        "SplitType.IsActive": "boolean",
    }


def test_ingest_data_is_quoted_plain_and_null_is_marked() -> None:
    assert ingest_cell(None) == "#N/A"
    assert ingest_cell("") == "#N/A"
    assert ingest_cell(1e16) == "10000000000000000"
    assert ingest_cell(Decimal("12.50")) == "12.50"
    assert ingest_cell(0.1) == "0.1"
    assert ingest_cell(True) == "true"
    assert ingest_cell(date(2026, 1, 2)) == "2026-01-02"
    data = ingest_csv(["Id", "Name"], [["006A", 'a "b",\nc']])
    assert data == b'"Id","Name"\n"006A","a ""b"",\nc"\n'


def test_the_one_pass_reader_gives_what_typed_values_shaped_give() -> None:
    header = list(TYPES)
    cells = [
        ["006A", "1234.56", "false", "2026-02-28", "2026-03-01T12:00:00.000Z", "a", "-3", "R"],
        ["006B", "1e5", "true", "", "2026-03-01T12:00:00.007+0100", "", "", ""],
        ["006C", "1234567890123456.78", "", "2026-01-01", "2026-03-01T12:00:00Z", "", "0", ""],
        ["006D", "2000.0", "false", "", "2026-12-31T23:59:59.999Z", "x,y", "", ""],
    ]
    text = "\n".join(",".join(f'"{c}"' for c in row) for row in [header, *cells]) + "\n"
    typed_header, typed = typed_rows(text, TYPES)
    assert rest_rows(text, TYPES) == (typed_header, [rest_record(header, r) for r in typed])


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("currency", "nan"),
        ("currency", "inf"),
        ("currency", "1_000"),
        ("currency", " 12"),
        ("datetime", "2026-03-01T25:00:00.000Z"),
        ("datetime", "2026-03-01T12:00:00"),
        ("boolean", "True"),
        ("int", "1.5"),
        ("date", "2026-13-01"),
    ],
)
def test_the_one_pass_reader_refuses_what_typed_values_refuse(kind: str, text: str) -> None:
    with pytest.raises(ValueError):
        parse_value(kind, text)
    with pytest.raises(BulkCsvError, match="row 1, column X"):
        rest_rows(f'"X"\n"{text}"\n', {"X": kind})
