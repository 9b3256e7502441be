"""Canonical calc records to JSON payloads and back (Decimal and date survive the round trip)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import Any

from calc.model import Deal, Rep, Split, TeamMember

Canonical = Rep | Deal | Split | TeamMember
KINDS: dict[str, type[Any]] = {"rep": Rep, "deal": Deal, "split": Split, "team_member": TeamMember}


_PLAIN = frozenset({str, int, float, bool, type(None)})  # JSON as they are


def _encode_value(value: object) -> object:
    # Money stays exact: Decimal is written as a string, never a float.
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Mapping):
        return {str(k): v if type(v) in _PLAIN else _encode_value(v) for k, v in value.items()}
    return value


def _decode_value(value: object) -> object:
    if isinstance(value, dict):
        if set(value) == {"$decimal"}:
            return Decimal(str(value["$decimal"]))
        if set(value) == {"$date"}:
            return date.fromisoformat(str(value["$date"]))
        return {k: _decode_value(v) for k, v in value.items()}
    return value


# A rep's effective-dated assignments are kept in their own table (connector.store.assignments),
# never in the canonical payload.
_NOT_STORED = frozenset({"assignments"})


def encode(record: Canonical) -> dict[str, Any]:
    """A JSON-safe payload of a calc record."""
    kind = type(record)
    stored = _STORED_FIELDS.get(kind)
    if stored is None:
        names = tuple(f.name for f in dataclasses.fields(record) if f.name not in _NOT_STORED)
        stored = _STORED_FIELDS[kind] = (names, _getter(names))
    names, values = stored
    payload: dict[str, Any] = {}
    for name, value in zip(names, values(record), strict=True):
        value_type = type(value)
        if value_type in _PLAIN:
            payload[name] = value
        elif value_type is Decimal:  # most money and quantities: the exact string
            payload[name] = {"$decimal": str(value)}
        else:
            payload[name] = _encode_value(value)
    return payload


# Per record type: the stored field names and one getter of all their values.
_STORED_FIELDS: dict[type[Any], tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    get = attrgetter(*names)
    if len(names) == 1:  # attrgetter of one name gives the value, not a tuple
        return lambda record: (get(record),)
    return get


def decode(kind: str, payload: Mapping[str, Any]) -> Canonical:
    """The calc record of `kind` (rep, deal, split, team_member) from its payload."""
    model = KINDS[kind]
    names = {f.name for f in dataclasses.fields(model)}
    values = {k: _decode_value(v) for k, v in payload.items() if k in names}
    record: Canonical = model(**values)
    return record


def key_value(record: Canonical, name: str) -> object:
    """A key column's value (owner_id, close_date, deal_id...) taken from the record."""
    return getattr(record, name, None)
