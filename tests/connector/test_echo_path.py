"""The pull's cheap echo path (a record compared with its stored payload, no input hash)
plans exactly what the general path (input and payload hashes) plans, on random pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from calc.model import Deal
from connector.pull.changes import (
    echo_fields_of,
    input_hasher,
    parse_modstamp,
    payload_hash,
    plan_page,
)
from connector.pull.specs import SPECS
from connector.store.repositories import StoredState
from mappings.records import RecordIssue

OPP = SPECS["Opportunity"]
T1, T2 = "2026-01-31T17:04:05.000+0000", "2026-01-31T17:04:06.000+0000"
INPUTS = ("Amount", "Id", "IsDeleted", "Owner.Name", "OwnerId")
FIELDS = ("Id", "SystemModstamp", "Amount", "OwnerId", "Owner", "IsDeleted",
          "LastModifiedDate", "Estimated_Commission__c", "SPIFF_Status__c")  # fmt: skip
ECHO = echo_fields_of(
    FIELDS, writeback=("estimated_commission__c", "SPIFF_Status__c"), inputs=INPUTS
)


def _get(raw: Mapping[str, Any], path: str) -> object:
    value: Any = raw
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _pairs(raw: Mapping[str, Any]) -> list[list[object]]:
    return [[path, _get(raw, path)] for path in INPUTS]


INPUT_HASH = input_hasher(_pairs)


def _map(raw: Mapping[str, Any]) -> object:
    amount = raw.get("Amount")
    if amount is None:
        return RecordIssue("Opportunity", str(raw["Id"]), "amount", "amount is required", "X")
    return Deal(id=str(raw["Id"]), owner_id=str(raw.get("OwnerId")), amount=Decimal(str(amount)))


def _base(i: int) -> dict[str, Any]:
    return {
        "Id": f"006{i:015d}",
        "SystemModstamp": T1,
        "Amount": 1000.0 + i,
        "OwnerId": "005A",
        "Owner": {"attributes": {"type": "User"}, "Name": "Ann"},
        "IsDeleted": False,
        "LastModifiedDate": T1,
        "Estimated_Commission__c": 80.0,
        "SPIFF_Status__c": "Eligible",
    }


# What may happen to a record between two pulls: our write-back, a person's edit, Salesforce.
CHANGES: dict[str, Any] = {
    "stamp": lambda r: r.update(SystemModstamp=T2, LastModifiedDate=T2),
    "written": lambda r: r.update(Estimated_Commission__c=95.5),
    "written_none": lambda r: r.update(SPIFF_Status__c=None),
    "written_type": lambda r: r.update(Estimated_Commission__c=80),  # 80 where 80.0 was
    "amount": lambda r: r.update(Amount=(r["Amount"] or 0) + 1),
    "amount_type": lambda r: r.update(Amount=int(r["Amount"] or 0)),  # 1001 where 1001.0 was
    "amount_none": lambda r: r.update(Amount=None),
    "owner": lambda r: r.update(OwnerId="005B"),
    "owner_name": lambda r: r.update(Owner={"attributes": {"type": "User"}, "Name": "Bo"}),
    "owner_none": lambda r: r.update(Owner=None),
    "deleted": lambda r: r.update(IsDeleted=True),
    "deleted_int": lambda r: r.update(IsDeleted=0),  # 0 == False, but not the same JSON
    "extra_key": lambda r: r.update(Name="x"),
    "lost_key": lambda r: r.pop("SPIFF_Status__c", None),
}
STORED_KINDS = ("plain", "deleted", "no_payload", "no_input_hash", "absent")


@st.composite
def pages(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, StoredState]]:
    size = draw(st.integers(1, 8))
    records, stored = [], {}
    for i in range(size):
        before = _base(i)
        kind = draw(st.sampled_from(STORED_KINDS))
        changes = draw(st.lists(st.sampled_from(sorted(CHANGES)), max_size=4))
        after = {**before, "attributes": {"type": "Opportunity"}}
        after["Owner"] = dict(before["Owner"])
        for name in changes:
            CHANGES[name](after)
        if kind != "absent":
            payload = orjson.dumps(before)
            stored[before["Id"]] = StoredState(
                parse_modstamp(T1),
                None if kind == "no_input_hash" else INPUT_HASH(before),
                kind == "deleted",
                payload_hash(before),
                None if kind == "no_payload" else payload.decode(),
            )
        records.append(after)
    # Ordered by SystemModstamp, Id, as the query returns them.
    records.sort(key=lambda r: (r["SystemModstamp"], r["Id"]))
    return records, stored


@settings(max_examples=400, deadline=None)
@given(pages(), st.booleans())
def test_the_echo_path_plans_what_the_general_path_plans(
    page: tuple[list[dict[str, Any]], dict[str, StoredState]], full: bool
) -> None:
    records, stored = page
    common: dict[str, Any] = {"map_record": _map, "input_hash": INPUT_HASH, "mark_seen": full}
    general = plan_page(OPP, records, stored, **common)
    cheap = plan_page(OPP, records, stored, echo_fields=ECHO, **common)
    # The echo path leaves out the payload hash of an echo it writes (the next echo is
    # compared with the stored payload); everything else is the same.
    hashes = {r.record_id: r.payload_hash for r in general.write.raw}
    for row in cheap.write.raw:
        assert row.payload_hash in (hashes[row.record_id], None)
    unhashed = [replace(r, payload_hash=None) for r in cheap.write.raw]
    assert unhashed == [replace(r, payload_hash=None) for r in general.write.raw]
    assert replace(cheap, write=replace(cheap.write, raw=[])) == replace(
        general, write=replace(general.write, raw=[])
    )


def test_echo_fields_are_the_write_back_targets_and_stamps_the_mapping_does_not_read() -> None:
    expected = {"SystemModstamp", "LastModifiedDate", "Estimated_Commission__c", "SPIFF_Status__c"}
    assert expected == ECHO
    # A mapping that reads a stamp (or a parent of a path it reads) compares it as an input.
    read = echo_fields_of(FIELDS, writeback=(), inputs=("lastmodifieddate", "Owner.Name"))
    assert read == {"SystemModstamp"}


def test_an_echo_is_recognised_without_hashing_its_inputs() -> None:
    before = _base(1)
    state = StoredState(parse_modstamp(T1), INPUT_HASH(before), False, payload_hash(before),
                        orjson.dumps(before).decode())  # fmt: skip
    echo = {**before, "SystemModstamp": T2, "Estimated_Commission__c": 95.5}

    def no_hash(raw: Mapping[str, Any]) -> str:
        raise AssertionError("the echo path hashed a record")

    plan = plan_page(OPP, [echo], {before["Id"]: state}, map_record=_map, input_hash=no_hash,
                     echo_fields=ECHO)  # fmt: skip
    assert plan.unchanged == 1 and not plan.changed and not plan.write.canonical
    assert [r.payload["Estimated_Commission__c"] for r in plan.write.raw] == [95.5]
    assert plan.write.raw[0].input_hash == state.input_hash
    restamp = {**before, "SystemModstamp": T2}
    plan = plan_page(OPP, [restamp], {before["Id"]: state}, map_record=_map, input_hash=no_hash,
                     echo_fields=ECHO)  # fmt: skip
    assert plan.write.restamped == [(before["Id"], parse_modstamp(T2))] and not plan.write.raw
