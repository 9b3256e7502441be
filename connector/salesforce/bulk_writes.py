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
processed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from connector.salesforce.bulk import BulkJobs, JobInfo
from connector.salesforce.bulk_csv import NULL_MARKER, ingest_cell, ingest_csv, reader
from connector.salesforce.bulk_csv import parse_value as _parse_value
from connector.salesforce.errors import BulkJobTimeout
from connector.salesforce.gateway import Gateway
from connector.salesforce.write_batches import (
    TRANSIENT_CODES,
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
# Jobs finished this long before the run began count as earlier jobs too (clock skew, and
# the pull reads only up to the run's start second).
EARLIER_JOB_MARGIN = timedelta(minutes=2)
Key = tuple[str, str]


def parse_datetime(text: str) -> datetime:
    """A job's systemModstamp as an aware datetime (ValueError if it is not one)."""
    value = _parse_value("datetime", text)
    if not isinstance(value, datetime):
        raise ValueError(f"not a datetime: {text!r}")
    return value


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """What one ingest job settled, and the records to send again through REST."""

    outcome: BatchOutcome
    again: tuple[Record, ...]
    unaccounted: int  # in no result list: left pending


def send_records(
    gateway: Gateway,
    records: Sequence[Record],
    *,
    options: WriteOptions | None = None,
    on_batch: OnBatch | None = None,
    since: datetime | None = None,
) -> WriteStats:
    """Write every record: objects at or above the ingest threshold through Bulk API 2.0
    ingest jobs, the rest (and what a job sends back) through sObject Collections.

    `since` is when the run began: with the Bulk path on, ingest jobs of ours still running
    or finished after it (a run killed, or one that gave up on a stuck job) are waited for
    first, and what they wrote is not sent again (`finish_earlier_jobs`)."""
    options = options or WriteOptions()
    bulk = gateway.options.bulk
    calls_before = gateway.calls
    stats = WriteStats()
    if records and bulk is not None and bulk.ingest_threshold > 0:
        records, settled = finish_earlier_jobs(BulkJobs(gateway), records, since=since)
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
            done = run_ingest_job(BulkJobs(gateway), object_name, part, data)
            stats.written += len(done.outcome.written)
            stats.issues.extend(done.outcome.issues)
            stats.retried += len(done.again)
            if on_batch is not None:
                on_batch(done.outcome)
            through_rest.extend(done.again)
    rest = write_records(gateway, through_rest, options=options, on_batch=on_batch)
    stats.written += rest.written
    stats.issues.extend(rest.issues)
    stats.retried += rest.retried
    stats.calls = gateway.calls - calls_before
    return stats


def finish_earlier_jobs(
    jobs: BulkJobs, records: Sequence[Record], *, since: datetime | None
) -> tuple[list[Record], tuple[Key, ...]]:
    """(the records still to send, the records already written) once the ingest jobs this
    integration user left behind are done.

    A job survives the process that closed it: a clock killed mid-job, or a run that gave up
    on a stuck job, leaves it writing. Its writes may postdate this run's pull, whose values
    the diff used, so the values a job wrote are taken as the CRM's: a field it already set
    to the wanted value is not sent again. A job never closed (still Open) processed
    nothing and is aborted. One still running past QUOTAFLOW_BULK_TIMEOUT fails the stage
    (BulkJobTimeout) with every record pending, rather than write beside it."""
    objects = {obj for obj, _rid, _values in records}
    me = jobs.gateway.user_id()[:15]
    cutoff = None if since is None else since - EARLIER_JOB_MARGIN
    earlier = sorted(
        (
            job
            for job in jobs.list_jobs("ingest")
            if job.created_by[:15] == me
            and job.object in objects
            and (not job.done or (cutoff is not None and _finished_after(job, cutoff)))
        ),
        key=lambda job: (job.modstamp, job.id),
    )
    written: dict[Key, dict[str, str]] = {}
    for job in earlier:
        if job.state == "Open":
            jobs.abort("ingest", job.id)
            continue
        if not job.done:
            log.warning("waiting for Bulk API ingest job %s left by an earlier run", job.id)
            jobs.wait("ingest", job.id)
        for rid, set_cells in _written_cells(jobs.ingest_results(job.id, "successfulResults")):
            written.setdefault((job.object, rid), {}).update(set_cells)
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


def _finished_after(job: JobInfo, cutoff: datetime) -> bool:
    try:
        return parse_datetime(job.modstamp) >= cutoff
    except ValueError:
        return True  # an unreadable stamp: read the job's results rather than guess


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
    jobs: BulkJobs, object_name: str, records: Sequence[Record], data: bytes
) -> JobOutcome:
    """Upload `data` (the records' CSV), close and poll one update job; sort the records by
    what the job reports."""
    job_id = jobs.create_ingest(object_name)
    jobs.upload(job_id, data)
    jobs.close(job_id)
    try:
        info = jobs.wait("ingest", job_id)
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
    return JobOutcome(BatchOutcome(tuple(written), tuple(issues)), tuple(again), unaccounted)


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
