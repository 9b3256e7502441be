"""`quotaflow calc` streams its JSON rep by rep: the same bytes as the whole-result writer.

The reference is the contract's definition, json.dumps(to_dict(result), indent=1), which the
writer before streaming matched byte for byte; the streamed CLI output, the rep-by-rep engine
and `to_json` must all give exactly those bytes, on the example files and on a generated book
(splits, a SPIFF, a bonus, an accelerator, managers, deals outside the range).
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date
from pathlib import Path

import pytest
import yaml

from calc import inputs
from calc.book import Book
from calc.engine import calculate, calculate_book, stream_book
from calc.plan import parse_plan_doc
from calc.render import json_chunks, to_dict, to_json
from calc.results import CalcResult
from webapp.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "calc" / "examples"
PLAN = {
    "plans": [
        {
            "id": "ae",
            "period": "month",
            "quota": {"annual": 600000},
            "components": [
                {
                    "id": "commission",
                    "type": "commission",
                    "tiers": {
                        "basis": "attainment",
                        "table": [
                            {"from": 0, "rate": 0.05},
                            {"from": 0.5, "rate": 0.08},
                            {"from": 1, "rate": 0.12},
                        ],
                    },
                    "multipliers": [{"min_attainment": 1.5, "factor": 1.25}],
                },
                {
                    "id": "spiff",
                    "type": "spiff",
                    "window": {"start": "2026-01-01", "end": "2026-03-31"},
                    "criteria": [{"field": "product_family", "value": "Analytics"}],
                    "payout": {"per_deal": 500},
                    "max_payouts": 3,
                },
                {"id": "bonus", "type": "bonus", "min_attainment": 1, "amount": 2000},
            ],
        },
        {
            "id": "mgr",
            "period": "quarter",
            "credit_types": ["rollup"],
            "quota": {"amount": 300000},
            "components": [
                {
                    "id": "override",
                    "type": "commission",
                    "rate": 0.01,
                    "gate": {"min_attainment": 0.5},
                }
            ],
        },
    ],
    "crediting": {"rollup": {"levels": 1}},
}


def _reference(result: CalcResult) -> str:
    return json.dumps(to_dict(result), indent=1, ensure_ascii=False) + "\n"


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded book: 3 managers, 27 reps, 1,500 deals across 2025-12..2027-01, splits."""
    rng = random.Random(18)
    folder = tmp_path_factory.mktemp("generated")
    (folder / "plan.yaml").write_text(yaml.safe_dump(PLAN))
    managers = [[f"M{i}", f"Manager {i}", "", "mgr"] for i in range(3)]
    reps = [[f"R{i:02d}", f"Rep {i}", f"M{i % 3}", "ae"] for i in range(27)]
    _write(folder / "reps.csv", ["id", "name", "manager_id", "plan_id"], managers + reps)
    deals, splits = [], []
    for i in range(1500):
        owner = f"R{rng.randrange(27):02d}"
        day = date(2025, 12, 1).toordinal() + rng.randrange(427)
        amount = f"{rng.randrange(100, 9_000_000) / 100}"
        family = rng.choice(["Core", "Analytics", "Platform"])
        deals.append([f"D{i:05d}", f"Deal é{i}", owner, amount, date.fromordinal(day)])
        deals[-1] += [rng.choice(["true", "true", "false"]), family]
        other = f"R{rng.randrange(27):02d}"
        if i % 9 == 0 and other != owner:
            splits += [[f"D{i:05d}", owner, 70, "revenue"], [f"D{i:05d}", other, 30, "revenue"]]
    header = ["id", "name", "owner_id", "amount", "close_date", "is_won", "product_family"]
    _write(folder / "deals.csv", header, deals)
    _write(folder / "splits.csv", ["deal_id", "rep_id", "percent", "split_type"], splits)
    return folder


def _book(folder: Path, *, team: bool = False) -> Book:
    doc = parse_plan_doc(yaml.safe_load((folder / "plan.yaml").read_text()))
    return Book(
        doc,
        inputs.parse_reps((folder / "reps.csv").read_text()),
        inputs.parse_deals((folder / "deals.csv").read_text()),
        inputs.parse_splits((folder / "splits.csv").read_text()),
        inputs.parse_team((folder / "team.csv").read_text()) if team else (),
    )


