"""The write-back stage: diff the pending desired values against the CRM, write, settle.

Desired values are stored as `pending` with the results, in the same transaction. This stage
diffs them against the values read in the pull (rounded to each field's describe scale),
writes only real differences, and settles each record as its batch returns. A process
killed mid-way leaves the unsettled records pending: the next run pulls the echo of what
was written (now equal, so not written again) and writes the rest.

A process killed between a call Salesforce applied and the commit settling it would leave
records whose values in the store's pull predate that call. So each REST call is journaled
(connector/store/writeback_batches.py) before it is sent and settled with its records; a run
finding one unsettled re-reads its records from Salesforce (one query per batch) and diffs
against those values: what landed is settled and counted as a call made, the rest is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from calc.writeback import NUMERIC_TYPES, FieldTarget, normalise
from connector.salesforce.bulk_writes import send_records
from connector.salesforce.gateway import Gateway
from connector.salesforce.ids import is_id
from connector.salesforce.write_batches import (
    TRANSIENT_CODES,
    BatchOutcome,
    Record,
    WriteOptions,
    read_back,
)
from connector.store.results import SessionFactory
from connector.store.unit import OrgUnit
from connector.sync.collector import fewer_collections
from connector.sync.progress import Progress
from connector.sync.summary import PlannedWrite
from mappings.writeback_rules import FieldKey, is_allowed_target

log = logging.getLogger(__name__)
Key = tuple[str, str]
# How long settled write-back calls stay journaled (a killed run resumes within minutes).
JOURNAL_DAYS = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What the stage did."""

    planned: tuple[PlannedWrite, ...]
    written: int
    calls: int
    issues: int


def field_targets(
    gateway: Gateway, fields: set[tuple[str, str]]
) -> dict[tuple[str, str], FieldTarget]:
    """Describe type and scale of every write-back field (describes are cached)."""
    out: dict[tuple[str, str], FieldTarget] = {}
    for obj in sorted({o for o, _f in fields}):
        described = {str(f["name"]).casefold(): f for f in gateway.describe(obj).get("fields", [])}
        for o, name in fields:
            found = described.get(name.casefold()) if o == obj else None
            if found is not None:
                out[(o, name)] = FieldTarget(
                    o, name, str(found["type"]), int(found.get("scale") or 0)
                )
    return out


def allowed_only(
    pending: Mapping[Key, Mapping[str, Any]], allowed: Collection[FieldKey]
) -> tuple[dict[Key, dict[str, Any]], set[FieldKey]]:
    """Pending values of allow-listed fields only, and the (object, field) pairs dropped.

    Defence in depth: validation keeps such fields out of new mappings, but a mapping stored
    before the allow-list existed may still name one (pure)."""
    kept: dict[Key, dict[str, Any]] = {}
    refused: set[FieldKey] = set()
    checked: dict[FieldKey, bool] = {}  # a few fields over many records
    for (obj, rid), fields in pending.items():
        kept[(obj, rid)] = record = {}
        for field, value in fields.items():
            ok = checked.get((obj, field))
            if ok is None:
                ok = checked[(obj, field)] = is_allowed_target((obj, field), allowed)
            if ok:
                record[field] = value
            else:
                refused.add((obj, field))
    return kept, refused


def plan_writes(
    pending: Mapping[Key, Mapping[str, Any]],
    current: Mapping[Key, Mapping[str, Any]],
    targets: Mapping[tuple[str, str], FieldTarget],
) -> list[tuple[str, str, dict[str, Any]]]:
    """(object, id, fields) to send: only values that differ after rounding (pure).

    The same as folding `diff_writeback` over every pending value with `group_by_record`
    (records in (object, id) order, fields in name order, values as sent), without a
    `Desired` and a `Change` per value: a first full sync diffs every value of the org."""
    norm = {key: _normaliser(target) for key, target in targets.items()}
    grouped: list[tuple[Key, dict[str, Any]]] = []
    for key, fields in pending.items():
        record = current.get(key)
        if record is None:
            continue  # deleted or never pulled: not written
        obj = key[0]
        changed: dict[str, Any] | None = None
        for field, value in fields.items():
            found = norm.get((obj, field))
            if found is None:
                continue  # not a field of the org's describe
            comparable, wire = found
            old = comparable(record.get(field))
            new = comparable(value)
            if old != new:
                if changed is None:
                    changed = {}
                changed[field] = wire(new)
        if changed:
            grouped.append((key, changed))
    grouped.sort(key=lambda item: item[0])
    return [(obj, rid, dict(sorted(fields.items()))) for (obj, rid), fields in grouped]


