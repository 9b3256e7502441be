"""`query?columns=true`: the column metadata of a query instead of its records.

The Salesforce CLI (`sf data query`) asks for it after every non-empty result to lay out its
table: `{"columnMetadata": [...], "entityName", "groupBy", "idSelected", "keyPrefix"}`, a
parent relationship as one column whose `joinColumns` hold the parent's fields, an
aggregate with `aggregate: true` and its `expr0` name, a child sub-query as an aggregate column
whose `joinColumns` are its fields.
"""

from __future__ import annotations

from typing import Any

from devorg.schema import FieldSpec, get_object
from devorg.soql_aggregate import AggColumn, AggPlan
from devorg.soql_compiler import Child, CompiledQuery, Node

_APEX_TYPES = {
    "id": "Id", "reference": "Id", "string": "String", "picklist": "String", "combobox": "String",
    "textarea": "String", "email": "String", "phone": "String", "url": "String",
    "currency": "Decimal", "percent": "Decimal", "double": "Double", "int": "Integer",
    "boolean": "Boolean", "date": "Date", "datetime": "Datetime",
}  # fmt: skip
_NUMBERS = frozenset(("currency", "percent", "double", "int"))
_TEXTS = frozenset(("string", "picklist", "combobox", "textarea", "email", "phone", "url"))


def _column(name: str, **kw: Any) -> dict[str, Any]:
    column: dict[str, Any] = {
        "aggregate": False, "apexType": None, "booleanType": False, "columnName": name,
        "custom": False, "displayName": name, "foreignKeyName": None, "insertable": False,
        "joinColumns": [], "numberType": False, "textType": False, "updatable": False,
    }  # fmt: skip
    column.update(kw)
    return column


def _field(spec: FieldSpec, **kw: Any) -> dict[str, Any]:
    return _column(
        spec.name,
        apexType=_APEX_TYPES.get(spec.type, "String"),
        booleanType=spec.type == "boolean",
        custom=spec.custom,
        insertable=spec.createable,
        numberType=spec.type in _NUMBERS,
        textType=spec.type in _TEXTS,
        updatable=spec.updateable,
        **kw,
    )


def _node_columns(node: Node) -> list[dict[str, Any]]:
    out = []
    for key, item in node.items.items():
        if isinstance(item, Node):
            out.append(_column(key, joinColumns=_node_columns(item)))
        elif isinstance(item, Child):
            # A child sub-query is an "aggregate" column whose joinColumns are its fields.
            out.append(_column(key, aggregate=True, joinColumns=_node_columns(item.plan)))
        else:
            out.append(_field(item[0]))
    return out


def _aggregate_column(col: AggColumn) -> dict[str, Any]:
    if col.func is None and col.spec is not None:
        return _field(col.spec)
    counted = col.func in ("count", "count_distinct")
    apex = "Integer" if counted else _APEX_TYPES.get(col.spec.type if col.spec else "", "Decimal")
    return _column(
        col.key,
        aggregate=True,
        apexType=apex,
        displayName=col.label,
        numberType=counted or apex in ("Decimal", "Double", "Integer"),
    )


def column_metadata(compiled: CompiledQuery) -> dict[str, Any]:
    """The `columns=true` answer for a compiled query."""
    obj = get_object(compiled.object_name)
    plan = compiled.plan
    if isinstance(plan, AggPlan):
        return {
            "columnMetadata": [_aggregate_column(c) for c in plan.columns],
            "entityName": "AggregateResult",
            "groupBy": any(c.func is None for c in plan.columns),
            "idSelected": False,
            "keyPrefix": None,
        }
    return {
        "columnMetadata": _node_columns(plan) if plan is not None else [],
        "entityName": compiled.object_name,
        "groupBy": False,
        "idSelected": plan is not None and "Id" in plan.items,
        "keyPrefix": obj.key_prefix if obj is not None else None,
    }
