"""Ingest job results read back (pure: no devorg)."""

from __future__ import annotations

import pytest

from connector.salesforce.bulk_writes import parse_error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "INVALID_FIELD_FOR_INSERT_UPDATE:Unable to create/update fields: Amount. Please "
            "check the security settings of this field.:Amount --",
            (
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                "Unable to create/update fields: Amount. Please check the security settings "
                "of this field.",
                ("Amount",),
            ),
        ),
        (
            "FIELD_CUSTOM_VALIDATION_EXCEPTION:Stage locked: ask finance: --",
            ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Stage locked: ask finance", ()),
        ),
        (
            "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access:A,B --",
            ("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access", ("A", "B")),
        ),
        ("something went wrong", ("UNKNOWN_ERROR", "something went wrong", ())),
        ("", ("UNKNOWN_ERROR", "Salesforce reported a failure without a message", ())),
    ],
)
def test_sf_error_is_code_message_and_fields(
    text: str, expected: tuple[str, str, tuple[str, ...]]
) -> None:
    assert parse_error(text) == expected


class _Job:
    """A fake ingest job processing `rate` rows a second from `start` on a fake clock."""

    def __init__(self, rows: int, rate: float, start: float) -> None:
        self.rows, self.rate, self.start = rows, rate, start
        self.now = 0.0
        self.polls: list[float] = []

    def jobs_request(self, method: str, path: str, **_kw: object) -> object:
        self.polls.append(self.now)
        done = min(self.rows, max(0, int((self.now - self.start) * self.rate) // 500 * 500))
        state = "JobComplete" if self.now >= self.start + self.rows / self.rate else "InProgress"
        body = {"id": "750x", "state": state, "numberRecordsProcessed": done}

        class Answer:
            def json(self) -> object:
                return body

        return Answer()


def _options(job: _Job) -> object:
    from connector.salesforce.bulk_options import BulkOptions

    def sleep(seconds: float) -> None:
        job.now += seconds

    return BulkOptions(sleep=sleep, clock=lambda: job.now)


@pytest.mark.parametrize(
    ("rows", "rate", "start"),
    [(200_000, 200_000 / 27.5, 2.0), (1_000_000, 1_000_000 / 150, 5.0), (20_000, 7_000.0, 0.1)],
)
def test_an_ingest_job_is_polled_when_its_progress_says_it_ends(
    rows: int, rate: float, start: float
) -> None:
    """With the rows it was given, the wait times its last poll by the job's progress: the
    job is seen done soon after it ends (the back-off alone saw a job that ended just after
    a poll up to half its run time late), in at most two polls more."""
    from connector.salesforce.bulk import BulkJobs

    ends = start + rows / rate
    timed = _Job(rows, rate, start)
    info = BulkJobs(timed, _options(timed)).wait("ingest", "750x", rows=rows)  # type: ignore[arg-type]
    backoff = _Job(rows, rate, start)
    BulkJobs(backoff, _options(backoff)).wait("ingest", "750x")  # type: ignore[arg-type]
    assert info.state == "JobComplete"
    assert timed.polls[-1] - ends <= 0.02 * (ends - start) + 0.5
    assert backoff.polls[-1] - ends >= timed.polls[-1] - ends
    assert len(timed.polls) <= len(backoff.polls) + 2
