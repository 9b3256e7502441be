"""Calculation runs and what they produced: credits, period results, write-back values.

Every stored result carries the calc run, the mapping version and the plan version that
produced it (audit: any number on a Salesforce record can be traced to its inputs). Money
and attainment are stored as exact decimal strings, never floats.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from hashlib import blake2b
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Index,
    Integer,
    String,
    Text,
    cast,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from connector.store.base import Base, UtcDateTime
from connector.store.bulk import delete_rows, insert_rows, update_rows
from connector.store.canonical import CANONICAL_TABLES
from connector.store.models import ORG_ID, SF_ID, RawRecord, RecordIssue, SyncRun

# The session factory type, for code outside the store that must not import SQLAlchemy.
SessionFactory = sessionmaker[Session]
PERIOD = String(16)
AMOUNT = String(32)  # a Decimal as text: exact on SQLite and PostgreSQL alike
_CHUNK = 500
# Records of one object asked for at once from which reading all of the object's stored
# rows may be cheaper than looking them up 500 at a time: when they are at least a quarter
# of the object (a lookup by id costs a few times a row read in order).
_SCAN_AT = 5000
_SCAN_SHARE = 4


class CalcRun(Base):
    """One calculation inside a sync run: what it read and which reps it recomputed."""

    __tablename__ = "calc_runs"
    __table_args__ = (Index(None, "org_id", "status", "sync_run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    sync_run_id: Mapped[int | None] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # running | committed
    as_of: Mapped[date] = mapped_column(Date)
    range_start: Mapped[date] = mapped_column(Date)
    range_end: Mapped[date] = mapped_column(Date)
    mapping_version_id: Mapped[int | None] = mapped_column(Integer)
    plan_version_id: Mapped[int | None] = mapped_column(Integer)
    reps_computed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class _Audit:
    calc_run_id: Mapped[int] = mapped_column(Integer)
    mapping_version_id: Mapped[int | None] = mapped_column(Integer)
    plan_version_id: Mapped[int | None] = mapped_column(Integer)


class StoredCredit(_Audit, Base):
    """A credit of one deal to one rep in one period (the `credits` rows of a calc result)."""

    __tablename__ = "calc_credits"
    __table_args__ = (Index(None, "org_id", "deal_id"),)

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    rep_id: Mapped[str] = mapped_column(SF_ID, primary_key=True)
    period: Mapped[str] = mapped_column(PERIOD, primary_key=True)
    deal_id: Mapped[str] = mapped_column(SF_ID, primary_key=True)
    credit_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    percent: Mapped[str] = mapped_column(AMOUNT)
    amount: Mapped[str] = mapped_column(AMOUNT)


class PeriodResult(_Audit, Base):
    """A rep's result for one pay period, in the `quotaflow calc` result shape (lines included)."""

    __tablename__ = "period_results"
    __table_args__ = (Index(None, "org_id", "period"),)

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    rep_id: Mapped[str] = mapped_column(SF_ID, primary_key=True)
    period: Mapped[str] = mapped_column(PERIOD, primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(80))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    attainment: Mapped[str] = mapped_column(AMOUNT)
    gross: Mapped[str] = mapped_column(AMOUNT)
    net: Mapped[str] = mapped_column(AMOUNT)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # `result_digest(result)`, written with the result (None: stored before digests, compared
    # by reading the document itself).
    result_hash: Mapped[str | None] = mapped_column(String(32))


