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
        "orjson",
        "procrastinate",
        "psycopg",
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
    "procrastinate": ("connector/tasks/engine.py",),
    "psycopg": ("connector/tasks/engine.py",),
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


# Money rules that exist once, in calc: the open-deal estimate ("period gross with the deal
# won today minus without it") and the SPIFF "open, inside its window, meets the criteria"
# check. The sync, the views and the CLI call these; a copy elsewhere could show a figure
# different from the one written to Salesforce.
RULE_HOMES = {
    "estimate_credits": "calc/estimate.py",
    "owner_estimates": "calc/estimate.py",
    "estimate_in_book": "calc/estimate.py",
    "period_result": "calc/estimate.py",
    "won_on": "calc/estimate.py",
    "spiff_eligible": "calc/spiffs.py",
    "spiffs_of": "calc/spiffs.py",
    "in_window": "calc/spiffs.py",
    "meets": "calc/spiffs.py",
}
# Outside calc, the engine (or calc's estimator) is run at most once per function: running
# it twice is the with-minus-without of an estimate. The engine's per-rep entry point is
# not imported there at all.
RUNS_ENGINE = {
    "calc.engine": {
        "calculate_book",
        "calculate",
        "rep_results",
        "stream_book",
        "split_book",
        "period_gross",
    },
    "calc.estimate": {"estimate_credits", "owner_estimates", "estimate_in_book", "period_result"},
}
ENGINE_RULE_NAMES = {"rep_results", "period_result", "period_gross"}


def _trees() -> list[tuple[str, str, ast.Module]]:
    return [
        (package, rel, ast.parse((ROOT / rel).read_text(), filename=rel))
        for package, rel, _ in SOURCES
    ]


TREES = _trees()


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _engine_names(tree: ast.Module) -> dict[str, str]:
    """Local name -> engine function, for `from calc.engine import x [as y]` anywhere."""
    return {
        alias.asname or alias.name: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in RUNS_ENGINE
        for alias in node.names
        if alias.name in RUNS_ENGINE[node.module]
    }


def _rule_copies(trees: list[tuple[str, str, ast.Module]]) -> list[str]:
    found = []
    for _package, rel, tree in trees:
        for fn in _functions(tree):
            home = RULE_HOMES.get(fn.name)
            if home is not None and rel != home:
                found.append(f"{rel} defines {fn.name} (only {home} may)")
    return found


def _engine_twice(trees: list[tuple[str, str, ast.Module]]) -> list[str]:
    found = []
    for package, rel, tree in trees:
        if package == "calc":
            continue
        engine = _engine_names(tree)
        bad = {name for name, real in engine.items() if real in ENGINE_RULE_NAMES}
        found += [f"{rel} imports {engine[n]} from calc's engine" for n in sorted(bad)]
        for fn in _functions(tree):
            calls = [
                n.func.id
                for n in ast.walk(fn)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in engine
            ]
            if len(calls) > 1:
                found.append(f"{rel}:{fn.name} calls the engine {len(calls)} times: {calls}")
    return found


def test_the_estimate_and_the_spiff_check_are_defined_only_in_calc() -> None:
    assert _rule_copies(TREES) == []


def test_outside_calc_the_engine_is_not_run_twice_to_subtract() -> None:
    assert _engine_twice(TREES) == []


def test_connector_calls_calcs_estimate_and_spiff_check() -> None:
    used = {
        alias.name
        for package, _, tree in TREES
        if package == "connector"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in ("calc.estimate", "calc.spiffs")
        for alias in node.names
    }
    assert {"estimate_credits", "owner_estimates", "spiff_eligible", "meets"} <= used


def test_the_rule_checks_catch_a_copy() -> None:
    copy = ast.parse(
        "from calc.engine import rep_results\n"
        "def _gross(plan, rep, credits, period):\n"
        "    return rep_results(plan, rep, credits, start=period.start, end=period.end)\n"
        "def spiff_eligible(plan, deal):\n"
        "    return True\n"
        "def estimate(plan, rep, credits, mine, p):\n"
        "    from calc.engine import rep_results as run\n"
        "    return run(plan, rep, [*credits, *mine], start=p.start, end=p.end)[0].gross"
        " - run(plan, rep, credits, start=p.start, end=p.end)[0].gross\n"
    )
    found = [("connector", "connector/reports/copy.py", copy)]
    assert _rule_copies(found) == [
        "connector/reports/copy.py defines spiff_eligible (only calc/spiffs.py may)"
    ]
    twice = _engine_twice(found)
    assert "connector/reports/copy.py imports rep_results from calc's engine" in twice
    assert "connector/reports/copy.py:estimate calls the engine 2 times: ['run', 'run']" in twice
