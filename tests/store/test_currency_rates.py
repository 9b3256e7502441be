"""The org's stored exchange rates: replaced when Salesforce's differ, read back for calc."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from calc.currency import DatedRate
from connector.settings import Settings
from connector.store.currency_rates import rate_sync, save_rates, stored_rates
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade

ORG = "00D000000000001AAA"
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
ROWS = [
    DatedRate("USD", date.min, Decimal(1)),
    DatedRate("EUR", date(2026, 1, 1), Decimal("0.95")),
    DatedRate("EUR", date(2026, 4, 1), Decimal("0.9")),
]


def test_rates_are_kept_per_org_and_only_a_change_counts(sqlite_settings: Settings) -> None:
    engine = make_engine(sqlite_settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        assert stored_rates(session, ORG) is None and rate_sync(session, ORG) is None
        assert save_rates(session, ORG, source="dated", rows=ROWS, now=NOW)
        session.commit()
    later = NOW + timedelta(hours=1)
    with sessions() as session:
        assert not save_rates(session, ORG, source="dated", rows=list(reversed(ROWS)), now=later)
        state = rate_sync(session, ORG)
        assert state is not None and (state.fetched_at, state.changed_at) == (later, NOW)
        rates = stored_rates(session, ORG)
        assert rates is not None and rates.rows() == sorted(
            ROWS, key=lambda r: (r.currency, r.start)
        )
        assert stored_rates(session, "00D000000000002AAA") is None
        moved = [*ROWS[:2], DatedRate("EUR", date(2026, 4, 1), Decimal("0.91"))]
        assert save_rates(session, ORG, source="dated", rows=moved, now=later)
        session.commit()
    with sessions() as session:
        rates = stored_rates(session, ORG)
        found = rates.in_force("EUR", date(2026, 5, 1)) if rates else None
        assert found is not None and found.rate == Decimal("0.91")
        state = rate_sync(session, ORG)
        assert state is not None and state.changed_at == later
    engine.dispose()
