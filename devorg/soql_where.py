"""WHERE clauses: SOQL conditions to SQLite with Salesforce's null and case semantics."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devorg.schema import FieldSpec, to_id18
from devorg.soql_lex import SoqlError, decode_string, error_at
from devorg.soql_parse import BoolOp, Comparison, Condition, Not, Path, Value
from devorg.values import date_to_ms, parse_date, parse_datetime_literal

_NUMBER_TYPES = frozenset(("currency", "double", "percent", "int"))
_ID_RE = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")
_DAY_MS = 86_400_000
_TEXT_TYPES = frozenset(("string", "picklist", "textarea", "email", "phone", "url"))


@dataclass(frozen=True)
class Resolved:
    """A field path resolved to its SQL column, spec, owning object and relationship chain."""

    column: str
    spec: FieldSpec
    rels: tuple[str, ...]

    @property
    def text_like(self) -> bool:
        """Whether comparisons and sorting ignore case (Salesforce text semantics)."""
        return self.spec.type in _TEXT_TYPES


def relative_date_range(literal: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end) of a relative date literal (weeks start on Sunday, as in the US locale)."""
    name, _, n_text = literal.upper().partition(":")
    n = int(n_text) if n_text else 0
    month = today.replace(day=1)
    week = today - dt.timedelta(days=(today.weekday() + 1) % 7)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    last_month = (month - dt.timedelta(days=1)).replace(day=1)
    one = dt.timedelta(days=1)
    ranges = {
        "YESTERDAY": (today - one, today),
        "TODAY": (today, today + one),
        "TOMORROW": (today + one, today + 2 * one),
        "LAST_WEEK": (week - 7 * one, week),
        "THIS_WEEK": (week, week + 7 * one),
        "NEXT_WEEK": (week + 7 * one, week + 14 * one),
        "LAST_MONTH": (last_month, month),
        "THIS_MONTH": (month, next_month),
        "NEXT_MONTH": (next_month, (next_month + dt.timedelta(days=32)).replace(day=1)),
        "LAST_YEAR": (dt.date(today.year - 1, 1, 1), dt.date(today.year, 1, 1)),
        "THIS_YEAR": (dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)),
        "NEXT_YEAR": (dt.date(today.year + 1, 1, 1), dt.date(today.year + 2, 1, 1)),
    }
    if name in ranges and not n_text:
        return ranges[name]
    if name == "LAST_N_DAYS" and n_text and 0 <= n <= 36500:
        return today - n * one, today + one
    if name == "NEXT_N_DAYS" and n_text and 0 <= n <= 36500:
        return today, today + (n + 1) * one
    raise ValueError(literal)


