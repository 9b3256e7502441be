"""First run against an org configured through the environment: no `--org` needed.

A newcomer with a fresh database and SF_* set runs `quotaflow plans import plan.yaml`, then
`quotaflow sync`. The plan must land under the org the sync runs for, learned from the
configured connection, even when the database still holds another org (the demo's).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from connector.store.engine import make_session_factory
from connector.store.plans import active_plan
from devorg.process import DevorgInfo, start_devorg
from webapp.cli import main

PLAN = "id: ae\nperiod: quarter\ncomponents:\n  - {id: c, type: commission, rate: 0.1}\n"
OTHER_ORG = "00D000000000777AAA"


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevorgInfo]:
    with start_devorg(tmp_path_factory.mktemp("devorg"), seed="empty") as info:
        yield info


@pytest.fixture
def configured(
    org: DevorgInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    for name, value in org.quotaflow_env(database_url=url, auth="password").items():
        monkeypatch.setenv(name, value)
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    assert main(["db", "upgrade"]) == 0
    return url, plan


def _active_plan_orgs(url: str, *orgs: str) -> dict[str, int | None]:
    engine = create_engine(url)
    try:
        with make_session_factory(engine)() as session:
            found = {o: active_plan(session, org_id=o) for o in orgs}
            return {o: (row.version if row is not None else None) for o, row in found.items()}
    finally:
        engine.dispose()


def test_plans_import_then_sync_with_no_org_given(
    org: DevorgInfo, configured: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, plan = configured
    capsys.readouterr()
    # The newcomer's first sync says what is missing, and the command it names just works.
    assert main(["sync"]) == 1
    said = capsys.readouterr()
    assert "has no compensation plan; import one with `quotaflow plans import FILE`" in (
        said.out + said.err
    )
    assert main(["plans", "import", str(plan), "--by", "newcomer"]) == 0
    out = capsys.readouterr().out
    assert f"activated as plan version 1 for org {org.org_id} by newcomer" in out
    assert main(["sync"]) == 0
    assert "succeeded" in capsys.readouterr().out
    exported = plan.with_name("exported.yaml")
    assert main(["plans", "export", str(exported)]) == 0
    assert exported.read_text() == PLAN
    capsys.readouterr()
    # The sync stored the default mapping it used as the org's first version.
    assert main(["mappings", "history"]) == 0
    assert capsys.readouterr().out.startswith("* v1  standard-org  created ")


def test_the_connection_wins_over_a_leftover_org_in_the_database(
    org: DevorgInfo, configured: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, plan = configured
    # The database already holds another org's plan (as after `quotaflow demo`).
    assert main(["plans", "import", str(plan), "--org", OTHER_ORG]) == 0
    assert main(["plans", "import", str(plan)]) == 0
    assert f"for org {org.org_id}" in capsys.readouterr().out
    assert _active_plan_orgs(url, OTHER_ORG, org.org_id) == {OTHER_ORG: 1, org.org_id: 1}


def test_a_refused_connection_is_one_line_and_stores_nothing(
    org: DevorgInfo,
    configured: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, plan = configured
    monkeypatch.setenv("SF_PASSWORD", "not-the-password")
    capsys.readouterr()
    assert main(["plans", "import", str(plan)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(
        f"quotaflow plans: error: cannot learn the org of the connection at "
        f"SF_LOGIN_URL={org.login_url}: "
    )
    assert "invalid_grant" in err[0] and err[0].endswith("pass --org ORG_ID")
    assert _active_plan_orgs(url, org.org_id) == {org.org_id: None}
    # `mappings export` must not quietly fall back to the default mapping either.
    assert main(["mappings", "export", str(plan.with_name("m.yaml"))]) == 2
    assert not plan.with_name("m.yaml").exists()


def test_without_a_connection_the_only_stored_org_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SF_LOGIN_URL", raising=False)
    monkeypatch.setenv("QUOTAFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'q.db'}")
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    assert main(["db", "upgrade"]) == 0
    assert main(["plans", "import", str(plan)]) == 2
    err = capsys.readouterr().err
    assert "pass --org ORG_ID, the Salesforce organization id (none stored yet)" in err
    assert "configure the connection (SF_LOGIN_URL" in err
    assert main(["plans", "import", str(plan), "--org", OTHER_ORG]) == 0
    assert main(["plans", "export", str(tmp_path / "out.yaml")]) == 0
    assert f"of org {OTHER_ORG}" in capsys.readouterr().out
