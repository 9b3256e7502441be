"""The input hash's JSON: orjson where it writes the same bytes as the stdlib encoder the stored
hashes were taken with, the stdlib encoder everywhere else."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from mappings.record_mapper import hash_json


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