class WhereCompiler:
    """Compiles one query's WHERE tree; collects the bound parameters in order."""

    def __init__(self, text: str, resolve: Callable[[Path], Resolved], *, now_ms: int) -> None:
        self.text = text
        self.resolve = resolve
        self.today = dt.date(1970, 1, 1) + dt.timedelta(days=now_ms // _DAY_MS)
        self.params: list[Any] = []

    def compile(self, cond: Condition, *, safe: bool = False) -> str:
        """SQL for `cond`; `safe` asks for an expression that is never NULL (under NOT)."""
        if isinstance(cond, BoolOp):
            joiner = f" {cond.op.upper()} "
            return "(" + joiner.join(self.compile(c, safe=safe) for c in cond.items) + ")"
        if isinstance(cond, Not):
            return f"NOT {self.compile(cond.item, safe=True)}"
        sql, nullable = self.comparison(cond)
        # SOQL logic is two-valued: a comparison with a null field is false, so NOT makes it
        # true. SQL would give NULL; IFNULL restores SOQL's answer (only where it matters, so
        # plain comparisons still use indexes).
        return f"IFNULL({sql}, 0)" if safe and nullable else f"({sql})"

    def fail(self, code: str, message: str, pos: int) -> SoqlError:
        """A SoqlError pointing at `pos` in the query."""
        return error_at(code, message, self.text, pos)

    def comparison(self, cmp: Comparison) -> tuple[str, bool]:
        """SQL for one comparison, and whether it can evaluate to NULL."""
        res = self.resolve(cmp.path)
        if not res.spec.filterable:
            raise self.fail(
                "INVALID_FIELD",
                f"field '{res.spec.name}' can not be filtered in a query call",
                cmp.path.pos,
            )
        if cmp.op == "like":
            return self.like(cmp, res)
        if cmp.op in ("in", "notin"):
            return self.membership(cmp, res)
        value = cmp.values[0]
        if value.kind == "dateliteral" and res.spec.type in ("date", "datetime"):
            return self.date_range(cmp, res)
        bound = self.convert(res, value)
        col = res.column
        if bound is None:
            if cmp.op not in ("=", "!="):
                raise self.fail(
                    "MALFORMED_QUERY", "null may only be compared with = or !=", value.pos
                )
            return f"{col} IS {'NOT ' if cmp.op == '!=' else ''}NULL", False
        if res.spec.type == "boolean" and cmp.op not in ("=", "!="):
            raise self.fail(
                "INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on boolean field: {cmp.op}",
                value.pos,
            )  # fmt: skip
        self.params.append(bound)
        collate = " COLLATE NOCASE" if res.text_like else ""
        if cmp.op == "!=":
            # SOQL's != includes rows where the field is null.
            return f"{col} IS NULL OR {col} != ?{collate}", False
        return f"{col} {cmp.op} ?{collate}", True

    def like(self, cmp: Comparison, res: Resolved) -> tuple[str, bool]:
        """`field LIKE 'pattern'` (text fields only; SQLite's LIKE ignores ASCII case too)."""
        if not res.text_like:
            raise self.fail(
                "INVALID_QUERY_FILTER_OPERATOR",
                f"invalid operator on {res.spec.type} field: LIKE",
                cmp.path.pos,
            )
        self.params.append(decode_string(cmp.values[0].text, like=True))
        return f"{res.column} LIKE ? ESCAPE '\\'", True

    def membership(self, cmp: Comparison, res: Resolved) -> tuple[str, bool]:
        """`field [NOT] IN (...)`; a null in the list matches null fields, as in SOQL."""
        values = [self.convert(res, v) for v in cmp.values]
        present = [v for v in values if v is not None]
        has_null = len(present) < len(values)
        self.params.extend(present)
        collate = " COLLATE NOCASE" if res.text_like else ""
        col = res.column
        marks = f"{col}{collate} {{}}IN ({', '.join('?' * len(present))})"
        if cmp.op == "in":
            if not present:
                return f"{col} IS NULL", False
            return (f"{col} IS NULL OR " if has_null else "") + marks.format(""), not has_null
        if not present:
            return f"{col} IS NOT NULL", False
        if has_null:
            return f"{col} IS NOT NULL AND " + marks.format("NOT "), False
        return f"{col} IS NULL OR " + marks.format("NOT "), False

    def date_range(self, cmp: Comparison, res: Resolved) -> tuple[str, bool]:
        """A comparison with a relative date literal (TODAY, LAST_N_DAYS:n, ...)."""
        value = cmp.values[0]
        try:
            start, end = relative_date_range(value.text, self.today)
        except ValueError:
            raise self.fail(
                "MALFORMED_QUERY", f"unexpected token: '{value.text}'", value.pos
            ) from None
        lo: str | int = start.isoformat()
        hi: str | int = end.isoformat()
        if res.spec.type == "datetime":
            lo, hi = date_to_ms(start.isoformat()), date_to_ms(end.isoformat())
        col = res.column
        forms = {
            "=": (f"{col} >= ? AND {col} < ?", (lo, hi), True),
            "!=": (f"{col} IS NULL OR {col} < ? OR {col} >= ?", (lo, hi), False),
            "<": (f"{col} < ?", (lo,), True),
            "<=": (f"{col} < ?", (hi,), True),
            ">": (f"{col} >= ?", (hi,), True),
            ">=": (f"{col} >= ?", (lo,), True),
        }
        sql, params, nullable = forms[cmp.op]
        self.params.extend(params)
        return sql, nullable

    def convert(self, res: Resolved, value: Value) -> object:
        """The storage value a literal compares as, or an error if it does not fit the field."""
        spec = res.spec
        kind = value.kind
        if kind == "null":
            return None
        expected = {"date": "date", "datetime": "datetime", "boolean": "boolean"}.get(
            spec.type, "number" if spec.type in _NUMBER_TYPES else "string"
        )
        if kind != expected:
            raise self.type_error(spec.name, spec.type, value)
        try:
            return self._literal(spec.type, value)
        except ValueError:
            raise self.fail(
                "MALFORMED_QUERY", f"invalid {expected}: {value.text}", value.pos
            ) from None

    def _literal(self, field_type: str, value: Value) -> object:
        if value.kind == "string":
            text = decode_string(value.text)
            if field_type in ("id", "reference"):
                if not _ID_RE.fullmatch(text):
                    raise self.fail(
                        "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {text}", value.pos
                    )
                return to_id18(text)
            return text
        if value.kind == "number":
            number = float(value.text)
            return int(number) if field_type == "int" and abs(number) < 2**62 else number
        if value.kind == "boolean":
            return int(value.text == "true")
        if value.kind == "date":
            return parse_date(value.text)
        return parse_datetime_literal(value.text)

    def type_error(self, name: str, field_type: str, value: Value) -> SoqlError:
        """Salesforce's INVALID_FIELD for a literal of the wrong type for its field."""
        if value.kind == "dateliteral":
            return self.fail("MALFORMED_QUERY", f"unexpected token: '{value.text}'", value.pos)
        wanted = {"datetime": "dateTime", "reference": "id"}.get(field_type, field_type)
        if field_type in _NUMBER_TYPES:
            wanted = "number"
        quoted = field_type in ("string", "picklist", "textarea", "email", "phone", "url",
                                "id", "reference")  # fmt: skip
        hint = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return self.fail(
            "INVALID_FIELD",
            f"value of filter criterion for field '{name}' must be of type {wanted} and {hint}",
            value.pos,
        )
