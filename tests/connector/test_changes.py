"""The pure core of the pull: plan_page, the codec, field selection and SOQL building."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from calc.model import Deal, Rep
from connector.pull.changes import parse_modstamp, plan_page
from connector.pull.codec import decode, encode
from connector.pull.specs import SPECS, select_fields, spec_for
from connector.salesforce.soql import ids_query, incremental_query
from connector.store.repositories import StoredState
from mappings.records import RecordIssue

T1 = "2026-01-31T17:04:05.000+0000"
T2 = "2026-01-31T17:04:06.250+0000"


def _map(raw: Mapping[str, Any]) -> object:
    if raw.get("Amount") is None:
        return RecordIssue("Opportunity", str(raw["Id"]), "amount", "amount is required", "X")
    return Deal(id=str(raw["Id"]), owner_id="005A", amount=Decimal(str(raw["Amount"])))


def _hash(raw: Mapping[str, Any]) -> str:
    return f"{raw.get('Amount')}"


def _opp(
    record_id: str, stamp: str, amount: float | None, *, deleted: bool = False
) -> dict[str, Any]:
    return {"attributes": {"type": "Opportunity"}, "Id": record_id, "SystemModstamp": stamp,
            "Amount": amount, "IsDeleted": deleted}  # fmt: skip


def _stored(stamp: str, digest: str, *, deleted: bool = False) -> StoredState:
    return StoredState(parse_modstamp(stamp), digest, deleted)


OPP = SPECS["Opportunity"]


@pytest.mark.parametrize(
    ("record", "stored", "expect"),
    [
        # (changed, duplicates, unchanged, deleted, issues, raw written)
        (_opp("A", T1, 10.0), None, (1, 0, 0, 0, 0, 1)),  # new
        (_opp("A", T1, 10.0), _stored(T1, "10.0"), (0, 1, 0, 0, 0, 0)),  # lookback re-read
        (_opp("A", T2, 10.0), _stored(T1, "10.0"), (0, 0, 1, 0, 0, 1)),  # write-back echo
        (_opp("A", T2, 20.0), _stored(T1, "10.0"), (1, 0, 0, 0, 0, 1)),  # real update
        (_opp("A", T1, 20.0), _stored(T2, "10.0"), (1, 0, 0, 0, 0, 1)),  # late commit, older
        (_opp("A", T2, 10.0, deleted=True), _stored(T1, "10.0"), (1, 0, 0, 1, 0, 1)),
        (_opp("A", T2, 10.0), _stored(T1, "10.0", deleted=True), (1, 0, 0, 0, 0, 1)),  # undelete
        (_opp("A", T2, None), _stored(T1, "10.0"), (0, 0, 0, 0, 1, 1)),  # fails to map
    ],
)
def test_plan_page(
    record: dict[str, Any], stored: StoredState | None, expect: tuple[int, ...]
) -> None:
    plan = plan_page(OPP, [record], {"A": stored} if stored else {}, map_record=_map,
                     input_hash=_hash)  # fmt: skip
    got = (len(plan.changed), plan.duplicates, plan.unchanged, plan.deleted,
           len(plan.write.issues), len(plan.write.raw))  # fmt: skip
    assert got == expect
    assert plan.write.watermark is not None
    assert plan.write.watermark.modstamp == parse_modstamp(record["SystemModstamp"])
    assert all("attributes" not in r.payload for r in plan.write.raw)


def test_plan_page_keys_deletes_and_watermark() -> None:
    records = [_opp("A", T1, 1.0), _opp("B", T2, 2.0, deleted=True), _opp("C", T2, 3.0)]
    plan = plan_page(OPP, records, {}, map_record=_map, input_hash=_hash)
    rows = {c.record_id: c for c in plan.write.canonical}
    assert rows["A"].keys == {"owner_id": "005A", "close_date": None}
    assert rows["B"].deleted and rows["B"].payload is None  # a delete keeps the last payload
    assert plan.write.watermark is not None and plan.write.watermark.last_id == "C"
    assert plan.write.mapped_ok == ["A", "C"]


def test_user_isdeleted_is_ignored_because_users_have_none() -> None:
    user = {"Id": "005A", "SystemModstamp": T1, "IsDeleted": True}
    plan = plan_page(SPECS["User"], [user], {}, map_record=lambda r: Rep(id=str(r["Id"])),
                     input_hash=lambda _r: "h")  # fmt: skip
    assert plan.deleted == 0 and plan.write.canonical[0].deleted is False


def test_parse_modstamp_forms() -> None:
    expected = datetime(2026, 1, 31, 17, 4, 5, tzinfo=UTC)
    assert parse_modstamp(T1) == expected
    assert parse_modstamp("2026-01-31T17:04:05Z") == expected


def test_codec_round_trip_keeps_decimal_and_date() -> None:
    attributes = {"region": "EMEA", "score": Decimal("0.5"), "signed": date(2026, 1, 2)}
    deal = Deal(
        id="006A", amount=Decimal("1234.50"), close_date=date(2026, 3, 31), attributes=attributes
    )
    payload = encode(deal)
    assert payload["amount"] == {"$decimal": "1234.50"}
    assert decode("deal", payload) == deal
    assert decode("deal", payload).attributes == deal.attributes


def test_select_fields_intersects_describe_and_adds_isdeleted() -> None:
    describe = {"fields": [{"name": n} for n in ("Id", "SystemModstamp", "Amount", "IsDeleted")]}
    wanted = ("Id", "SystemModstamp", "amount", "Gone__c", "SplitType.DeveloperName")
    spec = spec_for("Opportunity", "deal", describe)
    chosen = select_fields(wanted, describe, spec=spec)
    assert chosen == ("Id", "SystemModstamp", "Amount", "SplitType.DeveloperName", "IsDeleted")
    user_describe = {"fields": [{"name": "Id"}, {"name": "SystemModstamp"}]}
    assert "IsDeleted" not in select_fields(
        ("Id",), user_describe, spec=spec_for("User", "rep", user_describe)
    )
    custom = spec_for("Deal__c", "deal", describe)
    assert custom.has_is_deleted and custom.name == "Deal__c"


def test_soql_is_built_with_format_soql_and_checked_names() -> None:
    until = datetime(2026, 2, 1, 0, 0, 0, tzinfo=UTC)
    since = datetime(2026, 1, 31, 23, 55, 0, 123000, tzinfo=UTC)
    text = incremental_query("Opportunity", ["Id", "Owner.Name"], since=since, until=until)
    assert text == (
        "SELECT Id, Owner.Name FROM Opportunity WHERE SystemModstamp >= "
        "2026-01-31T23:55:00+00:00 AND SystemModstamp < 2026-02-01T00:00:00+00:00 "
        "ORDER BY SystemModstamp, Id"
    )
    assert "SystemModstamp >=" not in incremental_query("User", ["Id"], since=None, until=until)
    assert (
        ids_query("User", ["005A", "005'B"]) == "SELECT Id FROM User WHERE Id IN ('005A','005\\'B')"
    )
    with pytest.raises(ValueError):
        incremental_query("User", ["Id FROM User --"], since=None, until=until)


def test_an_echo_with_the_same_payload_is_restamped_and_one_with_new_values_rewritten() -> None:
    from connector.pull.changes import payload_hash

    echo = _opp("A", T2, 10.0)
    same = {k: v for k, v in echo.items() if k != "attributes"}
    # The payload hash leaves out SystemModstamp: the stored payload had T1.
    stored = StoredState(
        parse_modstamp(T1), "10.0", False, payload_hash({**same, "SystemModstamp": T1})
    )
    plan = plan_page(OPP, [echo], {"A": stored}, map_record=_map, input_hash=_hash)
    assert plan.unchanged == 1 and not plan.write.raw and not plan.changed
    assert plan.write.restamped == [("A", parse_modstamp(T2))]
    # Another pulled field changed (a write-back value): the payload is written, inputs not.
    other = {**echo, "Estimated_Commission__c": 5.0}
    plan = plan_page(OPP, [other], {"A": stored}, map_record=_map, input_hash=_hash)
    assert plan.unchanged == 1 and not plan.write.restamped and not plan.changed
    assert [r.payload["Estimated_Commission__c"] for r in plan.write.raw] == [5.0]
    assert payload_hash({"b": 1, "a": 2}) == payload_hash({"a": 2, "b": 1})


def test_an_incremental_page_leaves_lookback_duplicates_untouched() -> None:
    stored = {"A": _stored(T1, "10.0")}
    full = plan_page(OPP, [_opp("A", T1, 10.0)], stored, map_record=_map, input_hash=_hash)
    assert full.write.unchanged_ids == ["A"]  # the full reconcile reads last_run_id
    incremental = plan_page(
        OPP, [_opp("A", T1, 10.0)], stored, map_record=_map, input_hash=_hash, mark_seen=False
    )
    assert incremental.duplicates == 1 and incremental.write.unchanged_ids == []
