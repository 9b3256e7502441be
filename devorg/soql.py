"""Compile the devorg's SOQL subset to SQLite SQL, and shape result rows into Salesforce records."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from devorg import soql_where
from devorg.schema import FieldSpec, ObjectSpec, get_object
from devorg.soql_aggregate import AggPlan, compile_aggregate
from devorg.soql_lex import SoqlError, error_at
from devorg.soql_parse import FieldsMacro, OrderKey, Path, Query, parse
from devorg.soql_where import Resolved
from devorg.values import to_json

__all__ = ["CompiledQuery", "SoqlError", "compile_query"]

# Salesforce follows at most five levels of parent relationships.
MAX_PARENT_DEPTH = 5
# "The maximum offset is 2,000 rows. Requesting an offset greater than 2,000 results in a
# NUMBER_OUTSIDE_VALID_RANGE error." (SOQL reference, OFFSET)
MAX_OFFSET = 2000
_NO_SUCH_COLUMN = (
    "No such column '{field}' on entity '{entity}'. If you are attempting to use a custom "
    "field, be sure to append the '__c' after the custom field name. Please reference your "
    "WSDL or the describe call for the appropriate names."
)
_NO_RELATIONSHIP = (
    "Didn't understand relationship '{rel}' in field path. If you are attempting to use a "
    "custom relationship, be sure to append the '__r' after the custom relationship name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
_NO_TYPE = (
    "sObject type '{name}' is not supported. If you are attempting to use a custom object, "
    "be sure to append the '__c' after the entity name. Please reference your WSDL or the "
    "describe call for the appropriate names."
)


@dataclass
class _Node:
    """Output shape of one (root or parent) record: key -> field column or nested parent."""

    obj: ObjectSpec
    id_col: int
    items: dict[str, tuple[FieldSpec, int] | _Node] = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledQuery:
    """A query ready to run on the devorg's SQLite database, and how to shape its rows."""

    object_name: str
    sql: str
    params: tuple[Any, ...]
    count_only: bool
    limit: int | None
    offset: int | None = None
    plan: _Node | AggPlan | None = field(default=None, repr=False, compare=False)

    def shape(self, row: sqlite3.Row | Sequence[Any], *, base_url_prefix: str) -> dict[str, Any]:
        """One Salesforce record JSON; `base_url_prefix` is like `/services/data/v62.0`."""
        if self.plan is None:
            raise ValueError("a COUNT() query has no records to shape")
        if isinstance(self.plan, AggPlan):
            return self.plan.shape(row)
        return _shape(self.plan, row, base_url_prefix)


def _shape(node: _Node, row: Any, prefix: str) -> dict[str, Any]:
    record_id = row[node.id_col]
    out: dict[str, Any] = {
        "attributes": {
            "type": node.obj.name,
            "url": f"{prefix}/sobjects/{node.obj.name}/{record_id}",
        }
    }
    for key, item in node.items.items():
        if isinstance(item, _Node):
            out[key] = None if row[item.id_col] is None else _shape(item, row, prefix)
        else:
            out[key] = to_json(item[0], row[item[1]])
    return out