def _normaliser(target: FieldTarget) -> tuple[Any, Any]:
    """calc.writeback's `normalise` for one target, and `_wire` of its result.

    Numbers take the common path here (a text or float from the store, rounded half up to
    the field's scale); anything else, and any value `normalise` refuses, goes through
    `normalise` itself so the results and errors stay its own."""
    if target.type not in NUMERIC_TYPES:
        return (lambda value: normalise(target, value)), (lambda value: value)
    step = Decimal(1).scaleb(-target.scale)

    def number(value: Any) -> Any:
        if value is None or value == "":
            return None
        kind = type(value)
        if kind is Decimal:
            return value.quantize(step, rounding=ROUND_HALF_UP)
        if kind is str or kind is float or kind is int:
            try:
                return Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)
            except InvalidOperation:
                pass  # not a number: normalise names the field
        return normalise(target, value)

    # JSON numbers for numeric fields (Salesforce rejects "12.50" strings on some APIs).
    if target.type == "int":
        return number, lambda value: None if value is None else int(str(value))
    return number, lambda value: None if value is None else float(str(value))


def _current(unit: OrgUnit, keys: list[Key]) -> tuple[dict[Key, dict[str, Any]], dict[Key, str]]:
    """The pulled payloads of these records, and the hash of each payload."""
    out: dict[Key, dict[str, Any]] = {}
    hashes: dict[Key, str] = {}
    for obj in sorted({o for o, _ in keys}):
        ids = [rid for o, rid in keys if o == obj]
        found = unit.results.current_crm_records(object_name=obj, record_ids=ids)
        for rid, (payload, digest) in found.items():
            out[(obj, rid)] = payload
            if digest is not None:
                hashes[(obj, rid)] = digest
    return out, hashes


def whole_checks(
    keys: Iterable[Key],
    pending: Mapping[Key, Mapping[str, Any]],
    targets: Mapping[tuple[str, str], FieldTarget],
    pulled: Mapping[Key, str],
) -> dict[Key, str]:
    """The pulled payload hash of each record among `keys` whose every pending field was
    compared (allow-listed and in the org's describe), so that a record holding a value the
    diff skipped (a field an admin may allow later) is looked at again (pure)."""
    out: dict[Key, str] = {}
    for key in keys:
        digest = pulled.get(key)
        if digest is not None and all((key[0], f) in targets for f in pending[key]):
            out[key] = digest
    return out


@dataclass(frozen=True, slots=True)
class StoredJournal:
    """The write-back's ingest jobs, remembered in the store until their results are applied
    (connector/store/bulk_jobs.py)."""

    sessions: SessionFactory
    org_id: str
    run_id: int
    now: datetime

    def opened(self, job_id: str, object_name: str) -> None:
        """Remember a job just created."""
        with OrgUnit(self.sessions, self.org_id) as unit:
            unit.bulk_jobs.record_job(
                job_id=job_id, object_name=object_name, run_id=self.run_id, now=self.now
            )
            unit.commit()

    def settled(self, job_id: str) -> None:
        """The job's results were applied."""
        with OrgUnit(self.sessions, self.org_id) as unit:
            unit.bulk_jobs.settle_job(job_id=job_id, now=self.now)
            unit.commit()

    def unsettled(self) -> list[tuple[str, str]]:
        """Jobs opened and not settled, oldest first."""
        with OrgUnit(self.sessions, self.org_id) as unit:
            return unit.bulk_jobs.unsettled_jobs()


@dataclass(frozen=True, slots=True)
class StoredBatchJournal:
    """Each REST write-back call, remembered (committed) in the store before it is sent."""

    sessions: SessionFactory
    org_id: str
    run_id: int
    now: datetime

    def sending(self, batch: Sequence[Record]) -> int:
        """Journal a batch about to be sent: object, record ids and the values sent."""
        with OrgUnit(self.sessions, self.org_id) as unit:
            found = unit.writeback_batches.record_batch(
                run_id=self.run_id,
                object_name=batch[0][0],
                records={rid: dict(values) for _obj, rid, values in batch},
                now=self.now,
            )
            unit.commit()
        return found


