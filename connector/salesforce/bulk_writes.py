"""Write-back through Bulk API 2.0 ingest jobs for objects with many records to write.

`send_records` is the write-back's one send call. Per object, at or above
`QUOTAFLOW_BULK_WRITE_THRESHOLD` records, it uploads one `update` job (CSV: `Id` and the
fields; an empty cell leaves a field as it is, `#N/A` sets it to null), closes it, polls it,
and reads its three result lists:
- `successfulResults`: written, settled;
- `failedResults`: Salesforce's `sf__Error` (`CODE:message:fields --`) becomes a write issue
  carrying that message, except `UNABLE_TO_LOCK_ROW`, which is sent again through REST (the
  lock retries of `write_batches`);
- `unprocessedrecords` (a job that failed or was aborted part-way): never written, so sent
  again through REST.
A record in none of the three lists is left pending: the next run's pull shows whether it
was written, and the diff writes it only if it was not. A job still running past
`QUOTAFLOW_BULK_TIMEOUT` is aborted; once it stops, its lists are read as above. One that does
not stop within the grace period fails the stage with its records pending. Nothing is ever
sent twice: a record goes to REST only when a job reported it failed as locked or never
processed; and a job outlives the process that closed it, so each job is journaled (the
store, `connector/store/bulk_jobs.py`) from creation until its results are applied, and a
write-back first finishes the jobs an earlier run left unsettled and does not send again what
they wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from connector.salesforce.bulk import BulkJobs
from connector.salesforce.bulk_csv import NULL_MARKER, ingest_cell, ingest_csv, reader
from connector.salesforce.errors import BulkJobTimeout, SalesforceApiError
from connector.salesforce.gateway import Gateway
from connector.salesforce.write_batches import (
    TRANSIENT_CODES,
    BatchJournal,
    BatchOutcome,
    OnBatch,
    Record,
    WriteIssue,
    WriteOptions,
    WriteStats,
    write_records,
)

log = logging.getLogger(__name__)
# Bulk API 2.0 takes at most 100 MB of CSV per job; stay well under it.
MAX_UPLOAD_BYTES = 80 * 1024 * 1024
Key = tuple[str, str]


class JobJournal(Protocol):
    """Where a write-back remembers its ingest jobs (the store, in the sync stage)."""

    def opened(self, job_id: str, object_name: str) -> None:
        """A job was just created: remember it before any data is uploaded."""

    def settled(self, job_id: str) -> None:
        """The job's results were read and applied."""

    def unsettled(self) -> list[tuple[str, str]]:
        """(job id, object) of the jobs opened and not settled, oldest first."""


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """What one ingest job settled, and the records to send again through REST."""

    job_id: str
    outcome: BatchOutcome
    again: tuple[Record, ...]
    unaccounted: int  # in no result list: left pending


def send_records(
    gateway: Gateway,
    records: Sequence[Record],
    *,
    options: WriteOptions | None = None,
    on_batch: OnBatch | None = None,
    journal: JobJournal | None = None,
    batch_journal: BatchJournal | None = None,
) -> WriteStats:
    """Write every record: objects at or above the ingest threshold through Bulk API 2.0
    ingest jobs, the rest (and what a job sends back) through sObject Collections.

    `journal` remembers the jobs opened until their results are applied: jobs an earlier
    run left unsettled (killed, or gave up on a stuck job) are finished first, and what they
    wrote is not sent again (`finish_earlier_jobs`). `batch_journal` remembers each REST call
    before it is sent (connector.salesforce.write_batches)."""
    options = options or WriteOptions()
    bulk = gateway.options.bulk
    calls_before = gateway.calls
    stats = WriteStats()
    earlier = journal.unsettled() if journal is not None and records else []
    if earlier and journal is not None:
        records, settled = finish_earlier_jobs(BulkJobs(gateway), records, earlier, journal)
        if settled:
            stats.written += len(settled)
            if on_batch is not None:
                on_batch(BatchOutcome(settled, ()))
    by_object: dict[str, list[Record]] = {}
    for record in records:
        by_object.setdefault(record[0], []).append(record)
    through_rest: list[Record] = []
    for object_name, group in by_object.items():
        bulky = [r for r in group if _bulk_safe(r)]
        if bulk is None or not bulk.use_ingest(len(bulky)):
            through_rest.extend(group)
            continue
        through_rest.extend(r for r in group if not _bulk_safe(r))
        for part, data in _uploads(bulky):
            done = run_ingest_job(BulkJobs(gateway), object_name, part, data, journal=journal)
            stats.written += len(done.outcome.written)
            stats.issues.extend(done.outcome.issues)
            stats.retried += len(done.again)
            if on_batch is not None:
                on_batch(done.outcome)
            if journal is not None:
                journal.settled(done.job_id)
            through_rest.extend(done.again)
    rest = write_records(
        gateway, through_rest, options=options, on_batch=on_batch, journal=batch_journal
    )
    stats.written += rest.written
    stats.issues.extend(rest.issues)
    stats.retried += rest.retried
    stats.calls = gateway.calls - calls_before
    return stats


