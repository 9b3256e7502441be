"""A synthetic org written straight into the store, for the web benchmark (bench/web_bench.py).

The org comes from calc_bench's generator (managers with a rollup plan, AEs, deals across 2026,
10% with a 60/40 split), is calculated once like a full sync would (same window, same result
shape through connector.sync.compute) and is written with Core bulk inserts: a full sync of a
1M-deal org through the devorg takes about 16 minutes, this takes a few.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import yaml
from calc_bench import PLAN, generate
from sqlalchemy import Engine, create_engine, event, func, make_url, select, text
from sqlalchemy.orm import Session

from calc.book import Book
from calc.estimate import owner_estimates
from calc.model import Deal, Rep
from calc.money import money_str
from connector.pull.codec import Canonical, encode
from connector.store.bulk import insert_rows
from connector.store.canonical import CANONICAL_TABLES, KEY_COLUMNS, CanonicalDeal, CanonicalRep
from connector.store.engine import dump_json
from connector.store.mapping_versions import ensure_active
from connector.store.migrate import upgrade
from connector.store.models import SyncRun
from connector.store.plans import add_plan_version
from connector.store.results import (
    CalcRun,
    begin_calc_run,
    commit_calc_run,
    last_committed_calc,
    replace_results,
    save_writeback,
)
from connector.sync.compute import Computed, compute_results, flat_results
from connector.sync.plans import parse_plan_text
from connector.sync.stages import calc_window

ORG_ID = "00DWEBBENCH000000A"
_CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class Built:
    """What was built and how long it took."""

    reps: int
    deals: int
    seconds: float


def prepare_database(url: str, *, rebuild: bool) -> None:
    """Create a missing PostgreSQL database; on rebuild drop it (or the SQLite file) first."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if rebuild and parsed.database:
            for suffix in ("", "-wal", "-shm"):
                Path(parsed.database + suffix).unlink(missing_ok=True)
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return
    name = parsed.database
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if rebuild:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not found:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def bench_engine(url: str) -> Engine:
    """An engine like the app's (SQLite in WAL mode), synchronous writes off while building."""
    engine = create_engine(url, json_serializer=dump_json, json_deserializer=orjson.loads)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.close()

    return engine


def existing(engine: Engine) -> tuple[int, int] | None:
    """(reps, deals) of an already built org with a committed calculation, else None."""
    upgrade(engine)
    reps_t, deals_t = CanonicalRep, CanonicalDeal
    with Session(bind=engine) as session:
        if last_committed_calc(session, org_id=ORG_ID) is None:
            return None
        reps = session.scalar(select(func.count()).where(reps_t.org_id == ORG_ID))
        deals = session.scalar(select(func.count()).where(deals_t.org_id == ORG_ID))
    return int(reps or 0), int(deals or 0)


def build(engine: Engine, *, reps: int, deals: int, as_of: date) -> Built:
    """Generate, calculate and store the org; prints the time of each step."""
    t_all = time.perf_counter()
    upgrade(engine)
    t0 = time.perf_counter()
    doc, rep_rows, deal_rows, split_rows = generate(reps, deals, rollup=True)
    _step(
        "generated", t0, f"{len(rep_rows)} reps, {len(deal_rows)} deals, {len(split_rows)} splits"
    )
    window = calc_window(as_of, 1)  # what a sync run calculates (history_years=1)
    book = Book(doc, rep_rows, deal_rows, split_rows)
    computed = _calculate(book, window)
    now = datetime.now(UTC)
    with Session(bind=engine) as session:
        plan_id, mapping_id = _versions(session, now=now)
        sync = SyncRun(
            org_id=ORG_ID, mode="full", status="succeeded", requested_at=now, started_at=now,
            finished_at=now, counts={}, api_calls=0,
        )  # fmt: skip
        session.add(sync)
        session.flush()
        t0 = time.perf_counter()
        audit = {"mapping_version_id": mapping_id, "changed_run_id": sync.id, "updated_at": now}
        for kind, records in (("rep", rep_rows), ("deal", deal_rows), ("split", split_rows)):
            _insert_canonical(session, kind, records, audit)
        _step("canonical rows written", t0, "")
        t0 = time.perf_counter()
        run = begin_calc_run(
            session, org_id=ORG_ID, sync_run_id=sync.id, mode="full", as_of=as_of,
            range_start=window[0], range_end=window[1], mapping_version_id=mapping_id,
            plan_version_id=plan_id, created_at=now,
        )  # fmt: skip
        _store_results(session, run, computed, now=now)
        _step("results and credits written", t0, "")
        _store_estimates(session, run, book, as_of=as_of, now=now)
        session.commit()
    _analyze(engine)
    return Built(len(rep_rows), len(deal_rows), time.perf_counter() - t_all)


def _calculate(book: Book, window: tuple[date, date]) -> Computed:
    """Every rep's results, as the sync's full run computes them."""
    t0 = time.perf_counter()
    gc.disable()  # calc makes no cycles; the collector would only walk millions of objects
    try:
        computed = compute_results(book, None, start=window[0], end=window[1])
    finally:
        gc.enable()
    _step("calculated", t0, f"{len(computed.rep_ids)} reps, {len(computed.credits)} credits")
    return computed


def _store_results(session: Session, run: CalcRun, computed: Computed, *, now: datetime) -> None:
    """What the sync's store stage writes for a full run (no locked periods)."""
    replace_results(
        session, run=run, rep_ids=list(computed.rep_ids), results=flat_results(computed),
        credits=computed.credits, locked=frozenset(), kept=frozenset(), now=now,
    )  # fmt: skip
    commit_calc_run(session, run, reps=len(computed.rep_ids), now=now)


