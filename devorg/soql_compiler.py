"""The SOQL compiler's core: resolving field paths to joined columns, and shaping result rows
into Salesforce records."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from devorg.schema import FieldSpec, ObjectSpec, get_object
from devorg.soql_aggregate import AggPlan
from devorg.soql_lex import SoqlError, error_at
from devorg.soql_parse import OrderKey, Path, Query
from devorg.soql_where import Resolved
from devorg.values import to_json

# Whether the querying user may read a field (its field-level security); None: everything.
Readable = Callable[[ObjectSpec, FieldSpec], bool]
# Salesforce follows at most five levels of parent relationships.
MAX_PARENT_DEPTH = 5
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
class Node:
    """Output shape of one (root or parent) record: key -> field column or nested parent."""

    obj: ObjectSpec
    id_col: int
    items: dict[str, tuple[FieldSpec, int] | Node | Child] = field(default_factory=dict)


@dataclass
class Child:
    """A parent-to-child sub-query: its rows arrive as one JSON array column."""

    plan: Node
    column: int


@dataclass(frozen=True)
class CompiledQuery:
    """A query ready to run on the devorg's SQLite database, and how to shape its rows."""

    object_name: str
    sql: str
    params: tuple[Any, ...]
    count_only: bool
    limit: int | None
    offset: int | None = None
    plan: Node | AggPlan | None = field(default=None, repr=False, compare=False)

    def shape(self, row: sqlite3.Row | Sequence[Any], *, base_url_prefix: str) -> dict[str, Any]:
        """One Salesforce record JSON; `base_url_prefix` is like `/services/data/v62.0`."""
        if self.plan is None:
            raise ValueError("a COUNT() query has no records to shape")
        if isinstance(self.plan, AggPlan):
            return self.plan.shape(row)
        return _shape(self.plan, row, base_url_prefix)


def _shape(node: Node, row: Any, prefix: str) -> dict[str, Any]:
    record_id = row[node.id_col]
    out: dict[str, Any] = {
        "attributes": {
            "type": node.obj.name,
            "url": f"{prefix}/sobjects/{node.obj.name}/{record_id}",
        }
    }
    for key, item in node.items.items():
        if isinstance(item, Node):
            out[key] = None if row[item.id_col] is None else _shape(item, row, prefix)
        elif isinstance(item, Child):
            rows = json.loads(row[item.column] or "[]")
            # Salesforce answers null, not an empty list, for a parent without children.
            out[key] = (
                {
                    "totalSize": len(rows),
                    "done": True,
                    "records": [_shape(item.plan, r, prefix) for r in rows],
                }
                if rows
                else None
            )
        else:
            out[key] = to_json(item[0], row[item[1]])
    return out


class Compiler:
    """Resolves one (sub-)query's fields; its tables are aliased `{alias}0`, `{alias}1`, ..."""

    def __init__(
        self, text: str, query: Query, *, alias: str = "t", readable: Readable | None = None
    ) -> None:
        self.text = text
        self.readable = readable
        self.query = query
        self.alias = alias
        root = get_object(query.object_name)
        if root is None:
            raise error_at(
                "INVALID_TYPE", _NO_TYPE.format(name=query.object_name), text, query.object_pos
            )
        self.root = root
        self.joins: dict[tuple[str, ...], tuple[str, ObjectSpec]] = {}
        self.join_sql: list[str] = []
        self.columns: list[str] = [f'{alias}0."Id"']

    def invalid_field(self, message: str, pos: int) -> SoqlError:
        return error_at("INVALID_FIELD", message, self.text, pos)

    def join(self, rels: tuple[str, ...], ref: FieldSpec, parent: str) -> tuple[str, ObjectSpec]:
        joined = self.joins.get(rels)
        if joined is None:
            target = get_object(ref.reference_to[0])
            assert target is not None, ref
            alias = f"{self.alias}{len(self.joins) + 1}"
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
        alias, obj = f"{self.alias}0", self.root
        rels: tuple[str, ...] = ()
        for part in parts[:-1]:
            ref = obj.relationship(part)
            if ref is None:
                raise self.invalid_field(_NO_RELATIONSHIP.format(rel=part), path.pos)
            if len(ref.reference_to) > 1:
                # A polymorphic lookup (Task.What) reaches its parent through Salesforce's
                # `Name` object, which the devorg does not model: refuse, never join wrongly.
                raise self.invalid_field(
                    f"Polymorphic relationship {part} is not supported by the devorg", path.pos
                )
            rels = (*rels, ref.relationship_name or part)
            alias, obj = self.join(rels, ref, alias)
        spec = obj.field(parts[-1])
        # A field the user's field-level security hides does not exist for them: Salesforce
        # answers exactly as for a misspelt field.
        if spec is not None and self.readable is not None and not self.readable(obj, spec):
            spec = None
        if spec is None:
            message = _NO_SUCH_COLUMN.format(field=parts[-1], entity=obj.name)
            raise self.invalid_field(message, path.pos)
        return Resolved(f'{alias}."{spec.name}"', spec, rels)

    def add_column(self, column: str) -> int:
        self.columns.append(column)
        return len(self.columns) - 1

    def select(self) -> Node:
        plan = Node(self.root, 0)
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
                if not isinstance(child, Node):
                    alias, obj = self.joins[resolved.rels[:depth]]
                    child = Node(obj, self.add_column(f'{alias}."Id"'))
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
