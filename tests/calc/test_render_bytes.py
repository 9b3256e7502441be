"""The JSON writer gives the same bytes as json.dumps(to_dict(result), indent=1)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from calc import inputs
from calc.crediting import Credit, Unresolved
from calc.engine import calculate
from calc.model import Deal
from calc.periods import period_of
from calc.plan import parse_plan_doc
from calc.render import to_csv, to_dict, to_json
from calc.results import CalcResult, DrawState, Line, PeriodResult

EXAMPLES = Path(__file__).resolve().parents[2] / "calc" / "examples"
D = Decimal


def _reference(result: CalcResult) -> str:
    return json.dumps(to_dict(result), indent=1, ensure_ascii=False) + "\n"


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2026, 1, 1), date(2026, 12, 31)), (date(2026, 4, 1), date(2026, 5, 15))],
)
def test_examples_render_as_json_dumps(start: date, end: date) -> None:
    doc = parse_plan_doc(yaml.safe_load((EXAMPLES / "plan.yaml").read_text()))
    result = calculate(
        doc,
        inputs.parse_reps((EXAMPLES / "reps.csv").read_text()),
        inputs.parse_deals((EXAMPLES / "deals.csv").read_text()),
        inputs.parse_splits((EXAMPLES / "splits.csv").read_text()),
        inputs.parse_team((EXAMPLES / "team.csv").read_text()),
        start=start,
        end=end,
    )
    assert result.results and result.credits
    assert to_json(result) == _reference(result)


def _odd_result() -> CalcResult:
    """Escapes, non-ASCII, nulls, negative zero, empty lists and a result without lines."""
    period = period_of(date(2026, 2, 3), "quarter")
    lines = (
        Line("c\u00e9", 'D"1\\', "owner", D("-0.001"), D("0.0800"), D("-0.00"), "tier \u2265 1\n"),
        Line("bonus", None, None, D(5000), D(1), D("5000.00"), "bonus: ok\t"),
    )
    draw = DrawState(D(0), D(0), D(0))
    full = PeriodResult(
        "R\u00e9",
        "p",
        period,
        D(1),
        D(2),
        D("0.5"),
        D("0.5"),
        (("c\u00e9", D(-1)),),
        D(-1),
        draw,
        D(-1),
        lines,
        D(-1),
    )
    empty = PeriodResult("R2", "p", period, D(0), D(0), D(0), D(0), (), D(0), draw, D(0), (), D(0))
    deal = Deal("D\u00e9", owner_id="R2")
    credit = Credit(deal, "D\u00e9", "R2", "split", D("33.333"), D("-0.004"), period.start, period)
    return CalcResult("EUR", (full, empty), (credit,), (Unresolved("D\u00e9", 'why "not"'),))


def test_odd_values_render_as_json_dumps() -> None:
    result = _odd_result()
    assert to_json(result) == _reference(result)
    empty = CalcResult("USD", (), (), ())
    assert to_json(empty) == _reference(empty)


def test_csv_rows_carry_the_line_values() -> None:
    rows = to_csv(_odd_result()).splitlines()
    assert rows[1].startswith("R\u00e9,p,2026-Q1,2026-01-01,2026-03-31,c\u00e9,")
    assert ",0.00,0.08,0.00," in rows[1]
    assert ",,,5000.00,1.00,5000.00," in rows[-1]


MONEY = ["12.34", "-0.00", "0.00", "-0.001", "0.005", "-0.005", "1.2", "12", "1E+2", "1.5E-7"]
MONEY += ["123.455", "99999999999999999999999.99", "-12.30", "0E-8", "7.10E+1", "-1", "0.10"]


@pytest.mark.parametrize("text", MONEY)
def test_amounts_already_in_cents_and_not_render_as_json_dumps(text: str) -> None:
    # The writer skips rounding amounts that are already in cents: every other form of a
    # number (more places, fewer, an exponent, negative zero) is still rounded half up.
    value = D(text)
    period = period_of(date(2026, 2, 3), "month")
    line = Line("c", "D1", "owner", value, D("0.05"), value, "x", capped=value)
    draw = DrawState(value, value, value, value)
    res = PeriodResult(
        "R1", "p", period, value, value, D(0), D(0), (("c", value),), value, draw, value,
        (line,), value,
    )  # fmt: skip
    credit = Credit(Deal("D1"), "D1", "R1", "owner", value, value, period.start, period)
    result = CalcResult("USD", (res,), (credit,), ())
    assert to_json(result) == _reference(result)
