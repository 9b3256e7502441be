"""Naming and locking a pay period: one function for the CLI and the admin page."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.unit import OrgUnit
from connector.sync.period_locks import check_period_name, lock, lock_in, period_kind

NOW = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "kind", "bounds"),
    [
        ("2026-01", "month", (date(2026, 1, 1), date(2026, 1, 31))),
        ("2026-Q2", "quarter", (date(2026, 4, 1), date(2026, 6, 30))),
        ("2026", "year", (date(2026, 1, 1), date(2026, 12, 31))),
    ],
)
def test_a_period_name_has_a_kind_and_bounds(
    name: str, kind: str, bounds: tuple[date, date]
) -> None:
    assert period_kind(name) == kind
    assert check_period_name(name, ()) == bounds
    assert check_period_name(name, {kind}) == bounds


def test_a_period_of_another_kind_than_the_plan_pays_by_is_refused() -> None:
    with pytest.raises(ValueError, match="pays by quarter like 2026-Q1; 2026-02 is a month"):
        check_period_name("2026-02", {"quarter"})
    with pytest.raises(ValueError, match="is not a period name"):
        check_period_name("Q1", ())


def test_the_cli_and_the_page_lock_through_one_function(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    row = lock(sessions, org_id="00D000000000001AAA", name=" 2026-Q1 ", by="ops", now=NOW)
    assert (row.period, row.start, row.end) == ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31))
    with OrgUnit(sessions, "00D000000000001AAA") as unit:
        again = lock_in(unit, name="2026-Q1", by="x", now=NOW, kinds={"quarter"})
        assert again.locked_by == "ops"  # idempotent: the first lock stays
        with pytest.raises(ValueError, match="pays by quarter"):
            lock_in(unit, name="2026-05", by="x", now=NOW, kinds={"quarter"})
        assert [p.period for p in unit.periods.locked_periods()] == ["2026-Q1"]
    engine.dispose()
