"""Render a CalcResult as the `quotaflow calc` contract: JSON (fixed key order) or CSV lines."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from calc.crediting import Credit
from calc.money import money_str, rate_str
from calc.results import CalcResult, Line, PeriodResult

RATE_PLACES = Decimal("0.0000000001")
CSV_COLUMNS = (
    "rep_id",
    "plan_id",
    "period",
    "period_start",
    "period_end",
    "component",
    "deal_id",
    "credit_type",
    "base",
    "rate",
    "amount",
    "explain",
)


def _rate(value: Decimal) -> str:
    return rate_str(value.quantize(RATE_PLACES))


def line_dict(line: Line) -> dict[str, Any]:
    """One line in contract key order."""
    return {
        "component": line.component,
        "deal_id": line.deal_id,
        "credit_type": line.credit_type,
        "base": money_str(line.base),
        "rate": _rate(line.rate),
        "amount": money_str(line.amount),
        "explain": line.explain,
    }


def result_dict(res: PeriodResult) -> dict[str, Any]:
    """One period result in contract key order (also the web API's earnings shape)."""
    return {
        "rep_id": res.rep_id,
        "plan_id": res.plan_id,
        "period": res.period.name,
        "period_start": res.period.start.isoformat(),
        "period_end": res.period.end.isoformat(),
        "quota": money_str(res.quota),
        "credit": money_str(res.credit),
        "attainment": f"{res.attainment:.4f}",
        "attainment_ytd": f"{res.attainment_ytd:.4f}",
        "components": {name: money_str(amount) for name, amount in res.components},
        "gross": money_str(res.gross),
        "draw": {
            "top_up": money_str(res.draw.top_up),
            "recovered": money_str(res.draw.recovered),
            "balance": money_str(res.draw.balance),
        },
        "net": money_str(res.net),
        "lines": [line_dict(line) for line in res.lines],
    }


def credit_dict(credit: Credit) -> dict[str, Any]:
    """One credit in contract key order."""
    return {
        "deal_id": credit.deal_id,
        "rep_id": credit.rep_id,
        "credit_type": credit.credit_type,
        "percent": money_str(credit.percent),
        "amount": money_str(credit.amount),
        "period": credit.period.name,
    }


def to_dict(result: CalcResult) -> dict[str, Any]:
    """The whole result as plain data in contract key order."""
    return {
        "currency": result.currency,
        "results": [result_dict(r) for r in result.results],
        "credits": [credit_dict(c) for c in result.credits],
        "unresolved": [{"deal_id": u.deal_id, "reason": u.reason} for u in result.unresolved],
    }


def to_json(result: CalcResult) -> str:
    """The contract JSON text: deterministic bytes for the same result, ending in a newline."""
    return json.dumps(to_dict(result), indent=1, ensure_ascii=False) + "\n"


def to_csv(result: CalcResult) -> str:
    """One statement row per earning line, with the rep and period it belongs to."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for res in result.results:
        head = [
            res.rep_id,
            res.plan_id,
            res.period.name,
            res.period.start.isoformat(),
            res.period.end.isoformat(),
        ]
        for line in res.lines:
            d = line_dict(line)
            writer.writerow(
                [
                    *head,
                    d["component"],
                    d["deal_id"] or "",
                    d["credit_type"] or "",
                    d["base"],
                    d["rate"],
                    d["amount"],
                    d["explain"],
                ]
            )
    return out.getvalue()
