"""Bulk API 2.0 jobs: their state machine, CSV formats and the worker that processes them.

Query jobs run their SOQL once, when processed, into CSV rows kept with the job; ingest jobs
parse the uploaded CSV and write each row through the same `records` functions (validation,
field-level security, derived fields, injected faults) as the REST API, one savepoint per
row so a failed row never undoes another. Jobs live in memory: a devorg restart forgets
them, as it forgets query locators.

Processing is asynchronous like Salesforce's: a closed ingest job (UploadComplete) or a new
query job waits in a queue for the worker thread. Tests that need a deterministic order pause
the worker (`POST /__devorg/bulk {"auto": false}`) and process jobs one by one with
`POST /__devorg/bulk/step`.
"""

from __future__ import annotations

import base64
import csv
import io
import secrets
import string
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from devorg import permissions, purge, records, schema, values
from devorg.errors import ApiError
from devorg.faults import Faults
from devorg.store import Database, id18, quote

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
INGEST_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
QUERY_OPERATIONS = ("query", "queryAll")
# "A request can provide CSV data that does not in total exceed 150 MB of base64 encoded
# content" (Bulk API 2.0 limits): 100 MB of raw CSV.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
# Without maxRecords, a results page holds as many rows as the service chooses.
DEFAULT_RESULT_PAGE = 100_000
# Rows written per write transaction (Salesforce processes ingest data in chunks too).
INGEST_CHUNK = 500
# In a Bulk CSV an empty cell leaves a field unchanged; #N/A sets it to null.
NULL_MARKER = "#N/A"
TERMINAL = ("JobComplete", "Failed", "Aborted")
# Salesforce keeps jobs and their results for 7 days. The devorg keeps them in memory, so it
# forgets the oldest finished jobs first once their stored rows pass these caps (a long soak
# must not grow without bound); a job not yet finished is never forgotten.
MAX_FINISHED_JOBS = 1000
MAX_STORED_ROWS = 3_000_000


def format_job_datetime(ms: int) -> str:
    """Job timestamps as Bulk API 2.0 writes them: 2018-12-18T16:15:31.000+0000."""
    return values.format_datetime(ms)


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def cell_formatter(spec: schema.FieldSpec) -> Any:
    """A function from a stored value to its quoted query-result cell (null: `""`).

    Datetimes are written `2026-03-01T12:00:00.000Z` in Bulk query results (the REST API's
    JSON writes `+0000`)."""
    kind = spec.type
    if kind == "boolean":
        return lambda v: '""' if v is None else ('"true"' if v else '"false"')
    if kind == "datetime":
        return lambda v: '""' if v is None else '"' + values.format_datetime(int(v))[:-5] + 'Z"'
    if kind == "int":
        return lambda v: '""' if v is None else f'"{int(v)}"'
    if kind in ("currency", "double", "percent"):
        return lambda v: '""' if v is None else f'"{float(v)!r}"'
    return lambda v: '""' if v is None else _quoted(str(v))


