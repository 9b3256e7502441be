"""Aggregate SOQL: `COUNT(Id)`, `SUM(Amount) total`, `GROUP BY` and AggregateResult records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from devorg.schema import FieldSpec
from devorg.soql_lex import SoqlError, error_at
from devorg.soql_parse import Aggregate, Path, Query
from devorg.soql_where import Resolved
from devorg.values import to_json

_NUMBER_TYPES = frozenset(("currency", "double", "percent", "int"))
_SQL = {"count": "COUNT({})", "count_distinct": "COUNT(DISTINCT {})", "sum": "SUM({})",
        "avg": "AVG({})", "min": "MIN({})", "max": "MAX({})"}  # fmt: skip


@dataclass(frozen=True)
class AggColumn:
    """One key of an AggregateResult record: a grouped field or an aggregate function."""

    key: str  # the field name, the alias, or expr0, expr1, ... for unnamed aggregates
    func: str | None  # None for a grouped field
    spec: FieldSpec | None  # None for COUNT()
    label: str  # what describe-style column metadata shows, e.g. COUNT(Id)
    index: int  # position in the SQL row


@dataclass(frozen=True)
class AggPlan:
    """How to shape the rows of an aggregate query."""

    columns: tuple[AggColumn, ...]

    def shape(self, row: Sequence[Any]) -> dict[str, Any]:
        """One AggregateResult record (no url: it is not a stored record)."""
        out: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for col in self.columns:
            value = row[col.index]
            if col.func in ("count", "count_distinct"):
                out[col.key] = int(value or 0)
            elif col.func in ("sum", "avg") and value is not None:
                out[col.key] = float(value)
            else:
                out[col.key] = to_json(col.spec, value) if col.spec is not None else value
        return out


def compile_aggregate(
    text: str, query: Query, resolve: Callable[[Path], Resolved]
) -> tuple[AggPlan, list[str], list[str]]:
    """The plan, SELECT columns and GROUP BY columns of an aggregate query."""
    grouped: dict[tuple[tuple[str, ...], str], Resolved] = {}
    group_sql: list[str] = []
    for path in query.group_by:
        res = resolve(path)
        if not res.spec.filterable or res.spec.type in ("textarea",):
            raise error_at(
                "INVALID_FIELD",
                f"field '{res.spec.name}' can not be grouped in a query call",
                text,
                path.pos,
            )
        grouped[(res.rels, res.spec.name)] = res
        group_sql.append(res.column)
    columns: list[AggColumn] = []
    select_sql: list[str] = []
    unnamed = 0
    for item in query.select:
        if isinstance(item, Path):
            res = resolve(item)
            if (res.rels, res.spec.name) not in grouped:
                raise error_at(
                    "MALFORMED_QUERY",
                    f"Field must be grouped or aggregated: {res.spec.name}",
                    text,
                    item.pos,
                )
            columns.append(AggColumn(res.spec.name, None, res.spec, item.text, len(select_sql)))
            select_sql.append(res.column)
            continue
        if not isinstance(item, Aggregate):
            raise error_at("MALFORMED_QUERY", "unexpected token: 'FIELDS'", text, item.pos)
        sql, spec, label = _aggregate_sql(text, item, resolve)
        key = item.alias or f"expr{unnamed}"
        unnamed += item.alias is None
        columns.append(AggColumn(key, item.func, spec, label, len(select_sql)))
        select_sql.append(sql)
    keys = [c.key.lower() for c in columns]
    if len(set(keys)) != len(keys):
        raise SoqlError("MALFORMED_QUERY", "duplicate alias in the SELECT list")
    return AggPlan(tuple(columns)), select_sql, group_sql


def _aggregate_sql(
    text: str, item: Aggregate, resolve: Callable[[Path], Resolved]
) -> tuple[str, FieldSpec | None, str]:
    name = item.func.upper()
    if item.path is None:
        return "COUNT(*)", None, "COUNT()"
    res = resolve(item.path)
    if item.func in ("sum", "avg") and res.spec.type not in _NUMBER_TYPES:
        raise error_at(
            "INVALID_FIELD",
            f"field {res.spec.name} does not support aggregate operator {name}",
            text,
            item.path.pos,
        )
    return _SQL[item.func].format(res.column), res.spec, f"{name}({item.path.text})"
