"""Security tests run against the same synced demo org as the web tests (fixture `web`,
defined once in tests/conftest.py)."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Repeat the property-based run's figures after the results (no `-s` needed)."""
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, "user_properties", ()):
                if name == "property_run":
                    terminalreporter.write_sep("-", "property-based run")
                    terminalreporter.write_line(f"{report.nodeid}: {value}")
