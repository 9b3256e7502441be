"""Pure shaping of a team (rows, totals, bands, ranking) and the SVG builders."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest

from connector.reports.team import (
    Calendar,
    Figures,
    UnknownChoice,
    attainment_bands,
    choose_period,
    contributors,
    figures,
    leaderboard,
    plan_calendar,
    team_rows,
    team_sizes,
    team_totals,
    year_start,
)
from connector.store.people import Person
from connector.store.team_reads import ResultRow, StoredPeriod
from webapp.charts.bars import meter
from webapp.charts.histogram import histogram

D = Decimal
SVG = ""  # inline SVG in HTML needs no namespace


def _p(rep_id: str, name: str, manager: str | None = None) -> Person:
    return Person(id=rep_id, name=name, manager_id=manager, plan_id="ae", is_active=True)


# M heads the team; S is a sub-manager with A and B; C reports to M directly.
M = _p("M", "Mona")
S = _p("S", "Sam", "M")
A = _p("A", "alice", "S")
B = _p("B", "Bob", "S")
C = _p("C", "Carl", "M")
TEAM = {p.id: p for p in (S, A, B, C)}


def _row(rep: str, period: str, start: date, **v: str | None) -> ResultRow:
    return ResultRow(
        rep_id=rep,
        period=period,
        period_start=start,
        plan_id="ae",
        quota=v.get("quota", "100.00"),
        credit=v.get("credit", "50.00"),
        attainment=v.get("attainment", "0.5000") or "0",
        gross=v.get("gross", "10.00") or "0",
    )


Q1, Q2 = date(2026, 1, 1), date(2026, 4, 1)


def test_figures_sum_ytd_gross_and_keep_money_decimal() -> None:
    current = [_row("A", "2026-Q2", Q2, gross="20.10")]
    year = [_row("A", "2026-Q1", Q1, gross="10.05"), _row("A", "2026-Q2", Q2, gross="20.10")]
    found = figures(current, year, {"A": 3})
    assert found["A"] == Figures(D("100.00"), D("50.00"), D("0.5000"), D("20.10"), D("30.15"), 3)
    only_ytd = figures([], [_row("B", "2026-Q1", Q1, gross="5.00")])
    assert only_ytd["B"].gross is None and only_ytd["B"].ytd == D("5.00")


def test_team_sizes_and_contributors() -> None:
    assert team_sizes("M", TEAM) == {"S": 2}
    assert [p.id for p in contributors("M", TEAM)] == ["A", "B", "C"]  # by name, case-insensitive


def test_team_rows_head_first_then_direct_reports_by_name() -> None:
    rows = team_rows(M, TEAM, {})
    assert [(r.person.id, r.team_size, r.is_head) for r in rows] == [
        ("M", 4, True),
        ("C", 0, False),
        ("S", 2, False),
    ]
    assert rows[1].figures == Figures()


def test_totals_count_reps_not_rollup_and_pay_everyone() -> None:
    found = figures(
        [
            _row("A", "q", Q1, quota="100.00", credit="150.00", gross="10.00"),
            _row("B", "q", Q1, quota="300.00", credit="50.00", gross="20.00"),
            _row("S", "q", Q1, quota="400.00", credit="200.00", gross="5.00"),
        ]
    )
    totals = team_totals([A, B, C], found, payees=[M, *TEAM.values()])
    assert (totals.reps, totals.quota, totals.credit) == (3, D("400.00"), D("200.00"))
    assert totals.attainment == D("0.5000")
    assert totals.gross == D("35.00")
    assert team_totals([], {}, payees=[]).attainment is None


@pytest.mark.parametrize(
    ("fraction", "band"),
    [
        ("-0.2", 0),
        ("0", 0),
        ("0.2499", 0),
        ("0.25", 1),
        ("0.7499", 2),
        ("0.75", 3),
        ("1.0", 4),
        ("1.2499", 4),
        ("1.25", 5),
        ("1.5", 6),
        ("7.2", 6),
    ],
)
def test_attainment_bands_are_half_open(fraction: str, band: int) -> None:
    bands = attainment_bands([D(fraction)])
    assert [b.count for b in bands] == [1 if i == band else 0 for i in range(7)]


def test_band_labels() -> None:
    bands = attainment_bands([])
    assert [b.label for b in bands][:2] == ["0-25%", "25-50%"]
    assert bands[-1].label == "150%+" and bands[-1].short == "150+"


def test_leaderboard_orders_by_value_then_name_then_id_and_shares_ranks() -> None:
    twin = _p("A2", "Alice")
    found = {
        "A": Figures(credit=D("5")),
        "A2": Figures(credit=D("5")),
        "B": Figures(credit=D("9")),
        "C": Figures(),  # no result: not ranked
    }
    ranked = leaderboard([C, twin, B, A], found, "credit")
    assert [(r.rank, r.person.id) for r in ranked] == [(1, "B"), (2, "A"), (2, "A2")]


def test_leaderboard_deals_won_and_unknown_metric() -> None:
    found = {"A": Figures(deals_won=2), "B": Figures(deals_won=0)}
    assert [r.value for r in leaderboard([A, B], found, "deals_won")] == [D(2), D(0)]
    with pytest.raises(UnknownChoice, match="'vibes'"):
        leaderboard([A], found, "vibes")


STORED = [
    StoredPeriod("2026-Q1", Q1, date(2026, 3, 31)),
    StoredPeriod("2026-Q2", Q2, date(2026, 6, 30)),
]


def test_choose_period_defaults_to_the_one_holding_as_of() -> None:
    cal = Calendar("quarter", 1)
    assert choose_period(STORED, None, calendar=cal, as_of=date(2026, 5, 2)).name == "2026-Q2"
    assert choose_period(STORED, "2026-Q1", calendar=cal, as_of=date(2026, 5, 2)).name == "2026-Q1"
    missing = choose_period(STORED, "", calendar=cal, as_of=date(2026, 11, 2))
    assert (missing.name, missing.start) == ("2026-Q4", date(2026, 10, 1))
    with pytest.raises(UnknownChoice, match="1999-Q9"):
        choose_period(STORED, "1999-Q9", calendar=cal, as_of=date(2026, 5, 2))


def test_plan_calendar_and_fiscal_year() -> None:
    doc = {"plans": [{"id": "m", "period": "month", "fiscal_year_start_month": 2}]}
    assert plan_calendar(doc, "m") == Calendar("month", 2)
    assert plan_calendar(doc, "other") == Calendar()
    assert plan_calendar(None, "m") == Calendar()
    assert plan_calendar({"plans": "nonsense"}, "m") == Calendar()
    jan = StoredPeriod("2026-01", date(2026, 1, 1), date(2026, 1, 31))
    assert year_start(jan, Calendar("month", 2)) == date(2025, 2, 1)


def _svg(markup: str) -> ET.Element:
    root = ET.fromstring(str(markup))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and "qf-chart" in (root.get("class") or "")
    assert root.get("viewBox") and root.find(f"{SVG}title") is not None
    return root


def test_histogram_svg() -> None:
    root = _svg(histogram([("0-25", 2), ("25-50", 0), ("<b>", 4)], title="T & co", good_from=2))
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "T & co: 0-25 2, 25-50 0, <b> 4"
    rects = root.findall(f"{SVG}rect")
    assert len(rects) == 2  # an empty bin draws no bar
    assert rects[1].get("fill") == "#2e844a"
    assert float(rects[1].get("height") or 0) > float(rects[0].get("height") or 0)


def test_histogram_of_nobody() -> None:
    root = _svg(histogram([("0-25", 0)], title="Empty"))
    assert root.findall(f"{SVG}rect") == []


def test_meter_svg() -> None:
    root = _svg(meter(D("0.75"), title="75%", scale=D("1.5"), target=D(1)))
    track, bar = root.findall(f"{SVG}rect")
    assert float(bar.get("width") or 0) == pytest.approx(float(track.get("width") or 0) / 2)
    assert root.find(f"{SVG}line") is not None  # the quota tick
    over = _svg(meter(D("9"), title="big", scale=D("1.5"), target=D(1)))
    track, bar = over.findall(f"{SVG}rect")
    assert bar.get("fill") == "#2e844a"  # quota reached
    assert float(bar.get("width") or 0) == float(track.get("width") or 0)  # clamped to the track
    none = _svg(meter(None, title="none"))
    assert len(none.findall(f"{SVG}rect")) == 1
    assert _svg(meter(D(1), title="zero scale", scale=D(0))) is not None