def csv_text(rows: list[list[str]], *, delimiter: str, line_ending: str) -> str:
    """CSV with every value quoted, as Bulk API 2.0 results are."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_ending, quoting=csv.QUOTE_ALL)
    writer.writerows(rows)
    return out.getvalue()


def encode_locator(offset: int) -> str:
    """A results locator: opaque to clients (Salesforce's look like MTAwMDA)."""
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int | None:
    """The offset of a locator, or None if it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(locator + "=" * (-len(locator) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


@dataclass
class Job:
    """One Bulk API 2.0 job (query or ingest)."""

    id: str
    kind: str  # "query" | "ingest"
    operation: str
    object: str
    created_by: str | None
    created: int
    api_version: str
    delimiter_name: str
    line_ending_name: str
    query: str | None = None
    external_id: str | None = None
    state: str = "Open"
    modstamp: int = 0
    error_message: str | None = None
    upload: bytes | None = None
    processed: int = 0
    failed: int = 0
    processing_ms: int = 0
    abort_requested: bool = False
    # query results: the header line and one rendered CSV line per row (no line ending)
    header: str = ""
    rows: list[str] = field(default_factory=list)
    # ingest results
    successes: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)

    def stored_rows(self) -> int:
        """Rows this job keeps in memory (results and uploaded rows)."""
        kept = len(self.rows) + len(self.successes) + len(self.failures) + len(self.unprocessed)
        return kept + (self.upload.count(b"\n") if self.upload else 0)

    @property
    def delimiter(self) -> str:
        return DELIMITERS[self.delimiter_name]

    @property
    def line_ending(self) -> str:
        return LINE_ENDINGS[self.line_ending_name]

    def info(self, *, full: bool = True) -> dict[str, Any]:
        """The job info JSON (`full=False`: the shorter entry of Get All Jobs)."""
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": format_job_datetime(self.created),
            "systemModstamp": format_job_datetime(self.modstamp or self.created),
            "state": self.state,
        }
        if self.external_id is not None:
            body["externalIdFieldName"] = self.external_id
        body.update(
            concurrencyMode="Parallel",
            contentType="CSV",
            apiVersion=float(self.api_version),
            jobType="V2Query" if self.kind == "query" else "V2Ingest",
            lineEnding=self.line_ending_name,
            columnDelimiter=self.delimiter_name,
        )
        if self.kind == "ingest" and self.state == "Open":
            body["contentUrl"] = f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches"
        if not full:
            return body
        body["numberRecordsProcessed"] = self.processed
        if self.kind == "ingest":
            body["numberRecordsFailed"] = self.failed
        body.update(retries=0, totalProcessingTime=self.processing_ms)
        if self.kind == "ingest":
            body.update(apiActiveProcessingTime=self.processing_ms, apexProcessingTime=0)
        else:
            body["isPkChunkingSupported"] = False
        if self.error_message is not None:
            body["errorMessage"] = self.error_message
        return body


def injected_failure() -> ApiError:
    """The failure of a job hit by the `bulk_job_failure` fault."""
    return ApiError(500, "InternalServerError", "Job failed (injected by the devorg)")


def invalid_job_state(message: str) -> ApiError:
    """A request that the job's current state does not allow."""
    return ApiError(409, "INVALIDJOBSTATE", message)


class BulkJobs:
    """The Bulk API 2.0 jobs of one devorg process and their worker thread."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._queue: deque[str] = deque()
        self._cond = threading.Condition()
        self.auto = True
        self._worker: threading.Thread | None = None
        self._db: Database | None = None
        self._faults: Faults | None = None
        self._query_jobs_created: deque[int] = deque()  # creation instants (ms), last 24 h

    def bind(self, db: Database, faults: Faults) -> None:
        """The org state the worker writes to (set once, before the first job)."""
        self._db, self._faults = db, faults

    # -- registry ---------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh 18-character job id with Salesforce's job key prefix 750 (random, so a
        client still holding a job id from before a devorg restart never meets a new job)."""
        alphabet = string.ascii_uppercase + string.digits
        rid = id18("750DV" + "".join(secrets.choice(alphabet) for _ in range(10)))
        assert rid is not None
        return rid

    def query_jobs_last_day(self) -> int:
        """Query jobs created in the last 24 hours (`DailyBulkV2QueryJobs` in /limits)."""
        with self._cond:
            cutoff = _now() - 24 * 3600 * 1000
            while self._query_jobs_created and self._query_jobs_created[0] <= cutoff:
                self._query_jobs_created.popleft()
            return len(self._query_jobs_created)

    def add(self, job: Job) -> None:
        with self._cond:
            if job.kind == "query":
                self._query_jobs_created.append(job.created)
            self._forget_oldest()
            self._jobs[job.id] = job
            if job.state == "UploadComplete":
                self._enqueue(job)

    def _forget_oldest(self) -> None:
        finished = sorted(
            (j for j in self._jobs.values() if j.state in TERMINAL),
            key=lambda j: (j.modstamp, j.id),
        )
        stored = sum(j.stored_rows() for j in finished)
        while finished and (len(finished) >= MAX_FINISHED_JOBS or stored > MAX_STORED_ROWS):
            oldest = finished.pop(0)
            stored -= oldest.stored_rows()
            del self._jobs[oldest.id]

    def get(self, job_id: str, kind: str) -> Job:
        with self._cond:
            job = self._jobs.get(job_id) or self._jobs.get(id18(job_id) or "")
        if job is None or job.kind != kind:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def all(self, kind: str) -> list[Job]:
        with self._cond:
            return [j for j in self._jobs.values() if j.kind == kind]

    def delete(self, job: Job) -> None:
        with self._cond:
            if job.state not in (*TERMINAL, "UploadComplete") or (
                job.kind == "query" and job.state == "UploadComplete"
            ):
                raise ApiError(
                    400,
                    "API_ERROR",
                    "Error encountered when deleting the job because the job is not terminated",
                )
            self._jobs.pop(job.id, None)
            if job.id in self._queue:
                self._queue.remove(job.id)

    def close(self, job: Job) -> None:
        """Open → UploadComplete: queue the job for processing."""
        with self._cond:
            if job.state != "Open":
                raise invalid_job_state(f"Job {job.id} is not Open (state {job.state})")
            job.state = "UploadComplete"
            job.modstamp = _now()
            self._enqueue(job)

    def abort(self, job: Job) -> None:
        with self._cond:
            allowed = ("UploadComplete", "InProgress") + (("Open",) if job.kind == "ingest" else ())
            if job.state not in allowed:
                raise invalid_job_state(f"Job {job.id} cannot be aborted in state {job.state}")
            if job.state == "InProgress":
                job.abort_requested = True  # the worker stops after its current chunk
            else:
                job.state = "Aborted"
                job.modstamp = _now()
                if job.kind == "ingest":
                    try:
                        job.unprocessed = _ingest_rows(job)[1]
                    except ApiError:
                        job.unprocessed = []
                if job.id in self._queue:
                    self._queue.remove(job.id)

    def _enqueue(self, job: Job) -> None:
        self._queue.append(job.id)
        self._cond.notify_all()
        if self.auto:
            self._ensure_worker()

    # -- processing -------------------------------------------------------------------

    def set_auto(self, auto: bool) -> None:
        with self._cond:
            self.auto = auto
            if auto:
                self._ensure_worker()
            self._cond.notify_all()

    def queued(self) -> list[str]:
        with self._cond:
            return list(self._queue)

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name="devorg-bulk", daemon=True)
            self._worker.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self.auto and self._queue):
                    self._cond.wait()
                job_id = self._queue.popleft()
                job = self._jobs.get(job_id)
            if job is not None:
                self.process(job)

    def step(self) -> Job | None:
        """Process the oldest queued job now (the control plane's deterministic worker)."""
        with self._cond:
            if not self._queue:
                return None
            job = self._jobs.get(self._queue.popleft())
        if job is not None:
            self.process(job)
        return job

    def process(self, job: Job) -> None:
        """Run one queued job to JobComplete, Failed or Aborted."""
        with self._cond:
            if job.state != "UploadComplete" or self._jobs.get(job.id) is not job:
                return  # aborted or deleted while it waited
            job.state, job.modstamp = "InProgress", _now()
        started = time.monotonic()
        fail_after = self._faults.bulk_job_failure() if self._faults is not None else None
        try:
            if job.kind == "query":
                self._run_query(job, fail_after)
            else:
                self._run_ingest(job, fail_after)
        except ApiError as exc:
            job.error_message = f"{exc.error_code} : {exc.message}"
            job.state = "Failed"
            if job.kind == "ingest" and job.processed == 0 and not job.unprocessed:
                # A job refused as a whole (bad header, ...) processed none of its rows.
                try:
                    job.unprocessed = _ingest_rows(job)[1]
                except ApiError:
                    job.unprocessed = []
        except Exception as exc:  # a devorg bug: the job fails like Salesforce's would
            job.error_message = f"UNKNOWN_EXCEPTION : {type(exc).__name__}"
            job.state = "Failed"
        else:
            with self._cond:
                job.state = "Aborted" if job.abort_requested else "JobComplete"
        job.processing_ms = int((time.monotonic() - started) * 1000)
        job.modstamp = _now()

    def _database(self) -> Database:
        if self._db is None:
            raise RuntimeError("BulkJobs.bind() was not called")
        return self._db

    def _run_query(self, job: Job, fail_after: int | None) -> None:
        from devorg import soql
        from devorg.soql_where import org_fiscal_start_month

        assert job.query is not None
        with self._database().read() as conn:
            fiscal = org_fiscal_start_month(conn)
        compiled = soql.compile_query(
            job.query, include_deleted=job.operation == "queryAll", fiscal_start_month=fiscal
        )
        columns = result_columns(compiled)
        sep = job.delimiter
        job.header = sep.join(_quoted(name) for name, _, _ in columns)
        cells = [(cell_formatter(spec), col) for _, spec, col in columns]
        with self._database().read() as conn:
            cur = conn.execute(compiled.sql, compiled.params)
            while True:
                batch = cur.fetchmany(10_000)
                if not batch:
                    break
                job.rows.extend(sep.join([f(row[c]) for f, c in cells]) for row in batch)
                job.processed = len(job.rows)
                if fail_after is not None and job.processed >= fail_after:
                    job.rows, job.processed = [], fail_after
                    raise injected_failure()
                if job.abort_requested:
                    return

    def _run_ingest(self, job: Job, fail_after: int | None) -> None:
        header, rows = _ingest_rows(job)
        obj = records.get_object(job.object)
        specs = _check_header(job, obj, header)
        db = self._database()
        with db.read() as conn:
            access = permissions.access_for(conn, job.created_by)
        # The job's user and columns are the same for every row: a column's field-level
        # security is checked once (each value is still checked in its row).
        plan = _RowPlan(
            obj,
            specs,
            header,
            records.field_parser(obj, creating=job.operation == "insert", access=access),
        )
        for start in range(0, len(rows), INGEST_CHUNK):
            if job.abort_requested:
                job.unprocessed = rows[start:]
                return
            chunk = rows[start : start + INGEST_CHUNK]
            if fail_after is not None and start + len(chunk) > fail_after:
                chunk = chunk[: max(0, fail_after - start)]
                job.unprocessed = rows[start + len(chunk) :]
            ctx = records.WriteContext(
                stamp=db.stamp(), user_id=job.created_by, faults=self._faults, access=access
            )
            with db.write() as conn:
                plan.stored = plan.fetch(conn, job, chunk)
                for row in chunk:
                    self._ingest_row(conn, job, plan, row, ctx)
            job.processed += len(chunk)
            if job.unprocessed:
                raise injected_failure()

    def _ingest_row(
        self, conn: Any, job: Job, plan: _RowPlan, row: list[str], ctx: records.WriteContext
    ) -> None:
        specs, header = plan.specs, plan.header
        conn.execute("SAVEPOINT bulk_row")
        try:
            if len(row) != len(header):
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"Wrong number of columns: expected {len(header)}, found {len(row)}",
                )
            record_id, created = _write_row(conn, job, plan, row, ctx)
        except ApiError as exc:
            conn.execute("ROLLBACK TO bulk_row")
            conn.execute("RELEASE bulk_row")
            job.failed += 1
            fields = ",".join(exc.fields or [])
            # sf__Id names the record a failed update or delete was for (API 53.0 and later).
            failed_id = ""
            if float(job.api_version) >= 53 and len(row) == len(header):
                given = next(
                    (v for s, v in zip(specs, row, strict=True) if s and s.name == "Id"), ""
                )
                failed_id = (id18(given.strip()) or "") if given else ""
            # Salesforce's sf__Error: STATUS_CODE:message:fields --
            job.failures.append([failed_id, f"{exc.error_code}:{exc.message}:{fields} --", *row])
            return
        conn.execute("RELEASE bulk_row")
        job.successes.append([record_id, "true" if created else "false", *row])


