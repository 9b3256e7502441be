"""Bulk API 2.0 CSV: query results read into typed values and REST-shaped records; ingest data
written as Salesforce reads it.

Every Bulk CSV value is text. Its type comes from the describe: an empty cell is null,
booleans are `true`/`false`, numbers are read exactly (`Decimal`, never a float), dates are
`2026-03-01`, datetimes `2026-03-01T12:00:00.000Z`. A value that does not parse as its
field's type is a `BulkCsvError` naming the row, column and value: Salesforce never writes
one, so the file is damaged and the job's results are not used.

The pull core reads records in the shape the REST API returns them, so a Bulk pull and a REST
pull store the same payload and the same input hash, and the echo of our own write is
recognised whichever path read it. `rest_record` gives that shape: relationship columns
(`SplitType.DeveloperName`) nested, datetimes as `...000+0000`, numbers as the value the REST
path's JSON parser yields (a float, when the float is exactly the decimal written; a number
with more significant digits than a float holds stays its exact decimal text, which the
mapping reads exactly, where the REST path would have rounded it).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
# In ingest data an empty cell leaves a field unchanged; this sets it to null.
NULL_MARKER = "#N/A"
NUMBER_TYPES = frozenset({"currency", "double", "percent"})
INTEGER_TYPES = frozenset({"int", "long"})
Column = tuple[str, str]  # (CSV header, describe type)
# Plain decimal notation with an optional exponent: no spaces, underscores, NaN or Infinity,
# which Python's Decimal and float would otherwise accept.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class BulkCsvError(ValueError):
    """CSV Salesforce would not have written: names the row, column and value."""


def _datetime(text: str) -> datetime:
    body = text[:-1] + "+00:00" if text.endswith("Z") else text
    if len(body) > 5 and body[-5] in "+-" and body[-4:].isdigit():
        body = body[:-2] + ":" + body[-2:]  # +0000 -> +00:00
    moment = datetime.fromisoformat(body)
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment.astimezone(UTC)


def parse_value(kind: str, text: str) -> object:
    """A Bulk CSV cell as the Python value of its describe type (empty is null)."""
    if text == "":
        return None
    if kind == "boolean":
        if text in ("true", "false"):
            return text == "true"
        raise ValueError("not true or false")
    if kind in INTEGER_TYPES:
        if text.lstrip("-").isdigit():
            return int(text)
        raise ValueError("not a whole number")
    if kind in NUMBER_TYPES:
        if not _NUMBER.fullmatch(text):
            raise ValueError("not a number")
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise ValueError("not a number") from None
    if kind == "date":
        return date.fromisoformat(text)
    if kind == "datetime":
        return _datetime(text)
    return text


def format_datetime(moment: datetime) -> str:
    """The REST API's form of an instant: `2026-03-01T12:00:00.000+0000`."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def rest_value(value: object) -> object:
    """A typed value as the REST path's JSON reading gives it (see the module docstring)."""
    if isinstance(value, Decimal):
        approx = float(value)
        # A float repr is the shortest text that reads back as the same float: equal to the
        # written decimal exactly when the float holds it (up to 15 significant digits).
        return approx if Decimal(repr(approx)) == value else format(value, "f")
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _rest_number(text: str) -> object:
    approx = float(text)  # ValueError for text that is no number at all
    if repr(approx) == text and math.isfinite(approx):
        return approx  # the common case: the float is exactly the text
    return rest_value(parse_value("double", text))


def _rest_datetime(text: str) -> object:
    if len(text) == 24 and text[10] == "T" and text[19] == "." and text[23] == "Z":
        # 2026-03-01T12:00:00.000Z, as Salesforce writes it: checked, then only re-zoned.
        datetime.fromisoformat(text[:23])
        return text[:23] + "+0000"
    return format_datetime(_datetime(text))


def _rest_date(text: str) -> object:
    date.fromisoformat(text)
    return text


def _rest_int(text: str) -> object:
    if text.lstrip("-").isdigit():
        return int(text)
    raise ValueError("not a whole number")


def _rest_boolean(text: str) -> object:
    if text == "true":
        return True
    if text == "false":
        return False
    raise ValueError("not true or false")


_REST_CONVERTERS: dict[str, Callable[[str], object]] = {
    "boolean": _rest_boolean,
    "date": _rest_date,
    "datetime": _rest_datetime,
    **dict.fromkeys(INTEGER_TYPES, _rest_int),
    **dict.fromkeys(NUMBER_TYPES, _rest_number),
}


def rest_converter(kind: str) -> Callable[[str], object] | None:
    """A function from a non-empty cell of describe type `kind` to its REST value (as
    `rest_value(parse_value(kind, text))`, faster); None for text, which stays as it is."""
    return _REST_CONVERTERS.get(kind)


