"""The bulk owner estimates (`owner_estimates`, the `Estimated_Commission__c` values) against
the general estimator (`estimate_credits` per deal, from the owner's credits as they stand),
on the differential test's generated books (tiers, year-to-date components, annual caps,
clawbacks in both modes, splits, managers with rollup, mid-period hires, effective-dated
reps) with SPIFFs added (some limited in number, some with criteria)."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

import calc.estimate as estimate
from calc.book import Book
from calc.crediting import Credit
from calc.engine import period_gross
from calc.estimate import estimate_credits, owner_estimates, won_on
from calc.periods import period_of
from calc.plan import parse_plan_doc
from tests.calc.test_differential import _doc, inputs, make_case

CASES = 250
AS_OF = (
    date(2025, 12, 31),
    date(2026, 2, 14),
    date(2026, 8, 14),
    date(2027, 1, 20),
    date(2027, 3, 1),
    date(2027, 6, 20),
)


def _with_spiffs(seed: int) -> Book:
    rng = random.Random(seed * 31 + 5)
    case = make_case(seed)
    given = inputs(case)
    doc: dict[str, Any] = _doc(case)
    for plan in doc["plans"]:
        if rng.random() < 0.6:
            start = date(rng.choice([2025, 2026, 2026]), rng.randint(1, 12), 1)
            spiff: dict[str, Any] = {
                "id": "spiff",
                "type": "spiff",
                "window": {"start": start, "end": date(2027, rng.randint(1, 6), 28)},
                "payout": {"per_deal": rng.choice([250, 500])},
            }
            if rng.random() < 0.6:
                spiff["max_payouts"] = rng.randint(1, 3)
            if rng.random() < 0.4:
                spiff["criteria"] = [
                    {"field": "type", "op": "eq", "value": rng.choice(["New", "Renewal"])}
                ]
            plan["components"].append(spiff)
    return Book(**{**given, "doc": parse_plan_doc(doc)})


def _general(book: Book, deal_id: str, as_of: date) -> Decimal:
    """The estimate as `estimate_credits` gives it, deal by deal, nothing shared."""
    deal = book.deals[deal_id]
    owner = deal.owner_id
    rep = book.reps.get(owner) if owner else None
    plan = book.ctx(owner).plan if owner else None
    if owner is None or rep is None or plan is None:
        return Decimal(0)
    mine = [c for c in book.deal_credits(won_on(deal, as_of))[0] if c.rep_id == owner]
    if not mine:
        return Decimal(0)
    current = book.credits([owner]).by_rep.get(owner, [])
    plans = {p.id: p for p in book.doc.plans}
    return estimate_credits(plan, rep, current, mine, plans=plans).amount


def _compare(cases: range) -> int:
    compared = 0
    for seed in cases:
        book = _with_spiffs(seed)
        # Every deal, won ones too (estimated as if won on `as_of`): those are credited as
        # they stand, so their own credits are taken out of the period first.
        ids = sorted(book.deals)
        for as_of in AS_OF:
            got = owner_estimates(book, ids, as_of=as_of)
            for deal_id in ids:
                assert got[deal_id] == _general(book, deal_id, as_of), (seed, deal_id, as_of)
                compared += got[deal_id] != 0
    return compared


def test_owner_estimates_equal_the_general_estimator() -> None:
    assert _compare(range(CASES)) > 1000


def _compare_reach(cases: range) -> int:
    """Each owner's period gross (components, lines) from the credits in `_reach` only
    equals the gross from all the owner's credits."""
    compared = 0
    for seed in cases:
        book = _with_spiffs(seed)
        for rep_id, rep in sorted(book.reps.items()):
            plan = book.ctx(rep_id).plan
            if plan is None or rep.assignments:
                continue
            current = book.credits([rep_id]).by_rep.get(rep_id, [])
            owner = estimate._Owner.of(plan, rep, current, {})
            for as_of in AS_OF:
                period = period_of(as_of, plan.period, plan.fiscal_year_start_month)
                head = owner.head(period)
                got = period_gross(plan, rep, head, period, ordered=True)
                assert got == period_gross(plan, rep, list(current), period), (seed, rep_id)
                compared += len(head) < len(current)
    return compared


def test_a_period_gross_reads_only_the_credits_in_its_reach() -> None:
    assert _compare_reach(range(CASES)) > 500


def _one_credit_short(self: Any, period: Any) -> list[Credit]:
    # Broken on purpose: the last of the owner's credits before the period is left out.
    head = _ORIGINAL_HEAD(self, period)
    before = [c for c in head if c.credit_date < period.start]
    return before[:-1] + head[len(before) :]


def _no_credited_check(self: Any, mine: Any) -> Decimal:
    # Broken on purpose: a deal credited as it stands is not taken out before adding `mine`.
    self.credited = set()
    return _ORIGINAL_ESTIMATE(self, mine)


def _unordered(self: Any, period: Any) -> list[Credit]:
    # Broken on purpose: the shared credits are handed over out of credit order.
    return list(reversed(_ORIGINAL_HEAD(self, period)))


def _year_only(plan: Any, period: Any) -> date:
    # Broken on purpose: the reach ignores clawbacks and SPIFF windows (the fiscal year only).
    return period.year_start  # type: ignore[no-any-return]


def _no_spiff_window(plan: Any, period: Any) -> date:
    # Broken on purpose: the reach ignores SPIFF windows.
    bare = plan.model_copy(update={"components": [c for c in plan.components if c.type != "spiff"]})
    return _ORIGINAL_REACH(bare, period)


def _no_clawback_window(plan: Any, period: Any) -> date:
    # Broken on purpose: the reach ignores the clawback window.
    return _ORIGINAL_REACH(plan.model_copy(update={"clawback": None}), period)


_ORIGINAL_REACH = estimate._reach
_ORIGINAL_ESTIMATE = estimate._Owner.estimate
_ORIGINAL_HEAD = estimate._Owner.head


@pytest.mark.parametrize("broken", [_year_only, _no_spiff_window, _no_clawback_window])
def test_the_comparison_fails_when_the_reach_is_too_short(
    monkeypatch: pytest.MonkeyPatch, broken: Any
) -> None:
    monkeypatch.setattr(estimate, "_reach", broken)
    with pytest.raises(AssertionError):
        _compare_reach(range(CASES))


@pytest.mark.parametrize(
    ("name", "broken"),
    [("head", _one_credit_short), ("estimate", _no_credited_check), ("head", _unordered)],
)
def test_the_comparison_fails_when_a_shortcut_is_broken(
    monkeypatch: pytest.MonkeyPatch, name: str, broken: Any
) -> None:
    monkeypatch.setattr(estimate._Owner, name, broken)
    with pytest.raises(AssertionError):
        _compare(range(CASES))