def _cli(folder: Path, start: str, end: str, capsys: pytest.CaptureFixture[str]) -> str:
    argv = ["calc", "--plan", str(folder / "plan.yaml"), "--reps", str(folder / "reps.csv")]
    argv += ["--deals", str(folder / "deals.csv"), "--splits", str(folder / "splits.csv")]
    if (folder / "team.csv").exists():
        argv += ["--team", str(folder / "team.csv")]
    assert main([*argv, "--from", start, "--to", end]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("start", "end"), [("2026-01-01", "2026-12-31"), ("2026-02-10", "2026-05-20")]
)
def test_generated_book_streams_the_reference_bytes(
    generated: Path, start: str, end: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    whole = calculate_book(_book(generated), start=first, end=last)
    assert whole.results and whole.credits
    assert any(line.component == "spiff" for r in whole.results for line in r.lines)
    assert any("x1.25" in line.explain for r in whole.results for line in r.lines)
    reference = _reference(whole)
    assert to_json(whole) == reference
    streamed = stream_book(_book(generated), start=first, end=last)
    chunks = list(json_chunks(streamed.currency, streamed.reps, streamed.unresolved))
    assert len(chunks) > 30  # rep by rep, not one piece
    assert "".join(chunks) == reference
    assert _cli(generated, start, end, capsys) == reference


def test_example_files_stream_the_reference_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    for start, end in (("2026-01-01", "2026-12-31"), ("2026-04-01", "2026-05-15")):
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        doc = parse_plan_doc(yaml.safe_load((EXAMPLES / "plan.yaml").read_text()))
        result = calculate(
            doc,
            inputs.parse_reps((EXAMPLES / "reps.csv").read_text()),
            inputs.parse_deals((EXAMPLES / "deals.csv").read_text()),
            inputs.parse_splits((EXAMPLES / "splits.csv").read_text()),
            inputs.parse_team((EXAMPLES / "team.csv").read_text()),
            start=first,
            end=last,
        )
        assert result.unresolved  # D13's unknown owner
        assert _cli(EXAMPLES, start, end, capsys) == _reference(result)


def test_a_plan_error_found_midway_leaves_nothing_on_stdout(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A target incentive with no target: found only when the first AE is calculated,
    # after the managers' results have been written to the temporary file.
    plan = json.loads(json.dumps(PLAN))
    plan["plans"][0]["components"].append(
        {"id": "ti", "type": "target_incentive", "curve": {"table": [{"from": 0, "multiplier": 1}]}}
    )
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan))
    argv = ["calc", "--plan", str(tmp_path / "plan.yaml"), "--reps", str(generated / "reps.csv")]
    argv += ["--deals", str(generated / "deals.csv"), "--from", "2026-01-01", "--to", "2026-12-31"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "target incentive" in captured.err


def test_a_streamed_calculation_leaves_no_reference_cycles() -> None:
    # `quotaflow calc` pauses the cyclic collector: each rep's lines must be freed by
    # reference counting alone as soon as they are written, or a million deals' lines pile up.
    import gc

    book = Book(
        parse_plan_doc(yaml.safe_load((EXAMPLES / "plan.yaml").read_text())),
        inputs.parse_reps((EXAMPLES / "reps.csv").read_text()),
        inputs.parse_deals((EXAMPLES / "deals.csv").read_text()),
        inputs.parse_splits((EXAMPLES / "splits.csv").read_text()),
        inputs.parse_team((EXAMPLES / "team.csv").read_text()),
    )
    gc.collect()
    gc.disable()
    try:
        streamed = stream_book(book, start=date(2026, 1, 1), end=date(2026, 12, 31))
        text = "".join(json_chunks(streamed.currency, streamed.reps, streamed.unresolved))
        del streamed
        assert '"lines"' in text
        assert gc.collect() == 0
    finally:
        gc.enable()