class _Compiler:
    def __init__(self, text: str, query: Query) -> None:
        self.text = text
        self.query = query
        root = get_object(query.object_name)
        if root is None:
            raise error_at(
                "INVALID_TYPE", _NO_TYPE.format(name=query.object_name), text, query.object_pos
            )
        self.root = root
        self.joins: dict[tuple[str, ...], tuple[str, ObjectSpec]] = {}
        self.join_sql: list[str] = []
        self.columns: list[str] = ['t0."Id"']

    def invalid_field(self, message: str, pos: int) -> SoqlError:
        return error_at("INVALID_FIELD", message, self.text, pos)

    def join(self, rels: tuple[str, ...], ref: FieldSpec, parent: str) -> tuple[str, ObjectSpec]:
        joined = self.joins.get(rels)
        if joined is None:
            target = get_object(ref.reference_to[0])
            assert target is not None, ref
            alias = f"t{len(self.joins) + 1}"
            self.join_sql.append(
                f'LEFT JOIN "{target.name}" AS {alias} ON {alias}."Id" = {parent}."{ref.name}"'
            )
            joined = self.joins[rels] = (alias, target)
        return joined

    def resolve(self, path: Path) -> Resolved:
        parts = path.text.split(".")
        if len(parts) > 1 and parts[0].lower() == self.root.name.lower():
            parts = parts[1:]  # `Opportunity.Name` on Opportunity means `Name`
        if len(parts) > MAX_PARENT_DEPTH + 1:
            raise self.invalid_field(_NO_RELATIONSHIP.format(rel=parts[-2]), path.pos)
        alias, obj = "t0", self.root
        rels: tuple[str, ...] = ()
        for part in parts[:-1]:
            ref = obj.relationship(part)
            if ref is None:
                raise self.invalid_field(_NO_RELATIONSHIP.format(rel=part), path.pos)
            rels = (*rels, ref.relationship_name or part)
            alias, obj = self.join(rels, ref, alias)
        spec = obj.field(parts[-1])
        if spec is None:
            message = _NO_SUCH_COLUMN.format(field=parts[-1], entity=obj.name)
            raise self.invalid_field(message, path.pos)
        return Resolved(f'{alias}."{spec.name}"', spec, rels)

    def add_column(self, column: str) -> int:
        self.columns.append(column)
        return len(self.columns) - 1

    def select(self) -> _Node:
        plan = _Node(self.root, 0)
        seen: set[tuple[tuple[str, ...], str]] = set()
        for path in self.query.fields:
            resolved = self.resolve(path)
            key = (resolved.rels, resolved.spec.name)
            if key in seen:
                raise error_at(
                    "MALFORMED_QUERY", f"duplicate field selected: {path.text}", self.text, path.pos
                )
            seen.add(key)
            node = plan
            for depth, rel in enumerate(resolved.rels, start=1):
                child = node.items.get(rel)
                if not isinstance(child, _Node):
                    alias, obj = self.joins[resolved.rels[:depth]]
                    child = _Node(obj, self.add_column(f'{alias}."Id"'))
                    node.items[rel] = child
                node = child
            node.items[resolved.spec.name] = (resolved.spec, self.add_column(resolved.column))
        return plan

    def order_term(self, key: OrderKey) -> str:
        resolved = self.resolve(key.path)
        if not resolved.spec.filterable:
            raise self.invalid_field(
                f"field '{resolved.spec.name}' can not be sorted in a query call", key.path.pos
            )
        term = resolved.column + (" COLLATE NOCASE" if resolved.text_like else "")
        term += " DESC" if key.descending else ""
        # SQLite's defaults equal Salesforce's (ASC NULLS FIRST, DESC NULLS LAST); only an
        # explicit non-default is spelled out, so ORDER BY SystemModstamp, Id can use the index.
        if key.nulls_first is not None and key.nulls_first == key.descending:
            term += " NULLS FIRST" if key.nulls_first else " NULLS LAST"
        return term


def _expand_fields(text: str, query: Query) -> Query:
    """`FIELDS(STANDARD | CUSTOM | ALL)` replaced by the object's fields it stands for."""
    macros = [i for i in query.select if isinstance(i, FieldsMacro)]
    root = get_object(query.object_name)
    if not macros or root is None:
        return query
    if any(m.kind != "STANDARD" for m in macros) and (query.limit is None or query.limit > 200):
        # FIELDS(ALL) and FIELDS(CUSTOM) are unbounded: Salesforce insists on a small LIMIT.
        raise error_at(
            "MALFORMED_QUERY",
            "The SOQL FIELDS function must have a LIMIT of at most 200",
            text,
            macros[0].pos,
        )
    chosen = {p.text.lower() for p in query.fields}
    select: list[Any] = []
    for item in query.select:
        if not isinstance(item, FieldsMacro):
            select.append(item)
            continue
        for spec in root.fields:
            wanted = item.kind == "ALL" or spec.custom == (item.kind == "CUSTOM")
            if wanted and spec.name.lower() not in chosen:
                chosen.add(spec.name.lower())
                select.append(Path(spec.name, item.pos))
    fields = tuple(i for i in select if isinstance(i, Path))
    return dataclasses.replace(query, fields=fields, select=tuple(select))