@dataclass
class _RowPlan:
    """What every row of one ingest job shares: object, columns, the user's field checks, and
    the stored records of the chunk being written (an update's rows, read in one query)."""

    obj: schema.ObjectSpec
    specs: list[schema.FieldSpec | None]
    header: list[str]
    parse: Any
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)

    def fetch(self, conn: Any, job: Job, chunk: list[list[str]]) -> dict[str, dict[str, Any]]:
        """The stored rows an update chunk names, in the chunk's write transaction."""
        if job.operation != "update":
            return {}
        at = next((n for n, s in enumerate(self.specs) if s is not None and s.name == "Id"), None)
        if at is None:
            return {}
        ids = [row[at].strip() for row in chunk if len(row) == len(self.header)]
        return records.fetch_rows(conn, self.obj, ids)

    def take(self, record_id: str) -> dict[str, Any] | None:
        """The stored row of a record, once: a record named again in the chunk is read
        again, after this row's write."""
        rid = id18(record_id)
        return self.stored.pop(rid, None) if rid is not None else None


def _write_row(
    conn: Any, job: Job, plan: _RowPlan, row: list[str], ctx: records.WriteContext
) -> tuple[str, bool]:
    """Apply one CSV row; returns (record id, created)."""
    obj, specs, header = plan.obj, plan.specs, plan.header
    body: dict[str, Any] = {}
    record_id = ""
    for name, spec, value in zip(header, specs, row, strict=True):
        if spec is not None and spec.name == "Id" and job.operation != "insert":
            record_id = value.strip()
            continue  # an insert that names an Id fails like the REST create does
        if value == "":
            continue  # an empty cell leaves the field as it is
        body[name] = None if value == NULL_MARKER else value
    op = job.operation
    if op == "insert":
        return records.create(conn, obj, body, ctx), True
    if op == "upsert":
        match = _upsert_target(conn, job, obj, header, row, record_id)
        if match is None:
            body.pop(job.external_id or "", None)
            return records.create(conn, obj, body, ctx), True
        record_id = match
        body.pop(job.external_id or "", None)
    if id18(record_id) is None:
        raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", fields=[])
    if op in ("update", "upsert"):
        records.update(conn, obj, record_id, body, ctx, row=plan.take(record_id), parse=plan.parse)
    elif op == "delete":
        records.delete(conn, obj, record_id, ctx)
    else:  # hardDelete
        found = records.fetch_row(conn, obj, record_id)
        if not obj.deletable or obj.field("IsDeleted") is None:
            raise ApiError(400, "INVALID_TYPE_FOR_OPERATION", "entity type cannot be deleted")
        if not ctx.access.can(obj, "delete"):
            raise records.insufficient_access()
        purge.hard_delete(conn, obj, [found["Id"]], stamp=ctx.stamp)
    return id18(record_id) or record_id, False


