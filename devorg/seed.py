"""Deterministic demo data for the devorg: a sales org with two fiscal years of deals."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from devorg.permissions import store_grants
from devorg.schema import OBJECTS, new_id
from devorg.seed_deals import INSERT_VALUES, DealMaker
from devorg.seed_people import PERMISSION_SETS, Org, account_rows, setup_rows, user_rows
from devorg.seed_permissions import GRANTS

DEMO_REPS = 60
DEMO_DEALS = 3_000
DEMO_ACCOUNTS = 300
# Secondary indexes are rebuilt after a bulk load: far faster than maintaining them row by row.
_BULK_INDEXED = (
    "User", "Account", "Opportunity", "OpportunitySplit", "OpportunityTeamMember",
    "OpportunityLineItem",
)  # fmt: skip


@dataclass(frozen=True)
class SeedSummary:
    """Rows written per object and how long it took."""

    counts: Mapping[str, int]
    seconds: float


def seed_demo(conn: sqlite3.Connection, *, seed: int = 7, now_ms: int) -> SeedSummary:
    """The demo org: a VP, directors, 6 managers, 60 reps, 300 accounts and 3,000 deals."""
    return _seed(conn, reps=DEMO_REPS, deals=DEMO_DEALS, accounts=DEMO_ACCOUNTS, seed=seed,
                 now_ms=now_ms)  # fmt: skip


def seed_scaled(
    conn: sqlite3.Connection, *, reps: int, deals: int, seed: int = 7, now_ms: int
) -> SeedSummary:
    """The demo org's shape at any size: `reps` reps (plus a manager per ten) and `deals` deals."""
    if reps < 1 or deals < 0:
        raise ValueError("a scaled seed needs at least one rep and no negative deal count")
    accounts = max(1, min(max(DEMO_ACCOUNTS, deals // 10), deals or 1))
    return _seed(conn, reps=reps, deals=deals, accounts=accounts, seed=seed, now_ms=now_ms)


def _seed(
    conn: sqlite3.Connection, *, reps: int, deals: int, accounts: int, seed: int, now_ms: int
) -> SeedSummary:
    started = time.perf_counter()
    in_tx = conn.in_transaction
    restore = [] if in_tx else _bulk_pragmas(conn)
    if not in_tx:
        conn.execute("BEGIN")
    try:
        counts = _load(conn, reps=reps, deals=deals, accounts=accounts, seed=seed, now_ms=now_ms)
        if not in_tx:
            conn.execute("COMMIT")
    except BaseException:
        if not in_tx:
            conn.execute("ROLLBACK")
        raise
    finally:
        for sql in restore:
            conn.execute(sql)
    return SeedSummary(MappingProxyType(counts), time.perf_counter() - started)


def _load(
    conn: sqlite3.Connection, *, reps: int, deals: int, accounts: int, seed: int, now_ms: int
) -> dict[str, int]:
    """Insert every seeded row (inside the caller's transaction); rows written per object."""
    today = dt.date(1970, 1, 1) + dt.timedelta(days=now_ms // 86_400_000)
    counts: dict[str, int] = dict.fromkeys(OBJECTS, 0)
    org = Org(admin_id=new_id("User", 1))
    dropped = _drop_bulk_indexes(conn)
    set_ids = {name: new_id("PermissionSet", i) for i, (name, *_) in enumerate(PERMISSION_SETS, 1)}
    for name, rows in setup_rows(now_ms).items():
        counts[name] += _insert(conn, name, rows)
    store_grants(conn, {set_ids[name]: grant for name, grant in GRANTS.items()})
    people = random.Random(f"devorg-people-{seed}")
    users = user_rows(people, reps, today=today, now_ms=now_ms, org=org)
    counts["User"] += _insert(conn, "User", users)
    firms = account_rows(people, accounts, now_ms=now_ms, org=org)
    counts["Account"] += _insert(conn, "Account", firms)
    maker = DealMaker(random.Random(f"devorg-deals-{seed}"), org, today=today, now_ms=now_ms)
    for batch in maker.batches(deals):
        for name, rows in batch.items():
            counts[name] += _insert(conn, name, rows, values=INSERT_VALUES[name])
    for sql in dropped:
        conn.execute(sql)
    conn.execute(
        'UPDATE "Opportunity" SET HasOpportunityLineItem = 1 WHERE Id IN '
        '(SELECT OpportunityId FROM "OpportunityLineItem" WHERE IsDeleted = 0)'
    )
    return counts


def _insert(
    conn: sqlite3.Connection,
    name: str,
    rows: Iterable[tuple[object, ...]],
    *,
    values: Mapping[str, str] | None = None,
) -> int:
    """executemany an INSERT: rows in schema order, or as `values` maps columns to SQL."""
    if values is None:
        values = {f.name: "?" for f in OBJECTS[name].fields}
    cols = ", ".join(f'"{col}"' for col in values)
    cur = conn.executemany(
        f'INSERT INTO "{name}" ({cols}) VALUES ({", ".join(values.values())})', rows
    )
    return cur.rowcount


def _drop_bulk_indexes(conn: sqlite3.Connection) -> list[str]:
    """Drop the secondary indexes of the big tables if they are empty; return how to recreate."""
    recreate: list[str] = []
    for name in _BULK_INDEXED:
        if conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone():
            continue
        found = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (name,),
        ).fetchall()
        for index_name, sql in found:
            conn.execute(f'DROP INDEX "{index_name}"')
            recreate.append(sql)
    return recreate


def _bulk_pragmas(conn: sqlite3.Connection) -> list[str]:
    """Journal in memory without fsync for the bulk load (half the disk writes of WAL).

    A seed fills a fresh file, so a crash mid-seed loses nothing worth keeping. Returns the
    statements that restore the connection's settings; WAL is only left when no other
    connection has the database open (SQLite refuses otherwise, and then WAL stays).
    """
    synchronous = conn.execute("PRAGMA synchronous").fetchone()[0]
    mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    restore = [f"PRAGMA synchronous={int(synchronous)}"]
    conn.execute("PRAGMA synchronous=OFF")
    if mode == "wal":
        switched = conn.execute("PRAGMA journal_mode=MEMORY").fetchone()[0]
        if str(switched).lower() == "memory":
            restore.append("PRAGMA journal_mode=WAL")
    return restore
