"""Salesforce-shaped errors: every REST failure is a JSON array of {message, errorCode, fields}."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

NOT_FOUND_MESSAGE = "The requested resource does not exist"


class ApiError(Exception):
    """A REST failure answered as `[{"message", "errorCode", "fields"?}]` with a status."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        *,
        fields: Sequence[str] | None = None,
    ) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = list(fields) if fields is not None else None

    def body(self) -> list[dict[str, Any]]:
        """The JSON array Salesforce sends."""
        item: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]

    def save_error(self) -> dict[str, Any]:
        """The per-record error shape of sObject Collections results."""
        return {
            "statusCode": self.error_code,
            "message": self.message,
            "fields": self.fields or [],
        }


def not_found() -> ApiError:
    """404 NOT_FOUND, as for an unknown object, id or route."""
    return ApiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)


def session_invalid() -> ApiError:
    """401 INVALID_SESSION_ID."""
    return ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def limit_exceeded() -> ApiError:
    """403 REQUEST_LIMIT_EXCEEDED."""
    return ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


def unavailable() -> ApiError:
    """503 SERVER_UNAVAILABLE, as during Salesforce maintenance or overload."""
    return ApiError(
        503, "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later."
    )


def json_parser_error(detail: str) -> ApiError:
    """400 JSON_PARSER_ERROR for a body that is not the JSON expected."""
    return ApiError(400, "JSON_PARSER_ERROR", detail)
