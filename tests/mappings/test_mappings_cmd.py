"""`quotaflow mappings validate|export|import` against a fresh SQLite database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.mapping_versions import active_version, list_versions
from connector.store.migrate import upgrade
from devorg.process import start_devorg
from mappings.defaults import default_mapping
from mappings.loader import load_mapping
from webapp.cli import CliError, mappings_cmd

ORG = "00D000000000001AAA"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Parse and run like `quotaflow` does (one-line CliError, exit 2)."""
    parser = argparse.ArgumentParser(prog="quotaflow")
    mappings_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        status = args.handler(args)
    except CliError as exc:
        print(f"quotaflow {args.command}: error: {exc}", file=sys.stderr)
        status = 2
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'q.db'}")
    monkeypatch.setenv("QUOTAFLOW_DATABASE_URL", settings.database_url)
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    return settings


@pytest.fixture
def describe_file(tmp_path: Path, describes: dict[str, dict[str, Any]]) -> Path:
    path = tmp_path / "describes.json"
    path.write_text(json.dumps(describes))
    return path


def versions(settings: Settings) -> list[tuple[int, bool]]:
    engine = make_engine(settings)
    with make_session_factory(engine)() as session:
        rows = [(r.version, r.is_active) for r in list_versions(session, ORG)]
    engine.dispose()
    return rows


def test_validate_against_describe_file(
    tmp_path: Path, describe_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text((Path(__file__).parents[2] / "mappings/default_mapping.yaml").read_text())
    status, out, _ = run(
        ["mappings", "validate", str(path), "--describe-from", str(describe_file)], capsys
    )
    assert status == 0
    assert out.startswith(f"{path}: valid against {describe_file}: User, Opportunity,")


def test_validate_reports_every_problem_one_per_line(
    tmp_path: Path, describe_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.yaml"
    text = (Path(__file__).parents[2] / "mappings/default_mapping.yaml").read_text()
    path.write_text(text.replace("Comp_Plan__c", "Plan__c").replace("IsWon}", "Is_Won__c}"))
    status, _, err = run(
        ["mappings", "validate", str(path), "--describe-from", str(describe_file)], capsys
    )
    assert status == 2
    prefix = f"quotaflow mappings: error: {path}: "
    assert err.splitlines() == [
        prefix + "rep.fields.plan_id.source: User has no field 'Plan__c'",
        prefix + "deal.won.field: Opportunity has no field 'Is_Won__c'",
    ]


def test_validate_without_describes_and_bad_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("rep: {object: User, fields: {id: Id}}\ndeal: {object: Opportunity}\n")
    status, _, err = run(["mappings", "validate", str(path)], capsys)
    assert status == 2
    assert err.splitlines() == [
        f"quotaflow mappings: error: {path}: deal.fields: Field required",
        f"quotaflow mappings: error: {path}: deal.won: Field required",
    ]
    status, _, err = run(["mappings", "validate", str(tmp_path / "nope.yaml")], capsys)
    assert status == 2 and "nope.yaml: cannot read" in err
    path.write_text((Path(__file__).parents[2] / "mappings/default_mapping.yaml").read_text())
    status, _, err = run(
        ["mappings", "validate", str(path), "--describe-from", "FILE.json"], capsys
    )
    assert status == 2 and "FILE.json: cannot read" in err


def test_validate_against_a_running_devorg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    text = (Path(__file__).parents[2] / "mappings/default_mapping.yaml").read_text()
    good.write_text(text)
    bad.write_text(
        text.replace("Term_Months__c", "Term__c").replace("OpportunitySplit\n", "Split\n")
    )
    with start_devorg(tmp_path / "devorg", seed="empty") as info:
        env = {
            "SF_LOGIN_URL": info.login_url,
            "SF_AUTH": "password",
            "SF_CA_BUNDLE": info.ca_cert,
            "SF_CLIENT_ID": info.client_id,
            "SF_CLIENT_SECRET": info.client_secret,
            "SF_USERNAME": info.username,
            "SF_PASSWORD": info.password + info.security_token,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        status, out, _ = run(
            ["mappings", "validate", str(good), "--describe-from", "devorg"], capsys
        )
        assert status == 0 and "valid against devorg" in out
        status, _, err = run(
            ["mappings", "validate", str(bad), "--describe-from", "devorg"], capsys
        )
    prefix = f"quotaflow mappings: error: {bad}: "
    assert err.splitlines() == [
        prefix + "deal.fields.term_months.source: Opportunity has no field 'Term__c'",
        prefix + "split.object: the org has no object 'Split' (no describe)",
    ]


def test_export_import_round_trip_and_invalid_import_changes_nothing(
    database: Settings, tmp_path: Path, describe_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = tmp_path / "mapping.yaml"
    status, out, _ = run(["mappings", "export", str(exported)], capsys)
    assert status == 0 and "the default mapping (none stored)" in out
    assert load_mapping(exported.read_text()) == default_mapping()

    edited = exported.read_text().replace(
        "won: {field: IsWon}", "won: {field: StageName, in: [Closed Won]}"
    )
    exported.write_text(edited)
    argv = [
        "mappings",
        "import",
        str(exported),
        "--org",
        ORG,
        "--by",
        "ada",
        "--describe-from",
        str(describe_file),
    ]
    status, out, _ = run(argv, capsys)
    assert (status, out.strip()) == (0, f"{exported}: activated as version 1 for org {ORG} by ada")
    status, out, _ = run(argv, capsys)
    assert "unchanged, identical to active version 1" in out

    again = tmp_path / "again.json"
    assert run(["mappings", "export", str(again)], capsys)[0] == 0  # the only org is found
    assert load_mapping(again.read_text()) == load_mapping(edited)

    broken = tmp_path / "broken.yaml"
    broken.write_text(edited.replace("Quota__c", "Quota2__c"))
    status, _, err = run(
        ["mappings", "import", str(broken), "--org", ORG, "--describe-from", str(describe_file)],
        capsys,
    )
    assert status == 2 and "User has no field 'Quota2__c'" in err
    broken.write_text("rep: [")
    assert run(["mappings", "import", str(broken), "--org", ORG], capsys)[0] == 2
    assert versions(database) == [(1, True)]
    status, out, _ = run(["mappings", "history"], capsys)
    assert status == 0
    assert out.startswith("* v1  standard-org  created ")
    assert " UTC by ada; activated " in out


def test_import_needs_a_migrated_database_and_an_org(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv("QUOTAFLOW_DATABASE_URL", url)
    path = tmp_path / "m.yaml"
    path.write_text((Path(__file__).parents[2] / "mappings/default_mapping.yaml").read_text())
    status, _, err = run(["mappings", "import", str(path)], capsys)
    assert status == 2 and "run `quotaflow db upgrade` first" in err
    upgrade(create_engine(url))
    status, _, err = run(["mappings", "import", str(path)], capsys)
    assert status == 2 and "pass --org ORG_ID" in err and "(none stored yet)" in err
    engine = create_engine(url)
    with make_session_factory(engine)() as session:
        assert active_version(session, ORG) is None