def finish_earlier_jobs(
    jobs: BulkJobs,
    records: Sequence[Record],
    earlier: Sequence[tuple[str, str]],
    journal: JobJournal,
) -> tuple[list[Record], tuple[Key, ...]]:
    """(the records still to send, the records already written) once the `earlier` jobs
    (job id, object) an earlier run left unsettled are done.

    Their writes may postdate this run's pull, whose values the diff used, so the values a
    job wrote are taken as the CRM's: a field it already set to the wanted value is not sent
    again. A job never closed (still Open) processed nothing and is aborted; one Salesforce
    no longer holds (404, after seven days) wrote long before this run's pull. One still
    running past QUOTAFLOW_BULK_TIMEOUT fails the stage (BulkJobTimeout) with every record
    pending, rather than write beside it."""
    written: dict[Key, dict[str, str]] = {}
    for job_id, object_name in earlier:
        try:
            info = jobs.info("ingest", job_id)
        except SalesforceApiError as exc:
            if exc.status != 404:
                raise
            journal.settled(job_id)
            continue
        if info.state == "Open":
            jobs.abort("ingest", job_id)
        else:
            if not info.done:
                log.warning("waiting for Bulk API ingest job %s left by an earlier run", job_id)
                jobs.wait("ingest", job_id)
            results = jobs.ingest_results(job_id, "successfulResults")
            for rid, cells in _written_cells(results):
                written.setdefault((object_name, rid), {}).update(cells)
        journal.settled(job_id)
    keep: list[Record] = []
    settled: list[Key] = []
    for obj, rid, values in records:
        cells = written.get((obj, rid), {})
        left = {f: v for f, v in values.items() if cells.get(f) != ingest_cell(v)}
        if left:
            keep.append((obj, rid, left))
        else:
            settled.append((obj, rid))
    return keep, tuple(settled)


def _written_cells(text: str) -> Iterable[tuple[str, dict[str, str]]]:
    """(uploaded Id, {field: cell}) of each row of a successfulResults list."""
    rows = reader(text)
    header = next(rows, None)
    if header is None or "Id" not in header:
        return
    fields = [(n, name) for n, name in enumerate(header) if not name.startswith("sf__")]
    at = header.index("Id")
    for row in rows:
        if len(row) == len(header):
            yield row[at], {name: row[n] for n, name in fields if name != "Id" and row[n] != ""}


def _bulk_safe(record: Record) -> bool:
    # A text value that is literally #N/A would be read by Bulk API as null: REST writes it.
    return not any(value == NULL_MARKER for value in record[2].values())


def _header(records: Sequence[Record]) -> list[str]:
    fields = sorted({f for _o, _r, values in records for f in values if f != "Id"})
    return ["Id", *fields]


def _rows(records: Sequence[Record], header: Sequence[str]) -> list[list[str]]:
    # An empty cell leaves the field as it is: a record sets only its own fields.
    return [
        [rid, *(ingest_cell(values[f]) if f in values else "" for f in header[1:])]
        for _o, rid, values in records
    ]


def _uploads(records: Sequence[Record]) -> Iterable[tuple[Sequence[Record], bytes]]:
    """The records cut into uploads under the per-job size limit, with their CSV."""
    header = _header(records)
    data = ingest_csv(header, _rows(records, header))
    if len(data) <= MAX_UPLOAD_BYTES or len(records) < 2:
        yield records, data
        return
    half = len(records) // 2
    yield from _uploads(records[:half])
    yield from _uploads(records[half:])


