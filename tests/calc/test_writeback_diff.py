"""The write-back diff writes only real differences, after rounding to the field's scale."""

from __future__ import annotations

from decimal import Decimal

import pytest

from calc.writeback import Change, Desired, FieldTarget, diff_writeback, group_by_record, normalise

PCT = FieldTarget("User", "Quota_Attainment__c", "percent", 2)
EARN = FieldTarget("User", "Earnings_To_Date__c", "currency", 2)
SPIFF = FieldTarget("Opportunity", "SPIFF_Status__c", "picklist")
TARGETS = {(t.object_name, t.field): t for t in (PCT, EARN, SPIFF)}


@pytest.mark.parametrize(
    ("target", "crm", "computed", "changed"),
    [
        (PCT, 130.0, Decimal("130.0000"), False),  # the echo of our own write
        (PCT, 130.0, Decimal("130.004"), False),  # rounds to the same 130.00
        (PCT, 130.0, Decimal("130.005"), True),  # half up: 130.01
        (PCT, None, Decimal("0"), True),  # empty field gets a zero written
        (EARN, 1234.57, Decimal("1234.565"), False),
        (EARN, 1234.57, Decimal("1234.575"), True),
        (EARN, "1234.57", Decimal("1234.57"), False),  # numbers as strings compare as numbers
        (EARN, 5.0, None, True),  # clearing a value is a change
        (SPIFF, "Eligible", "Eligible", False),
        (SPIFF, "Eligible", "Qualified", True),
        (SPIFF, None, "Not Eligible", True),
    ],
)
def test_only_real_differences(
    target: FieldTarget, crm: object, computed: object, changed: bool
) -> None:
    desired = [Desired(target.object_name, "X1", target.field, computed)]  # type: ignore[arg-type]
    current = {(target.object_name, "X1"): {target.field: crm}}
    assert bool(diff_writeback(desired, current, TARGETS)) is changed


def test_records_not_in_the_pull_are_not_written() -> None:
    desired = [Desired("User", "005GONE", "Quota_Attainment__c", Decimal(1))]
    assert diff_writeback(desired, {}, TARGETS) == []


def test_changes_are_sorted_and_grouped_per_record() -> None:
    desired = [
        Desired("User", "005B", "Earnings_To_Date__c", Decimal("10")),
        Desired("Opportunity", "006A", "SPIFF_Status__c", "Paid"),
        Desired("User", "005B", "Quota_Attainment__c", Decimal("50")),
        Desired("User", "005A", "Quota_Attainment__c", Decimal("1")),
    ]
    current = {
        ("User", "005A"): {"Quota_Attainment__c": None},
        ("User", "005B"): {"Quota_Attainment__c": 49.99, "Earnings_To_Date__c": 0.0},
        ("Opportunity", "006A"): {"SPIFF_Status__c": "Qualified"},
    }
    changes = diff_writeback(desired, current, TARGETS)
    assert [(c.object_name, c.record_id, c.field) for c in changes] == [
        ("Opportunity", "006A", "SPIFF_Status__c"),
        ("User", "005A", "Quota_Attainment__c"),
        ("User", "005B", "Earnings_To_Date__c"),
        ("User", "005B", "Quota_Attainment__c"),
    ]
    assert changes[2] == Change(
        "User", "005B", "Earnings_To_Date__c", Decimal("0.00"), Decimal("10.00")
    )
    assert group_by_record(changes) == [
        ("Opportunity", "006A", {"SPIFF_Status__c": "Paid"}),
        ("User", "005A", {"Quota_Attainment__c": Decimal("1.00")}),
        (
            "User",
            "005B",
            {"Earnings_To_Date__c": Decimal("10.00"), "Quota_Attainment__c": Decimal("50.00")},
        ),
    ]


def test_a_non_number_in_a_numeric_field_names_it() -> None:
    with pytest.raises(ValueError, match=r"User\.Quota_Attainment__c: not a number"):
        normalise(PCT, "lots")
