"""The documentation site builds with --strict, its generated reference tables name every
command, option, transform, criterion operator and setting, and no Markdown or Python file
of the repository points to a path outside it."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import TypeAdapter

from calc.plan import Criterion
from connector.settings import VARIABLES
from mappings.schema import FieldSpec
from webapp.cli import main

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".git", ".venv", "site", "instance", "node_modules", "build"}


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOKS = _hooks()
PLANS_PAGE = (ROOT / "docs" / "plans.md").read_text()


def _repository_files(*suffixes: str) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [
            d for d in dirs if d not in SKIP_DIRS and not d.startswith(".") and "egg-info" not in d
        ]
        found += [Path(folder) / f for f in files if Path(f).suffix in suffixes]
    return sorted(found)


@pytest.mark.slow
def test_the_site_builds_strict(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    out = subprocess.run(
        [str(mkdocs), "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    built = tmp_path / "site"
    for page in ("index.html", "connecting/index.html", "reference/cli/index.html"):
        assert (built / page).is_file(), page
    assert (built / "images" / "rep-home.png").is_file()
    # The hook and the screenshot script are tools, not pages.
    assert not (built / "hooks.py").exists() and not (built / "screenshot.py").exists()
    # ARCHITECTURE.md is included, not copied by hand.
    architecture = (built / "architecture" / "index.html").read_text()
    assert "The rules the architecture test enforces" in architecture


def test_every_page_with_a_marker_is_filled_and_unknown_markers_fail() -> None:
    markers = set()
    for page in (ROOT / "docs").rglob("*.md"):
        markers |= set(HOOKS.MARKER.findall(page.read_text()))
    assert markers == set(HOOKS.GENERATORS)
    with pytest.raises(ValueError, match="unknown generated table 'nope'"):
        HOOKS.render("<!-- generated: nope -->")


def test_cli_reference_names_every_command_and_option() -> None:
    text = HOOKS.cli_reference()
    commands = HOOKS.cli_commands()
    names = {full for full, _, _ in commands}
    assert {"quotaflow sync", "quotaflow plans import", "quotaflow devorg serve"} <= names
    for full, _, parser in commands:
        assert f"### `{full}`" in text
        section = text.split(f"### `{full}`", 1)[1].split("\n### ", 1)[0]
        for action in parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}`" in section, (full, option)


def _op_values(schema: object) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        op = schema.get("properties", {}).get("op", {})
        found |= {op["const"]} if "const" in op else set(op.get("enum", []))
        for value in schema.values():
            found |= _op_values(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _op_values(value)
    return found


def _transform_names_from_the_schema() -> set[str]:
    # Independent of the hook: the discriminator values in the schema pydantic publishes.
    return _op_values(FieldSpec.model_json_schema())


def test_transforms_reference_names_every_transform() -> None:
    text = HOOKS.transforms_reference()
    names = _transform_names_from_the_schema()
    assert {"to_decimal", "picklist", "convert_currency"} <= names
    for name in names:
        assert f"`{name}`" in text, name


def test_criteria_reference_names_every_operator_with_its_text() -> None:
    text = HOOKS.criteria_reference()
    # Independent of the hook: every `op` value in the schema pydantic publishes.
    ops = _op_values(TypeAdapter(Criterion).json_schema()) | set(HOOKS.criterion_operators())
    assert {"eq", "in"} <= ops
    for op in ops:
        assert re.search(rf"^\| `{op}` \| `[^`]+` \|", text, re.M), op


def _variables_read_by_load_settings() -> set[str]:
    tree = ast.parse((ROOT / "connector" / "settings.py").read_text())
    load = next(
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "load_settings"
    )
    helpers = {
        n.name: n
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and n.name.startswith("_") and n.name != "_optional"
    }
    found: set[str] = set()
    for fn in [load, *helpers.values()]:
        for node in ast.walk(fn):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"(SF|QUOTAFLOW)_[A-Z0-9_]+", node.value)
            ):
                found.add(node.value)
    return found


def test_settings_table_is_exactly_what_load_settings_reads() -> None:
    documented = [v.name for v in VARIABLES]
    assert len(documented) == len(set(documented))
    assert set(documented) == _variables_read_by_load_settings()
    text = HOOKS.settings_reference()
    for name in documented:
        assert f"| `{name}` |" in text


EXAMPLES = sorted(p for p in (ROOT / "docs" / "examples").iterdir() if p.is_dir())


def _calc(capsys: pytest.CaptureFixture[str], folder: Path, plan: Path, fmt: str) -> str:
    argv = ["calc", "--plan", str(plan), "--reps", str(folder / "reps.csv")]
    argv += ["--deals", str(folder / "deals.csv"), "--from", "2026-01-01", "--to", "2026-03-31"]
    if (folder / "splits.csv").exists():
        argv += ["--splits", str(folder / "splits.csv")]
    capsys.readouterr()
    assert main([*argv, "--format", fmt]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("folder", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_worked_examples_print_what_the_plans_page_shows(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = sorted(folder.glob("plan*.yaml"))
    assert plans
    for plan in plans:
        shown = folder / plan.name.replace("plan", "earnings", 1).replace(".yaml", ".csv")
        assert _calc(capsys, folder, plan, "csv") == shown.read_text(), shown.name
        assert f'--8<-- "{shown.relative_to(ROOT).as_posix()}"' in PLANS_PAGE


def test_the_draw_table_of_example_4_is_what_calc_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = ROOT / "docs" / "examples" / "4-draw-clawback"
    results = json.loads(_calc(capsys, folder, folder / "plan.yaml", "json"))["results"]
    for r in results:
        d = r["draw"]
        row = [r["period"], r["gross"], d["top_up"], d["recovered"], d["shortfall"], d["balance"]]
        row.append(r["net"])
        assert "| " + " | ".join(row) + " |" in PLANS_PAGE, row


# Paths that exist only on the machine a file was written on, or beside the repository.
OUTSIDE = re.compile(r"\.\./shared|/wor[k]/|shared/(DESIGN|STYLE)\.md|\bDESIGN\.md\b")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_no_markdown_or_python_file_points_outside_the_repository() -> None:
    offenders = []
    for path in _repository_files(".md", ".py"):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_relative_links_in_markdown_stay_inside_and_exist() -> None:
    broken = []
    for path in _repository_files(".md"):
        for target in LINK.findall(path.read_text()):
            if re.match(r"^[a-z]+:|^#|^mailto:", target):
                continue
            resolved = (path.parent / target.split("#", 1)[0]).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert broken == []


def test_the_checks_catch_a_path_outside(tmp_path: Path) -> None:
    # Built from pieces, so that this file does not trip its own check.
    assert OUTSIDE.search("see .." + "/shared/" + "DESIGN" + ".md")
    assert OUTSIDE.search("open /" + "work/main/README.md")
    assert not OUTSIDE.search("see ARCHITECTURE.md and docs/operations.md")
    outside = (ROOT / "docs" / "../../elsewhere.md").resolve()
    assert not outside.is_relative_to(ROOT)


def test_architecture_states_the_imports_the_architecture_test_allows() -> None:
    spec = importlib.util.spec_from_file_location("arch", ROOT / "tests" / "test_architecture.py")
    assert spec is not None and spec.loader is not None
    arch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(arch)
    text = (ROOT / "ARCHITECTURE.md").read_text()
    for package, allowed in arch.ALLOWED.items():
        row = re.search(rf"^\| `{package}/` \|.*\| ([^|]*) \|$", text, re.M)
        assert row, f"ARCHITECTURE.md has no row for {package}/"
        assert set(re.findall(r"`([a-z_0-9]+)`", row.group(1))) == allowed, package


def test_every_path_architecture_names_exists() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    named = re.findall(
        r"`((?:calc|mappings|connector|webapp|devorg|migrations|tests|bench|docs)/[\w./-]*)`", text
    )
    assert len(named) > 40
    assert [p for p in sorted(set(named)) if not (ROOT / p).exists()] == []