def _upsert_target(
    conn: Any,
    job: Job,
    obj: schema.ObjectSpec,
    header: list[str],
    row: list[str],
    record_id: str,
) -> str | None:
    """The id of the record an upsert row matches by its external id field, or None."""
    ext = job.external_id or "Id"
    if ext.lower() == "id":
        if not record_id:
            return None
        rid = id18(record_id)
        if rid is None:
            raise ApiError(400, "MALFORMED_ID", f"Id: id value of incorrect type: {record_id}")
        return rid
    value = next((v for h, v in zip(header, row, strict=True) if h.lower() == ext.lower()), "")
    if value == "":
        raise ApiError(
            400, "MISSING_ARGUMENT", f"{ext} not specified", fields=[ext]
        )  # pragma: no cover - only Id is an external id field in the devorg's schema
    found = conn.execute(
        f"SELECT Id FROM {quote(obj.name)} WHERE {quote(ext)} = ? AND IsDeleted = 0", (value,)
    ).fetchall()
    if len(found) > 1:
        raise ApiError(
            300, "DUPLICATE_EXTERNAL_ID", f"{ext}: more than one record found for external id"
        )
    return str(found[0][0]) if found else None


def _ingest_rows(job: Job) -> tuple[list[str], list[list[str]]]:
    """The uploaded CSV as (header, rows), or ApiError for data Salesforce cannot read."""
    if not job.upload:
        return [], []
    try:
        text = job.upload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "InvalidBatch", "CSV data is not UTF-8") from exc
    # The job's lineEnding must match the data: LF data in a CRLF job leaves stray fields.
    if job.line_ending_name == "LF" and "\r\n" in text:
        raise ApiError(
            400,
            "ClientInputError",
            "LineEnding is invalid on user data. Current LineEnding setting is LF",
        )
    if job.line_ending_name == "CRLF" and "\n" in text and "\r\n" not in text:
        raise ApiError(
            400,
            "ClientInputError",
            "LineEnding is invalid on user data. Current LineEnding setting is CRLF",
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=job.delimiter, strict=True)
    try:
        parsed = [r for r in reader if r]
    except csv.Error as exc:
        raise ApiError(400, "InvalidBatch", f"Failed to parse CSV: {exc}") from exc
    if not parsed:
        return [], []
    return parsed[0], parsed[1:]


