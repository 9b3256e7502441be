"""The payroll export of a closed period: approved rows only, stable bytes, exact totals,
spreadsheet formulas neutralised, refused before the close."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from connector.close.period import CloseRefused, payroll_export


class FakeClose:
    def __init__(self, closed: bool, approvals: dict[str, Any]) -> None:
        self.closed, self.approvals = closed, approvals

    def period_close(self, *, period: str) -> object | None:
        return object() if self.closed else None

    def approvals_of_period(self, *, period: str) -> dict[str, Any]:
        return self.approvals


def _row(state: str, net: str, adjustments: str = "0.00") -> Any:
    return SimpleNamespace(state=state, currency="USD", gross="100.10", top_up="0.00",
                           recovered="0.00", adjustments=adjustments, net=net)  # fmt: skip


def _unit(closed: bool = True) -> Any:
    approvals = {
        "005B": _row("approved", "0.10", "123.45"),
        "005A": _row("approved", "99.99"),
        "005C": _row("manager_approved", "1000.00"),
    }
    return SimpleNamespace(close=FakeClose(closed, approvals))


def test_only_approved_rows_sorted_with_exact_totals_and_stable_bytes() -> None:
    numbers = {"005A": "=HYPERLINK(1)", "005B": "E-17"}
    first = payroll_export(_unit(), period="2026-Q1", employee_numbers=numbers)
    again = payroll_export(_unit(), period="2026-Q1", employee_numbers=numbers)
    assert (first.csv, first.json) == (again.csv, again.json)
    rows = list(csv.reader(io.StringIO(first.csv.decode())))
    assert rows[0][:2] == ["salesforce_user_id", "employee_number"]
    assert [r[0] for r in rows[1:]] == ["005A", "005B"]  # 005C is not approved
    assert rows[1][1] == "'=HYPERLINK(1)" and rows[2][1] == "E-17"
    assert first.totals["net"] == "100.09" and first.totals["adjustments"] == "123.45"
    assert Decimal(first.totals["gross"]) == Decimal("200.20")
    doc = json.loads(first.json)
    assert doc["csv_sha256"] == hashlib.sha256(first.csv).hexdigest() == first.csv_sha256
    assert first.json_sha256 == hashlib.sha256(first.json).hexdigest()


def test_an_open_period_is_not_exported() -> None:
    with pytest.raises(CloseRefused) as refused:
        payroll_export(_unit(closed=False), period="2026-Q1", employee_numbers={})
    assert refused.value.status == 409
