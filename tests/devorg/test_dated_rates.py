"""The devorg's dated exchange rates: DatedConversionRate as advanced currency management has it."""

from __future__ import annotations

import sqlite3

from devorg import schema, seed, values
from devorg.schema_describe import describe_global

NOW = values.parse_datetime_literal("2026-11-23T09:30:00Z")


def test_dated_rates_are_seeded_with_contiguous_ranges() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.create_tables(conn)
    seed.seed_scaled(conn, reps=1, deals=0, now_ms=NOW)
    rows = conn.execute(
        "SELECT IsoCode, StartDate, NextStartDate, ConversionRate FROM DatedConversionRate "
        "ORDER BY IsoCode, StartDate"
    ).fetchall()
    by_code: dict[str, list[tuple[str, str | None, float]]] = {}
    for code, start, following, rate in rows:
        by_code.setdefault(code, []).append((start, following, rate))
    assert set(by_code) == {"EUR", "GBP"}  # the corporate currency (USD) has no dated rates
    for ranges in by_code.values():
        # each range ends where the next one of its currency starts; the last never ends
        assert [r[1] for r in ranges] == [r[0] for r in ranges[1:]] + [None]
        assert all(rate > 0 for *_, rate in ranges)
    assert ("2026-04-01", "2026-07-01", 0.9) in by_code["EUR"]
    conn.close()


def test_dated_rates_are_update_only_setup_data_in_describe() -> None:
    body = describe_global(base_url="https://x", api_version="62.0")
    (dcr,) = [o for o in body["sobjects"] if o["name"] == "DatedConversionRate"]
    assert (dcr["createable"], dcr["updateable"], dcr["deletable"]) == (False, True, False)
    obj = schema.OBJECTS["DatedConversionRate"]
    next_start = obj.field("NextStartDate")
    assert next_start is not None and not next_start.updateable
    assert not obj.has_is_deleted
