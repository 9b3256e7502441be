"""The team reads on both backends: many reps in a few chunked queries, lines left behind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from connector.settings import Settings
from connector.store.canonical import CanonicalRep
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.results import PeriodResult, StoredCredit
from connector.store.team_reads import (
    deals_won,
    manager_ids,
    period_rows,
    stored_periods,
    year_rows,
)

ORG = "00D000000000001AAA"
NOW = datetime(2026, 11, 23, tzinfo=UTC)
REPS = [f"005{i:015d}" for i in range(1201)]
QUARTERS = [
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
    ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
]


def _result(rep: str, period: str, start: date, end: date, n: int) -> dict[str, Any]:
    gross = f"{n}.50"
    return {
        "org_id": ORG,
        "rep_id": rep,
        "period": period,
        "plan_id": "ae",
        "period_start": start,
        "period_end": end,
        "attainment": "0.5000",
        "gross": gross,
        "net": gross,
        "result": {"quota": "1000.00", "credit": f"{n}.00", "gross": gross, "lines": [{"x": 1}]},
        "updated_at": NOW,
        "calc_run_id": 1,
        "mapping_version_id": None,
        "plan_version_id": None,
    }


@pytest.fixture
def session(store_settings: Settings) -> Iterator[Session]:
    engine = make_engine(store_settings)
    upgrade(engine)
    with make_session_factory(engine)() as s:
        s.bulk_insert_mappings(
            PeriodResult,  # type: ignore[arg-type]
            [_result(rep, *q, n) for n, rep in enumerate(REPS) for q in QUARTERS],
        )
        s.add_all(
            StoredCredit(
                org_id=ORG,
                rep_id=REPS[0],
                period="2026-Q1",
                deal_id=d,
                credit_type=t,
                percent="100",
                amount="1",
                calc_run_id=1,
            )
            for d, t in (
                ("006A", "owner"),
                ("006B", "split"),
                ("006C", "rollup"),
                ("006A", "overlay"),
            )
        )
        s.add_all(
            CanonicalRep(org_id=ORG, id=rep, payload={"name": rep}, manager_id=boss, updated_at=NOW)
            for rep, boss in ((REPS[0], None), (REPS[1], REPS[0]), (REPS[2], REPS[1]))
        )
        s.commit()
        yield s
    engine.dispose()


def _count_queries(s: Session) -> list[str]:
    seen: list[str] = []
    event.listen(s.get_bind(), "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_period_rows_in_chunks_of_500(session: Session) -> None:
    seen = _count_queries(session)
    rows = period_rows(session, org_id=ORG, rep_ids=REPS, period="2026-Q2")
    assert len(rows) == len(REPS)
    assert len(seen) == 3  # 1,201 reps: three queries, not one per rep
    row = next(r for r in rows if r.rep_id == REPS[7])
    assert (row.quota, row.credit, row.gross, row.period_start) == (
        "1000.00",
        "7.00",
        "7.50",
        date(2026, 4, 1),
    )
    assert all("lines" not in q for q in seen)


def test_year_rows_between_dates(session: Session) -> None:
    rows = year_rows(
        session, org_id=ORG, rep_ids=REPS[:3], start=date(2026, 1, 1), through=date(2026, 4, 1)
    )
    assert sorted((r.rep_id, r.period) for r in rows)[:2] == [
        (REPS[0], "2026-Q1"),
        (REPS[0], "2026-Q2"),
    ]
    assert len(rows) == 6
    assert year_rows(
        session, org_id=ORG, rep_ids=REPS[:3], start=date(2026, 1, 1), through=date(2026, 1, 1)
    )
    assert period_rows(session, org_id="00Dother", rep_ids=REPS[:3], period="2026-Q1") == []


def test_deals_won_counts_owner_and_split_only(session: Session) -> None:
    assert deals_won(session, org_id=ORG, rep_ids=REPS, period="2026-Q1") == {REPS[0]: 2}


def test_periods_and_managers(session: Session) -> None:
    assert [p.name for p in stored_periods(session, org_id=ORG)] == ["2026-Q1", "2026-Q2"]
    assert manager_ids(session, org_id=ORG) == {REPS[0], REPS[1]}