class WritebackValue(_Audit, Base):
    """The values Quotaflow wants on one CRM record; `pending` until written or reported."""

    __tablename__ = "writeback_values"
    __table_args__ = (Index(None, "org_id", "pending"),)

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    object_name: Mapped[str] = mapped_column(String(80), primary_key=True)
    record_id: Mapped[str] = mapped_column(SF_ID, primary_key=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    pending: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The `payload_hash` of the pulled record that the write-back diff found already holding
    # `fields` when it settled them; None when settled otherwise (written: the echo is not
    # pulled yet; refused; never diffed). While the pulled record still has this hash and the
    # fields stay the same, diffing them again can only find them equal (see save_writeback).
    crm_hash: Mapped[str | None] = mapped_column(String(64))


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def begin_calc_run(session: Session, **values: Any) -> CalcRun:
    """Record a calculation (status running); committed together with its results."""
    run = CalcRun(status="running", **values)
    session.add(run)
    session.flush()
    return run


def last_committed_calc(session: Session, *, org_id: str) -> CalcRun | None:
    """The newest committed calculation of the org."""
    return session.scalars(
        select(CalcRun)
        .where(CalcRun.org_id == org_id, CalcRun.status == "committed")
        .order_by(CalcRun.id.desc())
        .limit(1)
    ).first()


def runs_started_after(session: Session, *, org_id: str, run_id: int) -> set[int]:
    """Ids of the org's sync runs started after `run_id` started.

    Run ids are not in start order (a request queued early is claimed late), so what
    changed after a baseline is found by start time, not by id.
    """
    started = select(SyncRun.started_at).where(SyncRun.id == run_id).scalar_subquery()
    return set(
        session.scalars(
            select(SyncRun.id).where(SyncRun.org_id == org_id, SyncRun.started_at > started)
        )
    )


def _audit(run: CalcRun) -> dict[str, Any]:
    return {
        "calc_run_id": run.id,
        "mapping_version_id": run.mapping_version_id,
        "plan_version_id": run.plan_version_id,
    }


CreditKey = tuple[str, str, str, str]  # rep, period, deal, credit type
_CREDIT_PK = ("org_id", "rep_id", "period", "deal_id", "credit_type")
_RESULT_PK = ("org_id", "rep_id", "period")
_WRITEBACK_PK = ("org_id", "object_name", "record_id")


def replace_results(
    session: Session,
    *,
    run: CalcRun,
    rep_ids: Sequence[str],
    results: Sequence[Mapping[str, Any]],
    credits: Sequence[Mapping[str, Any]],
    locked: frozenset[str],
    kept: frozenset[tuple[str, str]],
    now: datetime,
) -> None:
    """Make the stored results and every credit of `rep_ids` what was computed (upserts)."""
    store_results(session, run=run, rep_ids=rep_ids, results=results, kept=kept, now=now)
    store_credits(session, run=run, rep_ids=rep_ids, deal_ids=None, credits=credits, kept=kept)


def store_results(
    session: Session,
    *,
    run: CalcRun,
    rep_ids: Collection[str],
    results: Sequence[Mapping[str, Any]],
    kept: frozenset[tuple[str, str]],
    now: datetime,
    same: Collection[tuple[str, str]] = frozenset(),
    use_digests: bool = True,
) -> list[tuple[str, str]]:
    """Make the stored period results of `rep_ids` the computed ones, writing only rows that
    differ (inserted, updated or deleted). Returns the (rep, period) pairs that differed.

    Rows of locked periods stay: `kept` names the (rep, period) pairs that already have a
    stored locked result, so only those are left alone and any other row is written.
    `same` names computed rows known to equal the stored ones (the calculation kept them
    from the run that stored them): they are neither read nor compared. The others are
    compared by the digest stored beside each row (`use_digests`; a row stored before
    digests, or every row when False, by reading and comparing the document itself).
    """
    org_id = run.org_id
    audit = _audit(run)
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for r in results:
        key = (r["rep_id"], r["period"])
        if key in kept:
            continue
        wanted[key] = {
            "org_id": org_id,
            "rep_id": r["rep_id"],
            "period": r["period"],
            "plan_id": r["plan_id"],
            "period_start": date.fromisoformat(r["period_start"]),
            "period_end": date.fromisoformat(r["period_end"]),
            "attainment": r["attainment"],
            "gross": r["gross"],
            "net": r["net"],
            "result": dict(r),
            "updated_at": now,
            **audit,
        }
    existing: dict[tuple[str, str], str | None] = {}
    keys = (PeriodResult.rep_id, PeriodResult.period, PeriodResult.result_hash)
    for chunk in _chunks(sorted(set(rep_ids))):
        rows = session.execute(
            select(*keys).where(PeriodResult.org_id == org_id, PeriodResult.rep_id.in_(chunk))
        )
        existing.update(((rep, period), digest) for rep, period, digest in rows
                        if (rep, period) not in kept)  # fmt: skip
    for k, v in wanted.items():
        if k not in same or k not in existing:
            v["result_hash"] = result_digest(v["result"])
    compare = sorted(k for k in wanted if k in existing and k not in same)
    by_digest = [k for k in compare if use_digests and existing[k] is not None]
    differ = [k for k in by_digest if existing[k] != wanted[k]["result_hash"]]
    unknown = [k for k in compare if not use_digests or existing[k] is None]
    stored = _stored_documents(session, org_id, unknown)
    digests = []  # rows as computed without their digest (stored before digests): given it
    for k in unknown:
        if stored.get(k) != _canonical_json(wanted[k]["result"]):
            differ.append(k)
        elif existing[k] != wanted[k]["result_hash"]:
            digests.append({"org_id": org_id, "rep_id": k[0], "period": k[1],
                            "result_hash": wanted[k]["result_hash"]})  # fmt: skip
    inserts = [v for k, v in wanted.items() if k not in existing]
    updates = [wanted[k] for k in sorted(differ)]
    deletes = [
        {"org_id": org_id, "rep_id": k[0], "period": k[1]}
        for k in sorted(existing)
        if k not in wanted
    ]
    delete_rows(session, PeriodResult, org_id=org_id, keys=_RESULT_PK, rows=deletes)
    update_rows(session, PeriodResult, org_id=org_id, keys=_RESULT_PK, rows=updates)
    update_rows(session, PeriodResult, org_id=org_id, keys=_RESULT_PK, rows=digests)
    insert_rows(session, PeriodResult, org_id=org_id, rows=inserts)
    return sorted([(v["rep_id"], v["period"]) for v in (*inserts, *updates)]
                  + [(d["rep_id"], d["period"]) for d in deletes])  # fmt: skip


def _stored_documents(
    session: Session, org_id: str, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], bytes]:
    """The canonical JSON of the stored results of these (rep, period) pairs."""
    stored: dict[tuple[str, str], bytes] = {}
    by_rep: dict[str, set[str]] = {}
    for rep, period in keys:
        by_rep.setdefault(rep, set()).add(period)
    for chunk in _chunks(sorted(by_rep)):
        periods = sorted(set().union(*(by_rep[rep] for rep in chunk)))
        found = session.execute(
            select(PeriodResult.rep_id, PeriodResult.period, PeriodResult.result).where(
                PeriodResult.org_id == org_id,
                PeriodResult.rep_id.in_(chunk),
                PeriodResult.period.in_(periods),
            )
        )
        for rep, period, result in found:
            if period in by_rep[rep]:
                stored[(rep, period)] = _canonical_json(result)
    return stored


