"""SQLite access for the devorg: a small connection pool, one writer at a time, WAL mode."""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ALNUM = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def connect(path: Path) -> sqlite3.Connection:
    """A connection usable from any thread (the pool hands it to one thread at a time)."""
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA cache_size=-65536")
    return conn


class Database:
    """Pooled connections to `devorg.db`; `write()` serializes writers in one transaction."""

    def __init__(self, path: Path, *, pool_size: int = 8) -> None:
        self.path = path
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._pool_size = pool_size
        self._write_lock = threading.RLock()
        self._last_stamp = 0
        self._stamp_lock = threading.Lock()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection in autocommit mode (each statement sees a consistent snapshot)."""
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            conn = connect(self.path)
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.rollback()
            if self._pool.qsize() < self._pool_size:
                self._pool.put(conn)
            else:
                conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        with self._write_lock, self.read() as conn:
            # Deferred BEGIN: writers are already serialized by the lock, and IMMEDIATE would
            # also lock the attached query-locator database.
            conn.execute("BEGIN")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def close(self) -> None:
        """Close every pooled connection."""
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                return

    def stamp(self) -> int:
        """Now in epoch ms for SystemModstamp; equal values may repeat but never go back."""
        with self._stamp_lock:
            self._last_stamp = max(self._last_stamp, int(time.time() * 1000))
            return self._last_stamp


def id18(record_id: str) -> str | None:
    """The 18-char form of a 15- or 18-char Salesforce id, or None if it is not an id."""
    if len(record_id) not in (15, 18) or not set(record_id) <= _ALNUM:
        return None
    if len(record_id) == 18:
        return record_id
    base = record_id
    # Salesforce's case-safe suffix: one char per 5-char chunk encoding which are uppercase.
    suffix = ""
    for start in range(0, 15, 5):
        bits = sum(1 << i for i, ch in enumerate(base[start : start + 5]) if ch.isupper())
        suffix += _ID_CHARS[bits]
    return base + suffix


def quote(name: str) -> str:
    """A quoted SQLite identifier (object and field names come from the schema only)."""
    return '"' + name.replace('"', '""') + '"'
