"""Bulk API 2.0 resources under `/services/data/vXX.X/jobs/` (query and ingest jobs) and the
control-plane routes that drive the job worker (`/__devorg/bulk`)."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, g, request

from devorg import bulk, records
from devorg.bulk import BulkJobs, Job
from devorg.errors import ApiError
from devorg.rest import (
    PREFIX,
    fiscal_start_month,
    json_body,
    json_response,
    org,
    session_access,
)

bp = Blueprint("bulk", __name__)
control_bp = Blueprint("bulk_control", __name__, url_prefix="/__devorg")
CSV_TYPE = "text/csv;charset=UTF-8"


def jobs() -> BulkJobs:
    """The job registry, bound to this org's database and faults."""
    state = org()
    state.bulk.bind(state.db, state.faults)
    return state.bulk


def _options(body: dict[str, Any]) -> tuple[str, str]:
    delimiter = body.get("columnDelimiter") or "COMMA"
    line_ending = body.get("lineEnding") or "LF"
    if not isinstance(delimiter, str) or not isinstance(line_ending, str):
        raise ApiError(400, "INVALIDJOB", "columnDelimiter and lineEnding must be strings")
    if delimiter not in bulk.DELIMITERS:
        raise ApiError(400, "INVALIDJOB", f"Invalid column delimiter: {delimiter}")
    if line_ending not in bulk.LINE_ENDINGS:
        raise ApiError(400, "INVALIDJOB", f"Invalid line ending: {line_ending}")
    content_type = body.get("contentType") or "CSV"
    if content_type != "CSV":
        raise ApiError(400, "INVALIDJOB", f"Invalid content type: {content_type}")
    return delimiter, line_ending


def _csv(text: str, *, records_count: int | None = None, locator: str | None = None) -> Response:
    response = Response(text, status=200, content_type=CSV_TYPE)
    if records_count is not None:
        response.headers["Sforce-NumberOfRecords"] = str(records_count)
        # "If there are no more records, the locator is the string null" (Get Results).
        response.headers["Sforce-Locator"] = locator or "null"
    return response


def _job_or_404(job_id: str, kind: str, version: str) -> Job:
    job = jobs().get(job_id, kind)
    return job


# -- query jobs ---------------------------------------------------------------------------


@bp.post(f"{PREFIX}/jobs/query")
def create_query_job(version: str) -> Response:
    """Create a query job: it is queued at once (state UploadComplete)."""
    body = json_body()
    operation = body.get("operation")
    if operation not in bulk.QUERY_OPERATIONS:
        raise ApiError(400, "INVALIDJOB", f"Invalid operation: {operation}")
    text = body.get("query")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "INVALIDJOB", "query is required")
    delimiter, line_ending = _options(body)
    from devorg import soql

    try:
        # The job's query is checked as its creator sees the org: a field hidden by field-level
        # security is INVALID_FIELD here, as for a REST query.
        access = session_access()
        compiled = soql.compile_query(
            text,
            include_deleted=operation == "queryAll",
            readable=access.can_read_field if access.restricted else None,
            fiscal_start_month=fiscal_start_month(),
        )
    except soql.SoqlError as exc:
        raise ApiError(400, exc.error_code, str(exc)) from exc
    # Bulk API 2.0 refuses GROUP BY, OFFSET, aggregates and parent-to-child sub-queries.
    if compiled.count_only or compiled.offset is not None:
        raise ApiError(400, "API_ERROR", "COUNT() and OFFSET are not supported by Bulk API 2.0")
    bulk.result_columns(compiled)
    now = int(time.time() * 1000)
    job = Job(
        id=jobs().new_id(),
        kind="query",
        operation=operation,
        object=compiled.object_name,
        created_by=g.get("user_id"),
        created=now,
        api_version=version,
        delimiter_name=delimiter,
        line_ending_name=line_ending,
        query=text,
        state="UploadComplete",
    )
    jobs().add(job)
    return json_response(job.info(full=False), 200)


@bp.get(f"{PREFIX}/jobs/query")
def list_query_jobs(version: str) -> Response:
    """Get All Query Jobs (one page)."""
    return _list("query")


@bp.get(f"{PREFIX}/jobs/query/<job_id>")
def query_job_info(version: str, job_id: str) -> Response:
    """Get Information About a Query Job."""
    return json_response(_job_or_404(job_id, "query", version).info())


@bp.patch(f"{PREFIX}/jobs/query/<job_id>")
def abort_query_job(version: str, job_id: str) -> Response:
    """Abort a query job (`{"state": "Aborted"}` is the only change allowed)."""
    job = _job_or_404(job_id, "query", version)
    if json_body().get("state") != "Aborted":
        raise ApiError(400, "INVALIDJOBSTATE", "A query job can only be aborted")
    jobs().abort(job)
    return json_response(job.info(full=False))


