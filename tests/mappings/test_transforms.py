"""Each named transform, including the ugly values real orgs send."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

import pytest

from mappings import schema as s
from mappings.convert import (
    TransformFailure,
    date_converter,
    decimal_converter,
    path_getter,
    to_bool,
    to_str,
)
from mappings.records import MappingContext
from mappings.transforms import build_step

CTX = MappingContext(
    corporate_currency="USD",
    rates={"USD": Decimal(1), "EUR": Decimal("0.9"), "GBP": Decimal("0.8")},
)


def run(
    spec: object,
    value: object,
    raw: Mapping[str, object] | None = None,
    values: Mapping[str, object] | None = None,
) -> object:
    transform = s.FieldSpec.model_validate({"source": "X", "transforms": [spec]}).transforms[0]
    return build_step(transform)(value, raw or {}, values or {}, CTX)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (125000.0, Decimal("125000.0")),
        (0.1, Decimal("0.1")),
        (7, Decimal(7)),
        ("1,250,000.50", Decimal("1250000.50")),  # text field with thousands separators
        ("  42 ", Decimal(42)),
        ("(1,250.00)", Decimal("-1250.00")),  # accounting negative
        ("-3.5", Decimal("-3.5")),
        ("", None),  # blank text field
        (None, None),  # null Amount
        (Decimal("9.99"), Decimal("9.99")),
    ],
)
def test_to_decimal(value: object, expected: object) -> None:
    assert decimal_converter()(value) == expected


@pytest.mark.parametrize(
    "value", ["12,5", "1,23,456", "abc", "12abc", True, float("nan"), "NaN", [1]]
)
def test_to_decimal_refuses(value: object) -> None:
    with pytest.raises(TransformFailure):
        decimal_converter()(value)


def test_to_decimal_european_separators() -> None:
    spec = {"op": "to_decimal", "thousands": ".", "decimal": ","}
    assert run(spec, "1.250.000,75") == Decimal("1250000.75")
    assert run(spec, "12,5") == Decimal("12.5")


@pytest.mark.parametrize(
    ("value", "timezone", "expected"),
    [
        ("2026-03-31", "UTC", date(2026, 3, 31)),
        ("2026-01-31T17:04:05.000+0000", "UTC", date(2026, 1, 31)),  # Salesforce datetime
        ("2026-03-31T23:59:59.000+0000", "UTC", date(2026, 3, 31)),  # last second of Q1
        ("2026-04-01T00:00:00.000+0000", "UTC", date(2026, 4, 1)),  # first second of Q2
        # 02:00 UTC on April 1st is still March 31st in San Francisco: Q1 for a US org.
        ("2026-04-01T02:00:00.000+0000", "America/Los_Angeles", date(2026, 3, 31)),
        ("2026-03-31T23:30:00Z", "Europe/Berlin", date(2026, 4, 1)),
        ("2026-03-31T22:00:00+02:00", "UTC", date(2026, 3, 31)),
        ("2026-12-31T23:59:59.999+0000", "UTC", date(2026, 12, 31)),
        ("", "UTC", None),
        (None, "UTC", None),
    ],
)
def test_to_date(value: object, timezone: str, expected: object) -> None:
    assert date_converter(timezone=timezone)(value) == expected


@pytest.mark.parametrize("value", ["31/03/2026", "2026-02-30", "tomorrow", 20260331])
def test_to_date_refuses(value: object) -> None:
    with pytest.raises(TransformFailure):
        date_converter()(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("TRUE", True), ("false", False), ("Yes", True), ("n", False),
     ("1", True), (0, False), (1.0, True), ("", None), (None, None)],
)  # fmt: skip
def test_to_bool(value: object, expected: object) -> None:
    assert to_bool(value) == expected


@pytest.mark.parametrize("value", ["maybe", 2, "won"])
def test_to_bool_refuses(value: object) -> None:
    with pytest.raises(TransformFailure):
        to_bool(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("  Acme  ", "Acme"), ("   ", None), (12.0, "12"), (12.5, "12.5"), (True, "true"),
     (date(2026, 1, 2), "2026-01-02"), (None, None)],
)  # fmt: skip
def test_to_str(value: object, expected: object) -> None:
    assert to_str(value) == expected


def test_upper_and_lower() -> None:
    assert run("upper", " eur ") == "EUR"
    assert run("lower", "Closed Won") == "closed won"
    assert run("upper", None) is None


def test_picklist_maps_in_any_case_with_default() -> None:
    spec = {"op": "picklist", "map": {"Closed Won": "won", "Signed": "won"}, "default": "open"}
    assert run(spec, "closed won") == "won"  # wrong case from an integration
    assert run(spec, " SIGNED ") == "won"
    assert run(spec, "Prospecting") == "open"
    assert run(spec, None) is None


def test_picklist_case_sensitive_keep_and_error() -> None:
    strict = {"op": "picklist", "map": {"Revenue": "revenue"}, "case_sensitive": True,
              "unmapped": "error"}  # fmt: skip
    assert run(strict, "Revenue") == "revenue"
    with pytest.raises(TransformFailure, match="'revenue' is not one of Revenue"):
        run(strict, "revenue")
    keep = {"op": "picklist", "map": {"EMEA": "Europe"}, "unmapped": "keep"}
    assert run(keep, "APAC") == "APAC"


def test_picklist_maps_to_numbers_and_booleans() -> None:
    assert run({"op": "picklist", "map": {"Gold": 1.5, "Silver": 1}}, "gold") == Decimal("1.5")
    assert run({"op": "picklist", "map": {"Y": True}, "default": False}, "x") is False


@pytest.mark.parametrize(
    ("spec", "value", "values", "expected"),
    [
        ({"op": "arith", "operator": "*", "value": 12}, Decimal(10), {}, Decimal(120)),
        ({"op": "arith", "operator": "/", "field": "term_months"}, Decimal(120),
         {"term_months": Decimal(24)}, Decimal(5)),
        ({"op": "arith", "operator": "+", "value": "0.5"}, Decimal(1), {}, Decimal("1.5")),
        ({"op": "arith", "operator": "-", "field": "quantity"}, Decimal(10),
         {"quantity": Decimal(3)}, Decimal(7)),
        ({"op": "arith", "operator": "/", "field": "term_months"}, Decimal(1), {}, None),
        ({"op": "arith", "operator": "*", "value": 2}, None, {}, None),
    ],
)  # fmt: skip
def test_arith(
    spec: dict[str, object], value: object, values: dict[str, object], expected: object
) -> None:
    assert run(spec, value, values=values) == expected


def test_arith_division_by_zero_fails() -> None:
    with pytest.raises(TransformFailure, match="division by zero"):
        run({"op": "arith", "operator": "/", "field": "term_months"}, Decimal(5),
            values={"term_months": Decimal(0)})  # fmt: skip


def test_round_half_up() -> None:
    assert run({"op": "round", "places": 2}, Decimal("2.345")) == Decimal("2.35")
    assert run({"op": "round", "places": 0}, Decimal("2.5")) == Decimal(3)
    assert run("round", None) is None


def test_constant_ignores_input() -> None:
    assert run({"op": "constant", "value": "ae"}, "anything") == "ae"
    assert run({"op": "constant", "value": 0}, None) == 0


def test_coalesce_takes_first_non_null_source() -> None:
    spec = {"op": "coalesce", "sources": ["Backup__c", "Account.Region__c"]}
    raw = {"Backup__c": None, "Account": {"Region__c": "EMEA"}}
    assert run(spec, None, raw) == "EMEA"
    assert run(spec, "", raw) == "EMEA"
    assert run(spec, "NA", raw) == "NA"
    assert run(spec, None, {"Account": None}) is None  # null parent


@pytest.mark.parametrize(
    ("spec", "raw", "expected"),
    [
        ({"op": "convert_currency"}, {"CurrencyIsoCode": "EUR"}, Decimal(100)),  # 90 EUR -> USD
        ({"op": "convert_currency"}, {"CurrencyIsoCode": "usd"}, Decimal(90)),
        ({"op": "convert_currency"}, {}, Decimal(90)),  # single-currency org: no code
        ({"op": "convert_currency", "to": "GBP"}, {"CurrencyIsoCode": "EUR"}, Decimal(80)),
        ({"op": "convert_currency", "from_currency": "GBP"}, {}, Decimal("112.5")),
    ],
)
def test_convert_currency(
    spec: dict[str, object], raw: dict[str, object], expected: Decimal
) -> None:
    assert run(spec, Decimal(90), raw) == expected


def test_convert_currency_unknown_rate_fails() -> None:
    with pytest.raises(TransformFailure, match="no conversion rate for currency JPY"):
        run({"op": "convert_currency"}, Decimal(1), {"CurrencyIsoCode": "JPY"})


def test_context_from_currency_type_records() -> None:
    ctx = MappingContext.from_currency_types(
        [
            {"IsoCode": "USD", "ConversionRate": 1.0, "IsCorporate": True, "IsActive": True},
            {"IsoCode": "EUR", "ConversionRate": 0.92, "IsCorporate": False, "IsActive": True},
            {"IsoCode": "JPY", "ConversionRate": 150.0, "IsCorporate": False, "IsActive": False},
        ]
    )
    assert ctx.corporate_currency == "USD"
    assert ctx.rates == {"USD": Decimal(1), "EUR": Decimal("0.92")}


@pytest.mark.parametrize(
    ("path", "raw", "expected"),
    [
        ("Amount", {"Amount": 5.0}, 5.0),
        ("Account.Industry", {"Account": {"attributes": {}, "Industry": "Energy"}}, "Energy"),
        ("Account.Industry", {"Account": None}, None),
        ("Owner.Manager.Email", {"Owner": {"Manager": {"Email": "m@x.io"}}}, "m@x.io"),
        ("Owner.Manager.Email", {"Owner": {"Manager": None}}, None),
        ("Missing", {}, None),
    ],
)
def test_path_getter(path: str, raw: dict[str, object], expected: object) -> None:
    assert path_getter(path)(raw) == expected