@dataclass(frozen=True, slots=True)
class Recovered:
    """What the batches an earlier (killed) attempt left unsettled turned out to be."""

    landed: tuple[tuple[int, tuple[str, ...]], ...]  # batches applied (calls made): ids held
    lost: tuple[int, ...]  # journal ids of batches never applied (killed before sending)
    records: int  # records that hold the values a landed batch sent
    fresh: dict[Key, dict[str, Any]]  # the records' values read back from Salesforce


def recover_batches(
    gateway: Gateway,
    unsettled: Sequence[tuple[int, str, Mapping[str, Mapping[str, Any]]]],
    allowed: Collection[FieldKey],
) -> Recovered:
    """Read back each unsettled batch's records (one SOQL query per batch, allow-listed fields
    and well-formed ids only) and tell the batches that landed from those that did not.

    A record holding every value the batch sent (compared as the diff compares: rounded to
    the field's describe scale) landed; a batch with any such record was applied, so its call
    counts as made. A record that differs was either never written or changed in Salesforce
    since; either way the fresh values are what the diff must compare against."""
    landed: list[tuple[int, tuple[str, ...]]] = []
    lost: list[int] = []
    held = 0
    fresh: dict[Key, dict[str, Any]] = {}
    for batch_id, obj, records in unsettled:
        sent = {
            rid: {f: v for f, v in values.items() if is_allowed_target((obj, f), allowed)}
            for rid, values in records.items()
            if is_id(rid)
        }
        fields = sorted({f for values in sent.values() for f in values})
        if not fields:
            lost.append(batch_id)
            continue
        targets = field_targets(gateway, {(obj, f) for f in fields})
        if not targets:
            lost.append(batch_id)
            continue
        read = read_back(gateway, obj, sorted(sent), fields)
        now_there = {(obj, rid): values for rid, values in read.items()}
        fresh.update(now_there)
        was_sent = {(obj, rid): values for rid, values in sent.items()}
        differ = {(o, r) for o, r, _f in plan_writes(was_sent, now_there, targets)}
        holding = [rid for rid in sent if (obj, rid) in now_there and (obj, rid) not in differ]
        held += len(holding)
        if holding:
            landed.append((batch_id, tuple(holding)))
        else:
            lost.append(batch_id)
    return Recovered(tuple(landed), tuple(lost), held, fresh)