@bp.delete(f"{PREFIX}/jobs/query/<job_id>")
def delete_query_job(version: str, job_id: str) -> Response:
    """Delete a finished query job: 204."""
    jobs().delete(_job_or_404(job_id, "query", version))
    return Response(status=204)


@bp.get(f"{PREFIX}/jobs/query/<job_id>/results")
def query_results(version: str, job_id: str) -> Response:
    """One set of a completed query job's CSV results, by `locator` and `maxRecords`."""
    job = _job_or_404(job_id, "query", version)
    if job.api_version != version:
        # "Use the same API version to get query results that you used to create the query.
        # Otherwise, the call returns a 409 error."
        raise ApiError(409, "INVALIDJOBSTATE", "Use the API version that created the job")
    if job.state != "JobComplete":
        raise ApiError(
            412,
            "JOB_NOT_COMPLETE",
            "can only download query results of successfully completed bulk job with "
            f"status: JOB_COMPLETE. Current status: {job.state.upper()}",
        )
    raw_max = request.args.get("maxRecords")
    size = bulk.DEFAULT_RESULT_PAGE
    if raw_max is not None:
        if not raw_max.isdigit() or int(raw_max) < 1:
            raise ApiError(400, "INVALIDARGUMENT", f"Invalid maxRecords: {raw_max}")
        size = int(raw_max)
    start = 0
    raw_locator = request.args.get("locator")
    if raw_locator:
        decoded = bulk.decode_locator(raw_locator)
        if decoded is None or decoded > len(job.rows):
            raise ApiError(400, "INVALIDLOCATOR", f"Invalid locator: {raw_locator}")
        start = decoded
    rows = job.rows[start : start + size]
    end = start + len(rows)
    text = job.line_ending.join([job.header, *rows]) + job.line_ending
    locator = bulk.encode_locator(end) if end < len(job.rows) else None
    return _csv(text, records_count=len(rows), locator=locator)


# -- ingest jobs --------------------------------------------------------------------------


@bp.post(f"{PREFIX}/jobs/ingest")
def create_ingest_job(version: str) -> Response:
    """Create an ingest job (state Open) for one object and operation."""
    body = json_body()
    operation = body.get("operation")
    if operation not in bulk.INGEST_OPERATIONS:
        raise ApiError(400, "INVALIDJOB", f"Invalid operation: {operation}")
    obj = records.get_object(str(body.get("object", "")))
    delimiter, line_ending = _options(body)
    external = body.get("externalIdFieldName")
    if operation == "upsert":
        if not isinstance(external, str) or not external:
            raise ApiError(400, "INVALIDJOB", "External ID was blank for upsert")
        spec = obj.field(external)
        # Only Id is an external id (idLookup) field in the devorg's schema.
        if spec is None or spec.name != "Id":
            raise ApiError(
                400,
                "INVALIDJOB",
                f"Invalid field for upsert, must be an External Id custom or "
                f"standard indexed field: {external}",
            )
        external = spec.name
    else:
        external = None
    if operation == "hardDelete":
        from devorg.rest import session_access

        access = session_access()
        # Hard delete needs the "Bulk API Hard Delete" user permission.
        if access.restricted and "BulkApiHardDelete" not in access.user_permissions:
            raise ApiError(
                400,
                "FEATURENOTENABLED",
                "hardDelete operation requires the Bulk API Hard Delete permission",
            )
    now = int(time.time() * 1000)
    job = Job(
        id=jobs().new_id(),
        kind="ingest",
        operation=operation,
        object=obj.name,
        created_by=g.get("user_id"),
        created=now,
        api_version=version,
        delimiter_name=delimiter,
        line_ending_name=line_ending,
        external_id=external,
    )
    jobs().add(job)
    return json_response(job.info(full=False), 200)


@bp.get(f"{PREFIX}/jobs/ingest")
def list_ingest_jobs(version: str) -> Response:
    """Get All Ingest Jobs (one page)."""
    return _list("ingest")


def _list(kind: str) -> Response:
    found = sorted(jobs().all(kind), key=lambda j: (j.created, j.id))
    return json_response(
        {"done": True, "records": [j.info(full=False) for j in found], "nextRecordsUrl": None}
    )


