"""Errors as the user sees them: a plain message, as JSON for the API and HTML for views.

Nothing here ever shows a stack trace or echoes a token; an unexpected error is logged with
its traceback and answered with a 500 that says only that.
"""

from __future__ import annotations

import yaml
from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from webapp.auth.guard import Refused


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    accept = request.accept_mimetypes
    return best == "application/json" and accept[best] > accept["text/html"]


def refusal(status: int, message: str) -> Response:
    """A refusal response in the format the caller asked for."""
    if _wants_json():
        response = jsonify(error=message, status=status)
    else:
        response = Response(
            render_template("refused.html", status=status, message=message),
            mimetype="text/html",
        )
    response.status_code = status
    return response


def init_errors(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(Refused)
    def _refused(exc: Refused) -> Response:
        return refusal(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return refusal(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(RecursionError)
    def _too_deep(exc: RecursionError) -> Response:
        # Only hostile input nests deep enough to exhaust the reader's recursion; a route
        # that forgot to catch it still answers 422, and the log shows which one.
        app.logger.warning("input nested too deeply on %s", request.path, exc_info=True)
        return refusal(422, "The request is nested too deeply to read.")

    @app.errorhandler(yaml.YAMLError)
    def _unreadable(exc: yaml.YAMLError) -> Response:
        app.logger.warning("unreadable YAML escaped %s", request.path, exc_info=True)
        return refusal(422, "The request holds a document that is not readable YAML or JSON.")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return refusal(500, "Quotaflow hit an unexpected error; it has been logged.")
