"""Physical deletes: emptying the recycle bin and hard deletes.

A soft-deleted record sits in the recycle bin (`IsDeleted = true`, seen by `queryAll` and
`getDeleted`) until the bin is emptied or its 15 days pass; a hard delete (Bulk API
`hardDelete`, or Empty Recycle Bin) removes it altogether. After that no API call shows
the record: a replicating client only notices it when a full reconcile no longer finds it.
`getDeleted` reports the last physical delete of an object as `earliestDateAvailable`.
"""

from __future__ import annotations

import sqlite3

from devorg import schema
from devorg.records import CASCADE
from devorg.store import quote

_PURGES = "_devorg_purges"


def _note_purge(conn: sqlite3.Connection, object_name: str, stamp: int) -> None:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {_PURGES} (object TEXT PRIMARY KEY, at INTEGER NOT NULL)"
    )
    conn.execute(
        f"INSERT INTO {_PURGES} (object, at) VALUES (?, ?) "
        "ON CONFLICT(object) DO UPDATE SET at = max(at, excluded.at)",
        (object_name, stamp),
    )


def last_purge(conn: sqlite3.Connection, object_name: str) -> int | None:
    """Epoch ms of the last physical delete of `object_name` records, if any."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_PURGES,)
    ).fetchone()
    if exists is None:
        return None
    row = conn.execute(f"SELECT at FROM {_PURGES} WHERE object = ?", (object_name,)).fetchone()
    return int(row[0]) if row else None


def hard_delete(
    conn: sqlite3.Connection, obj: schema.ObjectSpec, ids: list[str], *, stamp: int
) -> int:
    """Remove records (live or in the bin) and the children deleted with them; returns rows."""
    if not ids:
        return 0
    removed = 0
    for child_name, ref in CASCADE.get(obj.name, ()):
        child = schema.OBJECTS.get(child_name)
        if child is None:
            continue
        marks = ",".join("?" * len(ids))
        child_ids = [
            r[0]
            for r in conn.execute(
                f"SELECT Id FROM {quote(child.name)} WHERE {quote(ref)} IN ({marks})", ids
            )
        ]
        removed += hard_delete(conn, child, child_ids, stamp=stamp)
    marks = ",".join("?" * len(ids))
    removed += conn.execute(f"DELETE FROM {quote(obj.name)} WHERE Id IN ({marks})", ids).rowcount
    _note_purge(conn, obj.name, stamp)
    return removed


def empty_recycle_bin(
    conn: sqlite3.Connection, objects: list[schema.ObjectSpec], *, stamp: int
) -> dict[str, int]:
    """Purge every soft-deleted record of `objects`; rows removed by object."""
    out: dict[str, int] = {}
    for obj in objects:
        if not obj.has_is_deleted:
            continue
        ids = [r[0] for r in conn.execute(f"SELECT Id FROM {quote(obj.name)} WHERE IsDeleted = 1")]
        for start in range(0, len(ids), 500):
            out[obj.name] = out.get(obj.name, 0) + hard_delete(
                conn, obj, ids[start : start + 500], stamp=stamp
            )
    return out
