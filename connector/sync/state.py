"""The calculation's inputs as state kept between runs: loaded in full once, then brought up
to date with only the canonical records changed since (found by the run that changed them).

A long-lived process (the clock, a worker) keeps one `CalcState` per org in
`SyncDeps.kept`. It is reused only by an incremental run whose baseline is the calculation
the state was committed with, under the same plan and mapping versions; anything else loads
the inputs again. Applying the same changes twice gives the same state (each changed record
is set to what is stored now), so a run that failed after applying them does no harm.
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from calc.adjustments import Adjustment
from calc.book import Book
from calc.currency import Rates
from calc.engine import KeptPeriods
from calc.model import Deal, Rep, Split, TeamMember
from calc.plan import PlanDoc
from connector.deps import SyncDeps
from connector.pull.codec import decode
from connector.store.repositories import CanonicalTuple
from connector.sync.compute import Computed, Rendered
from connector.sync.scope import Changes


@dataclass
class CalcState:
    """Live canonical records of an org by id, and the Book built from them."""

    org_id: str
    plan_version_id: int | None
    mapping_version_id: int | None
    doc: PlanDoc
    reps: dict[str, Rep]
    deals: dict[str, Deal]
    splits: dict[str, dict[str, Split]]  # deal id -> split record id -> split
    team: dict[str, dict[str, TeamMember]]  # deal id -> team member record id -> member
    split_deal: dict[str, str]  # split record id -> deal id
    team_deal: dict[str, str]
    # Entered adjustments and exchange rates: a change to either makes the next run load
    # everything again (no baseline), so they are read with the records and kept as they are.
    adjustments: list[Adjustment] = field(default_factory=list)
    rates: Rates | None = None
    book: Book = field(init=False)
    # The sync run whose committed calculation this state matches (None: not committed).
    sync_run_id: int | None = None
    # The reps with their kept assignment history (connector.sync.assignments), when it
    # differs from the records as they stand; the Book is built from these.
    dated_reps: list[Rep] | None = None
    # The computed periods of the reps incremental runs recomputed, reused by their next
    # recomputation for the periods before their first changed credit (calc.engine).
    periods: dict[str, KeptPeriods] = field(default_factory=dict)
    # The results the committed calculations stored for the reps incremental runs recomputed
    # (connector.sync.compute): only updated once the run's results are committed.
    rendered: dict[str, Rendered] = field(default_factory=dict)

    def remember(self, computed: Computed) -> None:
        """Keep the committed results of the reps `computed` recomputed (forget the others'
        of those reps: what is stored for them now is not known here)."""
        found = computed.rendered or {}
        if computed.examined is None:
            self.rendered.clear()  # every rep was stored again
        for rep_id in computed.rep_ids:
            if rep_id in found:
                self.rendered[rep_id] = found[rep_id]
            else:
                self.rendered.pop(rep_id, None)

    def __post_init__(self) -> None:
        self.book = self.build()

    def build(self) -> Book:
        """A fresh Book of the records (splits and team members in record id order)."""
        splits = [s for _d, by_id in sorted(self.splits.items()) for _i, s in sorted(by_id.items())]
        team = [m for _d, by_id in sorted(self.team.items()) for _i, m in sorted(by_id.items())]
        book = Book(
            self.doc,
            self.dated_reps if self.dated_reps is not None else self.reps.values(),
            self.deals.values(),
            splits,
            team,
            adjustments=self.adjustments,
            rates=self.rates,
        )
        book.remember_credits = True  # incremental runs credit only the deals changed since
        return book

    def use_dated_reps(self, dated: list[Rep]) -> None:
        """Build the Book from the reps with their history, rebuilding only when it moved."""
        current = self.dated_reps if self.dated_reps is not None else list(self.reps.values())
        if dated != current:
            self.dated_reps = dated
            self.book = self.build()


@dataclass(frozen=True, slots=True)
class Applied:
    """What bringing a state up to date found."""

    changes: Changes
    # Deals that credited a changed rep before the change (the rep may be gone since).
    touched_before: frozenset[str]
    start_moved: bool  # the first close date of the data moved: every rep's history may shift


def _related(
    rows: list[CanonicalTuple],
    kind: str,
    by_deal: dict[str, dict[str, Any]],
    deal_of: dict[str, str],
    touched: set[str],
) -> None:
    """Move changed split or team rows to their (possibly new) deal."""
    for record_id, payload, deleted, _run in rows:
        old = deal_of.pop(record_id, None)
        if old is not None:
            touched.add(old)
            by_deal.get(old, {}).pop(record_id, None)
            if not by_deal.get(old, True):
                del by_deal[old]
        if deleted:
            continue
        record = decode(kind, payload)
        deal_id = record.deal_id  # type: ignore[union-attr]
        deal_of[record_id] = deal_id
        by_deal.setdefault(deal_id, {})[record_id] = record
        touched.add(deal_id)


def _rows_by_kind(
    deps: SyncDeps, org_id: str, changed_in: Collection[int] | None
) -> dict[str, list[CanonicalTuple]]:
    with deps.unit(org_id) as unit:
        return {
            kind: unit.records.canonical_rows(kind=kind, changed_in=changed_in)
            for kind in ("rep", "deal", "split", "team_member")
        }


def _adjustments_and_rates(deps: SyncDeps, org_id: str) -> tuple[list[Adjustment], Rates | None]:
    with deps.unit(org_id) as unit:
        return unit.adjustments.for_calc(), unit.rates.for_calc()


def load_state(
    deps: SyncDeps,
    *,
    org_id: str,
    doc: PlanDoc,
    plan_version_id: int | None,
    mapping_version_id: int | None,
    changed_in: Collection[int] | None,
) -> tuple[CalcState, Changes]:
    """Every canonical record of the org; changed = changed in one of `changed_in` (None: all)."""
    # The state kept before (if any) is about to be replaced: let the collector see it again.
    gc.unfreeze()
    rows = _rows_by_kind(deps, org_id, None)
    wanted = None if changed_in is None else set(changed_in)
    changed: dict[str, set[str]] = {}
    for kind, found in rows.items():
        changed[kind] = {r[0] for r in found if wanted is None or r[3] in wanted}
    reps = {r[0]: cast(Rep, decode("rep", r[1])) for r in rows["rep"] if not r[2]}
    deals = {r[0]: cast(Deal, decode("deal", r[1])) for r in rows["deal"] if not r[2]}
    splits: dict[str, dict[str, Any]] = {}
    team: dict[str, dict[str, Any]] = {}
    split_deal: dict[str, str] = {}
    team_deal: dict[str, str] = {}
    _related(rows["split"], "split", splits, split_deal, set())
    _related(rows["team_member"], "team_member", team, team_deal, set())
    # A deleted split or team row still names its deal (the last good payload is kept).
    split_deals = {str(r[1]["deal_id"]) for r in rows["split"] if r[0] in changed["split"]
                   and r[1].get("deal_id")}  # fmt: skip
    team_deals = {str(r[1]["deal_id"]) for r in rows["team_member"]
                  if r[0] in changed["team_member"] and r[1].get("deal_id")}  # fmt: skip
    adjustments, rates = _adjustments_and_rates(deps, org_id)
    state = CalcState(
        org_id, plan_version_id, mapping_version_id, doc, reps, deals, splits, team,
        split_deal, team_deal, adjustments, rates,
    )  # fmt: skip
    changes = Changes(
        reps=frozenset(changed["rep"]),
        deals=frozenset(changed["deal"]),
        split_deals=frozenset(split_deals),
        team_deals=frozenset(team_deals),
    )
    return state, changes


def apply_changes(state: CalcState, deps: SyncDeps, *, changed_in: Collection[int]) -> Applied:
    """Bring the state up to date with the records changed in the runs `changed_in`."""
    return apply_rows(state, _rows_by_kind(deps, state.org_id, changed_in))


def apply_rows(state: CalcState, rows: Mapping[str, list[CanonicalTuple]]) -> Applied:
    """Bring the state up to date with these changed canonical rows by kind (rep, deal,
    split, team_member): each is set to what is stored now, or dropped if deleted."""
    book = state.book
    start_before = book.data_start
    rep_ids = {r[0] for r in rows["rep"]}
    touched_before: set[str] = set()
    for rep_id in rep_ids:
        if rep_id in book.reps:
            touched_before |= book.touching(rep_id)
    for record_id, payload, deleted, _run in rows["rep"]:
        if deleted:
            state.reps.pop(record_id, None)
        else:
            state.reps[record_id] = cast(Rep, decode("rep", payload))
    deal_ids: set[str] = set()
    for record_id, payload, deleted, _run in rows["deal"]:
        deal_ids.add(record_id)
        if deleted:
            state.deals.pop(record_id, None)
        else:
            state.deals[record_id] = cast(Deal, decode("deal", payload))
    split_deals: set[str] = set()
    team_deals: set[str] = set()
    _related(rows["split"], "split", state.splits, state.split_deal, split_deals)
    _related(rows["team_member"], "team_member", state.team, state.team_deal, team_deals)
    if rep_ids:
        # A rep's plan, manager or dates change crediting and chains across the Book (the
        # history is applied again by the caller).
        state.dated_reps = None
        state.book = state.build()
    else:
        for deal_id in sorted(deal_ids | split_deals | team_deals):
            _put(book, state, deal_id)
    start_after = state.book.data_start
    return Applied(
        Changes(
            reps=frozenset(rep_ids),
            deals=frozenset(deal_ids),
            split_deals=frozenset(split_deals),
            team_deals=frozenset(team_deals),
        ),
        frozenset(touched_before),
        start_before != start_after,
    )


def _put(book: Book, state: CalcState, deal_id: str) -> None:
    """Replace one deal, its splits and team in the Book, as a fresh Book would hold them."""
    if deal_id in book.deals:
        book.remove_deal(deal_id, keep_related=True)  # unlinks the old split and team holders
    splits = state.splits.get(deal_id)
    if splits:
        book.splits[deal_id] = [v for _k, v in sorted(splits.items())]
    else:
        book.splits.pop(deal_id, None)
    team = state.team.get(deal_id)
    if team:
        book.team[deal_id] = [v for _k, v in sorted(team.items())]
    else:
        book.team.pop(deal_id, None)
    deal = state.deals.get(deal_id)
    if deal is not None:
        book.put_deal(deal)


def take(
    deps: SyncDeps,
    *,
    org_id: str,
    baseline: int,
    plan_version_id: int | None,
    mapping_version_id: int | None,
) -> CalcState | None:
    """The kept state of the org if it matches this baseline and these versions."""
    kept = deps.kept
    if not kept.enabled:
        return None
    with kept.lock:
        state = kept.by_org.get(org_id)
    if not isinstance(state, CalcState):
        return None
    if (state.sync_run_id, state.plan_version_id, state.mapping_version_id) != (
        baseline,
        plan_version_id,
        mapping_version_id,
    ):
        return None
    return state


def keep(deps: SyncDeps, state: CalcState, *, sync_run_id: int) -> None:
    """Remember the state as matching the calculation just committed by `sync_run_id`."""
    if not deps.kept.enabled:
        return
    state.sync_run_id = sync_run_id
    with deps.kept.lock:
        deps.kept.by_org[state.org_id] = state
    settle_heap()


def settle_heap() -> None:
    """Take the objects alive now (the kept states) out of the cyclic garbage collector's view.

    A kept state holds millions of objects at a large org (every deal, the credit memo).
    CPython's collector walks every tracked object on each full collection, and an
    incremental run allocates enough to trigger one or two: without this, that walk is the
    part of an incremental run that grows with the org. Frozen objects are still freed by
    reference counting when the state is dropped (the calculation makes no reference
    cycles); `load_state` unfreezes them before it builds a new state.
    """
    gc.collect(1)  # the young garbage of this run only (a full collection would walk it all)
    gc.freeze()
