"""Core `executemany` writes of many rows of one org: no ORM objects on the hot paths.

Each helper takes the org and adds it to every statement (UPDATE and DELETE filter on it,
INSERT sets it), so a row can never land in or touch another org's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, update
from sqlalchemy.orm import Session

BATCH = 5000  # rows per INSERT executemany


def table_of(model: Any) -> Table:
    """The Core table of a mapped class."""
    table: Table = model.__table__
    return table


def update_rows(
    session: Session, model: Any, *, org_id: str, keys: Sequence[str], rows: list[dict[str, Any]]
) -> None:
    """UPDATE rows of the org by their other key columns; every row has the same columns."""
    if not rows:
        return
    table = table_of(model)
    keys = [k for k in keys if k != "org_id"]
    names = [c for c in rows[0] if c not in keys and c != "org_id"]
    stmt = (
        update(table)
        .where(
            table.c.org_id == org_id,
            *(table.c[k] == bindparam(f"k_{k}", type_=table.c[k].type) for k in keys),
        )
        .values({n: bindparam(f"v_{n}", type_=table.c[n].type) for n in names})
    )
    session.execute(
        stmt,
        [{**{f"k_{k}": r[k] for k in keys}, **{f"v_{n}": r[n] for n in names}} for r in rows],
    )


def delete_rows(
    session: Session, model: Any, *, org_id: str, keys: Sequence[str], rows: list[dict[str, Any]]
) -> None:
    """DELETE rows of the org by their other key columns."""
    if not rows:
        return
    table = table_of(model)
    keys = [k for k in keys if k != "org_id"]
    stmt = delete(table).where(
        table.c.org_id == org_id,
        *(table.c[k] == bindparam(f"k_{k}", type_=table.c[k].type) for k in keys),
    )
    session.execute(stmt, [{f"k_{k}": r[k] for k in keys} for r in rows])


def insert_rows(session: Session, model: Any, *, org_id: str, rows: list[dict[str, Any]]) -> None:
    """INSERT rows into the org in batches; every row has the same columns."""
    table = table_of(model)
    for start in range(0, len(rows), BATCH):
        batch = [{**r, "org_id": org_id} for r in rows[start : start + BATCH]]
        session.execute(insert(table), batch)
