"""Before pulling: the org's describes, the mapping checked against them, currency rates."""

from __future__ import annotations

from typing import Any

from connector.salesforce.errors import InvalidMapping
from connector.salesforce.gateway import Gateway
from mappings import schema as s
from mappings.errors import MappingError
from mappings.records import EMPTY_CONTEXT, MappingContext
from mappings.structure import field_specs
from mappings.transforms import record_of
from mappings.validate import check_against_describe, describes_needed

CURRENCY_QUERY = "SELECT IsoCode, ConversionRate, IsCorporate, IsActive FROM CurrencyType"


def load_describes(gateway: Gateway, doc: s.MappingDocument) -> dict[str, dict[str, Any]]:
    """Describe every mapped object (and parents the mapping reads through); validate.

    Raises InvalidMapping naming every field the org does not have, before any data call.
    """
    describes: dict[str, dict[str, Any]] = {}
    for _ in range(4):  # mapped objects, then parents up to three levels
        needed = describes_needed(doc, describes)
        if not needed:
            break
        for name in sorted(needed):
            describes[name] = gateway.describe(name)
    try:
        check_against_describe(doc, describes)
    except MappingError as exc:
        raise InvalidMapping(f"the active mapping does not fit the org: {exc}") from exc
    return describes


def _uses_currency_rates(doc: s.MappingDocument) -> bool:
    for mapping in doc.targets().values():
        for spec in field_specs(mapping).values():
            if any(record_of(t).needs_rates for t in spec.transforms):
                return True
    return False


def mapping_context(gateway: Gateway, doc: s.MappingDocument) -> MappingContext:
    """Currency rates from CurrencyType when the mapping converts currencies (one call)."""
    if not _uses_currency_rates(doc):
        return EMPTY_CONTEXT
    page = gateway.query(CURRENCY_QUERY, include_deleted=False)
    return MappingContext.from_currency_types(page.records)