def _body(comp: _Compiler, conditions: list[str]) -> str:
    body = f'FROM "{comp.root.name}" AS t0' + "".join(" " + j for j in comp.join_sql)
    return body + (" WHERE " + " AND ".join(conditions) if conditions else "")


def _tail(query: Query) -> str:
    if query.limit is None and query.offset is None:
        return ""
    tail = f" LIMIT {-1 if query.limit is None else query.limit}"
    return tail + (f" OFFSET {query.offset}" if query.offset else "")


def _semijoin(text: str, now_ms: int) -> Any:
    """Compiles the sub-select of a semi-join (one id or reference field, live rows only)."""

    def compile_sub(query: Query) -> tuple[str, list[Any]]:
        pos = query.object_pos
        plain = query.select and all(isinstance(i, Path) for i in query.select)
        if len(query.select) != 1 or not plain or query.group_by or query.order_by:
            raise error_at(
                "MALFORMED_QUERY", "a semi join sub-select selects exactly one field", text, pos
            )
        if query.limit is not None or query.offset is not None:
            raise error_at("MALFORMED_QUERY", "LIMIT is not supported in sub-selects", text, pos)
        comp = _Compiler(text, query)
        res = comp.resolve(query.fields[0])
        if res.spec.type not in ("id", "reference"):
            raise comp.invalid_field(
                f"Invalid field for semi/anti join: {res.spec.name}", query.fields[0].pos
            )
        inner = soql_where.WhereCompiler(text, comp.resolve, now_ms=now_ms)
        conditions = ['t0."IsDeleted" = 0'] if comp.root.has_is_deleted else []
        conditions.append(f"{res.column} IS NOT NULL")
        if query.where is not None:
            conditions.append(inner.compile(query.where))
        return f"SELECT {res.column} {_body(comp, conditions)}", inner.params

    return compile_sub


def compile_query(text: str, *, include_deleted: bool, now_ms: int | None = None) -> CompiledQuery:
    """Compile SOQL to SQLite SQL; only SoqlError escapes, for any input text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SoqlError("MALFORMED_QUERY", "invalid characters in query") from None
    query = parse(text)
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise SoqlError(
            "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
        )
    query = _expand_fields(text, query)
    comp = _Compiler(text, query)
    aggregate = bool(query.aggregates or query.group_by)
    plan: _Node | AggPlan | None = None
    if aggregate:
        plan, columns, group_sql = compile_aggregate(text, query, comp.resolve)
        grouped = {c.key.lower() for c in plan.columns if c.func is None}
    elif not query.count_only:
        plan = comp.select()
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    where = soql_where.WhereCompiler(text, comp.resolve, now_ms=now, semijoin=_semijoin(text, now))
    conditions = ['t0."IsDeleted" = 0'] if comp.root.has_is_deleted and not include_deleted else []
    if query.where is not None:
        conditions.append(where.compile(query.where))
    if aggregate:
        for key in query.order_by:
            if key.path.text.split(".")[-1].lower() not in grouped:
                raise comp.invalid_field(
                    f"Ordered field must be grouped or aggregated: {key.path.text}", key.path.pos
                )
    order = [comp.order_term(key) for key in query.order_by]
    body = _body(comp, conditions)
    if aggregate and group_sql:
        body += " GROUP BY " + ", ".join(group_sql)
    if order and not query.count_only:
        body += " ORDER BY " + ", ".join(order)
    tail = _tail(query)
    if query.count_only:
        sql = f"SELECT COUNT(*) FROM (SELECT 1 {body}{tail})" if tail else f"SELECT COUNT(*) {body}"
    else:
        sql = f"SELECT {', '.join(columns if aggregate else comp.columns)} {body}{tail}"
    return CompiledQuery(
        comp.root.name, sql, tuple(where.params), query.count_only, query.limit, query.offset, plan
    )
