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
_TEXT_TYPES = frozenset(("string", "picklist", "combobox", "textarea", "email", "phone", "url"))


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


# A standard fiscal year starts in this month unless the org says otherwise
# (Organization.FiscalYearStartMonth; Salesforce's default is January).
FISCAL_START_MONTH = 1


def org_fiscal_start_month(conn: Any) -> int:
    """The org's Organization.FiscalYearStartMonth (January when it has none)."""
    row = conn.execute('SELECT FiscalYearStartMonth FROM "Organization" LIMIT 1').fetchone()
    month = row[0] if row else None
    return month if isinstance(month, int) and 1 <= month <= 12 else FISCAL_START_MONTH


_UNIT_MONTHS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12, "FISCAL_QUARTER": 3, "FISCAL_YEAR": 12}
_N_FORM = re.compile(r"(LAST_N|NEXT_N|N)_([A-Z_]+?)S(_AGO)?")


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _period_start(unit: str, today: dt.date, fiscal_start: int) -> dt.date:
    """First day of the current day, week (Sunday), month, quarter or year (fiscal or not)."""
    if unit == "DAY":
        return today
    if unit == "WEEK":
        return today - dt.timedelta(days=(today.weekday() + 1) % 7)
    month = today.replace(day=1)
    anchor = fiscal_start if unit.startswith("FISCAL") else 1
    offset = (today.month - anchor) % _UNIT_MONTHS[unit]
    return _add_months(month, -offset)


def _shift(start: dt.date, unit: str, count: int) -> dt.date:
    if unit in ("DAY", "WEEK"):
        return start + dt.timedelta(days=count * (7 if unit == "WEEK" else 1))
    return _add_months(start, count * _UNIT_MONTHS[unit])


def relative_date_range(
    literal: str, today: dt.date, *, fiscal_start_month: int = FISCAL_START_MONTH
) -> tuple[dt.date, dt.date]:
    """[start, end) of a SOQL date literal (weeks start on Sunday, as in the US locale).

    THIS_/LAST_/NEXT_ + WEEK, MONTH, QUARTER, YEAR, FISCAL_QUARTER, FISCAL_YEAR;
    LAST_N_/NEXT_/N_..._AGO:n of DAYS, WEEKS, MONTHS, QUARTERS, YEARS and the FISCAL ones;
    LAST_90_DAYS / NEXT_90_DAYS. LAST_N_DAYS:n is today and the n days before (n + 1 days);
    NEXT_N_DAYS:n starts tomorrow; the other units end where the current period starts.
    """
    name, colon, n_text = literal.upper().partition(":")
    fixed = {"YESTERDAY": ("DAY", -1), "TODAY": ("DAY", 0), "TOMORROW": ("DAY", 1)}
    if colon:
        if not n_text.isdigit() or int(n_text) > 36500:
            raise ValueError(literal)
        n = int(n_text)
    elif name in fixed:
        unit, n = fixed[name]
        start = _shift(today, unit, n)
        return start, start + dt.timedelta(days=1)
    elif name in ("LAST_90_DAYS", "NEXT_90_DAYS"):
        name, n = name.replace("90", "N"), 90
    else:
        which, _, unit = name.partition("_")
        if which not in ("THIS", "LAST", "NEXT") or unit not in ("WEEK", *_UNIT_MONTHS):
            raise ValueError(literal)
        start = _shift(
            _period_start(unit, today, fiscal_start_month),
            unit,
            {"THIS": 0, "LAST": -1, "NEXT": 1}[which],
        )
        return start, _shift(start, unit, 1)
    match = _N_FORM.fullmatch(name)
    if match is None or match.group(2) not in ("DAY", "WEEK", *_UNIT_MONTHS):
        raise ValueError(literal)
    form, unit, ago = match.groups()
    if (form == "N") != bool(ago):
        raise ValueError(literal)
    current = _period_start(unit, today, fiscal_start_month)
    if form == "LAST_N":
        if unit == "DAY":  # today and the n days before it (LAST_N_DAYS:1 is two days)
            return _shift(today, unit, -n), _shift(today, unit, 1)
        return _shift(current, unit, -n), current
    if form == "NEXT_N":
        start = _shift(current, unit, 1)
        return start, _shift(start, unit, n)
    start = _shift(current, unit, -n)
    return start, _shift(start, unit, 1)


class WhereCompiler:
    """Compiles one query's WHERE tree; collects the bound parameters in order."""

    def __init__(
        self,
        text: str,
        resolve: Callable[[Path], Resolved],
        *,
        now_ms: int,
        semijoin: Callable[[Any], tuple[str, list[Any]]] | None = None,
        fiscal_start_month: int = FISCAL_START_MONTH,
    ) -> None:
        self.text = text
        self.fiscal_start_month = fiscal_start_month
        self.resolve = resolve
        self.semijoin = semijoin
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
        if cmp.subquery is not None:
            return self.semi_join(cmp, res)
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

    def semi_join(self, cmp: Comparison, res: Resolved) -> tuple[str, bool]:
        """`field [NOT] IN (SELECT idField FROM ...)`: the field must be an id or reference."""
        if self.semijoin is None:
            raise self.fail(
                "MALFORMED_QUERY", "Nesting of semi join sub-selects is not supported", cmp.path.pos
            )
        if res.spec.type not in ("id", "reference"):
            raise self.fail(
                "INVALID_FIELD",
                f"Invalid field for semi/anti join: {res.spec.name}: the left operand must be "
                "an ID or a reference field",
                cmp.path.pos,
            )
        sql, params = self.semijoin(cmp.subquery)
        self.params.extend(params)
        if cmp.op == "in":
            return f"{res.column} IN ({sql})", True
        return f"{res.column} IS NULL OR {res.column} NOT IN ({sql})", False

    def date_range(self, cmp: Comparison, res: Resolved) -> tuple[str, bool]:
        """A comparison with a relative date literal (TODAY, LAST_N_DAYS:n, ...)."""
        value = cmp.values[0]
        try:
            start, end = relative_date_range(
                value.text, self.today, fiscal_start_month=self.fiscal_start_month
            )
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
        quoted = field_type in _TEXT_TYPES | {"id", "reference"}
        hint = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return self.fail(
            "INVALID_FIELD",
            f"value of filter criterion for field '{name}' must be of type {wanted} and {hint}",
            value.pos,
        )
