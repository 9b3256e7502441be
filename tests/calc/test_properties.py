"""Properties: splits and lines add up, marginal is monotonic, row order and reruns don't count."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from calc.engine import calculate
from calc.model import Deal, Rep, Split
from calc.plan import parse_plan_doc
from calc.render import to_json

D = Decimal
SETTINGS = settings(max_examples=60, deadline=None)
cents_st = st.integers(min_value=1, max_value=50_000_000).map(lambda c: D(c) / 100)
day_st = st.integers(min_value=0, max_value=364).map(lambda n: date(2026, 1, 1) + timedelta(days=n))


@st.composite
def percents(draw: st.DrawFn) -> list[Decimal]:
    """2..5 split percents with two decimals that add up to exactly 100."""
    n = draw(st.integers(min_value=2, max_value=5))
    cuts = sorted(
        draw(
            st.lists(
                st.integers(min_value=1, max_value=9999),
                min_size=n - 1,
                max_size=n - 1,
                unique=True,
            )
        )
    )
    edges = [0, *cuts, 10000]
    return [D(b - a) / 100 for a, b in itertools.pairwise(edges)]


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    """A random commission plan: tiers in any mode and scope, maybe multipliers, cap, gate."""
    starts = sorted(
        set(draw(st.lists(st.sampled_from([0.25, 0.5, 0.75, 1.0, 1.5, 2.0]), max_size=3)))
    )
    rates = draw(
        st.lists(
            st.decimals(min_value=0, max_value=D("0.3"), places=3),
            min_size=len(starts) + 1,
            max_size=len(starts) + 1,
        )
    )
    comp: dict[str, Any] = {
        "id": "c",
        "type": "commission",
        "tiers": {
            "mode": draw(st.sampled_from(["marginal", "retroactive"])),
            "scope": draw(st.sampled_from(["period", "deal"])),
            "table": [{"from": s, "rate": r} for s, r in zip([0, *starts], rates, strict=True)],
        },
    }
    if draw(st.booleans()):
        comp["multipliers"] = [
            {"below_attainment": 0.8, "factor": 0.7},
            {"min_attainment": 1.2, "factor": 1.3},
        ]
    if draw(st.booleans()):
        comp["cap"] = {"amount": draw(st.integers(min_value=1, max_value=50000))}
    spiff = {
        "id": "s",
        "type": "spiff",
        "window": {"start": date(2026, 1, 1), "end": date(2026, 6, 30)},
        "payout": {"rate": 0.013},
        "max_payouts": 3,
    }
    return {
        "plans": [
            {
                "id": "p",
                "period": draw(st.sampled_from(["month", "quarter"])),
                "quota": {"amount": 300000},
                "components": [comp, spiff],
                "clawback": {"window_days": 60},
            }
        ]
    }


deal_rows = st.lists(
    st.tuples(cents_st, day_st, st.sampled_from(["R1", "R2", "R3"]), st.booleans()),
    min_size=1,
    max_size=25,
)


def _deals(rows: list[tuple[Decimal, date, str, bool]]) -> list[Deal]:
    return [
        Deal(
            id=f"D{i:03d}",
            owner_id=owner,
            amount=amount,
            close_date=day,
            is_won=True,
            cancel_date=day + timedelta(days=20) if cancel else None,
        )
        for i, (amount, day, owner, cancel) in enumerate(rows)
    ]


REPS = [Rep(id="R1", plan_id="p"), Rep(id="R2", plan_id="p"), Rep(id="R3", plan_id="p")]


@SETTINGS
@given(amount=cents_st, pcts=percents())
def test_revenue_split_credits_add_up_to_the_deal_amount(
    amount: Decimal, pcts: list[Decimal]
) -> None:
    reps = [Rep(id=f"R{i}", plan_id="p") for i in range(len(pcts))]
    splits = [Split("D1", f"R{i}", p) for i, p in enumerate(pcts)]
    doc = parse_plan_doc(
        {"id": "p", "components": [{"id": "c", "type": "commission", "rate": 0.1}]}
    )
    result = calculate(
        doc,
        reps,
        [Deal(id="D1", owner_id="R0", amount=amount, close_date=date(2026, 5, 5), is_won=True)],
        splits,
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
    )
    assert sum(c.amount for c in result.credits) == amount


@SETTINGS
@given(doc=plans(), rows=deal_rows)
def test_lines_add_up_to_components_and_components_to_gross(
    doc: dict[str, Any], rows: list[tuple[Decimal, date, str, bool]]
) -> None:
    result = calculate(
        parse_plan_doc(doc), REPS, _deals(rows), start=date(2026, 1, 1), end=date(2026, 12, 31)
    )
    for res in result.results:
        for name, amount in res.components:
            assert sum((ln.amount for ln in res.lines if ln.component == name), D(0)) == amount
            assert amount == amount.quantize(D("0.01"))
        assert sum((a for _, a in res.components), D(0)) == res.gross


@SETTINGS
@given(rows=deal_rows, extra=cents_st)
def test_marginal_commission_never_decreases_as_sales_grow(
    rows: list[tuple[Decimal, date, str, bool]], extra: Decimal
) -> None:
    table = [
        {"from": 0, "rate": 0.03},
        {"from": 0.5, "rate": 0.08},
        {"from": 1, "rate": 0.05},
        {"from": 1.5, "rate": 0.12},
    ]
    doc = parse_plan_doc(
        {
            "id": "p",
            "quota": {"amount": 300000},
            "components": [{"id": "c", "type": "commission", "tiers": {"table": table}}],
        }
    )
    deals = [
        Deal(id=f"D{i:03d}", owner_id="R1", amount=a, close_date=d, is_won=True)
        for i, (a, d, _, _) in enumerate(rows)
    ]
    before = calculate(doc, REPS[:1], deals, start=date(2026, 1, 1), end=date(2026, 12, 31))
    grown = [*deals, Deal(id="DX", owner_id="R1", amount=extra, close_date=rows[0][1], is_won=True)]
    after = calculate(doc, REPS[:1], grown, start=date(2026, 1, 1), end=date(2026, 12, 31))
    assert sum(r.gross for r in after.results) >= sum(r.gross for r in before.results)


@SETTINGS
@given(doc=plans(), rows=deal_rows, seed=st.integers(min_value=0, max_value=10_000))
def test_output_does_not_depend_on_row_order_and_reruns_are_identical(
    doc: dict[str, Any], rows: list[tuple[Decimal, date, str, bool]], seed: int
) -> None:
    plan_doc = parse_plan_doc(doc)
    deals = _deals(rows)
    splits = [
        Split(deals[0].id, "R1", D(50)),
        Split(deals[0].id, "R2", D(50)),
        Split(deals[-1].id, "R3", D(25), "overlay"),
    ]
    first = to_json(
        calculate(plan_doc, REPS, deals, splits, start=date(2026, 1, 1), end=date(2026, 12, 31))
    )
    again = to_json(
        calculate(plan_doc, REPS, deals, splits, start=date(2026, 1, 1), end=date(2026, 12, 31))
    )
    rng = random.Random(seed)
    shuffled = [list(x) for x in (REPS, deals, splits)]
    for items in shuffled:
        rng.shuffle(items)
    other = to_json(
        calculate(
            plan_doc,
            shuffled[0],
            shuffled[1],
            shuffled[2],
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
        )
    )
    assert first.encode() == again.encode() == other.encode()