def run_ingest_job(
    jobs: BulkJobs,
    object_name: str,
    records: Sequence[Record],
    data: bytes,
    *,
    journal: JobJournal | None = None,
) -> JobOutcome:
    """Upload `data` (the records' CSV), close and poll one update job; sort the records by
    what the job reports."""
    job_id = jobs.create_ingest(object_name)
    if journal is not None:
        journal.opened(job_id, object_name)
    jobs.upload(job_id, data)
    jobs.close(job_id)
    try:
        info = jobs.wait("ingest", job_id, rows=len(records))
    except BulkJobTimeout:
        jobs.abort("ingest", job_id)
        # An aborted job stops after the chunk it is writing; its lists then say what it did.
        info = jobs.wait("ingest", job_id, seconds=jobs.options.abort_grace_seconds)
    if info.state != "JobComplete":
        log.warning(
            "Bulk API ingest job %s on %s ended %s: %s",
            job_id,
            object_name,
            info.state,
            info.error_message or "no message",
        )
    if info.state == "JobComplete" and info.failed == 0 and info.processed == len(records):
        # Salesforce's own counts say every row was processed and none failed: every record
        # was written, and the three lists (the largest, successfulResults, holds every row)
        # would say nothing more.
        written = tuple((obj, rid) for obj, rid, _values in records)
        return JobOutcome(job_id, BatchOutcome(written, ()), (), 0)
    return _sort(jobs, job_id, records)


def _sort(jobs: BulkJobs, job_id: str, records: Sequence[Record]) -> JobOutcome:
    by_id = {rid: (obj, rid, values) for obj, rid, values in records}
    written: list[tuple[str, str]] = []
    issues: list[WriteIssue] = []
    again: list[Record] = []
    seen: set[str] = set()
    for rid, _error in _result_ids(jobs.ingest_results(job_id, "successfulResults")):
        if rid in by_id and rid not in seen:
            seen.add(rid)
            written.append((by_id[rid][0], rid))
    for rid, error in _result_ids(jobs.ingest_results(job_id, "failedResults")):
        if rid in by_id and rid not in seen:
            seen.add(rid)
            code, message, fields = parse_error(error)
            if code in TRANSIENT_CODES:
                again.append(by_id[rid])
            else:
                obj = by_id[rid][0]
                issues.append(WriteIssue(obj, rid, fields[0] if fields else None, code, message))
    for rid, _error in _result_ids(jobs.ingest_results(job_id, "unprocessedrecords")):
        if rid in by_id and rid not in seen:
            seen.add(rid)
            again.append(by_id[rid])
    unaccounted = len(by_id) - len(seen)
    if unaccounted:
        log.warning(
            "Bulk API ingest job %s: %d records in no result list stay pending", job_id, unaccounted
        )
    return JobOutcome(
        job_id, BatchOutcome(tuple(written), tuple(issues)), tuple(again), unaccounted
    )


def _result_ids(text: str) -> Iterable[tuple[str, str]]:
    """(the uploaded Id, sf__Error or "") of each row of a result list."""
    rows = reader(text)
    header = next(rows, None)
    if header is None:
        return
    # The uploaded Id column is what we sent; sf__Id is Salesforce's (18-character) form.
    at = header.index("Id") if "Id" in header else header.index("sf__Id")
    error_at = header.index("sf__Error") if "sf__Error" in header else None
    for row in rows:
        if len(row) == len(header):
            yield row[at], row[error_at] if error_at is not None else ""


def parse_error(text: str) -> tuple[str, str, tuple[str, ...]]:
    """`sf__Error` (`STATUS_CODE:message:fields --`) as (code, message, fields)."""
    body = text.strip()
    if body.endswith("--"):
        body = body[:-2].rstrip()
    code, sep, rest = body.partition(":")
    if not sep or not code or not code.replace("_", "").isalnum() or code.upper() != code:
        return (
            "UNKNOWN_ERROR",
            text.strip() or "Salesforce reported a failure without a message",
            (),
        )
    message, sep, fields = rest.rpartition(":")
    if not sep:
        return code, rest.strip(), ()
    names = tuple(f.strip() for f in fields.split(",") if f.strip())
    return code, message.strip(), names