@bp.put(f"{PREFIX}/jobs/ingest/<job_id>/batches")
def upload_job_data(version: str, job_id: str) -> Response:
    """Upload the job's CSV data (once, while the job is Open): 201."""
    job = _job_or_404(job_id, "ingest", version)
    if job.state != "Open":
        raise bulk.invalid_job_state(f"Job {job.id} is not Open (state {job.state})")
    if job.upload is not None:
        # Bulk API 2.0 takes one upload per job; more data needs another job.
        raise bulk.invalid_job_state(
            "Found multiple contents for job: please use one job per upload"
        )
    length = request.content_length
    if length is not None and length > bulk.MAX_UPLOAD_BYTES:
        raise ApiError(413, "EXCEEDED_QUOTA", "Upload exceeds the 100 MB per job limit")
    data = request.get_data(cache=False)
    if len(data) > bulk.MAX_UPLOAD_BYTES:
        raise ApiError(413, "EXCEEDED_QUOTA", "Upload exceeds the 100 MB per job limit")
    job.upload = data
    return Response(status=201)


@bp.get(f"{PREFIX}/jobs/ingest/<job_id>")
def ingest_job_info(version: str, job_id: str) -> Response:
    """Get Information About an Ingest Job."""
    return json_response(_job_or_404(job_id, "ingest", version).info())


@bp.patch(f"{PREFIX}/jobs/ingest/<job_id>")
def change_ingest_job(version: str, job_id: str) -> Response:
    """Close (`UploadComplete`) or abort (`Aborted`) an ingest job."""
    job = _job_or_404(job_id, "ingest", version)
    state = json_body().get("state")
    if state == "UploadComplete":
        jobs().close(job)
    elif state == "Aborted":
        jobs().abort(job)
    else:
        raise ApiError(400, "INVALIDJOBSTATE", f"Invalid state: {state}")
    return json_response(job.info(full=False))


@bp.delete(f"{PREFIX}/jobs/ingest/<job_id>")
def delete_ingest_job(version: str, job_id: str) -> Response:
    """Delete an ingest job: 204."""
    jobs().delete(_job_or_404(job_id, "ingest", version))
    return Response(status=204)


def _finished(job: Job) -> None:
    if job.state not in bulk.TERMINAL:
        raise bulk.invalid_job_state(f"Job {job.id} is not finished (state {job.state})")


@bp.get(f"{PREFIX}/jobs/ingest/<job_id>/successfulResults")
def successful_results(version: str, job_id: str) -> Response:
    """sf__Id, sf__Created and the uploaded columns of every row written."""
    job = _job_or_404(job_id, "ingest", version)
    _finished(job)
    header = ["sf__Id", "sf__Created", *_header(job)]
    return _csv(_rows_csv(job, header, job.successes))


@bp.get(f"{PREFIX}/jobs/ingest/<job_id>/failedResults")
def failed_results(version: str, job_id: str) -> Response:
    """sf__Id, sf__Error and the uploaded columns of every row refused."""
    job = _job_or_404(job_id, "ingest", version)
    _finished(job)
    header = ["sf__Id", "sf__Error", *_header(job)]
    return _csv(_rows_csv(job, header, job.failures))


@bp.get(f"{PREFIX}/jobs/ingest/<job_id>/unprocessedrecords")
def unprocessed_records(version: str, job_id: str) -> Response:
    """The uploaded rows an aborted or failed job never processed."""
    job = _job_or_404(job_id, "ingest", version)
    _finished(job)
    return _csv(_rows_csv(job, _header(job), job.unprocessed))


def _header(job: Job) -> list[str]:
    try:
        return bulk._ingest_rows(job)[0]
    except ApiError:
        return []


def _rows_csv(job: Job, header: list[str], rows: list[list[str]]) -> str:
    return bulk.csv_text([header, *rows], delimiter=job.delimiter, line_ending=job.line_ending)


# -- control plane ------------------------------------------------------------------------


@control_bp.get("/bulk")
def bulk_state() -> Response:
    """Whether the worker runs on its own, and the queued job ids."""
    registry = jobs()
    return json_response({"auto": registry.auto, "queued": registry.queued()})


@control_bp.post("/bulk")
def set_bulk() -> Response:
    """`{"auto": false}` pauses the worker (jobs wait for `/bulk/step`); true resumes it."""
    auto = json_body().get("auto")
    if not isinstance(auto, bool):
        raise ApiError(400, "JSON_PARSER_ERROR", "auto must be true or false")
    registry = jobs()
    registry.set_auto(auto)
    return json_response({"auto": registry.auto, "queued": registry.queued()})


@control_bp.post("/bulk/step")
def bulk_step() -> Response:
    """Process the oldest queued job now; answers its info (null when nothing is queued)."""
    job = jobs().step()
    return json_response({"job": job.info() if job is not None else None})
