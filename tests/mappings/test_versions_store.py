"""Mapping versions in the database: one active per org, who and when, nothing half-written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from connector.store.mapping_versions import (
    MappingVersion,
    activate_version,
    active_version,
    ensure_active,
    import_version,
    list_versions,
)
from mappings.defaults import default_mapping
from mappings.diff import diff_documents
from mappings.loader import document_from_data, document_to_data
from mappings.schema import MappingDocument

ORG, OTHER = "00D000000000001AAA", "00D000000000002AAA"
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def stage_list_mapping() -> MappingDocument:
    data = document_to_data(default_mapping())
    data["deal"]["won"] = {"field": "StageName", "in": ["Closed Won"]}
    return document_from_data(data)


def test_import_activates_a_new_version_and_records_who_and_when(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        first, created = import_version(session, ORG, default_mapping(), by="ada", now=T0)
        assert created and (first.version, first.is_active, first.activated_by) == (1, True, "ada")
        again, created = import_version(session, ORG, default_mapping(), by="bob", now=T0)
        assert not created and again.id == first.id  # same document: no new version
        later = T0 + timedelta(hours=1)
        second, created = import_version(session, ORG, stage_list_mapping(), by="bob", now=later)
        assert created and second.version == 2
        session.commit()
    with sessions() as session:
        rows = list_versions(session, ORG)
        assert [(r.version, r.is_active) for r in rows] == [(1, False), (2, True)]
        active = active_version(session, ORG)
        assert active is not None
        assert (active.activated_by, active.activated_at, active.created_by) == (
            "bob",
            later,
            "bob",
        )
        assert active.load() == stage_list_mapping()
        assert [c.path for c in diff_documents(rows[0].load(), rows[1].load())] == [
            "deal.won.field",
            "deal.won.in",
        ]


def test_reactivating_an_old_version_leaves_exactly_one_active(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        import_version(session, ORG, default_mapping(), by="ada", now=T0)
        import_version(session, ORG, stage_list_mapping(), by="ada", now=T0)
        import_version(session, OTHER, default_mapping(), by="eve", now=T0)
        activate_version(session, ORG, 1, activated_by="ops", now=T0 + timedelta(days=1))
        session.commit()
    with sessions() as session:
        assert [r.is_active for r in list_versions(session, ORG)] == [True, False]
        assert [r.is_active for r in list_versions(session, OTHER)] == [True]
        with pytest.raises(KeyError):
            activate_version(session, ORG, 9, activated_by="ops", now=T0)


def test_database_refuses_two_active_versions(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        import_version(session, ORG, default_mapping(), by="ada", now=T0)
        row = MappingVersion(
            org_id=ORG, version=2, name="x", document="x", checksum="x", created_at=T0,
            created_by="mallory", is_active=True,
        )  # fmt: skip
        session.add(row)
        with pytest.raises(IntegrityError):
            session.flush()


def test_ensure_active_seeds_the_default_mapping(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        seeded = ensure_active(session, ORG, now=T0)
        assert (seeded.version, seeded.created_by, seeded.is_active) == (1, "quotaflow", True)
        assert seeded.load() == default_mapping()
        assert ensure_active(session, ORG, now=T0).id == seeded.id
