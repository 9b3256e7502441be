"""The pull's input hash: orjson where it writes the same bytes as the stdlib encoder the stored
hashes were taken with (`RecordMapper.input_hash`), the stdlib encoder everywhere else."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from connector.pull.changes import hash_json, input_hasher
from mappings.compile import compile_mapping
from mappings.defaults import default_mapping


def _stdlib(pairs: list[list[object]]) -> bytes:
    text = json.dumps(pairs, separators=(",", ":"), default=str, ensure_ascii=False)
    return text.encode()


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # beyond 64 bits too
    st.floats(),  # NaN, infinities, 1e-05, 1e+16...
    st.text(),  # control characters, lone surrogates
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@given(st.lists(st.tuples(st.text(max_size=12), _VALUES), max_size=6))
def test_the_same_bytes_as_the_stdlib_encoder(items: list[tuple[str, object]]) -> None:
    pairs = [[path, value] for path, value in items]
    assert hash_json(pairs) == _stdlib(pairs)


def test_the_bounds_of_the_float_forms() -> None:
    for value in (1e-4, 0.00009999, 1e16, 9999999999999998.0, -0.0, 0.1, 120000.01, 2.0**63):
        assert hash_json([["Amount", value]]) == _stdlib([["Amount", value]])


_OPPORTUNITY: dict[str, Any] = {
    "attributes": {"type": "Opportunity"},
    "Id": "006000000000001AAA",
    "SystemModstamp": "2026-03-31T17:04:05.000+0000",
    "Name": "Acme «renewal»\n",
    "OwnerId": "005000000000001AAA",
    "Amount": 120000.0,
    "CloseDate": "2026-03-31",
    "IsWon": True,
    "IsClosed": True,
    "TotalOpportunityQuantity": 10.0,
    "Term_Months__c": 24.0,
    "CurrencyIsoCode": "USD",
}


@given(
    amount=st.one_of(st.none(), st.floats(), st.integers()),
    name=st.text(),
    quantity=st.one_of(st.none(), st.floats(allow_nan=False)),
)
def test_the_digest_is_the_mappings_own(amount: object, name: str, quantity: object) -> None:
    raw = {**_OPPORTUNITY, "Amount": amount, "Name": name, "TotalOpportunityQuantity": quantity}
    assert input_hasher(_MAPPER.input_pairs)(raw) == _MAPPER.input_hash(raw)


_MAPPER = compile_mapping(default_mapping()).mapper_for("Opportunity")