def result_digest(result: Mapping[str, Any]) -> str:
    """The digest stored beside a period result: of its canonical JSON (every figure)."""
    return blake2b(_canonical_json(result), digest_size=16).hexdigest()


def _canonical_json(value: Any) -> bytes:
    # The result columns hold every figure of the row: comparing the documents compares all.
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def store_credits(
    session: Session,
    *,
    run: CalcRun,
    rep_ids: Collection[str],
    deal_ids: Collection[str] | None,
    credits: Sequence[Mapping[str, Any]],
    kept: frozenset[tuple[str, str]],
) -> list[CreditKey]:
    """Make the stored credits of `rep_ids` from `deal_ids` (None: every deal) the computed
    `credits`, writing only what differs. Returns the keys that differed.

    An incremental run passes the deals whose credits may have changed: every other credit
    of its reps is the same as stored, so only those rows are read and compared.
    """
    org_id = run.org_id
    reps = set(rep_ids)
    audit = _audit(run)
    wanted: dict[CreditKey, dict[str, Any]] = {}
    for row in _merged_credits(credits):
        key = (row["rep_id"], row["period"], row["deal_id"], row["credit_type"])
        if row["rep_id"] in reps and (key[0], key[1]) not in kept:
            wanted[key] = {"org_id": org_id, **row, **audit}
    cols = (
        StoredCredit.rep_id,
        StoredCredit.period,
        StoredCredit.deal_id,
        StoredCredit.credit_type,
        StoredCredit.percent,
        StoredCredit.amount,
    )
    stored: dict[CreditKey, tuple[str, str]] = {}
    if deal_ids is None:
        selects = [
            select(*cols).where(StoredCredit.org_id == org_id, StoredCredit.rep_id.in_(chunk))
            for chunk in _chunks(sorted(reps))
        ]
    else:
        selects = [
            select(*cols).where(StoredCredit.org_id == org_id, StoredCredit.deal_id.in_(chunk))
            for chunk in _chunks(sorted(set(deal_ids)))
        ]
    for query in selects:
        for rep, period, deal, ctype, percent, amount in session.execute(query):
            if rep in reps and (rep, period) not in kept:
                stored[(rep, period, deal, ctype)] = (percent, amount)
    inserts = [v for k, v in wanted.items() if k not in stored]
    updates = [
        v for k, v in wanted.items() if k in stored and stored[k] != (v["percent"], v["amount"])
    ]
    gone = [k for k in stored if k not in wanted]
    deletes = [dict(zip(_CREDIT_PK, (org_id, *k), strict=True)) for k in gone]
    delete_rows(session, StoredCredit, org_id=org_id, keys=_CREDIT_PK, rows=deletes)
    update_rows(session, StoredCredit, org_id=org_id, keys=_CREDIT_PK, rows=updates)
    insert_rows(session, StoredCredit, org_id=org_id, rows=inserts)
    changed = [
        (v["rep_id"], v["period"], v["deal_id"], v["credit_type"]) for v in (*inserts, *updates)
    ]
    return sorted(changed + gone)


