"""Bulk API 2.0 jobs through the gateway: query jobs (create, poll, CSV result sets by
`Sforce-Locator`) and ingest jobs (create, upload, close, poll, per-record results).

Every call goes through `Gateway.jobs_request`, so re-authentication, 5xx/429 retries, the
API budget and call accounting apply as for REST calls. What a pull or a write-back does with
the jobs lives in `connector/pull/bulk_fetch.py` and `connector/salesforce/bulk_writes.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector.salesforce.bulk_options import BulkOptions
from connector.salesforce.errors import BulkJobTimeout, SalesforceApiError
from connector.salesforce.gateway import Gateway

TERMINAL = frozenset({"JobComplete", "Failed", "Aborted"})
CSV_TYPE = "text/csv"
__all__ = ["BulkJobs", "BulkOptions", "JobInfo", "ResultSet"]


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A job's state and counts, as `GET jobs/<kind>/<id>` reports them."""

    id: str
    state: str
    error_message: str | None = None
    processed: int = 0
    failed: int = 0
    object: str = ""
    created_by: str = ""
    modstamp: str = ""  # systemModstamp, `2026-12-03T07:30:00.000+0000`

    @classmethod
    def of(cls, body: Any) -> JobInfo:
        """Read a job info body (anything unexpected fails loudly, naming the body)."""
        if not isinstance(body, dict) or not body.get("id") or not body.get("state"):
            raise SalesforceApiError(f"unreadable Bulk API job info: {str(body)[:200]}")
        message = body.get("errorMessage")
        return cls(
            id=str(body["id"]),
            state=str(body["state"]),
            error_message=str(message) if message else None,
            processed=int(body.get("numberRecordsProcessed") or 0),
            failed=int(body.get("numberRecordsFailed") or 0),
            object=str(body.get("object") or ""),
            created_by=str(body.get("createdById") or ""),
            modstamp=str(body.get("systemModstamp") or ""),
        )

    @property
    def done(self) -> bool:
        """True once the job is JobComplete, Failed or Aborted."""
        return self.state in TERMINAL


@dataclass(frozen=True, slots=True)
class ResultSet:
    """One set of a query job's CSV results and the locator of the next (None after the last)."""

    text: str
    locator: str | None
    count: int


class BulkJobs:
    """Bulk API 2.0 calls of one gateway."""

    def __init__(self, gateway: Gateway, options: BulkOptions | None = None) -> None:
        self.gateway = gateway
        self.options = options or gateway.options.bulk or BulkOptions()

    # -- both kinds ---------------------------------------------------------------------

    def info(self, kind: str, job_id: str) -> JobInfo:
        """The job's current state."""
        return JobInfo.of(self.gateway.jobs_request("GET", f"{kind}/{job_id}").json())

    def wait(
        self, kind: str, job_id: str, *, seconds: float | None = None, rows: int | None = None
    ) -> JobInfo:
        """Poll until the job is JobComplete, Failed or Aborted; BulkJobTimeout after
        `seconds` (the options' timeout by default). Polls back off to `poll_max_seconds`.

        `rows`: the rows an ingest job was given. While it runs, Salesforce's
        `numberRecordsProcessed` grows chunk by chunk; when its rate between two polls says
        the rest is done before the back-off's next poll, the next poll is then (the back-off
        alone sees a job done up to half its run time late)."""
        opts = self.options
        deadline = opts.clock() + (opts.timeout_seconds if seconds is None else seconds)
        delay = opts.poll_first_seconds
        seen: tuple[float, int] | None = None  # (when, processed) at the last poll
        while True:
            info = self.info(kind, job_id)
            if info.done:
                return info
            now = opts.clock()
            left = deadline - now
            if left <= 0:
                raise BulkJobTimeout(
                    f"Bulk API {kind} job {job_id} was still {info.state} after "
                    f"{opts.timeout_seconds if seconds is None else seconds:g} s "
                    "(QUOTAFLOW_BULK_TIMEOUT)"
                )
            wait = delay
            if rows is not None and seen is not None and 0 < seen[1] < info.processed:
                # Both polls saw it processing: the rate leaves out the time it was queued.
                rate = (info.processed - seen[1]) / (now - seen[0])
                rest = max(0, rows - info.processed) / rate
                # A little past the estimate: one poll that finds it done beats two.
                wait = min(delay, max(rest * 1.1, opts.poll_first_seconds))
            seen = (now, info.processed)
            opts.sleep(min(wait, left))
            delay = min(delay * opts.poll_growth, opts.poll_max_seconds)

    def abort(self, kind: str, job_id: str) -> None:
        """Ask a job to stop; a job already finished (409 INVALIDJOBSTATE) is left as it is."""
        try:
            self.gateway.jobs_request("PATCH", f"{kind}/{job_id}", json={"state": "Aborted"})
        except SalesforceApiError as exc:
            if exc.error_code != "INVALIDJOBSTATE":
                raise

    def delete(self, kind: str, job_id: str) -> None:
        """Delete a finished job and its results (Salesforce would keep them seven days)."""
        self.gateway.jobs_request("DELETE", f"{kind}/{job_id}")

    # -- query jobs ---------------------------------------------------------------------

    def create_query(self, soql: str, *, include_deleted: bool) -> str:
        """A query job (`queryAll` when include_deleted, so deleted rows come too); its id."""
        body = {
            "operation": "queryAll" if include_deleted else "query",
            "query": soql,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        return JobInfo.of(self.gateway.jobs_request("POST", "query", json=body).json()).id

    def results(self, job_id: str, locator: str | None) -> ResultSet:
        """The results set at `locator` (the first when None)."""
        params = {"maxRecords": str(self.options.result_rows)}
        if locator:
            params["locator"] = locator
        response = self.gateway.jobs_request(
            "GET", f"query/{job_id}/results", params=params, accept=CSV_TYPE
        )
        # "If there are no more records, the locator is the string null".
        following = response.headers.get("Sforce-Locator") or "null"
        count = response.headers.get("Sforce-NumberOfRecords") or ""
        if not count.isdigit():
            raise SalesforceApiError(
                f"Bulk API query job {job_id}: results without Sforce-NumberOfRecords"
            )
        response.encoding = "utf-8"
        return ResultSet(response.text, None if following == "null" else following, int(count))

    # -- ingest jobs --------------------------------------------------------------------

    def create_ingest(self, object_name: str, *, operation: str = "update") -> str:
        """An open ingest job for one object; its id."""
        body = {
            "object": object_name,
            "operation": operation,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        return JobInfo.of(self.gateway.jobs_request("POST", "ingest", json=body).json()).id

    def upload(self, job_id: str, data: bytes) -> None:
        """The job's CSV data (one upload per job)."""
        self.gateway.jobs_request(
            "PUT", f"ingest/{job_id}/batches", data=data, content_type=CSV_TYPE
        )

    def close(self, job_id: str) -> None:
        """UploadComplete: Salesforce queues the job."""
        self.gateway.jobs_request("PATCH", f"ingest/{job_id}", json={"state": "UploadComplete"})

    def ingest_results(self, job_id: str, which: str) -> str:
        """`successfulResults`, `failedResults` or `unprocessedrecords` as CSV text."""
        if which not in ("successfulResults", "failedResults", "unprocessedrecords"):
            raise ValueError(f"no such ingest result: {which}")
        response = self.gateway.jobs_request("GET", f"ingest/{job_id}/{which}", accept=CSV_TYPE)
        response.encoding = "utf-8"
        return response.text
