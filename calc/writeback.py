"""The write-back diff: which CRM field values must change, after rounding to each field's scale.

Salesforce's API stores a number as sent, even with more decimals than the field's describe
`scale` (only the UI rounds; Help 000385689), so values are rounded to the scale before they
are sent, and a desired 1234.565 and a stored 1234.57 are the same value. Comparing after
rounding to the field's scale is what stops the echo of our own write from being written again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

WriteValue = Decimal | str | bool | None
NUMERIC_TYPES = frozenset({"currency", "percent", "double", "int"})


@dataclass(frozen=True, slots=True)
class FieldTarget:
    """A write-back target as the org describes it."""

    object_name: str
    field: str
    type: str
    scale: int = 0


@dataclass(frozen=True, slots=True)
class Desired:
    """The value Quotaflow computed for one field of one record."""

    object_name: str
    record_id: str
    field: str
    value: WriteValue


@dataclass(frozen=True, slots=True)
class Change:
    """A field that must be written: what the CRM holds now and what it should hold."""

    object_name: str
    record_id: str
    field: str
    old: WriteValue
    new: WriteValue


def normalise(target: FieldTarget, value: object) -> WriteValue:
    """A CRM or computed value in comparable form: numbers rounded to the field's scale."""
    if value is None or value == "":
        return None
    if target.type in NUMERIC_TYPES:
        if isinstance(value, bool):
            raise ValueError(f"{target.object_name}.{target.field}: boolean for a number")
        try:
            number = Decimal(str(value)) if not isinstance(value, Decimal) else value
        except InvalidOperation:
            raise ValueError(
                f"{target.object_name}.{target.field}: not a number: {value!r}"
            ) from None
        return number.quantize(Decimal(1).scaleb(-target.scale), rounding=ROUND_HALF_UP)
    if target.type == "boolean":
        return bool(value)
    return str(value)


def diff_writeback(
    desired: Iterable[Desired],
    current: Mapping[tuple[str, str], Mapping[str, object]],
    targets: Mapping[tuple[str, str], FieldTarget],
) -> list[Change]:
    """The changes to write: desired values that differ from `current` after rounding.

    `current` maps (object, record id) to the field values read in the same pull; a record
    missing from it is not written (it was deleted or never pulled). `targets` maps
    (object, field) to its describe. The result is sorted by object, record id and field.
    """
    changes: list[Change] = []
    for want in desired:
        record = current.get((want.object_name, want.record_id))
        if record is None:
            continue
        target = targets[(want.object_name, want.field)]
        old = normalise(target, record.get(want.field))
        new = normalise(target, want.value)
        if old != new:
            changes.append(Change(want.object_name, want.record_id, want.field, old, new))
    changes.sort(key=lambda c: (c.object_name, c.record_id, c.field))
    return changes


def group_by_record(changes: Iterable[Change]) -> list[tuple[str, str, dict[str, WriteValue]]]:
    """Changes folded into one field map per record, in (object, id) order, ready to send."""
    grouped: dict[tuple[str, str], dict[str, WriteValue]] = {}
    for change in changes:
        grouped.setdefault((change.object_name, change.record_id), {})[change.field] = change.new
    return [(obj, rid, fields) for (obj, rid), fields in sorted(grouped.items())]
