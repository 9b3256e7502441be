"""Admin-uploaded YAML (plans, mappings, API bodies) goes through one loader that refuses
anchors and aliases, deep nesting, oversized documents and duplicate keys: the billion-laughs
plan is refused at its first anchor, before anything is expanded, over HTTP with a 422
naming the limit and on the command line with exit status 2 and one line naming the file;
nothing is stored."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from calc.errors import PlanError
from connector.store.mapping_versions import list_versions
from connector.store.plans import plan_versions
from connector.sync.plans import parse_plan_text
from mappings.defaults import default_mapping
from mappings.errors import MappingError
from mappings.loader import dump_mapping, load_mapping
from mappings.safe_yaml import (
    LIMIT_ALIASES,
    LIMIT_DEPTH,
    LIMIT_DUPLICATES,
    LIMIT_SIZE,
    MAX_BYTES,
    MAX_DEPTH,
    YamlError,
    load_yaml,
)
from tests.store_kit import unit_of_work
from tests.webapp.conftest import Web  # the synced demo org and its app (fixture `web`)
from webapp.cli import main


def billion_laughs(levels: int = 9) -> str:
    """A small plan whose nested aliases expand to 9**levels strings (2.7 KB in the issue)."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*l{i - 1}"] * 9)
        lines.append(f"l{i}: &l{i} [{refs}]")
    plan = (
        "plans:\n"
        "  - id: ae\n"
        "    period: quarter\n"
        "    quota: {amount: 250000}\n"
        f"    description: *l{levels - 1}\n"
        "    components:\n"
        "      - {id: commission, type: commission, rate: 0.1}\n"
    )
    return "\n".join(lines) + "\n" + plan


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


