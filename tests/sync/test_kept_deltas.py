"""The kept calculation state of a large-ish org (teams with rollup to managers and
directors) brought up to date by deltas, against a fresh full calculation after random
changes: amounts (some crossing a tier edge), close dates, a deal given to another rep, a
deal deleted or added, splits that do or do not add up, and a rep moved under another
manager. What a recomputed rep reads (its credits from the kept lists, its kept periods, its
kept rendering) must give byte for byte what a fresh Book gives."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from calc.book import Book
from calc.crediting import CREDIT_ORDER
from calc.engine import calculate_book
from calc.model import Deal, Rep, Split
from calc.plan import PlanDoc, parse_plan_doc
from connector.pull.codec import encode
from connector.store.repositories import CanonicalTuple
from connector.sync.compute import Computed, Examined, compute_results
from connector.sync.scope import current_recipients
from connector.sync.state import CalcState, apply_rows

FIRST, LAST = date(2026, 1, 1), date(2026, 12, 31)
TIERS = [{"from": 0, "rate": 0.05}, {"from": 0.5, "rate": 0.08}, {"from": 1, "rate": 0.12}]
PLANS: dict[str, Any] = {
    "plans": [
        {
            "id": "ae",
            "period": "month",
            "quota": {"amount": 60000},
            "components": [
                {"id": "commission", "type": "commission",
                 "tiers": {"basis": "attainment", "table": TIERS}},
                {"id": "spiff", "type": "spiff",
                 "window": {"start": date(2026, 1, 1), "end": date(2026, 6, 30)},
                 "criteria": [{"field": "product_family", "value": "Analytics"}],
                 "payout": {"per_deal": 500}, "max_payouts": 3},
                {"id": "bonus", "type": "bonus", "min_attainment": 1, "amount": 2000},
            ],
        },
        {
            "id": "mgr",
            "period": "month",
            "credit_types": ["rollup"],
            "quota": {"amount": 250000},
            "components": [
                {"id": "override", "type": "commission", "gate": {"min_attainment": 0.5},
                 "tiers": {"basis": "attainment", "mode": "retroactive",
                           "table": [{"from": 0, "rate": 0.01}, {"from": 1, "rate": 0.02}]}},
            ],
        },
        {
            # Year-to-date and annual caps: each period reads the year before it.
            "id": "dir",
            "period": "quarter",
            "credit_types": ["rollup"],
            "quota": {"amount": 1500000},
            "components": [
                {"id": "override", "type": "commission", "rate": 0.004,
                 "cap": {"annual": 9000}},
                {"id": "accelerator", "type": "commission", "ytd": "to_date",
                 "tiers": {"basis": "attainment", "table": TIERS}},
            ],
        },
    ],
    "crediting": {"rollup": {"levels": "all"}},
}  # fmt: skip
FAMILIES = ("Core", "Analytics", "Platform")


def _org(rng: random.Random) -> tuple[PlanDoc, list[Rep], list[Deal], list[Split]]:
    directors = [Rep(f"X{i}", plan_id="dir") for i in range(2)]
    managers = [Rep(f"M{i}", manager_id=f"X{i % 2}", plan_id="mgr") for i in range(4)]
    aes = [Rep(f"A{i:02d}", manager_id=f"M{i % 4}", plan_id="ae") for i in range(16)]
    deals = [_deal(rng, f"D{i:03d}", aes) for i in range(360)]
    splits = []
    for deal in deals[::9]:
        other = rng.choice(aes).id
        if other != deal.owner_id:
            splits += [Split(deal.id, deal.owner_id or "", Decimal(60)),
                       Split(deal.id, other, Decimal(40))]  # fmt: skip
    return parse_plan_doc(PLANS), directors + managers + aes, deals, splits


def _deal(rng: random.Random, deal_id: str, aes: list[Rep]) -> Deal:
    return Deal(
        id=deal_id,
        owner_id=rng.choice(aes).id,
        amount=Decimal(rng.randrange(100_000, 4_000_000)) / 100,
        close_date=FIRST + timedelta(days=rng.randrange(365)),
        is_won=rng.random() < 0.9,
        product_family=rng.choice(FAMILIES),
    )


def _state(rng: random.Random) -> CalcState:
    doc, reps, deals, splits = _org(rng)
    by_deal: dict[str, dict[str, Split]] = {}
    split_deal: dict[str, str] = {}
    for i, split in enumerate(splits):
        by_deal.setdefault(split.deal_id, {})[f"S{i:04d}"] = split
        split_deal[f"S{i:04d}"] = split.deal_id
    return CalcState(
        "org", 1, 1, doc, {r.id: r for r in reps}, {d.id: d for d in deals},
        by_deal, {}, split_deal, {},
    )  # fmt: skip


def _fresh(state: CalcState) -> Book:
    """A Book built from the state's records as they stand, sharing nothing kept."""
    return Book(
        state.doc,
        state.reps.values(),
        state.deals.values(),
        [s for _d, by_id in sorted(state.splits.items()) for _i, s in sorted(by_id.items())],
    )


