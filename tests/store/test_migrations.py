"""Migrations apply on SQLite and PostgreSQL, and the unit of work commits or rolls back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select

from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import current_revision, head_revision, upgrade
from connector.store.models import SyncRun, Watermark
from connector.store.uow import UnitOfWork

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


def test_unit_of_work_commits_only_when_told(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        uow.session.add(_run("00D000000000001"))
        # leaving the block without commit() rolls back
    with UnitOfWork(factory) as uow:
        assert uow.session.scalars(select(SyncRun)).all() == []
        uow.session.add(_run("00D000000000001"))
        uow.commit()
    with UnitOfWork(factory) as uow:
        runs = uow.session.scalars(select(SyncRun)).all()
        assert [r.org_id for r in runs] == ["00D000000000001"]
    engine.dispose()


def test_unit_of_work_rolls_back_on_error(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    with pytest.raises(RuntimeError), UnitOfWork(factory) as uow:
        uow.session.add(_run("00D000000000001"))
        uow.session.flush()
        raise RuntimeError("boom")
    with UnitOfWork(factory) as uow:
        assert uow.session.scalars(select(SyncRun)).all() == []
    engine.dispose()


def test_datetimes_come_back_as_aware_utc(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    stamp = datetime(2026, 1, 31, 18, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    with UnitOfWork(factory) as uow:
        uow.session.add(_run("00D1"))
        uow.session.flush()
        uow.session.add(
            Watermark(org_id="00D1", object_name="User", modstamp=stamp, updated_at=stamp)
        )
        uow.commit()
    with UnitOfWork(factory) as uow:
        mark = uow.session.get(Watermark, ("00D1", "User"))
        assert mark is not None
        assert mark.modstamp == stamp
        assert mark.modstamp.utcoffset() == timedelta(0)
    engine.dispose()


def test_naive_datetimes_are_refused(sqlite_settings: Settings) -> None:
    engine = make_engine(sqlite_settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        run = _run("00D1")
        run.requested_at = datetime(2026, 1, 1)
        uow.session.add(run)
        with pytest.raises(Exception, match="naive datetime"):
            uow.session.flush()
    engine.dispose()


def test_watermarks_are_per_org(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with UnitOfWork(factory) as uow:
        for org in ("00DA", "00DB"):
            uow.session.add(
                Watermark(org_id=org, object_name="Opportunity", modstamp=now, updated_at=now)
            )
        uow.commit()
    with UnitOfWork(factory) as uow:
        marks = uow.session.scalars(select(Watermark).order_by(Watermark.org_id)).all()
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