def _check_header(
    job: Job, obj: schema.ObjectSpec, header: list[str]
) -> list[schema.FieldSpec | None]:
    """Field specs of the CSV header; an unknown column fails the whole job."""
    specs: list[schema.FieldSpec | None] = []
    for name in header:
        if "." in name:
            raise ApiError(
                400,
                "InvalidBatch",
                f"Field name not found : {name} (relationship columns are not supported)",
            )
        spec = obj.field(name)
        if spec is None:
            raise ApiError(400, "InvalidBatch", f"Field name not found : {name}")
        specs.append(spec)
    names = {s.name for s in specs if s is not None}
    if job.operation in ("update", "delete", "hardDelete") and "Id" not in names:
        raise ApiError(400, "InvalidBatch", "Field name not found : Id")
    if job.operation in ("delete", "hardDelete") and names != {"Id"}:
        raise ApiError(400, "InvalidBatch", "The 'delete' batch must contain only 'Id'")
    return specs


def result_columns(compiled: Any) -> list[tuple[str, schema.FieldSpec, int]]:
    """(CSV header, field, column index) of a compiled query, in the order selected; a
    relationship field's header is dotted (Account.Name)."""
    from devorg.soql_compiler import Node

    plan = compiled.plan
    if not isinstance(plan, Node):
        raise ApiError(400, "API_ERROR", "Aggregate queries are not supported by Bulk API 2.0")
    out: list[tuple[str, schema.FieldSpec, int]] = []

    def walk(node: Node, prefix: str) -> None:
        for key, item in node.items.items():
            if isinstance(item, Node):
                walk(item, f"{prefix}{key}.")
            elif isinstance(item, tuple):
                out.append((prefix + item[0].name, item[0], item[1]))
            else:
                raise ApiError(
                    400,
                    "API_ERROR",
                    "Parent-to-child relationship queries are not supported by Bulk API 2.0",
                )

    walk(plan, "")
    out.sort(key=lambda c: c[2])  # columns were added in the order the query selects them
    return out


def _now() -> int:
    return int(time.time() * 1000)
