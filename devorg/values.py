"""Field values between Salesforce JSON and SQLite storage, with Salesforce's errors and formats."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from devorg.schema import STAGES, FieldSpec, get_object, to_id18

_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|z|[+-]\d{2}:?\d{2})?"
)
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ID_RE = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")
_STRING_TYPES = frozenset(("string", "picklist", "combobox", "textarea", "email", "phone", "url"))
_NUMBER_TYPES = frozenset(("currency", "double", "percent", "int"))


class FieldValueError(Exception):
    """A field value Salesforce would reject; carries its REST error code."""

    def __init__(self, error_code: str, message: str, fields: list[str]) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.fields = fields

    def to_json(self) -> dict[str, object]:
        """The `{"message","errorCode","fields"}` element of a REST error array."""
        return {"message": self.message, "errorCode": self.error_code, "fields": self.fields}


def format_datetime(ms: int) -> str:
    """Salesforce's output form of an instant: `2026-01-31T17:04:05.000+0000`."""
    moment = _EPOCH + dt.timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_datetime_literal(text: str) -> int:
    """Epoch milliseconds of `...Z`, `...+hh:mm`, `...-hhmm` or `....000+0000` (no zone: UTC)."""
    match = _DATETIME_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a datetime: {text!r}")
    year, month, day, hour, minute = (int(g) for g in match.groups()[:5])
    second = int(match.group(6) or 0)
    millis = int((match.group(7) or "0")[:3].ljust(3, "0"))
    zone = match.group(8) or "Z"
    offset = 0
    if zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 60 + int(digits[2:])
        if int(digits[2:]) >= 60 or offset > 18 * 60:
            raise ValueError(f"bad time zone offset: {text!r}")
        offset = -offset if zone[0] == "-" else offset
    moment = dt.datetime(year, month, day, hour, minute, second, tzinfo=_UTC)
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + millis - offset * 60_000


def parse_date(text: str) -> str:
    """A valid `YYYY-MM-DD` date (raises ValueError otherwise)."""
    match = _DATE_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a date: {text!r}")
    return dt.date(*(int(g) for g in match.groups())).isoformat()


def date_to_ms(day: str) -> int:
    """Epoch milliseconds of midnight UTC on a `YYYY-MM-DD` date."""
    return (dt.date.fromisoformat(day) - _EPOCH.date()).days * 86_400_000


def _wrong_type(field: FieldSpec, value: object) -> FieldValueError:
    shown = "true" if value is True else "false" if value is False else value
    return FieldValueError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{field.label}: value not of required type: {shown}",
        [field.name],
    )


def _string(field: FieldSpec, value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _wrong_type(field, value)
    text = value if isinstance(value, str) else str(value)
    if text == "":
        return None  # Salesforce stores an empty string as null
    if field.restricted_picklist and text not in field.picklist_values:
        raise FieldValueError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{field.label}: bad value for restricted picklist field: {text}",
            [field.name],
        )
    if field.length and len(text) > field.length:
        raise FieldValueError(
            "STRING_TOO_LONG",
            f"{field.label}: data value too large: {text} (max length={field.length})",
            [field.name],
        )
    return text


def _number(field: FieldSpec, value: object) -> float | int:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _wrong_type(field, value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _wrong_type(field, value) from None
    if not number.is_finite():
        raise _wrong_type(field, value)
    scale = 0 if field.type == "int" else field.scale
    # The API stores a number as sent: decimals beyond the field's scale are kept (only the
    # UI rounds them for display; Salesforce Help 000385689). An int field takes whole
    # numbers, so its value is rounded half up. Too many integer digits is an error.
    if field.type == "int":
        number = number.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    int_digits = (field.precision - scale) if field.precision else 18
    if abs(number) >= Decimal(10) ** int_digits:
        raise FieldValueError(
            "NUMBER_OUTSIDE_VALID_RANGE",
            f"{field.label}: value outside of valid range on numeric field: {value}",
            [field.name],
        )
    return int(number) if field.type == "int" else float(number)


def _boolean(field: FieldSpec, value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return int(value.lower() == "true")
    raise _wrong_type(field, value)


def _temporal(field: FieldSpec, value: object) -> str | int:
    if not isinstance(value, str):
        raise _wrong_type(field, value)
    try:
        if field.type == "date":
            # A datetime is accepted for a date field; its date part is kept.
            return parse_date(value[:10])
        if _DATE_RE.fullmatch(value):
            return date_to_ms(parse_date(value))
        return parse_datetime_literal(value)
    except ValueError:
        raise _wrong_type(field, value) from None


def _reference(field: FieldSpec, value: object) -> str:
    if not isinstance(value, str) or _ID_RE.fullmatch(value) is None:
        raise FieldValueError(
            "MALFORMED_ID", f"{field.label}: id value of incorrect type: {value}", [field.name]
        )
    targets = [get_object(name) for name in field.reference_to]
    if targets and not any(t and value.startswith(t.key_prefix) for t in targets):
        raise FieldValueError(
            "FIELD_INTEGRITY_EXCEPTION",
            f"{field.label}: id value of incorrect type: {value}",
            [field.name],
        )
    return to_id18(value)


def to_storage(field: FieldSpec, value: object) -> object:
    """The SQLite value of a JSON field value; raises FieldValueError like Salesforce would."""
    if value is None or value == "":
        if field.type == "boolean":
            return 0
        if not field.nillable:
            raise FieldValueError(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{field.name}]",
                [field.name],
            )
        return None
    if field.type in _STRING_TYPES:
        return _string(field, value)
    if field.type in _NUMBER_TYPES:
        return _number(field, value)
    if field.type == "boolean":
        return _boolean(field, value)
    if field.type in ("date", "datetime"):
        return _temporal(field, value)
    if field.type in ("reference", "id"):
        return _reference(field, value)
    raise _wrong_type(field, value)


def to_json(field: FieldSpec, stored: object) -> object:
    """The JSON output value of a stored SQLite value."""
    if stored is None:
        return None
    if field.type == "boolean":
        return bool(stored)
    if field.type == "datetime":
        return format_datetime(int(stored))  # type: ignore[call-overload]
    if field.type == "int":
        return int(stored)  # type: ignore[call-overload]
    if field.type in _NUMBER_TYPES:
        return float(stored)  # type: ignore[arg-type]
    return stored


def forecast_category(stage: str) -> str:
    """The forecast category a stage brings (Salesforce's standard sales process)."""
    _, is_closed, is_won = STAGES[stage]
    if is_closed:
        return "Closed" if is_won else "Omitted"
    return "Pipeline"


def derived_values(object_name: str, record: Mapping[str, object]) -> dict[str, object]:
    """Read-only fields Salesforce computes from a record's stored values after a write.

    User.Name is FirstName + " " + LastName; Opportunity.IsClosed/IsWon follow StageName
    (and Probability takes the stage default when the write set the stage but no
    Probability). OpportunitySplit.SplitAmount needs the parent's Amount: the store sets it.
    """
    out: dict[str, object] = {}
    if object_name == "User" and ("FirstName" in record or "LastName" in record):
        parts = (record.get("FirstName"), record.get("LastName"))
        out["Name"] = " ".join(str(p) for p in parts if p)
    if object_name == "Opportunity" and record.get("StageName") in STAGES:
        probability, is_closed, is_won = STAGES[str(record["StageName"])]
        out["IsClosed"], out["IsWon"] = int(is_closed), int(is_won)
        if record.get("Probability") is None:
            out["Probability"] = float(probability)
        if record.get("ForecastCategoryName") is None:
            out["ForecastCategoryName"] = forecast_category(str(record["StageName"]))
    return out
