"""Server-side query locators: a query runs once; rows past the first page are kept in a
table of `locators.db` (one per locator, in result order) and served by position."""

from __future__ import annotations

import secrets
import sqlite3
import string
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devorg.errors import ApiError
from devorg.store import Database

# Salesforce drops a query cursor 15 minutes after its last use.
LOCATOR_TTL_SECONDS = 15 * 60
# A fully read cursor is kept a little while (clients may retry the last page), then dropped.
FINISHED_TTL_SECONDS = 60
# "A user can have up to 10 query cursors open at a time. If 10 QueryLocator cursors are open
# when a client application, logged in as the same user, attempts to open a new one, then the
# oldest of the 10 cursors is released" (SOAP API QueryLocator). Since API 56.0 Salesforce
# documents no cap at all; the devorg keeps the stricter rule, so a client that depends on
# more than 10 cursors at once fails here first.
MAX_OPEN_PER_USER = 10
_ALPHABET = string.ascii_uppercase + string.digits
_SCHEMA = "devorg_locators"  # the locators file, as attached to request connections


def invalid_locator() -> ApiError:
    """400 INVALID_QUERY_LOCATOR (unknown, expired or out-of-range locator)."""
    return ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")


@dataclass
class _Locator:
    query: Any  # soql.CompiledQuery: shapes the stored rows into records
    base: int  # position of the first stored row (rows before it were the first page)
    total: int
    batch: int
    last_used: float
    owner: str | None = None
    created: float = 0.0
    finished: bool = False


@dataclass(frozen=True)
class Page:
    """One page of a query result: raw rows plus where the next page starts."""

    query: Any
    rows: list[tuple[Any, ...]]
    total: int
    locator: str | None
    next_offset: int | None


class Locators:
    """Query locators of one devorg process (lost on restart, like after an org restart)."""

    def __init__(self, path: Path, *, ttl_seconds: float = LOCATOR_TTL_SECONDS) -> None:
        path.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        self._path = path
        self._db = Database(path, pool_size=4)
        with self._db.write():
            pass  # creates the file in WAL mode before request connections attach it
        self._ttl = ttl_seconds
        self._open: dict[str, _Locator] = {}
        self._lock = threading.Lock()

    def first_page(
        self, conn: sqlite3.Connection, query: Any, batch: int, *, owner: str | None = None
    ) -> Page:
        """Run the compiled query; keep the rows after the first `batch` under a new locator."""
        self.sweep(opening_for=owner)
        self._attach(conn)
        # One read transaction: the first page and the stored rest come from one snapshot.
        conn.execute("BEGIN")
        try:
            cur = conn.execute(query.sql, query.params)
            first = cur.fetchmany(batch)
            more = len(first) == batch and bool(cur.fetchmany(1))
            cur.close()
            if not more:
                return Page(query, first, len(first), None, None)
            locator = "01g" + "".join(secrets.choice(_ALPHABET) for _ in range(15))
            # The rest is copied inside SQLite (no Python per row): seconds for 1M rows.
            conn.execute(
                f'CREATE TABLE {_SCHEMA}."{locator}" AS SELECT * FROM ({query.sql}) '
                f"LIMIT -1 OFFSET {batch}",
                query.params,
            )
            stored = conn.execute(f'SELECT max(rowid) FROM {_SCHEMA}."{locator}"').fetchone()[0]
        finally:
            conn.commit()
        total = batch + (stored or 0)
        now = time.monotonic()
        with self._lock:
            self._open[locator] = _Locator(
                query, batch, total, batch, now, owner=owner, created=now
            )
        return Page(query, first, total, locator, batch)

    def _attach(self, conn: sqlite3.Connection) -> None:
        names = {row[1] for row in conn.execute("PRAGMA database_list")}
        if _SCHEMA not in names:
            conn.execute(f"ATTACH DATABASE ? AS {_SCHEMA}", (str(self._path),))
            conn.execute(f"PRAGMA {_SCHEMA}.synchronous=OFF")

    def page(self, locator: str, offset: int) -> Page:
        """The page starting at `offset` of an open locator."""
        with self._lock:
            state = self._open.get(locator)
            if state is None or not state.base <= offset < state.total:
                raise invalid_locator()
            state.last_used = time.monotonic()
            state.finished = state.finished or offset + state.batch >= state.total
        start = offset - state.base
        with self._db.read() as lconn:
            rows = lconn.execute(
                f'SELECT * FROM "{locator}" WHERE rowid > ? AND rowid <= ? ORDER BY rowid',
                (start, start + state.batch),
            ).fetchall()
        end = offset + len(rows)
        return Page(state.query, rows, state.total, locator, end if end < state.total else None)

    def sweep(self, *, opening_for: str | None = None) -> None:
        """Drop locators unused for longer than the TTL; before `opening_for` opens one more,
        release that user's oldest beyond the cap (fully read ones first)."""
        now = time.monotonic()
        with self._lock:
            stale = [k for k, st in self._open.items() if now - st.last_used > self._ttl_for(st)]
            mine = sorted(
                (
                    (not st.finished, st.created, k)
                    for k, st in self._open.items()
                    if k not in stale and st.owner == opening_for
                ),
            )
            stale += [k for _, _, k in mine[: max(0, len(mine) - MAX_OPEN_PER_USER + 1)]]
            for key in stale:
                del self._open[key]
        if stale:
            with self._db.write() as lconn:
                for key in stale:
                    lconn.execute(f'DROP TABLE IF EXISTS "{key}"')

    def _ttl_for(self, state: _Locator) -> float:
        return min(self._ttl, FINISHED_TTL_SECONDS) if state.finished else self._ttl

    def open_count(self) -> int:
        """How many locators are open."""
        with self._lock:
            return len(self._open)

    def close(self) -> None:
        """Close the locator database."""
        self._db.close()
