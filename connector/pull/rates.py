"""The org's exchange rates: Salesforce's dated rates (advanced currency management) or, without
them, the static CurrencyType rates; nothing for a single-currency org.

Rates are units of a currency per one unit of the corporate currency. The corporate currency
itself has no dated rates in Salesforce: it is added at 1 from the beginning of time, so a deal
in it converts to a plan in another currency like any other. Parsing is pure (`rates_from`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from calc.currency import DatedRate
from calc.inputs import ISO_CODE
from connector.salesforce.errors import SalesforceApiError
from connector.salesforce.gateway import Gateway

CURRENCY_TYPES = "SELECT IsoCode, ConversionRate, IsCorporate, IsActive FROM CurrencyType"
DATED_RATES = (
    "SELECT IsoCode, ConversionRate, StartDate FROM DatedConversionRate ORDER BY IsoCode, StartDate"
)
BEGINNING = date.min  # the corporate and static rates apply whatever the date
SOURCES = ("dated", "static", "none")


@dataclass(frozen=True, slots=True)
class OrgRates:
    """What the org's rates are and where they came from (`dated`, `static` or `none`)."""

    source: str
    rows: tuple[DatedRate, ...] = ()
    skipped: tuple[str, ...] = ()  # rows that could not be used, with the reason


def _all(gateway: Gateway, soql: str) -> list[dict[str, Any]]:
    page = gateway.query(soql, include_deleted=False)
    records = list(page.records)
    while page.next_url:
        page = gateway.query_more(page.next_url)
        records += page.records
    return records


def _missing_object(exc: SalesforceApiError) -> bool:
    # A single-currency org has no CurrencyType, and an org without advanced currency
    # management no DatedConversionRate: the query fails with INVALID_TYPE.
    return exc.error_code == "INVALID_TYPE"


def fetch_rates(gateway: Gateway) -> OrgRates:
    """The org's rates (two queries at most)."""
    try:
        types = _all(gateway, CURRENCY_TYPES)
    except SalesforceApiError as exc:
        if _missing_object(exc):
            return OrgRates("none")
        raise
    try:
        dated: list[dict[str, Any]] | None = _all(gateway, DATED_RATES)
    except SalesforceApiError as exc:
        if not _missing_object(exc):
            raise
        dated = None
    return rates_from(types, dated)


def _rate(record: Mapping[str, Any]) -> Decimal | None:
    # ConversionRate is a double (scale 6): read it from its shortest decimal text.
    try:
        value = Decimal(str(record.get("ConversionRate")))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def rates_from(
    types: Iterable[Mapping[str, Any]], dated: Iterable[Mapping[str, Any]] | None
) -> OrgRates:
    """Rates from CurrencyType records and DatedConversionRate records (None: not enabled)."""
    skipped: list[str] = []
    corporate: str | None = None
    static: list[DatedRate] = []
    for record in types:
        code = str(record.get("IsoCode") or "").upper()
        if record.get("IsCorporate"):
            corporate = code
        rate = _rate(record)
        if not ISO_CODE.match(code) or rate is None:
            skipped.append(f"CurrencyType {code or '?'}: no usable rate")
        elif record.get("IsActive") is not False:
            static.append(DatedRate(code, BEGINNING, Decimal(1) if code == corporate else rate))
    if dated is None:
        return OrgRates("static", tuple(static), tuple(skipped))
    rows: dict[tuple[str, date], DatedRate] = {}
    for record in dated:
        code = str(record.get("IsoCode") or "").upper()
        rate = _rate(record)
        try:
            start = date.fromisoformat(str(record.get("StartDate")))
        except ValueError:
            start = None
        if not ISO_CODE.match(code) or rate is None or start is None:
            skipped.append(f"DatedConversionRate {record.get('Id') or code}: no usable rate")
            continue
        rows[(code, start)] = DatedRate(code, start, rate)
    if corporate is not None and not any(code == corporate for code, _ in rows):
        rows[(corporate, BEGINNING)] = DatedRate(corporate, BEGINNING, Decimal(1))
    return OrgRates("dated", tuple(rows[k] for k in sorted(rows)), tuple(skipped))