def _store_estimates(
    session: Session, run: CalcRun, book: Book, *, as_of: date, now: datetime
) -> None:
    """`Estimated_Commission__c` of every open deal, as the sync's write-back stage stores it."""
    t0 = time.perf_counter()
    open_ids = [d.id for d in book.deals.values() if not d.is_closed and not d.is_won]
    gc.disable()
    try:
        amounts = owner_estimates(book, open_ids, as_of=as_of)
    finally:
        gc.enable()
    values = {
        ("Opportunity", deal_id): {"Estimated_Commission__c": money_str(amount)}
        for deal_id, amount in amounts.items()
    }
    save_writeback(session, run=run, values=values, now=now)
    _step("open-deal estimates written", t0, f"{len(values)} deals")


def _step(what: str, t0: float, detail: str) -> None:
    print(f"  {what} in {time.perf_counter() - t0:.1f}s" + (f": {detail}" if detail else ""))


def _versions(session: Session, *, now: datetime) -> tuple[int, int]:
    """Activate the generator's plan (its ids are ae/mgr, not the demo plan's) and the mapping."""
    plan_text = yaml.safe_dump(dict(PLAN, crediting={"rollup": {"levels": 1}}), sort_keys=False)
    data, _doc = parse_plan_text(plan_text, source="calc_bench.PLAN")
    plan, _created = add_plan_version(
        session, org_id=ORG_ID, document=data, source_text=plan_text, created_by="web_bench",
        now=now,
    )  # fmt: skip
    mapping = ensure_active(session, ORG_ID, now=now)
    return plan.id, mapping.id


def _insert_canonical(
    session: Session, kind: str, records: Sequence[Canonical], audit: dict[str, Any]
) -> None:
    """The canonical rows through the store's bulk writer (`COPY` on PostgreSQL)."""
    table = CANONICAL_TABLES[kind]
    keys = KEY_COLUMNS[kind]
    for chunk in _chunks(records):
        rows = [
            {
                "id": _record_id(r),
                "payload": encode(r),
                "deleted": False,
                **{k: getattr(r, k, None) for k in keys},
                **audit,
            }
            for r in chunk
        ]
        insert_rows(session, table, org_id=ORG_ID, rows=rows)


def _record_id(record: Canonical) -> str:
    if isinstance(record, Rep | Deal):
        return record.id
    # calc's splits have no id of their own; the store keys them by the OpportunitySplit
    # id, made up here from the deal and the rep (a deal has at most one split per rep).
    return f"S{record.deal_id[1:]}{record.rep_id[-5:]}"


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _analyze(engine: Engine) -> None:
    """Planner statistics, as a long-lived database would have them."""
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
        if engine.dialect.name == "sqlite":
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def database_size(engine: Engine) -> str:
    """The size of the database on disk, as text."""
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database or "")
        total = sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
        return f"{total / 1e6:.0f} MB (SQLite file {path})"
    with engine.connect() as conn:
        size = conn.scalar(text("SELECT pg_database_size(current_database())"))
    return f"{int(size or 0) / 1e6:.0f} MB (PostgreSQL {engine.url.database})"


@dataclass(frozen=True, slots=True)
class Sample:
    """Ids to request: reps (managers flagged) and deals (owner, won) of the built org."""

    reps: list[tuple[str, bool]]
    deals: list[tuple[str, str, bool]]


def sample(engine: Engine, *, n_deals: int, seed: int = 11) -> Sample:
    """Every rep, and `n_deals` random deals: half open, half won where the org has both."""
    rng = random.Random(seed)
    reps_t, deals_t = CanonicalRep, CanonicalDeal
    with engine.connect() as conn:
        rep_ids = list(conn.scalars(select(reps_t.id).where(reps_t.org_id == ORG_ID)))
        managers = set(conn.scalars(select(reps_t.manager_id).where(reps_t.org_id == ORG_ID)))
        deal_ids = list(conn.scalars(select(deals_t.id).where(deals_t.org_id == ORG_ID)))
        picked = rng.sample(deal_ids, min(len(deal_ids), 4 * n_deals))
        rows: list[Any] = []
        for chunk in _chunks(picked):
            rows += conn.execute(
                select(deals_t.id, deals_t.owner_id, deals_t.payload).where(
                    deals_t.org_id == ORG_ID, deals_t.id.in_(chunk)
                )
            ).all()
    won = [(d, o, True) for d, o, p in rows if o and p.get("is_won")]
    open_ = [(d, o, False) for d, o, p in rows if o and not p.get("is_won")]
    half = n_deals // 2
    deals = won[: n_deals - min(half, len(open_))] + open_[:half]
    rng.shuffle(deals)
    return Sample([(r, r in managers) for r in rep_ids], deals)


def ensure_org(url: str, *, reps: int, deals: int, rebuild: bool) -> Sample:
    """Build the org unless the database already holds it; print build time and DB size."""
    prepare_database(url, rebuild=rebuild)
    engine = bench_engine(url)
    found = existing(engine)
    if found is None:
        print(f"building {reps} reps / {deals} deals in {engine.url.render_as_string()}")
        built = build(engine, reps=reps, deals=deals, as_of=date.today())
        print(f"database built in {built.seconds:.0f}s")
    elif found != (reps, deals):
        raise SystemExit(
            f"web_bench: the database holds {found[0]} reps / {found[1]} deals; --rebuild"
        )
    else:
        print(f"reusing the built org ({reps} reps, {deals} deals)")
    print(f"database size: {database_size(engine)}")
    data = sample(engine, n_deals=2000)
    engine.dispose()
    return data
