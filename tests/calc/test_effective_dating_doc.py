"""docs/plan-effective-dating.md: its worked example pays, through the CSV parsers and the
engine, every figure and line the page lists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from calc.engine import calculate
from calc.inputs import parse_deals, parse_reps
from calc.plan import parse_plan_doc
from calc.render import line_dict, result_dict

DOC = Path(__file__).resolve().parents[2] / "docs" / "plan-effective-dating.md"
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


def test_the_page_has_the_promotion_example() -> None:
    assert [e["example"] for e in _examples()] == ["promoted-to-senior-ae-mid-quarter"]


@pytest.mark.parametrize("example", _examples(), ids=lambda e: e["example"])
def test_the_example_pays_what_the_page_says(example: dict[str, Any]) -> None:
    doc = parse_plan_doc({"plans": example["plans"], "crediting": example.get("crediting", {})})
    reps = parse_reps(example["reps_csv"], plan_ids={p.id for p in doc.plans})
    deals = parse_deals(example["deals_csv"])
    result = calculate(doc, reps, deals, start=example["from"], end=example["to"])
    for want in example["expect"]:
        found = result.result(want["rep"], want["period"])
        assert found is not None, want
        got = _flat(result_dict(found, lines=False))
        for key, value in want.items():
            if key not in ("rep", "period"):
                assert got[key] == value, (want["rep"], want["period"], key)
    for want in example["lines"]:
        found = result.result(want["rep"], want["period"])
        assert found is not None, want
        lines = [line_dict(line) for line in found.lines]
        matching = [x for x in lines if all(x[k] == v for k, v in want.items() if k in x)]
        assert len(matching) == 1, (want, lines)
    # every line of the split period is listed: nothing paid that the page does not show
    split = result.result("R1", "2026-Q2")
    assert split is not None
    deal_lines = [x for x in split.lines if x.deal_id is not None]
    assert len(deal_lines) == len(example["lines"])