def credited_deals(session: Session, *, org_id: str, rep_ids: Sequence[str]) -> set[str]:
    """Deals whose stored credits went to these reps (rollup credit included)."""
    deals: set[str] = set()
    for chunk in _chunks(list(rep_ids)):
        deals.update(
            session.scalars(
                select(StoredCredit.deal_id).where(
                    StoredCredit.org_id == org_id, StoredCredit.rep_id.in_(chunk)
                )
            )
        )
    return deals


def _merged_credits(credits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # Two split rows of one deal for the same rep are one stored credit (the key is unique).
    merged: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for c in credits:
        key = (c["rep_id"], c["period"], c["deal_id"], c["credit_type"])
        row = merged.get(key)
        if row is None:
            merged[key] = {k: c[k] for k in _CREDIT_KEYS}
            continue
        for name in ("percent", "amount"):
            row[name] = str(Decimal(row[name]) + Decimal(c[name]))
    return list(merged.values())


_CREDIT_KEYS = ("rep_id", "period", "deal_id", "credit_type", "percent", "amount")


def stored_results(
    session: Session, *, org_id: str, rep_ids: Sequence[str] | None = None
) -> list[PeriodResult]:
    """Stored period results of some reps (all when None), by rep and period start."""
    stmt = select(PeriodResult).where(PeriodResult.org_id == org_id)
    if rep_ids is None:
        return list(session.scalars(stmt.order_by(PeriodResult.rep_id, PeriodResult.period_start)))
    out: list[PeriodResult] = []
    for chunk in _chunks(list(rep_ids)):
        out.extend(session.scalars(stmt.where(PeriodResult.rep_id.in_(chunk))))
    out.sort(key=lambda r: (r.rep_id, r.period_start))
    return out


def credited_reps(session: Session, *, org_id: str, deal_ids: Sequence[str]) -> set[str]:
    """Reps that the stored credits of these deals went to (before this run's changes)."""
    reps: set[str] = set()
    for chunk in _chunks(list(deal_ids)):
        reps.update(
            session.scalars(
                select(StoredCredit.rep_id).where(
                    StoredCredit.org_id == org_id, StoredCredit.deal_id.in_(chunk)
                )
            )
        )
    return reps


def save_writeback(
    session: Session,
    *,
    run: CalcRun,
    values: Mapping[tuple[str, str], Mapping[str, str | None]],
    now: datetime,
    recheck_all: bool = True,
) -> list[tuple[str, str]]:
    """Store the desired values of these records and mark them pending (the write-back stage
    diffs every pending record against the CRM). Only rows whose values or pending flag
    change are written. Returns the records marked pending.

    A record whose values are as stored and already settled is marked pending again for
    the diff to look at once more, unless (`recheck_all` False) the diff settled it finding
    the CRM holding these values in the very payload still pulled (`crm_hash`): then it
    would find them equal again. Anything else (written and its echo not yet compared,
    refused by Salesforce, the CRM record changed since, never pulled) is re-checked.
    """
    org_id = run.org_id
    stored = _stored_writeback(session, org_id, sorted(values))
    audit = _audit(run)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    repend: list[dict[str, Any]] = []
    for (obj, rid), fields in values.items():
        row = {
            "org_id": org_id,
            "object_name": obj,
            "record_id": rid,
            "fields": dict(fields),
            "pending": True,
            "updated_at": now,
            "crm_hash": None,
            **audit,
        }
        before = stored.get((obj, rid))
        if before is None:
            inserts.append(row)
        elif before.fields != row["fields"]:
            updates.append(row)
        elif not before.pending and (recheck_all or not before.settled_on_current()):
            repend.append({"org_id": org_id, "object_name": obj, "record_id": rid,
                           "pending": True, "crm_hash": None})  # fmt: skip
    update_rows(session, WritebackValue, org_id=org_id, keys=_WRITEBACK_PK, rows=updates)
    update_rows(session, WritebackValue, org_id=org_id, keys=_WRITEBACK_PK, rows=repend)
    insert_rows(session, WritebackValue, org_id=org_id, rows=inserts)
    marked = [(r["object_name"], r["record_id"]) for r in (*inserts, *updates, *repend)]
    return sorted(marked)


@dataclass(frozen=True, slots=True)
class _StoredValue:
    fields: dict[str, Any]
    pending: bool
    crm_hash: str | None
    pulled_hash: str | None  # the payload hash of the record as pulled now (None: not pulled)

    def settled_on_current(self) -> bool:
        """Settled as already holding these values in the payload that is still pulled."""
        return self.crm_hash is not None and self.crm_hash == self.pulled_hash


def _stored_writeback(
    session: Session, org_id: str, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], _StoredValue]:
    """The stored write-back rows of these records, with the hash of their pulled payload."""
    stored: dict[tuple[str, str], _StoredValue] = {}
    raw = RawRecord.__table__
    for obj in sorted({k[0] for k in keys}):
        ids = [rid for o, rid in keys if o == obj]
        for chunk in _chunks(ids):
            joined = WritebackValue.__table__.outerjoin(
                raw,
                (RawRecord.org_id == WritebackValue.org_id)
                & (RawRecord.object_name == WritebackValue.object_name)
                & (RawRecord.record_id == WritebackValue.record_id)
                & RawRecord.is_deleted.is_(False),
            )
            rows = session.execute(
                select(
                    WritebackValue.record_id,
                    WritebackValue.fields,
                    WritebackValue.pending,
                    WritebackValue.crm_hash,
                    RawRecord.payload_hash,
                )
                .select_from(joined)
                .where(
                    WritebackValue.org_id == org_id,
                    WritebackValue.object_name == obj,
                    WritebackValue.record_id.in_(chunk),
                )
            )
            for rid, fields, pending, crm_hash, pulled in rows:
                stored[(obj, rid)] = _StoredValue(dict(fields), bool(pending), crm_hash, pulled)
    return stored


