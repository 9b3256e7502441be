"""The fast path of reading deal rows: plain values straight to a Deal, anything else refused.

`calc.inputs.parse_deals` hands each CSV record here first; a row this reader cannot take
whole (an empty id, a grouped or odd number, a bad date or flag, an invalid currency) comes
back as None and goes through the careful per-field path, which reads it the same way or
raises the error that names the line and column. A million-row file is mostly the same few
dates, owners, flags and families: each column keeps the values it has already converted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, cast

from calc.model import DEAL_FIELDS, AttrValue, Deal

LIMIT = Decimal("1e26")  # calc.inputs.LIMIT
NEG_LIMIT = -LIMIT
TRUE = frozenset({"true", "1", "yes", "y", "t"})
FALSE = frozenset({"false", "0", "no", "n", "f", ""})
NO_ATTRIBUTES: Mapping[str, AttrValue] = MappingProxyType({})
_SEEN_LIMIT = 65_536  # distinct values a column remembers
_BAD = object()  # a value the careful path must read
NUMBERS = ("amount", "quantity", "acv", "tcv", "term_months")
DATES = ("close_date", "cancel_date")
TEXTS = ("owner_id", "stage", "type", "product_family")

_new = object.__new__
SLOTS: tuple[str, ...] = Deal.__slots__
_AT = {name: i for i, name in enumerate(SLOTS)}


class _Building:
    """A Deal while its fields are set: the same slots without the frozen `__setattr__`, so
    each is a plain attribute store (a frozen dataclass sets a field through a call, several
    times slower, seventeen times per row). Made a Deal once every field is set."""

    __slots__ = SLOTS


def _made(row: list[object]) -> Deal:
    """The Deal with these field values, in slot order."""
    deal: Any = _new(_Building)
    (
        deal.id, deal.name, deal.owner_id, deal.amount, deal.close_date, deal.is_won,
        deal.is_closed, deal.stage, deal.type, deal.product_family, deal.quantity, deal.acv,
        deal.tcv, deal.term_months, deal.cancel_date, deal.currency, deal.attributes,
    ) = row  # fmt: skip
    deal.__class__ = Deal
    return cast("Deal", deal)


# _made names every field in slot order: a field added to Deal must be added there too.
assert (*DEAL_FIELDS, "attributes") == SLOTS, SLOTS


def _number(raw: str) -> object:
    text = raw.strip()
    if not text:
        return None
    if "," in text:
        return _BAD
    try:
        number = Decimal(text)
    except InvalidOperation:
        return _BAD
    if not number.is_finite() or not NEG_LIMIT < number < LIMIT:
        return _BAD
    return number


def _day(raw: str) -> object:
    text = raw.strip()
    if not text:
        return None
    if len(text) != 10:
        return _BAD
    try:
        return date.fromisoformat(text)
    except ValueError:
        return _BAD


def _flag(raw: str) -> object:
    text = raw.strip().lower()
    if not text:
        return None  # the column's default
    if text in TRUE:
        return True
    return False if text in FALSE else _BAD


def _currency(raw: str) -> object:
    text = raw.strip().upper()
    if not text:
        return None
    return text if len(text) == 3 and text.isascii() and text.isalpha() else _BAD


def _text(raw: str) -> object:
    return raw.strip() or None


def _name(raw: str) -> object:
    return raw.strip()


def _won(raw: str) -> object:
    value = _flag(raw)
    return False if value is None else value


_CONVERT: dict[str, Callable[[str], object]] = {
    **dict.fromkeys(NUMBERS, _number),
    **dict.fromkeys(DATES, _day),
    "name": _name,
    **dict.fromkeys(TEXTS, _text),
    "is_won": _won,
    "currency": _currency,
}
_Read = tuple[int, int, Callable[[str], object], dict[str, object]]


class DealRows:
    """Reads the records of a deals CSV with this header into Deals (None: not plainly)."""

    def __init__(self, header: Sequence[str]) -> None:
        where = {name: i for i, name in enumerate(header)}
        self.id_index = where["id"]
        # Each present column: its slot, index, converter and the values it has seen; a
        # deal's name is its own (nothing to remember), read apart.
        self.reads: list[_Read] = [
            (_AT[name], where[name], convert, {})
            for name, convert in _CONVERT.items()
            if name in where and name != "name"
        ]
        self.name_index = where.get("name")
        # Absent columns keep the model's default.
        self.defaults: list[object] = [None] * len(SLOTS)
        self.defaults[_AT["name"]] = ""
        self.defaults[_AT["is_won"]] = False
        self.closed: tuple[int, dict[str, object]] | None = (
            (where["is_closed"], {}) if "is_closed" in where else None
        )
        self.extras = [(n, i) for i, n in enumerate(header) if n not in DEAL_FIELDS]

    def read(self, values: Sequence[str]) -> Deal | None:
        """The row's Deal, or None when the careful path must read it."""
        deal_id = values[self.id_index].strip()
        if not deal_id:
            return None
        row = self.defaults.copy()
        if self.name_index is not None:
            row[_NAME] = values[self.name_index].strip()
        for slot, index, convert, seen in self.reads:
            raw = values[index]
            value = seen.get(raw, _BAD)
            if value is _BAD:
                value = convert(raw)
                if value is _BAD:
                    return None
                if len(seen) < _SEEN_LIMIT:
                    seen[raw] = value
            row[slot] = value
        closed = None
        if self.closed is not None:
            index, seen = self.closed
            closed = seen.get(values[index], _BAD)
            if closed is _BAD:
                closed = _flag(values[index])
                if closed is _BAD:
                    return None
                if len(seen) < _SEEN_LIMIT:
                    seen[values[index]] = closed
        row[_ID] = deal_id
        row[_IS_CLOSED] = row[_IS_WON] if closed is None else closed
        extras = self.extras
        row[_ATTRIBUTES] = (
            {n: values[i].strip() or None for n, i in extras} if extras else NO_ATTRIBUTES
        )
        return _made(row)


_ID, _NAME, _IS_WON, _IS_CLOSED, _ATTRIBUTES = (
    _AT[n] for n in ("id", "name", "is_won", "is_closed", "attributes")
)
