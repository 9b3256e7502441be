"""`quotaflow calc --rates --adjustments`: converted lines, adjustment lines, bad files exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webapp.cli import main

PLAN = """\
plans:
  - id: ae
    currency: USD
    period: quarter
    components: [{id: commission, type: commission, rate: 0.1}]
"""
REPS = "id,plan_id,hire_date\nR1,ae,2025-01-01\nR2,ae,2026-04-01\n"
DEALS = (
    "id,owner_id,amount,close_date,is_won,currency\n"
    "D1,R1,90000,2026-01-20,true,EUR\n"
    "D2,R1,5000,2026-02-01,true,\n"
)
RATES = "currency,start_date,rate\nEUR,2026-01-01,0.9\nEUR,2026-04-01,0.95\n"
ADJ = (
    "rep_id,period,amount,component,reason,reference\n"
    "R1,2026-Q1,-500.00,commission,overpaid D0 last year,INC-12\n"
    "R1,2026-Q1,125.50,,missed SPIFF,INC-13\n"
)


def _files(tmp_path: Path, **override: str) -> list[str]:
    texts = {"plan.yaml": PLAN, "reps.csv": REPS, "deals.csv": DEALS}
    texts |= {"rates.csv": RATES, "adj.csv": ADJ}
    texts |= {k.replace("_", "."): v for k, v in override.items()}
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return [
        "calc",
        "--plan",
        str(tmp_path / "plan.yaml"),
        "--reps",
        str(tmp_path / "reps.csv"),
        "--deals",
        str(tmp_path / "deals.csv"),
        "--rates",
        str(tmp_path / "rates.csv"),
        "--adjustments",
        str(tmp_path / "adj.csv"),
        "--from",
        "2026-01-01",
        "--to",
        "2026-03-31",
    ]


def test_rates_and_adjustments_are_paid_and_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_files(tmp_path)) == 0
    out = json.loads(capsys.readouterr().out)
    (q1,) = out["results"]
    assert q1["credit"] == "105000.00"
    assert q1["components"] == {"commission": "10000.00", "adjustment": "125.50"}
    assert (q1["gross"], q1["net"]) == ("10125.50", "10125.50")
    d1, d2, minus, plus = q1["lines"]
    assert (d1["currency"], d1["fx_rate"], d1["amount"]) == ("EUR", "0.90", "10000.00")
    assert "currency" not in d2
    assert (minus["component"], minus["deal_id"], minus["amount"]) == (
        "commission",
        None,
        "-500.00",
    )
    assert minus["explain"] == "adjustment: overpaid D0 last year (ref INC-12)"
    assert plus["component"] == "adjustment"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"rates_csv": "currency,start_date,rate\nEUR,2026-01-01,zero\n"}, "rates.csv, line 2"),
        (
            {"adj_csv": "rep_id,period,amount,reason\nR9,2026-Q1,5,why\n"},
            "adj.csv, line 2, column rep_id: unknown rep 'R9'",
        ),
        (
            {"adj_csv": "rep_id,period,amount,reason\nR1,2026-03,5,why\n"},
            "adj.csv, line 2, column period: '2026-03' is not a quarter period of plan ae",
        ),
        (
            {"adj_csv": "rep_id,period,amount,component,reason\nR1,2026-Q1,5,bonus,why\n"},
            "column component: 'bonus' is not one of adjustment, commission (plan ae)",
        ),
        (
            {"adj_csv": "rep_id,period,amount,reason\nR2,2026-Q1,5,why\n"},
            "column period: rep R2 is not employed in 2026-Q1",
        ),
        (
            {"deals_csv": DEALS.replace("EUR", "E1R")},
            "deals.csv, line 2, column currency: not an ISO 4217 currency code",
        ),
    ],
)
def test_bad_rates_or_adjustments_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], override: dict[str, str], message: str
) -> None:
    assert main(_files(tmp_path, **override)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err and captured.err.count("\n") == 1


def test_a_missing_rate_is_unresolved_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rates = "currency,start_date,rate\nEUR,2026-02-01,0.9\n"
    assert main(_files(tmp_path, rates_csv=rates)) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["unresolved"] == [
        {
            "deal_id": "D1",
            "reason": "no EUR exchange rate on 2026-01-20 (its first starts 2026-02-01)",
        }
    ]