@fewer_collections()
def run_writeback(
    gateway: Gateway,
    sessions: SessionFactory,
    *,
    org_id: str,
    run_id: int,
    named: Collection[FieldKey] = (),
    overrides: Mapping[Key, Mapping[str, Any]] | None,
    dry_run: bool,
    options: WriteOptions,
    progress: Progress,
    now: datetime,
) -> WriteResult:
    """Diff, then write (or, dry run, only report) every pending record. Fields not on the
    allow-list are never written: those the active mapping names (`named`) or pending values
    carry are reported, one open issue per field, for as long as they are."""
    with OrgUnit(sessions, org_id) as unit:
        pending: dict[Key, Mapping[str, Any]] = dict(unit.results.pending_writeback())
        allowed = unit.writeback_fields.allowed_fields()
    pending.update(overrides or {})
    to_write, refused = allowed_only(pending, allowed)
    refused |= {key for key in named if not is_allowed_target(key, allowed)}
    if not dry_run:
        with OrgUnit(sessions, org_id) as unit:
            unit.writeback_fields.reconcile_refusals(run_id=run_id, refused=refused, now=now)
            unit.commit()
    targets = field_targets(
        gateway, {(o, f) for (o, _r), fields in to_write.items() for f in fields}
    )
    with OrgUnit(sessions, org_id) as unit:
        current, pulled = _current(unit, list(to_write))
        # The records with an open write-back issue: only theirs can be resolved (an
        # UPDATE per 500 written records, most of them never failed, costs a scan each).
        open_issues = {
            (i.object_name, i.record_id)
            for i in unit.issues.open_issues(stage="writeback")
            if i.record_id is not None
        }
        unsettled = [] if dry_run else unit.writeback_batches.unsettled_batches()
        # Calls an earlier attempt of this run made and settled (its counts were never
        # recorded: it was killed before finishing).
        earlier_calls = 0 if dry_run else unit.writeback_batches.calls_made(run_id=run_id)
        # A resumed run does not pull again: its pages predate what its earlier attempts
        # wrote, so those values are taken as the CRM's (the calculation pends them again).
        earlier = [] if dry_run else unit.writeback_batches.written_by_run(run_id=run_id)
    for obj, written in earlier:
        for rid, values in written.items():
            if (obj, rid) in current:
                current[(obj, rid)] = {**current[(obj, rid)], **values}
                pulled.pop((obj, rid), None)  # compared against more than the pulled payload
    recovered = recover_batches(gateway, unsettled, allowed)
    if unsettled:
        log.warning(
            "org %s run %s: %d write-back call(s) left unsettled by a killed run: %d landed "
            "(%d records already hold the values sent), %d not",
            org_id,
            run_id,
            len(unsettled),
            len(recovered.landed),
            recovered.records,
            len(recovered.lost),
        )
    for key, values in recovered.fresh.items():
        if key in current:
            current[key] = {**current[key], **values}
            pulled.pop(key, None)
    records = plan_writes(to_write, current, targets)
    planned = tuple(PlannedWrite(o, r, dict(f)) for o, r, f in records)
    if dry_run:
        return WriteResult(planned, 0, 0, len(refused))
    to_send = {(o, r) for o, r, _f in records}
    already_there = [k for k in to_write if k not in to_send]
    checked = whole_checks(already_there, pending, targets, pulled)
    with OrgUnit(sessions, org_id) as unit:
        # Found holding their values in the payload as pulled: while that payload and the
        # values stay, an incremental store need not mark them pending again.
        unit.results.settle_writeback(keys=already_there, checked=checked)
        # In the same commit: a landed batch's call is counted once, for this run.
        for batch_id, holding in recovered.landed:
            unit.writeback_batches.keep_written(batch_id=batch_id, written=holding)
        unit.writeback_batches.settle_batches(
            ids=[b for b, _held in recovered.landed], counted_run_id=run_id, made=True, now=now
        )
        unit.writeback_batches.settle_batches(
            ids=recovered.lost, counted_run_id=run_id, made=False, now=now
        )
        unit.writeback_batches.prune_settled(before=now - JOURNAL_DAYS)
        # The CRM already holds what we want (someone fixed the record, or a retried value
        # was written meanwhile): a write-back issue about it is over.
        unit.issues.resolve_issues(
            stage="writeback", keys=[k for k in already_there if k in open_issues], now=now
        )
        unit.commit()
    done = 0

    def settle(outcome: BatchOutcome) -> None:
        nonlocal done
        issues = [
            (i.object_name, i.record_id, i.field, i.error_code, i.message) for i in outcome.issues
        ]
        # A record still locked after every retry stays pending, so the next run (not only
        # the nightly full reconcile) writes it; a permanent failure is settled as an issue.
        final = [(i[0], i[1]) for i in issues if i[3] not in TRANSIENT_CODES]
        issue_keys = [(i[0], i[1]) for i in issues]
        with OrgUnit(sessions, org_id) as unit:
            unit.results.settle_writeback(keys=[*outcome.written, *final])
            # One open issue per record: an older one for the same record is superseded.
            resolved = [k for k in (*outcome.written, *issue_keys) if k in open_issues]
            unit.issues.resolve_issues(stage="writeback", keys=resolved, now=now)
            unit.issues.add_issues(run_id=run_id, stage="writeback", issues=issues, now=now)
            open_issues.update(issue_keys)
            if outcome.journal_id is not None:
                unit.writeback_batches.keep_written(
                    batch_id=outcome.journal_id, written=[rid for _o, rid in outcome.written]
                )
                unit.writeback_batches.settle_batches(
                    ids=[outcome.journal_id], counted_run_id=run_id, made=True, now=now
                )
            unit.commit()
        done += len(outcome.written) + len(issues)
        progress.advance(done, len(records))

    # Many records of one object go through a Bulk API 2.0 ingest job, the rest 200 a call.
    journal = StoredJournal(sessions, org_id=org_id, run_id=run_id, now=now)
    stats = send_records(
        gateway,
        records,
        options=options,
        on_batch=settle,
        journal=journal,
        batch_journal=StoredBatchJournal(sessions, org_id=org_id, run_id=run_id, now=now),
    )
    return WriteResult(
        planned,
        stats.written + recovered.records,
        earlier_calls + len(recovered.landed) + stats.calls,
        len(stats.issues) + len(refused),
    )
