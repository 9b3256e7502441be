"""docs/plan-policies.md and docs/plan-ytd-and-caps.md: each `example:` block pays, through the
engine, what the page says (period figures, and the lines listed under `lines:`)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from calc.engine import calculate
from calc.model import Deal, Rep, Split
from calc.plan import parse_plan_doc
from calc.render import result_dict

DOCS = Path(__file__).resolve().parents[2] / "docs"
# Each page and the number of examples it must hold at least.
PAGES = {"plan-policies.md": 9, "plan-ytd-and-caps.md": 9}
BLOCK = re.compile(r"```yaml\n(example: .*?)```", re.DOTALL)


def _examples(page: str | None = None) -> list[dict[str, Any]]:
    pages = [page] if page else list(PAGES)
    return [
        yaml.safe_load(text)
        for name in pages
        for text in BLOCK.findall((DOCS / name).read_text(encoding="utf-8"))
    ]


def _flat(row: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        elif not isinstance(value, list):
            out[f"{prefix}{key}"] = value
    return out


def _num(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _day(value: object) -> date | None:
    return value if isinstance(value, date) else None


@pytest.mark.parametrize("page", PAGES)
def test_the_page_has_an_example_for_every_policy(page: str) -> None:
    names = [e["example"] for e in _examples(page)]
    assert len(set(names)) == len(names) >= PAGES[page]


@pytest.mark.parametrize("example", _examples(), ids=lambda e: e["example"])
def test_the_example_pays_what_the_page_says(example: dict[str, Any]) -> None:
    doc = {
        "plans": example["plans"],
        **({"crediting": example["crediting"]} if "crediting" in example else {}),
    }
    reps = [
        Rep(
            r["id"],
            plan_id=r["plan_id"],
            hire_date=_day(r.get("hire_date")),
            end_date=_day(r.get("end_date")),
        )
        for r in example["reps"]
    ]
    deals = [
        Deal(
            id=d["id"],
            owner_id=d["owner_id"],
            amount=_num(d["amount"]),
            close_date=d["close_date"],
            is_won=d.get("is_won", True),
            type=d.get("type"),
            cancel_date=_day(d.get("cancel_date")),
        )
        for d in example["deals"]
    ]
    splits = [
        Split(s["deal_id"], s["rep_id"], Decimal(str(s["percent"])))
        for s in example.get("splits", [])
    ]
    result = calculate(
        parse_plan_doc(doc), reps, deals, splits, start=example["from"], end=example["to"]
    )
    for want in example["expect"]:
        found = result.result(want["rep"], want["period"])
        assert found is not None, want
        whole = result_dict(found)
        got = _flat(whole)
        for key, value in want.items():
            if key not in ("rep", "period", "lines"):
                assert got[key] == value, (want["rep"], want["period"], key)
        for line in want.get("lines", []):
            # Each listed line matches one line of the result on every key it gives
            # (`explain` by its start).
            assert any(_matches(line, shown) for shown in whole["lines"]), (want["period"], line)


def _matches(want: dict[str, Any], line: dict[str, Any]) -> bool:
    for key, value in want.items():
        if key == "explain":
            if not str(line["explain"]).startswith(value):
                return False
        elif line.get(key) != value:
            return False
    return True