REFUSED = [
    ("anchor", "a: &x 1\nb: 2\n", LIMIT_ALIASES, 1),
    ("alias", "a: &x [1]\nb: *x\n", LIMIT_ALIASES, 1),
    ("billion laughs", billion_laughs(), LIMIT_ALIASES, 1),
    ("nesting", deep(MAX_DEPTH + 1), LIMIT_DEPTH, 1),
    ("nesting x20000", deep(20000), LIMIT_DEPTH, 1),
    ("block nesting", "".join(f"{'  ' * i}k{i}:\n" for i in range(MAX_DEPTH + 2)), LIMIT_DEPTH, 64),
    ("duplicate key", "plans: []\nid: a\nplans: []\n", LIMIT_DUPLICATES, 3),
    ("duplicate nested key", "a: {b: 1, c: 2, b: 3}\n", LIMIT_DUPLICATES, 1),
    ("size", "x: " + "a" * MAX_BYTES + "\n", LIMIT_SIZE, None),
    ("size in characters", "x: '" + "é" * (MAX_BYTES // 2 + 1) + "'\n", LIMIT_SIZE, None),
]


@pytest.mark.parametrize(
    ("text", "limit", "line"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_the_loader_refuses_each_limit(text: str, limit: str, line: int | None) -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml(text)
    assert caught.value.limit == limit
    assert caught.value.line == line
    assert limit in str(caught.value)


def test_what_people_write_still_loads() -> None:
    assert load_yaml(deep(MAX_DEPTH)) == eval(deep(MAX_DEPTH))  # exactly at the limit
    assert load_yaml('{"a": [1, 2, {"b": null}]}') == {"a": [1, 2, {"b": None}]}
    assert load_yaml("<<: {a: 1}\nb: 2\n") == {"a": 1, "b": 2}  # a merge key without anchors
    assert load_yaml("a: 'x & y * z'\n") == {"a": "x & y * z"}
    assert load_mapping(dump_mapping(default_mapping())) == default_mapping()


@pytest.mark.parametrize(
    ("text", "fragment", "syntax"),
    [
        ("d: 2026-02-30\n", "not a real date: '2026-02-30'", False),
        ("x: !!int 0x\n", "cannot read: '0x'", False),
        ("x: !!python/object:os.system ls\n", "could not determine a constructor", True),
        ("x: \x07\n", "special characters are not allowed", True),
    ],
)
def test_values_unlike_their_tag_are_errors_with_a_line(
    text: str, fragment: str, syntax: bool
) -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml(text)
    assert caught.value.limit is None
    assert caught.value.syntax is syntax
    assert fragment in caught.value.problem


def test_plan_and_mapping_parsers_refuse_with_the_limit() -> None:
    with pytest.raises(PlanError) as plan:
        parse_plan_text(billion_laughs(), source="laughs.yaml")
    assert str(plan.value).startswith("laughs.yaml: line 1: anchors and aliases")
    with pytest.raises(MappingError) as mapping:
        load_mapping("rep: &r {object: User}\n", source="m.yaml")
    assert str(mapping.value).startswith("m.yaml: line 1: anchors and aliases")


# --- over HTTP: 422 naming the limit, nothing stored --------------------------------------------


@pytest.fixture
def admin(web: Web, tmp_path: Path) -> tuple[Flask, dict[str, str]]:
    app = web.fresh(tmp_path)
    token = web.admin_token(app=app)
    page = app.test_client().post("/admin/mappings", data={"qf_token": token}).text
    csrf = re.search(r'name="qf_csrf" value="([^"]+)"', page)
    assert csrf
    return app, {"qf_token": token, "qf_csrf": csrf.group(1)}


def _stored(app: Flask, org_id: str) -> tuple[int, int]:
    with app.app_context(), unit_of_work() as uow:
        return len(plan_versions(uow.session, org_id=org_id)), len(
            list_versions(uow.session, org_id)
        )


def test_billion_laughs_plan_upload_is_a_422_and_stores_nothing(
    web: Web,
    admin: tuple[Flask, dict[str, str]],
) -> None:
    app, form = admin
    before = _stored(app, web.org_id)
    response = app.test_client().post(
        "/admin/plans/upload", data={**form, "plan_text": billion_laughs(10)}
    )
    assert response.status_code == 422
    assert "anchors and aliases" in response.text
    assert _stored(app, web.org_id) == before


def test_mapping_save_with_aliases_is_a_422_and_stores_nothing(
    web: Web,
    admin: tuple[Flask, dict[str, str]],
) -> None:
    app, form = admin
    before = _stored(app, web.org_id)
    text = "x: &x {object: User}\n" + dump_mapping(default_mapping())
    response = app.test_client().post(
        "/admin/mappings/save", data={**form, "mode": "yaml", "document": text}
    )
    assert response.status_code == 422
    assert "anchors and aliases" in response.text
    assert _stored(app, web.org_id) == before


@pytest.mark.parametrize(
    ("body", "limit"),
    [
        (billion_laughs(), LIMIT_ALIASES),
        (deep(20000), LIMIT_DEPTH),
        ('{"format": 1, "format": 1}', LIMIT_DUPLICATES),
        ('{"document": "' + "x" * (MAX_BYTES + 10) + '"}', LIMIT_SIZE),
    ],
    ids=["aliases", "depth", "duplicates", "size"],
)
def test_the_mappings_api_answers_422_naming_the_limit(
    web: Web,
    body: str,
    limit: str,
) -> None:
    headers = {"Authorization": f"Bearer {web.admin_token()}"}
    response = web.client().post(
        "/api/v1/mappings/validate", headers=headers, data=body, content_type="application/json"
    )
    assert response.status_code == 422, response.text
    assert limit in response.get_json()["error"]


def test_a_limit_inside_the_document_text_is_a_422_too(web: Web) -> None:
    headers = {"Authorization": f"Bearer {web.admin_token()}"}
    document = "rep: &r {object: User}\ndeal: *r\n"
    response = web.client().post(
        "/api/v1/mappings/validate", headers=headers, json={"document": document}
    )
    assert response.status_code == 422
    assert "anchors and aliases" in response.get_json()["error"]


# --- on the command line: exit 2, one line naming the file --------------------------------------


def _one_error_line(capsys: pytest.CaptureFixture[str], path: Path) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert str(path) in lines[0]
    assert captured.out == ""
    return lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["plans", "validate", "{file}"],
        ["calc", "--plan", "{file}", "--reps", "r.csv", "--deals", "d.csv",
         "--from", "2026-01-01", "--to", "2026-03-31"],
        ["mappings", "validate", "{file}"],
    ],
    ids=["plans", "calc", "mappings"],
)  # fmt: skip
def test_the_cli_exits_2_with_one_line_naming_the_file(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(billion_laughs())
    assert main([a.replace("{file}", str(path)) for a in argv]) == 2
    line = _one_error_line(capsys, path)
    assert "anchors and aliases" in line and "line 1" in line


def test_plans_import_of_a_refused_file_stores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUOTAFLOW_DATABASE_URL", f"sqlite:///{tmp_path}/q.db")
    monkeypatch.setenv("QUOTAFLOW_SECRET_KEY", "x" * 40)
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    path = tmp_path / "deep.yaml"
    path.write_text("plans:\n  - " + deep(500) + "\n")
    assert main(["plans", "import", str(path), "--org", "00D000000000001"]) == 2
    assert "nesting depth" in _one_error_line(capsys, path)
    from sqlalchemy import create_engine, func, select

    from connector.store.plans import PlanVersion

    engine = create_engine(f"sqlite:///{tmp_path}/q.db")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(PlanVersion)) == 0
    engine.dispose()