def rest_rows(
    text: str, types: Mapping[str, str], *, delimiter: str = "COMMA", first_row: int = 1
) -> tuple[list[str], list[dict[str, Any]]]:
    """(header, records in the REST API's shape) of one results set: `typed_rows` and
    `rest_record` in one pass."""
    rows = reader(text, delimiter)
    header = next(rows, None)
    if header is None:
        return [], []
    kinds = [types.get(name, "string") for name in header]
    convert = [rest_converter(kind) for kind in kinds]
    plain = "." not in "".join(header)
    out: list[dict[str, Any]] = []
    width = len(header)
    for number, row in enumerate(rows, start=first_row):
        if len(row) != width:
            raise BulkCsvError(
                f"row {number}: {len(row)} values for {width} columns ({', '.join(header)})"
            )
        values: list[object] = []
        for at, cell in enumerate(row):
            if cell == "":
                values.append(None)
                continue
            fn = convert[at]
            if fn is None:
                values.append(cell)
                continue
            try:
                values.append(fn(cell))
            except ValueError as exc:
                raise BulkCsvError(
                    f"row {number}, column {header[at]} ({kinds[at]}): {cell[:80]!r} is {exc}"
                ) from None
        out.append(dict(zip(header, values, strict=True)) if plain else _nest(header, values))
    return header, out


def _nest(header: Sequence[str], values: Sequence[object]) -> dict[str, Any]:
    # rest_record without converting again: the values are already in REST form.
    return rest_record(header, values)


def reader(text: str, delimiter: str = "COMMA") -> Iterator[list[str]]:
    """CSV rows of a results set (either line ending; quoted values may span lines)."""
    try:
        sep = DELIMITERS[delimiter]
    except KeyError:
        raise BulkCsvError(f"unknown column delimiter {delimiter!r}") from None
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        for row in rows:
            if row:
                yield row
    except csv.Error as exc:
        raise BulkCsvError(f"line {rows.line_num}: unreadable CSV ({exc})") from None


def typed_rows(
    text: str, types: Mapping[str, str], *, delimiter: str = "COMMA", first_row: int = 1
) -> tuple[list[str], list[list[object]]]:
    """(header, rows of typed values) of one results set; `types` maps each header (dotted
    for relationship fields) to its describe type, a header it does not name is text."""
    rows = reader(text, delimiter)
    header = next(rows, None)
    if header is None:
        return [], []
    kinds = [types.get(name, "string") for name in header]
    out: list[list[object]] = []
    for number, row in enumerate(rows, start=first_row):
        if len(row) != len(header):
            raise BulkCsvError(
                f"row {number}: {len(row)} values for {len(header)} columns ({', '.join(header)})"
            )
        values: list[object] = []
        for name, kind, cell in zip(header, kinds, row, strict=True):
            try:
                values.append(parse_value(kind, cell))
            except ValueError as exc:
                raise BulkCsvError(
                    f"row {number}, column {name} ({kind}): {cell[:80]!r} is {exc}"
                ) from None
        out.append(values)
    return header, out


def rest_record(header: Sequence[str], values: Sequence[object]) -> dict[str, Any]:
    """One typed row as the REST API's record: relationship columns nested, a parent none of
    whose selected fields has a value null (as REST writes a missing parent)."""
    record: dict[str, Any] = {}
    for name, value in zip(header, values, strict=True):
        if "." not in name:
            record[name] = rest_value(value)
            continue
        node = record
        *parents, leaf = name.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[leaf] = rest_value(value)
    for name in {n.split(".", 1)[0] for n in header if "." in n}:
        if _empty(record[name]):
            record[name] = None
    return record


def _empty(node: object) -> bool:
    if isinstance(node, dict):
        return all(_empty(v) for v in node.values())
    return node is None


def column_types(
    object_name: str, fields: Sequence[str], describes: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """The describe type of each selected field; a dotted path follows the relationship
    (`SplitType.DeveloperName`) through the parent's describe when it was described."""
    out: dict[str, str] = {}
    for path in fields:
        described = describes.get(object_name)
        parts = path.split(".")
        for part in parts[:-1]:
            described = _parent_describe(described, part, describes)
        kind = _field_type(described, parts[-1])
        if kind is not None:
            out[path] = kind
    return out


def _by_name(describe: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    fields = (describe or {}).get("fields") or []
    return {str(f.get("name", "")).casefold(): f for f in fields}


def _field_type(describe: Mapping[str, Any] | None, name: str) -> str | None:
    found = _by_name(describe).get(name.casefold())
    return str(found["type"]) if found and found.get("type") else None


def _parent_describe(
    describe: Mapping[str, Any] | None, relationship: str, describes: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    for spec in (describe or {}).get("fields") or []:
        if str(spec.get("relationshipName") or "").casefold() == relationship.casefold():
            targets = spec.get("referenceTo") or []
            if len(targets) == 1:  # a polymorphic lookup's fields are read as text
                found: Mapping[str, Any] | None = describes.get(str(targets[0]))
                return found
    return None


def ingest_cell(value: object) -> str:
    """One value as ingest data: null is `#N/A`, numbers in plain notation, never exponents."""
    if value is None:
        return NULL_MARKER
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text == "":
        return NULL_MARKER  # Salesforce stores an empty text value as null
    return text


def ingest_csv(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, line_ending: str = "LF"
) -> bytes:
    """UTF-8 CSV with every value quoted, in the job's line ending."""
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=",", lineterminator=LINE_ENDINGS[line_ending], quoting=csv.QUOTE_ALL
    )
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
