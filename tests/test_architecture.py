"""The dependency rules of ARCHITECTURE.md, checked by walking every import in the product code."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("calc", "mappings", "connector", "webapp", "devorg")
STDLIB = set(sys.stdlib_module_names) | {"__future__"}

# What each package may import besides the standard library and itself.
ALLOWED: dict[str, set[str]] = {
    "calc": {"pydantic", "pydantic_core"},
    # PyYAML is a pure parser for the mapping document format, no I/O of its own.
    "mappings": {"calc", "pydantic", "pydantic_core", "yaml"},
    "connector": {
        "calc",
        "mappings",
        "simple_salesforce",
        "sqlalchemy",
        "alembic",
        "apscheduler",
        "requests",
        "jwt",
        "cryptography",
        "yaml",
        "migrations",
    },
    "webapp": {
        "connector",
        "mappings",
        "calc",
        "flask",
        "werkzeug",
        "itsdangerous",
        "jinja2",
        "markupsafe",
        "sqlalchemy",
        "yaml",
        "pydantic",
        "requests",
    },
    "devorg": {"flask", "werkzeug", "cryptography", "jwt"},
}
# Only these modules may import devorg: the demo and the devorg command (and tests).
DEVORG_IMPORTERS = {"webapp/cli/demo_cmd.py", "webapp/cli/devorg_cmd.py"}
# Each vendor library is imported in one place.
VENDOR_HOMES = {
    "simple_salesforce": ("connector/salesforce/",),
    "apscheduler": ("connector/clock.py", "connector/clock/"),
    "sqlalchemy": ("connector/store/", "webapp/db.py"),
    "alembic": ("connector/store/",),
    "flask": ("webapp/", "devorg/"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _sources() -> list[tuple[str, str, set[str]]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            found.append((package, rel, _imports(path)))
    return found


SOURCES = _sources()


def test_there_is_code_to_check() -> None:
    assert {package for package, _, _ in SOURCES} >= {"calc", "connector", "webapp"}


@pytest.mark.parametrize(("package", "rel", "imports"), SOURCES, ids=[s[1] for s in SOURCES])
def test_package_imports_only_what_design_allows(package: str, rel: str, imports: set[str]) -> None:
    allowed = ALLOWED[package] | STDLIB | {package}
    if rel in DEVORG_IMPORTERS:
        allowed = allowed | {"devorg"}
    assert imports <= allowed, f"{rel} imports {sorted(imports - allowed)}"


@pytest.mark.parametrize(("package", "rel", "imports"), SOURCES, ids=[s[1] for s in SOURCES])
def test_vendor_libraries_stay_in_their_home(package: str, rel: str, imports: set[str]) -> None:
    for vendor, homes in VENDOR_HOMES.items():
        if vendor in imports:
            assert rel.startswith(homes), f"{rel} imports {vendor}; only {homes} may"


def test_nothing_outside_webapp_imports_webapp() -> None:
    offenders = [
        rel for package, rel, imports in SOURCES if package != "webapp" and "webapp" in imports
    ]
    assert offenders == []


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import flask\nfrom connector.store import models\n")
    assert _imports(bad) == {"flask", "connector"}
    assert not _imports(bad) <= ALLOWED["calc"] | STDLIB