def pending_writeback(session: Session, *, org_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Desired values not yet confirmed written, by (object, record id)."""
    rows = session.execute(
        select(WritebackValue.object_name, WritebackValue.record_id, WritebackValue.fields).where(
            WritebackValue.org_id == org_id, WritebackValue.pending.is_(True)
        )
    )
    return {(obj, rid): dict(fields) for obj, rid, fields in rows}


def settle_writeback(
    session: Session,
    *,
    org_id: str,
    keys: Iterable[tuple[str, str]],
    checked: Mapping[tuple[str, str], str | None] | None = None,
) -> None:
    """Mark records no longer pending (written, equal already, or reported as an issue).

    `checked` gives, for records the diff found already holding their values, the payload
    hash of the pulled record it compared against (kept as `crm_hash`); others get none."""
    found = checked or {}
    rows = [(False, found.get(key), org_id, key[0], key[1]) for key in dict.fromkeys(keys)]
    if not rows:
        return
    # One driver executemany by primary key: a write-back settles up to an ingest job's
    # records at once, and an IN list of 500 ids (or Core's per-row parameters) costs more to
    # build than the UPDATE costs to run.
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"UPDATE {WritebackValue.__tablename__} SET pending = {mark}, crm_hash = {mark} "
        f"WHERE org_id = {mark} AND object_name = {mark} AND record_id = {mark}",
        rows,
    )


def current_crm_records(
    session: Session, *, org_id: str, object_name: str, record_ids: Sequence[str]
) -> dict[str, tuple[dict[str, Any], str | None]]:
    """The last pulled payload of these records and its `payload_hash`; deleted ones left out."""
    wanted = set(record_ids)
    if not wanted:
        return {}
    live = (
        RawRecord.org_id == org_id,
        RawRecord.object_name == object_name,
        RawRecord.is_deleted.is_(False),
    )
    # The payload as stored text, decoded here only for the records asked for.
    text = cast(RawRecord.payload, Text)
    columns = (RawRecord.record_id, text, RawRecord.payload_hash)
    out: dict[str, tuple[dict[str, Any], str | None]] = {}
    if len(wanted) >= _SCAN_AT and len(wanted) * _SCAN_SHARE >= _object_rows(
        session, org_id, object_name
    ):
        # Much of the object (a first full sync writes to every record): one indexed scan of
        # its rows instead of an IN list per 500 ids. A few thousand records of a
        # million-deal org are looked up by id.
        rows = session.execute(select(*columns).where(*live))
        for rid, payload, digest in rows:
            if rid in wanted:
                out[rid] = (orjson.loads(payload), digest)
        return out
    for chunk in _chunks(sorted(wanted)):
        rows = session.execute(select(*columns).where(*live, RawRecord.record_id.in_(chunk)))
        out.update((rid, (orjson.loads(payload), digest)) for rid, payload, digest in rows)
    return out


def _object_rows(session: Session, org_id: str, object_name: str) -> int:
    """How many rows of this object are stored (deleted ones too: counted from the index)."""
    query = select(func.count()).where(
        RawRecord.org_id == org_id, RawRecord.object_name == object_name
    )
    return int(session.execute(query).scalar_one())


def locked_results(
    session: Session, *, org_id: str, rep_ids: Sequence[str], locked: frozenset[str]
) -> list[tuple[str, str, dict[str, Any]]]:
    """(rep, period, result) of the stored results of locked periods for these reps."""
    if not locked:
        return []
    out: list[tuple[str, str, dict[str, Any]]] = []
    for chunk in _chunks(list(rep_ids)):
        rows = session.execute(
            select(PeriodResult.rep_id, PeriodResult.period, PeriodResult.result).where(
                PeriodResult.org_id == org_id,
                PeriodResult.rep_id.in_(chunk),
                PeriodResult.period.in_(locked),
            )
        )
        out.extend((rep, period, dict(result)) for rep, period, result in rows)
    return out


def add_issues(
    session: Session,
    *,
    org_id: str,
    run_id: int,
    stage: str,
    issues: Iterable[tuple[str, str, str | None, str | None, str]],
    now: datetime,
) -> int:
    """Record (object, record id, field, error code, reason) issues as open RecordIssues."""
    rows = [
        {
            "org_id": org_id,
            "run_id": run_id,
            "stage": stage,
            "object_name": obj,
            "record_id": rid,
            "field": field,
            "error_code": code,
            "reason": reason,
            "status": "open",
            "created_at": now,
        }
        for obj, rid, field, code, reason in issues
    ]
    for chunk in _chunks(rows):
        session.execute(insert(RecordIssue), list(chunk))
    return len(rows)


def reconcile_issues(
    session: Session,
    *,
    org_id: str,
    run_id: int,
    stage: str,
    found: Iterable[tuple[str, str, str]],
    examined: Collection[tuple[str, str]] | None,
    now: datetime,
) -> int:
    """Make the open issues of `stage` match what this run found among the records it examined.

    An open issue of an examined record (every record when `examined` is None) that was not
    found again is resolved; a found issue not already open is added. Returns how many new.
    """
    found_set = set(found)
    still_open: set[tuple[str, str, str]] = set()
    query = select(RecordIssue).where(
        RecordIssue.org_id == org_id, RecordIssue.stage == stage, RecordIssue.status == "open"
    )
    for row in session.scalars(query):
        key = (row.object_name, row.record_id or "", row.reason)
        looked = examined is None or (row.object_name, row.record_id or "") in examined
        if looked and key not in found_set:
            row.status, row.resolved_at = "resolved", now
        else:
            still_open.add(key)
    new = sorted(found_set - still_open)
    return add_issues(
        session,
        org_id=org_id,
        run_id=run_id,
        stage=stage,
        issues=[(obj, rid, None, None, reason) for obj, rid, reason in new],
        now=now,
    )


def resolve_issues(
    session: Session, *, org_id: str, stage: str, keys: Iterable[tuple[str, str]], now: datetime
) -> None:
    """Close the open issues of these records at this stage (they were written since)."""
    by_object: dict[str, list[str]] = {}
    for obj, rid in keys:
        by_object.setdefault(obj, []).append(rid)
    for obj, ids in by_object.items():
        for chunk in _chunks(ids):
            session.execute(
                update(RecordIssue)
                .where(
                    RecordIssue.org_id == org_id,
                    RecordIssue.stage == stage,
                    RecordIssue.status == "open",
                    RecordIssue.object_name == obj,
                    RecordIssue.record_id.in_(chunk),
                )
                .values(status="resolved", resolved_at=now)
            )


def commit_calc_run(session: Session, run: CalcRun, *, reps: int, now: datetime) -> None:
    """Mark the calc run committed (its results are then the baseline of the next run)."""
    run.status = "committed"
    run.reps_computed = reps
    run.finished_at = now


def any_changed(session: Session, *, org_id: str, run_ids: set[int]) -> bool:
    """Whether any canonical record changed in one of these runs (indexed lookups)."""
    if not run_ids:
        return False
    ids = sorted(run_ids)
    for table in CANONICAL_TABLES.values():
        found = session.scalar(
            select(table.id).where(table.org_id == org_id, table.changed_run_id.in_(ids)).limit(1)
        )
        if found is not None:
            return True
    return False
