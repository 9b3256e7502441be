"""Ingest job results read back (pure: no devorg)."""

from __future__ import annotations

import pytest

from connector.salesforce.bulk_writes import parse_error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "INVALID_FIELD_FOR_INSERT_UPDATE:Unable to create/update fields: Amount. Please "
            "check the security settings of this field.:Amount --",
            (
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                "Unable to create/update fields: Amount. Please check the security settings "
                "of this field.",
                ("Amount",),
            ),
        ),
        (
            "FIELD_CUSTOM_VALIDATION_EXCEPTION:Stage locked: ask finance: --",
            ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Stage locked: ask finance", ()),
        ),
        (
            "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access:A,B --",
            ("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access", ("A", "B")),
        ),
        ("something went wrong", ("UNKNOWN_ERROR", "something went wrong", ())),
        ("", ("UNKNOWN_ERROR", "Salesforce reported a failure without a message", ())),
    ],
)
def test_sf_error_is_code_message_and_fields(
    text: str, expected: tuple[str, str, tuple[str, ...]]
) -> None:
    assert parse_error(text) == expected
