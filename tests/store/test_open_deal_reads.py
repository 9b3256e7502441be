"""Open deals are filtered by the database (payload flags), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from connector.settings import Settings
from connector.store.canonical import CanonicalDeal
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.result_reads import count_open_deals, open_deals_of

ORG = "00D000000000001AAA"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _deal(deal_id: str, owner: str, day: int, **flags: object) -> CanonicalDeal:
    payload = {"id": deal_id, "owner_id": owner, **flags}
    return CanonicalDeal(
        org_id=ORG, id=deal_id, payload=payload, owner_id=owner,
        close_date=date(2026, 3, day), deleted=deal_id.endswith("D"), updated_at=NOW,
    )  # fmt: skip


def test_open_deals_of_filters_closed_won_and_deleted_in_sql(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        session.add_all(
            [
                _deal("006A", "005X", 5, is_closed=False, is_won=False),
                _deal("006B", "005X", 3),  # no flags: open
                _deal("006C", "005X", 1, is_closed=True, is_won=True),
                _deal("006E", "005X", 2, is_closed=True, is_won=False),
                _deal("006F", "005X", 4, is_closed=False, is_won=False),
                _deal("006D", "005X", 1, is_closed=False),  # deleted
                _deal("006G", "005Y", 1, is_closed=False),  # another owner
            ]
        )
        session.commit()
        _check(session)
    engine.dispose()


def _check(session: Session) -> None:
    found = open_deals_of(session, org_id=ORG, owner_id="005X")
    assert [d["id"] for d in found] == ["006B", "006F", "006A"]  # by close date
    first = open_deals_of(session, org_id=ORG, owner_id="005X", limit=2)
    assert [d["id"] for d in first] == ["006B", "006F"]
    assert count_open_deals(session, org_id=ORG, owner_id="005X") == 3
    assert count_open_deals(session, org_id=ORG, owner_id="005Z") == 0
