"""Write-back batches and lock retries: records cut into calls, locked rows sent again.

The one home of batching and retrying writes. The diff (calc.writeback) decides what to
write, connector.salesforce.writes makes one call, and the sync's write-back stage
(connector.sync.writeback_stage) settles what this module reports. Records go out
200 a call with `allOrNone=false`, so one bad record never blocks the others, and each call
carries one object type: Salesforce refuses a call that writes a Setup object (User) together
with any other type, and processes at most 10 type chunks per call. Salesforce's
per-record failures are sorted into two kinds:
- `UNABLE_TO_LOCK_ROW` (another transaction holds the row, e.g. a trigger or a data load on
  the same Account) is transient: the record is sent again after a backoff, a bounded number
  of times, then reported;
- everything else (validation rules, `ENTITY_IS_DELETED`, restricted picklists, field
  permissions) is permanent: sending it again cannot succeed, so it becomes a RecordIssue
  carrying Salesforce's own message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from connector.salesforce.gateway import Gateway
from connector.salesforce.ids import normalize_id
from connector.salesforce.retry import RetryPolicy
from connector.salesforce.soql import fields_by_ids_query
from connector.salesforce.writes import MAX_COLLECTION, SaveResult, update_collection

TRANSIENT_CODES = frozenset({"UNABLE_TO_LOCK_ROW"})
Record = tuple[str, str, Mapping[str, Any]]  # (object, id, fields to set)
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class WriteIssue:
    """A record Salesforce would not update, with its error code and message."""

    object_name: str
    record_id: str
    field: str | None
    error_code: str
    message: str


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one call settled: records written and records given up on."""

    written: tuple[Key, ...]
    issues: tuple[WriteIssue, ...]
    # The call's entry in the batch journal, to settle together with its records.
    journal_id: int | None = None


@dataclass
class WriteStats:
    """Totals of one write-back."""

    calls: int = 0
    written: int = 0
    retried: int = 0
    issues: list[WriteIssue] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """Batch size and lock-retry budget."""

    batch_size: int = MAX_COLLECTION
    lock_attempts: int = 4  # tries per record, the first included
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(base_seconds=0.2, cap_seconds=5))


OnBatch = Callable[[BatchOutcome], None]


class BatchJournal(Protocol):
    """Where a write-back remembers each call before sending it (the store, in the sync stage)."""

    def sending(self, batch: Sequence[Record]) -> int:
        """Remember (durably) a batch about to be sent; its journal id."""


def _issue(record: Record, result: SaveResult, *, attempts: int | None = None) -> WriteIssue:
    error = result.errors[0] if result.errors else None
    code = error.code if error else "UNKNOWN_ERROR"
    message = error.message if error else "Salesforce reported a failure without a message"
    if attempts is not None:
        message = f"{message} (still locked after {attempts} attempts)"
    fields = error.fields if error and error.fields else ()
    return WriteIssue(record[0], record[1], fields[0] if fields else None, code, message)


def _transient(result: SaveResult) -> bool:
    return bool(result.errors) and all(e.code in TRANSIENT_CODES for e in result.errors)


def _send(
    gateway: Gateway, batch: Sequence[Record], attempt: int, options: WriteOptions
) -> tuple[BatchOutcome, list[Record]]:
    results = update_collection(gateway, batch, all_or_none=False)
    written: list[Key] = []
    issues: list[WriteIssue] = []
    again: list[Record] = []
    for record, result in zip(batch, results, strict=True):
        if result.success:
            written.append((record[0], record[1]))
        elif _transient(result) and attempt < options.lock_attempts:
            again.append(record)
        elif _transient(result):
            issues.append(_issue(record, result, attempts=attempt))
        else:
            issues.append(_issue(record, result))
    return BatchOutcome(tuple(written), tuple(issues)), again


def read_back(
    gateway: Gateway, object_name: str, ids: Sequence[str], fields: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The records' current values of `fields`, by id as given (one SOQL query; deleted
    records are not returned)."""
    wanted = {normalize_id(i): i for i in ids}
    soql = fields_by_ids_query(object_name, fields, list(wanted))
    page = gateway.query(soql, include_deleted=False)
    rows = list(page.records)
    while page.next_url is not None:
        page = gateway.query_more(page.next_url)
        rows.extend(page.records)
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        rid = wanted.get(normalize_id(str(row.get("Id"))))
        if rid is not None:
            # Salesforce answers with each field's own API name, whatever case was asked.
            by_name = {str(k).casefold(): v for k, v in row.items()}
            out[rid] = {f: by_name.get(f.casefold()) for f in fields}
    return out


def batches(records: Sequence[Record], size: int) -> list[list[Record]]:
    """Records cut into calls of at most `size`, each of one object type (in first-seen order)."""
    by_object: dict[str, list[Record]] = {}
    for record in records:
        by_object.setdefault(record[0], []).append(record)
    return [
        group[start : start + size]
        for group in by_object.values()
        for start in range(0, len(group), size)
    ]


def write_records(
    gateway: Gateway,
    records: Sequence[Record],
    *,
    options: WriteOptions | None = None,
    on_batch: OnBatch | None = None,
    journal: BatchJournal | None = None,
) -> WriteStats:
    """Write every record; `on_batch` is told after each call (to commit progress).

    `journal` remembers each call before it is sent: the outcome handed to `on_batch` carries
    its journal id, to be settled in the same commit as the records."""
    options = options or WriteOptions()
    stats = WriteStats()
    pending = list(records)
    attempt = 1
    while pending:
        if attempt > 1:
            options.retry.wait(attempt - 1)
        retry_next: list[Record] = []
        for batch in batches(pending, options.batch_size):
            journal_id = journal.sending(batch) if journal is not None else None
            outcome, again = _send(gateway, batch, attempt, options)
            if journal_id is not None:
                outcome = replace(outcome, journal_id=journal_id)
            stats.calls += 1
            stats.written += len(outcome.written)
            stats.issues.extend(outcome.issues)
            retry_next.extend(again)
            if on_batch is not None:
                on_batch(outcome)
        stats.retried += len(retry_next)
        pending = retry_next
        attempt += 1
    return stats