Rows = dict[str, list[CanonicalTuple]]


def _changes(state: CalcState, rng: random.Random, n: int) -> Rows:
    """Random changed records, as the pull stores them (a deleted row keeps its payload)."""
    rows: Rows = {"rep": [], "deal": [], "split": [], "team_member": []}
    aes = sorted(r for r in state.reps if r.startswith("A"))
    split_deals = sorted(d for d in state.splits if d in state.deals)
    for _ in range(n):
        again = split_deals and rng.random() < 0.3
        deal = state.deals[rng.choice(split_deals if again else sorted(state.deals))]
        kind = rng.choice((0.0, 0.9)) if again else rng.random()  # split again: fixed or broken
        if kind < 0.35:
            deal = replace(deal, amount=(deal.amount or 0) + rng.randint(-40, 120) * 250)
        elif kind < 0.5:
            # Some move out of the calculated year (their credits are not handed out).
            days = rng.choice((-400, -40, -9, 9, 40))
            deal = replace(deal, close_date=(deal.close_date or FIRST) + timedelta(days=days))
        elif kind < 0.65:
            deal = replace(deal, owner_id=rng.choice(aes))  # given to another rep
        elif kind < 0.75:
            rows["deal"].append((deal.id, encode(deal), True, None))
            continue
        elif kind < 0.8:
            deal = _deal(rng, f"N{rng.randrange(10**6):06d}", [state.reps[a] for a in aes])
        else:
            # A split of a deal with another rep; half of them do not add up (and a deal
            # split again is fixed or broken).
            other = rng.choice(aes)
            pct = Decimal(rng.choice((30, 40)))
            new = [f"S-{deal.id}-{i}" for i in range(2)]
            for record_id, split in state.splits.get(deal.id, {}).items():
                if record_id not in new:  # the deal's other split rows are deleted
                    rows["split"].append((record_id, encode(split), True, None))
            for record_id, (rep_id, share) in zip(
                new, ((deal.owner_id, 60), (other, pct)), strict=True
            ):
                split = Split(deal.id, rep_id or "", Decimal(share))
                rows["split"].append((record_id, encode(split), False, None))
        rows["deal"].append((deal.id, encode(deal), False, None))
    if rng.random() < 0.2:
        rep = state.reps[rng.choice(aes)]
        moved = replace(rep, manager_id=rng.choice([m for m in state.reps if m.startswith("M")]))
        rows["rep"].append((rep.id, encode(moved), False, None))
    return rows


def _compare(got: Computed, fresh: Computed, where: object) -> None:
    assert got.rep_ids == fresh.rep_ids, where
    assert got.results == fresh.results, where
    wanted = got.credit_deals
    assert wanted is not None and fresh.credit_deals is None
    assert got.credits == [c for c in fresh.credits if c["deal_id"] in wanted], where
    assert got.issues == fresh.issues, where


def _run(state: CalcState, rng: random.Random, rows: Rows, *, sample: bool) -> Computed:
    """One incremental calculation as the sync does it with its kept state: the reps the
    changed deals (and the deals of changed reps) credited before and credit now."""
    old = state.book  # changed in place by deal changes: read what it credited first
    ids = {r[0] for r in rows["deal"]} | {r[1]["deal_id"] for r in rows["split"]}
    moved = {r[0] for r in rows["rep"]}
    ids |= set().union(*(old.touching(r) for r in moved))
    before = current_recipients(old, ids)
    apply_rows(state, rows)
    reps = before | current_recipients(state.book, ids) | moved
    if sample:
        reps |= set(rng.sample(sorted(state.reps), 4))
    return compute_results(
        state.book, sorted(reps), start=FIRST, end=LAST, credit_deals=ids,
        kept=state.periods, rendered=state.rendered,
    )  # fmt: skip


