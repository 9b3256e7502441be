"""Core `executemany` writes of many rows of one org: no ORM objects on the hot paths.

Each helper takes the org and adds it to every statement (UPDATE and DELETE filter on it,
INSERT sets it), so a row can never land in or touch another org's data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Dialect, Table, bindparam, delete, insert, update
from sqlalchemy.orm import Session

BATCH = 5000  # rows per INSERT executemany
_UNSEEN = object()


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


def update_many(
    session: Session, model: Any, *, org_id: str, keys: Sequence[str], rows: list[dict[str, Any]]
) -> None:
    """`update_rows` through the driver's `executemany`: the statement is written once and each
    row goes as a tuple through its columns' bind processors (as `insert_rows` does), without
    Core's per-row parameter bookkeeping (most of the cost of restamping an echo)."""
    if not rows:
        return
    table = table_of(model)
    keys = [k for k in keys if k != "org_id"]
    names = [c for c in rows[0] if c not in keys and c != "org_id"]
    connection = session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sets = ", ".join(f"{quote(n)} = {mark}" for n in names)
    where = " AND ".join(f"{quote(k)} = {mark}" for k in ("org_id", *keys))
    sql = f"UPDATE {quote(table.name)} SET {sets} WHERE {where}"
    convert = _converter(dialect, table, [*names, "org_id", *keys])
    for start in range(0, len(rows), BATCH):
        values = [
            convert((*[r[n] for n in names], org_id, *[r[k] for k in keys]))
            for r in rows[start : start + BATCH]
        ]
        connection.exec_driver_sql(sql, values)


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
    """INSERT rows into the org in batches; every row has the same columns.

    The statement is written once and the rows go to the driver's `executemany` as tuples,
    each value through its column type's bind processor: what Core does, without its
    per-row parameter bookkeeping (most of a full pull's store time)."""
    if not rows:
        return
    table = table_of(model)
    names = [c for c in rows[0] if c != "org_id"]
    defaults = _scalar_defaults(table, {"org_id", *names})
    if defaults is None:  # a column with a computed default: Core fills it in
        for start in range(0, len(rows), BATCH):
            batch = [{**r, "org_id": org_id} for r in rows[start : start + BATCH]]
            session.execute(insert(table), batch)
        return
    connection = session.connection()
    columns = ["org_id", *names, *defaults]
    convert = _converter(connection.dialect, table, columns)
    fixed = tuple(defaults.values())
    if connection.dialect.name == "postgresql":
        _copy_rows(
            connection,
            table,
            columns,
            (convert((org_id, *[r[n] for n in names], *fixed)) for r in rows),
        )
        return
    sql = _insert_sql(connection.dialect, table, columns)
    for start in range(0, len(rows), BATCH):
        values = [
            convert((org_id, *[r[n] for n in names], *fixed)) for r in rows[start : start + BATCH]
        ]
        connection.exec_driver_sql(sql, values)


def _copy_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """PostgreSQL: the rows through `COPY ... FROM STDIN` in the session's transaction (the
    server parses one stream instead of one INSERT a row)."""
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


def _scalar_defaults(table: Table, given: set[str]) -> dict[str, Any] | None:
    """The Python-side defaults of the columns not given (None when one is computed)."""
    found: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given or column.default is None:
            continue
        default = column.default
        if not getattr(default, "is_scalar", False):
            return None
        found[column.name] = getattr(default, "arg", None)
    return found


def _insert_sql(dialect: Dialect, table: Table, columns: Sequence[str]) -> str:
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(quote(c) for c in columns)
    marks = ", ".join(mark for _ in columns)
    return f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"


def _is_temporal(column_type: Any) -> bool:
    return isinstance(getattr(column_type, "impl", column_type), Date | DateTime)


def _sqlite_text(process: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """The column's processor, then the text the sqlite3 module's default adapters would
    write for a datetime or date (`isoformat(" ")`, `isoformat()`): the same stored bytes,
    converted once per distinct value instead of by the driver in every row."""

    def to_text(value: Any) -> Any:
        if process is not None:
            value = process(value)
        if type(value) is datetime:
            return value.isoformat(" ")
        if type(value) is date:
            return value.isoformat()
        return value

    return to_text


def _converter(
    dialect: Dialect, table: Table, columns: Sequence[str]
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """Values to the driver's form, by each column type's bind processor."""
    processors: list[Callable[[Any], Any] | None] = [
        table.c[name].type.bind_processor(dialect) for name in columns
    ]
    if dialect.name == "sqlite":
        processors = [_sqlite_text(p) if _is_temporal(table.c[name].type) else p
                      for name, p in zip(columns, processors, strict=True)]  # fmt: skip
    steps = [(i, p) for i, p in enumerate(processors) if p is not None]

    # A batch repeats values (the run's `now` in every row): each column keeps its last value
    # and its converted form.
    last: list[tuple[object, Any]] = [(_UNSEEN, None) for _ in columns]

    def convert(values: tuple[Any, ...]) -> tuple[Any, ...]:
        out = list(values)
        for i, process in steps:
            value = out[i]
            seen, done = last[i]
            if value is not seen:
                done = process(value)
                last[i] = (value, done)
            out[i] = done
        return tuple(out)

    return convert
