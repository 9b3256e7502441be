"""The pull's Bulk API 2.0 path: one query job for an object expected to return many rows.

The REST query's first page says how many rows the pull will read (`totalSize`); at or above
`QUOTAFLOW_BULK_THRESHOLD`, that page is stored and the rest is read through a `queryAll`
query job with the same SOQL from the committed watermark (`SystemModstamp >=`, so rows at
the page's last stamp come again and are dropped as already stored). The job's CSV result
sets are read by `Sforce-Locator` and stored in pages of `PAGE_ROWS`, each with its
watermark in the transaction of its rows, exactly as REST pages are: a crash resumes at the
last committed page, nothing is missed or stored twice.

A job that fails, does not finish before `QUOTAFLOW_BULK_TIMEOUT` (it is aborted), returns
results out of order, or returns CSV that does not read as its fields' types is abandoned:
`BulkFallback` tells the puller to read the rest through REST from the committed watermark.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from connector.pull.changes import parse_modstamp
from connector.pull.result import ObjectCounts
from connector.pull.specs import ObjectSpec
from connector.salesforce.bulk import BulkJobs, ResultSet
from connector.salesforce.bulk_csv import BulkCsvError, rest_rows
from connector.salesforce.errors import (
    BulkJobFailed,
    BulkJobTimeout,
    SalesforceApiError,
)
from connector.salesforce.gateway import Gateway, QueryPage
from connector.salesforce.soql import incremental_query

PAGE_ROWS = 10_000  # rows stored as one page (one watermark each)
StorePage = Callable[[QueryPage, ObjectCounts], ObjectCounts]


class BulkFallback(Exception):
    """The query job was abandoned (the reason is the message); read on through REST from
    `resume`: the stamp of the last row stored, or where the job started when its results
    came out of order (a stored page may then have passed rows not yet seen)."""

    def __init__(self, reason: str, *, resume: datetime | None, counts: ObjectCounts) -> None:
        super().__init__(reason)
        self.resume = resume
        self.counts = counts.plus(bulk_fallbacks=1)


class _OutOfOrder(BulkCsvError):
    pass


class _Position:
    """The stamp of the last row stored so far, and the counts so far."""

    def __init__(self, since: datetime | None, counts: ObjectCounts) -> None:
        self.stamp = since
        self.counts = counts


def wants_bulk(gateway: Gateway, first: QueryPage) -> bool:
    """Whether a pull whose REST query answered `first` reads the rest through a query job:
    more pages follow and `totalSize` reaches the threshold."""
    options = gateway.options.bulk
    return (
        first.next_url is not None and options is not None and options.use_query(first.total_size)
    )


def read_bulk(
    gateway: Gateway,
    spec: ObjectSpec,
    fields: Sequence[str],
    types: Mapping[str, str],
    *,
    since: datetime | None,
    until: datetime,
    counts: ObjectCounts,
    store: StorePage,
) -> ObjectCounts:
    """Read `spec`'s rows from `since` to `until` through one query job and store them page by
    page; raises BulkFallback when the job cannot be used (pages stored so far stay)."""
    jobs = BulkJobs(gateway)
    soql = incremental_query(spec.name, fields, since=since, until=until)
    job_id: str | None = None
    position = _Position(since, counts)
    try:
        job_id = jobs.create_query(soql, include_deleted=True)
        position.counts = counts.plus(bulk_jobs=1)
        info = jobs.wait("query", job_id)
        if info.state != "JobComplete":
            raise BulkJobFailed(
                f"Bulk API query job {job_id} ended {info.state}: "
                f"{info.error_message or 'no message'}"
            )
        return _read_results(jobs, job_id, spec, fields, types, store, position)
    except BulkJobTimeout as exc:
        if job_id is not None:
            _abort_quietly(jobs, job_id)
        raise BulkFallback(str(exc), resume=position.stamp, counts=position.counts) from exc
    except _OutOfOrder as exc:
        raise BulkFallback(str(exc), resume=since, counts=position.counts) from exc
    except (BulkJobFailed, BulkCsvError, SalesforceApiError) as exc:
        # SalesforceApiError here is a refusal of the job itself (an object Bulk API cannot
        # query, a job Salesforce no longer holds, a locator it does not know): REST can
        # still read the rows. Quota and authentication failures are not caught.
        raise BulkFallback(
            f"{type(exc).__name__}: {exc}", resume=position.stamp, counts=position.counts
        ) from exc


def _abort_quietly(jobs: BulkJobs, job_id: str) -> None:
    # The job is abandoned either way; Salesforce deletes it after seven days.
    with contextlib.suppress(SalesforceApiError):
        jobs.abort("query", job_id)


def _read_results(
    jobs: BulkJobs,
    job_id: str,
    spec: ObjectSpec,
    fields: Sequence[str],
    types: Mapping[str, str],
    store: StorePage,
    position: _Position,
) -> ObjectCounts:
    wanted = {f.casefold() for f in fields}
    previous: tuple[datetime, str] | None = None
    row = 1
    with ThreadPoolExecutor(1, "bulk-results") as fetcher:
        ahead = fetcher.submit(jobs.results, job_id, None)
        while True:
            results = ahead.result()
            if results.locator is not None:
                # The next result set is downloaded while this one is stored.
                ahead = fetcher.submit(jobs.results, job_id, results.locator)
            row, previous = _store_set(
                results, row, previous, job_id, spec, wanted, types, store, position
            )
            if results.locator is None:
                return position.counts


def _store_set(
    results: ResultSet,
    row: int,
    previous: tuple[datetime, str] | None,
    job_id: str,
    spec: ObjectSpec,
    wanted: set[str],
    types: Mapping[str, str],
    store: StorePage,
    position: _Position,
) -> tuple[int, tuple[datetime, str] | None]:
    """Check one result set and store it in pages; the next row number and last key."""
    header, records = rest_rows(results.text, types, first_row=row)
    if records and {h.casefold() for h in header} != wanted:
        raise BulkCsvError(
            f"query job {job_id}: columns {', '.join(header)} are not the fields selected"
        )
    if len(records) != results.count:
        raise BulkCsvError(
            f"query job {job_id}: {len(records)} rows read, Sforce-NumberOfRecords says "
            f"{results.count}"
        )
    row += len(records)
    previous = _check_order(records, spec, previous, job_id)
    for start in range(0, len(records), PAGE_ROWS):
        chunk = records[start : start + PAGE_ROWS]
        position.counts = store(QueryPage(chunk, None, len(records)), position.counts)
        position.stamp = parse_modstamp(chunk[-1][spec.replication_key])
    return row, previous


def _check_order(
    records: Sequence[Mapping[str, Any]],
    spec: ObjectSpec,
    previous: tuple[datetime, str] | None,
    job_id: str,
) -> tuple[datetime, str] | None:
    """The watermark of each page is its last row, so rows must come ordered by
    SystemModstamp, Id (the query's ORDER BY); a set that is not is refused before any of
    it is stored."""
    for record in records:
        key = (
            parse_modstamp(record[spec.replication_key]),
            str(record[spec.primary_key]),
        )
        if previous is not None and key < previous:
            raise _OutOfOrder(
                f"query job {job_id}: results not ordered by {spec.replication_key}, Id at {key[1]}"
            )
        previous = key
    return previous
