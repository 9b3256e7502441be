"""What mapping a record needs (the org's currency rates) and yields when it fails (RecordIssue)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True, slots=True)
class RecordIssue:
    """A raw record that could not be mapped, with the reason; stored, never raised."""

    object_name: str
    record_id: str | None
    field: str | None  # canonical field (e.g. `amount`), or None for the record as a whole
    reason: str
    code: str = "MAPPING_FAILED"  # or REQUIRED_VALUE_MISSING


@dataclass(frozen=True, slots=True)
class MappingContext:
    """Org-wide inputs to mapping: currency rates per ISO code (corporate currency = 1)."""

    corporate_currency: str | None = None
    rates: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def from_currency_types(cls, records: Iterable[Mapping[str, Any]]) -> MappingContext:
        """Build from CurrencyType query records (IsoCode, ConversionRate, IsCorporate)."""
        rates: dict[str, Decimal] = {}
        corporate: str | None = None
        for record in records:
            code = str(record.get("IsoCode") or "").upper()
            if not code or record.get("IsActive") is False:
                continue
            # ConversionRate is units of this currency per one unit of the corporate currency.
            try:
                rates[code] = Decimal(str(record.get("ConversionRate")))
            except InvalidOperation:
                continue
            if record.get("IsCorporate"):
                corporate = code
                rates[code] = Decimal(1)
        return cls(corporate_currency=corporate, rates=rates)


EMPTY_CONTEXT = MappingContext()