def test_kept_state_after_random_changes_equals_a_fresh_full_calculation() -> None:
    reused = 0
    for seed in range(6):
        rng = random.Random(seed)
        state = _state(rng)
        compute_results(state.book, None, start=FIRST, end=LAST)  # the full run: kept lists
        for round_ in range(14):
            rows = _changes(state, rng, rng.randint(1, 6))
            got = _run(state, rng, rows, sample=round_ % 2 == 0)
            fresh_book = _fresh(state)
            fresh = compute_results(fresh_book, got.rep_ids, start=FIRST, end=LAST)
            _compare(got, fresh, (seed, round_))
            kept, new = state.book.credits(got.rep_ids), fresh_book.credits(got.rep_ids)
            in_order = {r: sorted(c, key=CREDIT_ORDER) for r, c in new.by_rep.items()}
            assert {r: sorted(c, key=CREDIT_ORDER) for r, c in kept.by_rep.items()} == in_order
            assert kept.by_rep == in_order, (seed, round_)  # handed out in credit order
            assert set(kept.unresolved) == set(new.unresolved), (seed, round_)
            reused += len(got.same)
            state.remember(got)  # once committed
    assert reused > 100  # the shortcuts were taken, not only the general path


def test_a_change_crossing_a_tier_edge_equals_a_fresh_calculation() -> None:
    rng = random.Random(18)
    state = _state(rng)
    compute_results(state.book, None, start=FIRST, end=LAST)
    # Every rep recomputed once, so that each has kept periods and a kept rendering.
    everyone = sorted(state.reps)
    state.remember(compute_results(state.book, everyone, start=FIRST, end=LAST,
                                   kept=state.periods, rendered=state.rendered))  # fmt: skip
    rep_id, month, deal = next(
        (rep_id, row[1]["period"], d)
        for rep_id in everyone
        if rep_id.startswith("A")
        for row in state.rendered[rep_id].values()
        if "2026-03" <= row[1]["period"] <= "2026-10" and Decimal(row[1]["attainment"]) < 1
        for d in sorted(state.deals.values(), key=lambda d: d.id)
        if d.is_won and d.owner_id == rep_id and d.id not in state.splits
        and d.close_date and d.close_date.isoformat()[:7] == row[1]["period"]
    )  # fmt: skip
    bigger = replace(deal, amount=(deal.amount or 0) + Decimal(90000))  # past 100% of quota
    rows: Rows = {"rep": [], "deal": [(deal.id, encode(bigger), False, None)], "split": [],
                  "team_member": []}  # fmt: skip
    before = {r: dict(state.rendered[r]) for r in everyone}
    got = _run(state, rng, rows, sample=False)
    fresh = compute_results(_fresh(state), got.rep_ids, start=FIRST, end=LAST)
    _compare(got, fresh, "tier")
    row = next(r for r in got.results[rep_id] if r["period"] == month)
    assert "0.12" in {line["rate"] for line in row["lines"]}  # the top tier, crossed
    # The months after it: their lines as kept (only the year-to-date figures moved).
    manager = state.reps[rep_id].manager_id or ""
    later = f"{month[:5]}{int(month[5:]) + 1:02d}"
    for who in (rep_id, manager):
        after = next(r for r in got.results[who] if r["period"] == later)
        assert after["lines"] is before[who][later][1]["lines"], who


def test_kept_credits_are_handed_out_in_credit_order_after_a_bare_full_crediting() -> None:
    # Kept from `Book.credits()` alone (no engine run sorted the lists in place).
    rng = random.Random(5)
    state = _state(rng)
    book = _fresh(state)
    book.remember_credits = True
    book.credits()
    for deal_id in rng.sample(sorted(state.deals), 20):
        changed = replace(state.deals[deal_id], amount=Decimal(rng.randrange(1000, 90000)))
        state.deals[deal_id] = changed
        book.put_deal(changed)
    reps = sorted(state.reps)
    got = calculate_book(book, start=FIRST, end=LAST, rep_ids=reps)
    assert got == calculate_book(_fresh(state), start=FIRST, end=LAST, rep_ids=reps)


def test_the_examined_records_are_the_recomputed_reps_and_every_deal_that_may_credit_them() -> None:
    rng = random.Random(7)
    state = _state(rng)
    book = state.book
    reps = sorted(rng.sample(sorted(book.reps), 5))
    examined = Examined(book, reps)
    # A User is answered without gathering the deals (a director's are most of the org).
    assert ("User", reps[0]) in examined and ("User", "005NOTAREP0000AAA") not in examined
    assert examined._keys is None
    deals = set().union(*(book.touching(rep) for rep in reps))
    eager = {("User", r) for r in reps} | {("Opportunity", d) for d in deals}
    assert set(examined) == eager and len(examined) == len(eager)
    others = [d for d in book.deals if d not in deals]
    assert all(("Opportunity", d) in examined for d in deals)
    assert not any(("Opportunity", d) in examined for d in others)
