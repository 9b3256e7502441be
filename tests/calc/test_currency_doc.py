"""docs/plan-currencies-and-adjustments.md: each `example:` block pays what the page says."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from calc.adjustments import Adjustment
from calc.currency import DatedRate, Rates
from calc.engine import calculate
from calc.model import Deal, Rep, Split
from calc.plan import parse_plan_doc
from calc.render import line_dict, result_dict

DOC = Path(__file__).resolve().parents[2] / "docs" / "plan-currencies-and-adjustments.md"
BLOCK = re.compile(r"```yaml\n(example: .*?)```", re.DOTALL)


def _examples() -> list[dict[str, Any]]:
    return [yaml.safe_load(text) for text in BLOCK.findall(DOC.read_text(encoding="utf-8"))]


def _flat(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        elif not isinstance(value, list):
            out[f"{prefix}{key}"] = value
    return out


def _num(value: object) -> Decimal:
    return Decimal(str(value))


def test_the_page_has_an_example_for_every_rule() -> None:
    names = {e["example"] for e in _examples()}
    assert len(names) >= 6
    assert any("adjustments" in e for e in _examples())
    assert any("rates" in e for e in _examples())


@pytest.mark.parametrize("example", _examples(), ids=lambda e: e["example"])
def test_the_example_pays_what_the_page_says(example: dict[str, Any]) -> None:
    reps = [
        Rep(r["id"], plan_id=r["plan_id"], hire_date=r.get("hire_date")) for r in example["reps"]
    ]
    deals = [
        Deal(
            id=d["id"],
            owner_id=d["owner_id"],
            amount=_num(d["amount"]),
            close_date=d["close_date"],
            is_won=d.get("is_won", True),
            currency=d.get("currency"),
        )
        for d in example["deals"]
    ]
    splits = [
        Split(s["deal_id"], s["rep_id"], _num(s["percent"])) for s in example.get("splits", [])
    ]
    rates = Rates(
        DatedRate(r["currency"], r["start_date"], _num(r["rate"])) for r in example.get("rates", [])
    )
    adjustments = [
        Adjustment(
            a["rep_id"],
            a["period"],
            _num(a["amount"]),
            a.get("component", "adjustment"),
            a["reason"],
            a.get("reference"),
        )
        for a in example.get("adjustments", [])
    ]
    start, end = example["from"], example["to"]
    assert isinstance(start, date) and isinstance(end, date)
    result = calculate(
        parse_plan_doc({"plans": example["plans"]}),
        reps,
        deals,
        splits,
        start=start,
        end=end,
        adjustments=adjustments,
        rates=rates if example.get("rates") else None,
    )
    for want in example["expect"]:
        found = result.result(want["rep"], want["period"])
        assert found is not None, want
        got = _flat(result_dict(found, lines=False))
        for key, value in want.items():
            if key not in ("rep", "period"):
                assert got[key] == value, (want["rep"], want["period"], key)
    for want in example.get("expect_lines", []):
        found = result.result(want["rep"], want["period"])
        assert found is not None, want
        (line,) = [line_dict(x) for x in found.lines if x.deal_id == want["deal_id"]]
        for key, value in want.items():
            if key not in ("rep", "period"):
                assert line[key] == value, (want, key)
    unresolved = [{"deal_id": u.deal_id, "reason": u.reason} for u in result.unresolved]
    assert unresolved == example.get("expect_unresolved", [])
