"""Plan documents: validated, versioned with exactly one active, imported and exported."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from calc.errors import PlanError
from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.plans import PlanVersion, active_plan, plan_versions
from connector.sync.plans import (
    demo_plan_text,
    ensure_demo_plan,
    export_plan_text,
    import_plan,
    load_active_plan,
)
from webapp.cli import CliError, plans_cmd

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ORG = "00D000000000001AAA"
SMALL = "id: ae\nperiod: quarter\ncomponents:\n  - {id: c, type: commission, rate: 0.1}\n"


def _sessions(settings: Settings):  # type: ignore[no-untyped-def]
    engine = make_engine(settings)
    upgrade(engine)
    return make_session_factory(engine)


def test_versions_with_exactly_one_active(store_settings: Settings) -> None:
    sessions = _sessions(store_settings)
    first, created = import_plan(sessions, org_id=ORG, text=SMALL, source="a", by="ann", now=T0)
    assert created and first.version == 1
    same, created = import_plan(sessions, org_id=ORG, text=SMALL, source="a", by="bob", now=T0)
    assert not created and same.version == 1
    second, created = import_plan(
        sessions, org_id=ORG, text=demo_plan_text(), source="demo", by="bob", now=T0
    )
    assert created and second.version == 2
    with sessions() as session:
        versions = plan_versions(session, org_id=ORG)
        assert [(v.version, v.is_active, v.created_by) for v in versions] == [
            (2, True, "bob"),
            (1, False, "ann"),
        ]
    active = load_active_plan(sessions, org_id=ORG)
    assert active is not None and active.version == 2
    assert [p.id for p in active.doc.plans] == ["ae", "manager", "vp"]
    assert load_active_plan(sessions, org_id="00Dother") is None


def test_the_database_refuses_two_active_versions(store_settings: Settings) -> None:
    sessions = _sessions(store_settings)
    import_plan(sessions, org_id=ORG, text=SMALL, source="a", by="ann", now=T0)
    with sessions() as session, pytest.raises(IntegrityError):
        session.add(
            PlanVersion(
                org_id=ORG,
                version=9,
                document={},
                source_text="",
                checksum="x",
                is_active=True,
                created_at=T0,
            )
        )
        session.commit()


def test_an_invalid_plan_is_refused_and_the_active_one_kept(store_settings: Settings) -> None:
    sessions = _sessions(store_settings)
    import_plan(sessions, org_id=ORG, text=SMALL, source="a", by="ann", now=T0)
    bad = SMALL.replace("rate: 0.1", "rate: lots")
    with pytest.raises(PlanError, match=r"bad.yaml: plans\[0\]\.components\[0\]"):
        import_plan(sessions, org_id=ORG, text=bad, source="bad.yaml", by="ann", now=T0)
    with pytest.raises(PlanError, match="not valid YAML"):
        import_plan(sessions, org_id=ORG, text="id: [", source="x", by="ann", now=T0)
    with sessions() as session:
        row = active_plan(session, org_id=ORG)
        assert row is not None and row.version == 1


def test_demo_plan_is_loaded_once_and_exports_as_uploaded(sqlite_settings: Settings) -> None:
    sessions = _sessions(sqlite_settings)
    first = ensure_demo_plan(sessions, org_id=ORG, now=T0)
    again = ensure_demo_plan(sessions, org_id=ORG, now=T0)
    assert first.version_id == again.version_id
    exported = export_plan_text(sessions, org_id=ORG)
    assert exported == (1, demo_plan_text())  # comments kept
    assert export_plan_text(sessions, org_id=ORG, version=5) is None


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    plans_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.handler(args)
    return status


def test_cli_import_then_export(
    sqlite_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QUOTAFLOW_DATABASE_URL", sqlite_settings.database_url)
    _sessions(sqlite_settings)
    plan = tmp_path / "plan.yaml"
    plan.write_text(demo_plan_text())
    with pytest.raises(CliError, match="pass --org"):
        _cli(["plans", "import", str(plan)])
    assert _cli(["plans", "import", str(plan), "--org", ORG, "--by", "ann"]) == 0
    assert "activated as plan version 1" in capsys.readouterr().out
    out = tmp_path / "out.yaml"
    assert _cli(["plans", "export", str(out)]) == 0  # the only org is the default
    assert out.read_text() == demo_plan_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("period: quarter", "period: fortnight"))
    with pytest.raises(CliError, match=r"bad.yaml: plans\[0\]\.period"):
        _cli(["plans", "import", str(bad)])
    assert _cli(["plans", "validate", str(plan)]) == 0
