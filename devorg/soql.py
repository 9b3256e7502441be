"""Compile the devorg's SOQL subset to SQLite SQL (see `soql_compiler` for the core)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from devorg import soql_where
from devorg.schema import OBJECTS, ObjectSpec, get_object
from devorg.schema_describe import CHILD_RELATIONSHIPS
from devorg.soql_aggregate import AggPlan, compile_aggregate
from devorg.soql_compiler import Child, CompiledQuery, Compiler, Node, Readable
from devorg.soql_lex import SoqlError, error_at
from devorg.soql_parse import ChildQuery, FieldsMacro, Path, Query, parse

__all__ = ["CompiledQuery", "SoqlError", "compile_query"]

# "The maximum offset is 2,000 rows. Requesting an offset greater than 2,000 results in a
# NUMBER_OUTSIDE_VALID_RANGE error." (SOQL reference, OFFSET)
MAX_OFFSET = 2000
_NO_CHILD = (
    "Didn't understand relationship '{rel}' in FROM part of query call. If you are attempting "
    "to use a custom relationship, be sure to append the '__r' after the custom relationship "
    "name. Please reference your WSDL or the describe call for the appropriate names."
)


@dataclasses.dataclass(frozen=True)
class _Options:
    """What the querying user and the org bring: field-level security and the fiscal year."""

    now_ms: int
    readable: Readable | None = None
    fiscal_start_month: int = soql_where.FISCAL_START_MONTH

    def compiler(self, text: str, query: Query, *, alias: str = "t") -> Compiler:
        return Compiler(text, query, alias=alias, readable=self.readable)

    def where(self, text: str, comp: Compiler, **kw: Any) -> soql_where.WhereCompiler:
        return soql_where.WhereCompiler(
            text,
            comp.resolve,
            now_ms=self.now_ms,
            fiscal_start_month=self.fiscal_start_month,
            **kw,
        )


def _expand_fields(text: str, query: Query, readable: Readable | None = None) -> Query:
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
            if readable is not None and not readable(root, spec):
                wanted = False
            if wanted and spec.name.lower() not in chosen:
                chosen.add(spec.name.lower())
                select.append(Path(spec.name, item.pos))
    fields = tuple(i for i in select if isinstance(i, Path))
    return dataclasses.replace(query, fields=fields, select=tuple(select))


def _body(comp: Compiler, conditions: list[str]) -> str:
    body = f'FROM "{comp.root.name}" AS {comp.alias}0' + "".join(" " + j for j in comp.join_sql)
    return body + (" WHERE " + " AND ".join(conditions) if conditions else "")


def _tail(query: Query) -> str:
    if query.limit is None and query.offset is None:
        return ""
    tail = f" LIMIT {-1 if query.limit is None else query.limit}"
    return tail + (f" OFFSET {query.offset}" if query.offset else "")


def _semijoin(text: str, opts: _Options) -> Any:
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
        comp = opts.compiler(text, query)
        res = comp.resolve(query.fields[0])
        if res.spec.type not in ("id", "reference"):
            raise comp.invalid_field(
                f"Invalid field for semi/anti join: {res.spec.name}", query.fields[0].pos
            )
        inner = opts.where(text, comp)
        conditions = [f'{comp.alias}0."IsDeleted" = 0'] if comp.root.has_is_deleted else []
        conditions.append(f"{res.column} IS NOT NULL")
        if query.where is not None:
            conditions.append(inner.compile(query.where))
        return f"SELECT {res.column} {_body(comp, conditions)}", inner.params

    return compile_sub


def _child_relationship(parent: ObjectSpec, name: str) -> tuple[ObjectSpec, str] | None:
    """The child object and its reference field of a child relationship name."""
    for (child, field), rel in CHILD_RELATIONSHIPS.items():
        obj = OBJECTS.get(child)
        spec = obj.field(field) if obj is not None else None
        if rel.lower() == name.lower() and spec is not None and parent.name in spec.reference_to:
            return OBJECTS[child], field
    return None


def _children(
    text: str, comp: Compiler, plan: Node, *, opts: _Options, include_deleted: bool
) -> list[Any]:
    """Add each `(SELECT ... FROM ChildRelationship)` as one JSON array column; its params."""
    params: list[Any] = []
    for n, item in enumerate(i for i in comp.query.select if isinstance(i, ChildQuery)):
        sub = item.query
        found = _child_relationship(comp.root, sub.object_name)
        if found is None:
            raise error_at(
                "INVALID_TYPE", _NO_CHILD.format(rel=sub.object_name), text, sub.object_pos
            )
        if any(not isinstance(i, Path) for i in sub.select) or sub.group_by:
            raise error_at("MALFORMED_QUERY", "a sub-query selects fields only", text, item.pos)
        child, ref = found
        sub_query = dataclasses.replace(sub, object_name=child.name)
        cc = opts.compiler(text, sub_query, alias=f"c{n}_")
        child_plan = cc.select()
        where = opts.where(text, cc)
        conditions = [f'{cc.alias}0."{ref}" = {comp.alias}0."Id"']
        if child.has_is_deleted and not include_deleted:
            conditions.append(f'{cc.alias}0."IsDeleted" = 0')
        if sub.where is not None:
            conditions.append(where.compile(sub.where))
        order = [cc.order_term(key) for key in sub.order_by]
        columns = ", ".join(f"{col} AS k{i}" for i, col in enumerate(cc.columns))
        inner = f"SELECT {columns} {_body(cc, conditions)}"
        inner += (" ORDER BY " + ", ".join(order) if order else "") + _tail(sub)
        values = ", ".join(f"x.k{i}" for i in range(len(cc.columns)))
        column = f"(SELECT json_group_array(json_array({values})) FROM ({inner}) AS x)"
        plan.items[sub.object_name] = Child(child_plan, comp.add_column(column))
        params.extend(where.params)
    return params


def compile_query(
    text: str,
    *,
    include_deleted: bool,
    now_ms: int | None = None,
    readable: Readable | None = None,
    fiscal_start_month: int = soql_where.FISCAL_START_MONTH,
) -> CompiledQuery:
    """Compile SOQL to SQLite SQL; only SoqlError escapes, for any input text.

    `readable` is the querying user's field-level security (a hidden field is INVALID_FIELD);
    `fiscal_start_month` the org's, for the FISCAL date literals."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SoqlError("MALFORMED_QUERY", "invalid characters in query") from None
    query = parse(text)
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise SoqlError(
            "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
        )
    query = _expand_fields(text, query, readable)
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    opts = _Options(now, readable, fiscal_start_month)
    comp = opts.compiler(text, query)
    aggregate = bool(query.aggregates or query.group_by)
    plan: Node | AggPlan | None = None
    child_params: list[Any] = []
    if aggregate:
        plan, columns, group_sql = compile_aggregate(text, query, comp.resolve)
        grouped = {c.key.lower() for c in plan.columns if c.func is None}
    elif not query.count_only:
        plan = comp.select()
        child_params = _children(text, comp, plan, opts=opts, include_deleted=include_deleted)
    where = opts.where(text, comp, semijoin=_semijoin(text, opts))
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
        comp.root.name,
        sql,
        (*child_params, *where.params),
        query.count_only,
        query.limit,
        query.offset,
        plan,
    )
