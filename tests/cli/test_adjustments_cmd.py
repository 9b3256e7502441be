"""`quotaflow adjustments import|list`: a file is checked against the org's plan before anything
is stored; a bad one is one line, exit 2, nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from webapp.cli import main

ORG = "00D000000000001AAA"
PLAN = "id: ae\nperiod: quarter\ncomponents:\n  - {id: c, type: commission, rate: 0.1}\n"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QUOTAFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'qf.db'}")
    for name in ("SF_LOGIN_URL", "SF_CLIENT_ID", "SF_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    assert main(["db", "upgrade"]) == 0
    return tmp_path


def test_an_org_without_a_plan_stores_nothing(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    adj = database / "adj.csv"
    adj.write_text("rep_id,period,amount,reason\n005000000000001AAA,2026-Q1,10,why\n")
    assert main(["adjustments", "import", str(adj), "--org", ORG]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"org {ORG} has no active plan" in err
    assert main(["adjustments", "list", "--org", ORG]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == []


def test_an_unknown_rep_is_refused_naming_the_row(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = database / "plan.yaml"
    plan.write_text(PLAN)
    assert main(["plans", "import", str(plan), "--org", ORG, "--by", "admin"]) == 0
    adj = database / "adj.csv"
    adj.write_text("rep_id,period,amount,reason\n005000000000001AAA,2026-Q1,10,why\n")
    assert main(["adjustments", "import", str(adj), "--org", ORG]) == 2
    err = capsys.readouterr().err
    assert "adj.csv, line 2, column rep_id: unknown rep '005000000000001AAA'" in err
    assert main(["adjustments", "list", "--org", ORG]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == []
