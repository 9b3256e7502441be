"""Pure rules of the sync: write-back values, SPIFF lifecycle, locks and adjustments, scope."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from calc.book import Book
from calc.model import Deal, Rep
from calc.plan import parse_plan_doc
from connector.sync.desired import deal_values, rep_values, spiff_status
from connector.sync.lock_adjustments import apply_locks
from connector.sync.scope import Changes, changed_deal_ids, touched_reps
from connector.sync.writeback_stage import plan_writes

DOC = parse_plan_doc(
    {
        "plans": [
            {
                "id": "ae",
                "period": "quarter",
                "quota": {"amount": 100000},
                "components": [
                    {"id": "c", "type": "commission", "rate": 0.1},
                    {
                        "id": "spiff",
                        "type": "spiff",
                        "window": {"start": "2026-01-01", "end": "2026-06-30"},
                        "criteria": [{"field": "product_family", "op": "eq", "value": "Analytics"}],
                        "payout": {"per_deal": 500},
                    },
                ],
            },
            {"id": "mgr", "period": "quarter", "credit_types": ["rollup"], "components": []},
        ],
        "crediting": {"rollup": {"levels": "all"}},
    }
)
AE = DOC.plans[0]


def _result(
    period: str, start: str, end: str, *, gross: str, attainment: str = "0.5000", lines: Any = ()
) -> dict[str, Any]:
    return {
        "rep_id": "R1",
        "plan_id": "ae",
        "period": period,
        "period_start": start,
        "period_end": end,
        "attainment": attainment,
        "components": {"c": gross},
        "gross": gross,
        "net": gross,
        "lines": list(lines),
    }


Q1 = ("2026-Q1", "2026-01-01", "2026-03-31")
Q2 = ("2026-Q2", "2026-04-01", "2026-06-30")
Q4_25 = ("2025-Q4", "2025-10-01", "2025-12-31")


def _line(deal: str | None, amount: str, component: str = "c") -> dict[str, Any]:
    return {
        "component": component,
        "deal_id": deal,
        "credit_type": "owner" if deal else None,
        "base": amount,
        "rate": "1.00",
        "amount": amount,
        "explain": "",
    }


def test_user_values_current_attainment_and_gross_year_to_date() -> None:
    results = [
        _result(*Q4_25, gross="900.00"),
        _result(*Q1, gross="100.00", attainment="1.2345"),
        _result(*Q2, gross="50.00", attainment="0.3000"),
    ]
    assert rep_values(AE, results, as_of=date(2026, 2, 10)) == {
        "attainment_pct": Decimal("123.4500"),
        "earnings_ytd": Decimal("100.00"),  # last year's Q4 and the future Q2 are not counted
    }
    assert rep_values(AE, results, as_of=date(2026, 5, 1))["earnings_ytd"] == Decimal("150.00")
    assert rep_values(AE, results, as_of=date(2026, 9, 1))["attainment_pct"] is None


@pytest.mark.parametrize(
    ("won", "closed", "family", "close", "lines", "locked", "status"),
    [
        (False, False, "Analytics", "2026-03-01", [], set(), "Eligible"),
        (False, False, "Analytics", "2026-08-01", [], set(), "Not Eligible"),  # outside window
        (False, False, "Platform", "2026-03-01", [], set(), "Not Eligible"),
        (False, True, "Analytics", "2026-03-01", [], set(), "Not Eligible"),  # lost
        (
            True,
            True,
            "Analytics",
            "2026-03-01",
            [("spiff", "2026-Q1", Decimal(500))],
            set(),
            "Qualified",
        ),
        (
            True,
            True,
            "Analytics",
            "2026-03-01",
            [("spiff", "2026-Q1", Decimal(500))],
            {"2026-Q1"},
            "Paid",
        ),
        (
            True,
            True,
            "Analytics",
            "2026-03-01",
            [("c", "2026-Q1", Decimal(10))],
            set(),
            "Not Eligible",
        ),  # not counted
    ],
)
def test_spiff_lifecycle(
    won: bool, closed: bool, family: str, close: str, lines: list, locked: set, status: str
) -> None:  # type: ignore[type-arg]
    deal = Deal(
        "D1",
        owner_id="R1",
        is_won=won,
        is_closed=closed,
        product_family=family,
        close_date=date.fromisoformat(close),
    )
    assert spiff_status(deal, AE, lines, locked=frozenset(locked)) == status
    assert spiff_status(deal, None, lines, locked=frozenset(locked)) == "Not Eligible"


def test_deal_commission_actual_estimated_or_zero() -> None:
    lines = [("c", "2026-Q1", Decimal("10.00")), ("spiff", "2026-Q1", Decimal("500"))]
    won = Deal("D1", is_won=True, is_closed=True, close_date=date(2026, 3, 1))
    lost = Deal("D2", is_closed=True, close_date=date(2026, 3, 1))
    open_ = Deal("D3", close_date=date(2026, 3, 1))
    estimate = {"D3": Decimal("42.00")}.get
    assert deal_values(won, AE, lines, estimate=lambda d: estimate(d.id), locked=frozenset())[
        "deal_commission"
    ] == Decimal("510.00")
    assert (
        deal_values(lost, AE, lines, estimate=lambda d: estimate(d.id), locked=frozenset())[
            "deal_commission"
        ]
        == 0
    )
    assert deal_values(open_, AE, [], estimate=lambda d: estimate(d.id), locked=frozenset())[
        "deal_commission"
    ] == Decimal("42.00")


def test_locked_period_is_frozen_and_the_difference_adjusted_once() -> None:
    frozen = {"2026-Q1": _result(*Q1, gross="100.00", lines=[_line("D1", "100.00")])}
    fresh = [
        _result(*Q1, gross="130.00", lines=[_line("D1", "120.00"), _line(None, "10.00", "bonus")]),
        _result(*Q2, gross="50.00", lines=[_line("D2", "50.00")]),
    ]
    out = apply_locks(fresh, frozen, as_of=date(2026, 5, 1))
    assert out[0] == frozen["2026-Q1"]
    adjusted = out[1]
    adj = [ln for ln in adjusted["lines"] if ln["component"] == "adjustment"]
    assert [(ln["deal_id"], ln["amount"], ln["adjusts"]["component"]) for ln in adj] == [
        ("D1", "20.00", "c"),
        (None, "10.00", "bonus"),
    ] or sorted((ln["deal_id"] or "", ln["amount"]) for ln in adj) == [
        ("", "10.00"),
        ("D1", "20.00"),
    ]
    assert adjusted["gross"] == "80.00" and adjusted["components"]["adjustment"] == "30.00"
    # Once Q2 is locked too (with its adjustments paid), Q3 adjusts nothing more for Q1.
    q3 = ("2026-Q3", "2026-07-01", "2026-09-30")
    frozen2 = {**frozen, "2026-Q2": adjusted}
    out2 = apply_locks([*fresh, _result(*q3, gross="0.00")], frozen2, as_of=date(2026, 8, 1))
    assert not [ln for ln in out2[2]["lines"] if ln["component"] == "adjustment"]


def test_no_lock_no_change() -> None:
    fresh = [_result(*Q1, gross="1.00")]
    assert apply_locks(fresh, {}, as_of=date(2026, 2, 1)) == fresh


def test_scope_reaches_old_and_new_recipients_and_managers() -> None:
    reps = [
        Rep("M", plan_id="mgr"),
        Rep("R1", manager_id="M", plan_id="ae"),
        Rep("R2", manager_id="M", plan_id="ae"),
        Rep("X", plan_id="ae"),
    ]
    deals = [
        Deal(
            "D1",
            owner_id="R2",
            amount=Decimal(10),
            is_won=True,
            is_closed=True,
            close_date=date(2026, 2, 1),
        ),
        Deal(
            "D2",
            owner_id="X",
            amount=Decimal(10),
            is_won=True,
            is_closed=True,
            close_date=date(2026, 2, 1),
        ),
    ]
    book = Book(DOC, reps, deals)
    # D1 moved from R1 to R2: R1 (from the stored credits), R2 and their manager M.
    changes = Changes(
        reps=frozenset(), deals=frozenset({"D1"}), split_deals=frozenset(), team_deals=frozenset()
    )
    ids = changed_deal_ids(book, changes)
    assert ids == {"D1"}
    assert touched_reps(book, changes, ids, previous={"R1", "M"}) == {"R1", "R2", "M"}
    # A changed rep touches every deal that credits it (and so its managers).
    rep_change = Changes(
        reps=frozenset({"X"}), deals=frozenset(), split_deals=frozenset(), team_deals=frozenset()
    )
    assert changed_deal_ids(book, rep_change) == {"D2"}


def test_only_real_differences_are_written_after_rounding() -> None:
    from calc.writeback import FieldTarget

    targets = {
        ("User", "Earnings_To_Date__c"): FieldTarget("User", "Earnings_To_Date__c", "currency", 2),
        ("Opportunity", "SPIFF_Status__c"): FieldTarget(
            "Opportunity", "SPIFF_Status__c", "picklist"
        ),
    }
    pending = {
        ("User", "U1"): {"Earnings_To_Date__c": "1234.565"},
        ("User", "U2"): {"Earnings_To_Date__c": "10.00"},
        # Sent rounded to the field's scale: the API would store 5.005 as sent.
        ("User", "U3"): {"Earnings_To_Date__c": "5.005"},
        ("Opportunity", "O1"): {"SPIFF_Status__c": "Eligible"},
        ("Opportunity", "O2"): {"SPIFF_Status__c": "Qualified"},  # deleted: not in the pull
    }
    current = {
        ("User", "U1"): {"Earnings_To_Date__c": 1234.57},
        ("User", "U2"): {"Earnings_To_Date__c": 9.99},
        ("User", "U3"): {"Earnings_To_Date__c": 1.0},
        ("Opportunity", "O1"): {"SPIFF_Status__c": None},
    }
    assert plan_writes(pending, current, targets) == [
        ("Opportunity", "O1", {"SPIFF_Status__c": "Eligible"}),
        ("User", "U2", {"Earnings_To_Date__c": 10.0}),
        ("User", "U3", {"Earnings_To_Date__c": 5.01}),
    ]


_TARGETS_UNDER_TEST = {
    ("User", "Earnings_To_Date__c"): ("currency", 2),
    ("User", "Quota_Attainment__c"): ("percent", 4),
    ("User", "Deals__c"): ("int", 0),
    ("User", "Ratio__c"): ("double", 3),
    ("Opportunity", "SPIFF_Status__c"): ("picklist", 0),
    ("Opportunity", "Eligible__c"): ("boolean", 0),
}


def _number_texts() -> Any:
    from hypothesis import strategies as st

    decimals = st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=5)
    return st.one_of(
        st.none(),
        st.just(""),
        decimals.map(str),
        decimals.map(lambda d: float(d)),
        st.integers(min_value=-(10**6), max_value=10**6),
        decimals,
    )


def test_plan_writes_is_the_reference_diff_folded_by_record() -> None:
    """plan_writes gives what calc.writeback's diff_writeback and group_by_record give, with
    the numbers as sent (JSON numbers), for any mix of values, fields and missing records."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from calc.writeback import Desired, FieldTarget, diff_writeback, group_by_record

    targets = {
        key: FieldTarget(key[0], key[1], kind, scale)
        for key, (kind, scale) in _TARGETS_UNDER_TEST.items()
    }
    value_of = {
        "currency": _number_texts(),
        "percent": _number_texts(),
        "int": _number_texts(),
        "double": _number_texts(),
        "picklist": st.one_of(st.none(), st.sampled_from(["", "Eligible", "Paid"])),
        "boolean": st.one_of(st.none(), st.booleans()),
    }
    field_values = st.fixed_dictionaries(
        {},
        optional={
            **{f: value_of[k] for (o, f), (k, _s) in _TARGETS_UNDER_TEST.items()},
            "Unknown__c": st.text(max_size=3),  # not in the describe: never written
        },
    )
    ids = st.sampled_from([f"{o}{n}" for o in ("U", "O") for n in range(6)])

    def obj_of(rid: str) -> str:
        return "User" if rid.startswith("U") else "Opportunity"

    @settings(max_examples=300, deadline=None)
    @given(
        st.dictionaries(ids, field_values, max_size=8),
        st.dictionaries(ids, field_values, max_size=8),
    )
    def check(pending_by_id: dict[str, Any], current_by_id: dict[str, Any]) -> None:
        pending = {(obj_of(r), r): v for r, v in pending_by_id.items()}
        current = {(obj_of(r), r): v for r, v in current_by_id.items()}
        desired = [
            Desired(o, r, f, v)
            for (o, r), fields in pending.items()
            for f, v in fields.items()
            if (o, f) in targets
        ]
        reference = [
            (
                o,
                r,
                {
                    f: v
                    if v is None
                    or targets[(o, f)].type not in {"currency", "percent", "double", "int"}
                    else (float(str(v)) if targets[(o, f)].type != "int" else int(str(v)))
                    for f, v in fields.items()
                },
            )
            for o, r, fields in group_by_record(diff_writeback(desired, current, targets))
        ]
        got = plan_writes(pending, current, targets)
        assert got == reference
        assert [list(f) for _o, _r, f in got] == [list(f) for _o, _r, f in reference]

    check()


def test_plan_writes_names_the_field_of_a_value_that_is_not_a_number() -> None:
    from calc.writeback import FieldTarget

    targets = {
        ("User", "Earnings_To_Date__c"): FieldTarget("User", "Earnings_To_Date__c", "currency", 2)
    }
    with pytest.raises(ValueError, match=r"User\.Earnings_To_Date__c: not a number: 'ten'"):
        plan_writes(
            {("User", "U1"): {"Earnings_To_Date__c": "ten"}},
            {("User", "U1"): {"Earnings_To_Date__c": 1.0}},
            targets,
        )
    with pytest.raises(ValueError, match="boolean for a number"):
        plan_writes(
            {("User", "U1"): {"Earnings_To_Date__c": "1.00"}},
            {("User", "U1"): {"Earnings_To_Date__c": True}},
            targets,
        )
