"""The connector's error root, named for what the caller does next."""

from __future__ import annotations


class ConnectorError(Exception):
    """Root of every error the connector raises."""


class FatalError(ConnectorError):
    """Stop the run: auth, configuration or quota problems that retrying cannot fix."""


class ConfigError(FatalError):
    """The configuration (environment) is missing or invalid."""


class RetriableError(ConnectorError):
    """A transient failure (429, 5xx, timeout, expired session); the caller may try again."""
