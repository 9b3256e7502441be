"""Salesforce failures, translated once at the gateway and named for what the caller does next."""

from __future__ import annotations

from connector.errors import FatalError, RetriableError


class AuthError(FatalError):
    """The token exchange was refused (bad credentials, unapproved app, wrong login URL)."""


class ApiLimitExceeded(FatalError):
    """REQUEST_LIMIT_EXCEEDED: the org's rolling 24-hour API request limit is used up."""


class ApiBudgetExhausted(FatalError):
    """We stopped before the configured share of the org's daily API limit."""


class SalesforceApiError(FatalError):
    """A request Salesforce refused for a reason retrying cannot fix (bad query, no access)."""

    def __init__(self, message: str, *, error_code: str | None = None, status: int = 0) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.status = status


class InvalidMapping(FatalError):
    """The active mapping names fields or objects the org does not have."""


class TransientFailure(RetriableError):
    """5xx, 429 or a connection error that persisted through every retry."""


class QueryLocatorExpired(RetriableError):
    """A `nextRecordsUrl` is no longer valid (INVALID_QUERY_LOCATOR); re-run the query."""


class BulkJobFailed(RetriableError):
    """A Bulk API 2.0 job ended `Failed` or `Aborted`, or its results could not be read."""


class BulkJobTimeout(RetriableError):
    """A Bulk API 2.0 job did not finish before its deadline; it was asked to abort."""
