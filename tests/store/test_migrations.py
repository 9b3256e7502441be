"""Migrations apply on SQLite and PostgreSQL; the org unit commits, rolls back, keeps to its org."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select

from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import current_revision, head_revision, upgrade
from connector.store.models import SyncRun, Watermark
from connector.store.unit import OrgUnit

ORG = "00D000000000001"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TABLES = {"sync_runs", "watermarks", "raw_records", "record_issues"}


def test_upgrade_creates_every_table_keyed_by_org(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) >= TABLES
    for table in TABLES:
        columns = {c["name"]: c for c in inspector.get_columns(table)}
        assert "org_id" in columns and not columns["org_id"]["nullable"], table
    engine.dispose()


def test_upgrade_twice_is_a_no_op(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    engine.dispose()


def _run(org: str) -> SyncRun:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    return SyncRun(org_id=org, mode="full", status="queued", requested_at=now, counts={})


def test_org_unit_commits_only_when_told(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    with OrgUnit(factory, ORG) as unit:
        unit.runs.create_run(mode="full", now=NOW)
        # leaving the block without commit() rolls back
    with OrgUnit(factory, ORG) as unit:
        assert unit.runs.list_runs() == []
        run_id = unit.runs.create_run(mode="full", now=NOW)
        unit.commit()
    with OrgUnit(factory, ORG) as unit:
        assert [r.id for r in unit.runs.list_runs()] == [run_id]
    engine.dispose()


def test_org_unit_rolls_back_on_error(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    with pytest.raises(RuntimeError), OrgUnit(factory, ORG) as unit:
        unit.runs.create_run(mode="full", now=NOW)
        raise RuntimeError("boom")
    with OrgUnit(factory, ORG) as unit:
        assert unit.runs.list_runs() == []
    engine.dispose()


def test_org_unit_sees_only_its_org(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    with OrgUnit(factory, "00DOTHER") as unit:
        theirs = unit.runs.create_run(mode="full", now=NOW)
        unit.commit()
    with OrgUnit(factory, ORG) as unit:
        # Even by id, another org's run is not there; updating it by id changes nothing.
        assert unit.runs.get_run(run_id=theirs) is None
        unit.runs.start_run(run_id=theirs, now=NOW)
        unit.commit()
        assert unit.runs.list_runs() == []
    with OrgUnit(factory, "00DOTHER") as unit:
        found = unit.runs.get_run(run_id=theirs)
        assert found is not None and found.status == "queued"
    with pytest.raises(ValueError, match="org id"):
        OrgUnit(factory, "")
    engine.dispose()


def test_datetimes_come_back_as_aware_utc(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    stamp = datetime(2026, 1, 31, 18, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    with factory() as session:
        session.add(_run("00D1"))
        session.flush()
        session.add(Watermark(org_id="00D1", object_name="User", modstamp=stamp, updated_at=stamp))
        session.commit()
    with factory() as session:
        mark = session.get(Watermark, ("00D1", "User"))
        assert mark is not None
        assert mark.modstamp == stamp
        assert mark.modstamp.utcoffset() == timedelta(0)
    engine.dispose()


def test_naive_datetimes_are_refused(sqlite_settings: Settings) -> None:
    engine = make_engine(sqlite_settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        run = _run("00D1")
        run.requested_at = datetime(2026, 1, 1)
        session.add(run)
        with pytest.raises(Exception, match="naive datetime"):
            session.flush()
    engine.dispose()


def test_watermarks_are_per_org(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with factory() as session:
        for org in ("00DA", "00DB"):
            session.add(
                Watermark(org_id=org, object_name="Opportunity", modstamp=now, updated_at=now)
            )
        session.commit()
    with factory() as session:
        marks = session.scalars(select(Watermark).order_by(Watermark.org_id)).all()
        assert [(m.org_id, m.object_name) for m in marks] == [
            ("00DA", "Opportunity"),
            ("00DB", "Opportunity"),
        ]
    engine.dispose()


def test_migrations_match_the_models(store_settings: Settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from connector.store.base import Base, import_store_modules

    import_store_modules()
    engine = make_engine(store_settings)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []
