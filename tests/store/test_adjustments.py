"""The adjustments store: who entered what and when, per org, never paid twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from calc.adjustments import Adjustment
from connector.settings import Settings
from connector.store.adjustments import AdjustmentError
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.unit import OrgUnit

ORG = "00D000000000001AAA"
OTHER = "00D000000000002AAA"
REP = "005000000000001AAA"
NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


@pytest.fixture
def sessions(sqlite_settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(sqlite_settings)
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _adj(amount: str = "250.00", reference: str | None = "INC-1", **kw: str) -> Adjustment:
    fields: dict[str, str] = {"period": "2026-Q1", "component": "adjustment"} | kw
    return Adjustment(
        REP, fields["period"], Decimal(amount), fields["component"], "missed SPIFF", reference
    )


def test_an_adjustment_is_stored_with_who_and_when_and_read_back_for_calc(
    sessions: sessionmaker[Session],
) -> None:
    with OrgUnit(sessions, ORG) as unit:
        row = unit.adjustments.add(
            rep_id=REP,
            period="2026-Q1",
            amount=Decimal("-120.50"),
            reason="overpaid split",
            reference="dispute:7",
            source="dispute",
            entered_by="admin@example.com",
            now=NOW,
        )
        unit.commit()
        assert row.id is not None
    with OrgUnit(sessions, ORG) as unit:
        (stored,) = unit.adjustments.listed()
        assert (stored.entered_by, stored.entered_at, stored.source) == (
            "admin@example.com",
            NOW,
            "dispute",
        )
        (adj,) = unit.adjustments.for_calc()
        assert adj.amount == Decimal("-120.50")
        assert (adj.reason, adj.reference, adj.entered_by) == (
            "overpaid split",
            "dispute:7",
            "admin@example.com",
        )
        assert unit.adjustments.last_entered_at() == NOW
    with OrgUnit(sessions, OTHER) as unit:
        assert unit.adjustments.listed() == [] and unit.adjustments.last_entered_at() is None


def test_a_reference_pays_once_per_org_and_source(sessions: sessionmaker[Session]) -> None:
    for org in (ORG, OTHER):
        with OrgUnit(sessions, org) as unit:
            unit.adjustments.add_all([_adj()], entered_by="a", now=NOW, source="file")
            unit.commit()
    with OrgUnit(sessions, ORG) as unit:
        with pytest.raises(AdjustmentError, match="'INC-1' is already stored"):
            unit.adjustments.add_all([_adj()], entered_by="a", now=NOW, source="file")
        # the same reference coming from a dispute is another adjustment
        unit.adjustments.add_all([_adj()], entered_by="a", now=NOW, source="dispute")
        unit.commit()
    with OrgUnit(sessions, ORG) as unit:
        assert len(unit.adjustments.listed()) == 2


def test_a_file_is_stored_all_or_none(sessions: sessionmaker[Session]) -> None:
    rows = [_adj(reference="A"), _adj(reference=None), _adj(reference="A")]
    with OrgUnit(sessions, ORG) as unit:
        with pytest.raises(AdjustmentError, match="adjustment 3: reference: 'A'"):
            unit.adjustments.add_all(rows, entered_by="a", now=NOW, source="file")
        unit.commit()
    with OrgUnit(sessions, ORG) as unit:
        assert unit.adjustments.listed() == []


@pytest.mark.parametrize(
    ("adj", "message"),
    [
        (_adj(amount="0"), "amount: an adjustment of zero"),
        (_adj(amount="1.005"), "amount: more than two decimals"),
        (_adj(period="2026-13"), "period: not a pay period name"),
        (_adj(period="Q1"), "period: not a pay period name"),
        (_adj(component="clawback"), "component: not a component name"),
        (_adj(component="bad name"), "component: not a component name"),
        (Adjustment(REP, "2026-Q1", Decimal(5), reason="  "), "reason: say why"),
        (Adjustment("x" * 19, "2026-Q1", Decimal(5), reason="r"), "rep_id: "),
    ],
)
def test_bad_adjustments_are_refused(
    sessions: sessionmaker[Session], adj: Adjustment, message: str
) -> None:
    with OrgUnit(sessions, ORG) as unit, pytest.raises(AdjustmentError, match=message):
        unit.adjustments.add_all([adj], entered_by="a", now=NOW, source="file")


def test_an_unknown_source_is_refused(sessions: sessionmaker[Session]) -> None:
    with OrgUnit(sessions, ORG) as unit, pytest.raises(AdjustmentError, match="source: must be"):
        unit.adjustments.add_all([_adj()], entered_by="a", now=NOW, source="email")


def test_listing_filters_by_rep_and_period(sessions: sessionmaker[Session]) -> None:
    with OrgUnit(sessions, ORG) as unit:
        unit.adjustments.add_all(
            [_adj(reference=None), _adj(reference=None, period="2026-Q2")],
            entered_by="a",
            now=NOW,
            source="file",
        )
        assert len(unit.adjustments.listed(rep_ids=[REP])) == 2
        assert len(unit.adjustments.listed(rep_ids=["005X"])) == 0
        (only,) = unit.adjustments.listed(period="2026-Q2")
        assert only.period == "2026-Q2"
