"""When the sync reads the org's exchange rates, and what it does when Salesforce refuses them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest

from connector.deps import SyncDeps
from connector.salesforce.errors import SalesforceApiError
from connector.salesforce.gateway import Gateway, QueryPage
from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.unit import OrgUnit
from connector.sync.rates import refresh_rates

ORG = "00D000000000001AAA"
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
TYPES = [
    {"IsoCode": "USD", "ConversionRate": 1.0, "IsCorporate": True, "IsActive": True},
    {"IsoCode": "EUR", "ConversionRate": 0.9, "IsCorporate": False, "IsActive": True},
]


class FakeGateway:
    """Our Gateway's query interface: CurrencyType and DatedConversionRate, or a refusal."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.refuse: str | None = None
        self.dated = [{"IsoCode": "EUR", "ConversionRate": 0.95, "StartDate": "2026-01-01"}]

    def query(self, soql: str, *, include_deleted: bool = True) -> QueryPage:
        self.queries.append(soql)
        if self.refuse:
            raise SalesforceApiError("no access", error_code=self.refuse, status=403)
        records = TYPES if "FROM CurrencyType" in soql else self.dated
        return QueryPage(records, None, len(records))


@pytest.fixture
def deps(sqlite_settings: Settings) -> Iterator[SyncDeps]:
    engine = make_engine(sqlite_settings)
    upgrade(engine)
    gateway = cast(Gateway, FakeGateway())
    yield SyncDeps(sqlite_settings, engine, make_session_factory(engine), gateway, cast(Any, None))
    engine.dispose()


def _run(deps: SyncDeps) -> int:
    with deps.unit(ORG) as unit:
        run_id = unit.runs.create_run(mode="incremental", now=NOW)
        unit.commit()
    return run_id


def test_rates_are_read_on_the_first_run_then_hourly_or_on_a_full_run(deps: SyncDeps) -> None:
    fake = cast(FakeGateway, deps.gateway)
    run_id = _run(deps)
    assert refresh_rates(deps, org_id=ORG, run_id=run_id, full=False, now=NOW)
    assert len(fake.queries) == 2
    soon = NOW + timedelta(minutes=30)
    assert not refresh_rates(deps, org_id=ORG, run_id=run_id, full=False, now=soon)
    assert refresh_rates(deps, org_id=ORG, run_id=run_id, full=True, now=soon)
    later = NOW + timedelta(minutes=95)
    assert refresh_rates(deps, org_id=ORG, run_id=run_id, full=False, now=later)
    assert len(fake.queries) == 6
    with OrgUnit(deps.sessions, ORG) as unit:
        rates = unit.rates.for_calc()
        state = unit.rates.sync_state()
    assert rates is not None and state is not None
    found = rates.in_force("EUR", date(2026, 3, 1))
    assert found is not None and found.rate == Decimal("0.95")
    assert (state.source, state.changed_at, state.fetched_at) == ("dated", NOW, later)


def test_refused_rates_keep_the_last_ones_with_one_open_issue(deps: SyncDeps) -> None:
    fake = cast(FakeGateway, deps.gateway)
    run_id = _run(deps)
    assert refresh_rates(deps, org_id=ORG, run_id=run_id, full=True, now=NOW)
    fake.refuse = "INSUFFICIENT_ACCESS"
    for minutes in (1, 2):
        when = NOW + timedelta(minutes=minutes)
        assert not refresh_rates(deps, org_id=ORG, run_id=run_id, full=True, now=when)
    with OrgUnit(deps.sessions, ORG) as unit:
        issues = [(i.object_name, i.error_code, i.status) for i in unit.issues.open_issues()]
        assert unit.rates.for_calc() is not None  # the last rates read stay in use
    assert issues == [("DatedConversionRate", "INSUFFICIENT_ACCESS", "open")]
    fake.refuse = None
    assert refresh_rates(deps, org_id=ORG, run_id=run_id, full=True, now=NOW + timedelta(hours=1))
    with OrgUnit(deps.sessions, ORG) as unit:
        assert unit.issues.open_issues() == []


def test_a_single_currency_org_has_no_rates_and_no_issue(deps: SyncDeps) -> None:
    # Without multi-currency Salesforce has no CurrencyType: the query fails with INVALID_TYPE.
    fake = cast(FakeGateway, deps.gateway)
    fake.refuse = "INVALID_TYPE"
    assert refresh_rates(deps, org_id=ORG, run_id=_run(deps), full=True, now=NOW)
    assert len(fake.queries) == 1
    with OrgUnit(deps.sessions, ORG) as unit:
        state = unit.rates.sync_state()
        assert state is not None and state.source == "none"
        assert unit.rates.for_calc() is None and unit.issues.open_issues() == []


def test_without_advanced_currency_management_the_static_rates_apply(deps: SyncDeps) -> None:
    fake = cast(FakeGateway, deps.gateway)

    def query(soql: str, *, include_deleted: bool = True) -> QueryPage:
        fake.queries.append(soql)
        if "DatedConversionRate" in soql:
            raise SalesforceApiError("sObject type is not supported", error_code="INVALID_TYPE")
        return QueryPage(TYPES, None, len(TYPES))

    fake.query = query  # type: ignore[method-assign]
    assert refresh_rates(deps, org_id=ORG, run_id=_run(deps), full=True, now=NOW)
    with OrgUnit(deps.sessions, ORG) as unit:
        rates = unit.rates.for_calc()
        state = unit.rates.sync_state()
    assert state is not None and state.source == "static"
    found = rates.in_force("EUR", date(1999, 1, 1)) if rates else None
    assert found is not None and found.rate == Decimal("0.9")
