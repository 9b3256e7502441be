"""Tenancy rules of ARCHITECTURE.md: every store query keeps to one org, reached through OrgUnit.

1. Inside `connector/store/`, a function that builds a query (`select`, `update`, `delete`,
   `insert`, raw `text`, `session.get`, `session.query`) filters by the org: it compares
   an `org_id` column, or hands its `org_id` on (a key tuple, a helper, a row's `org_id=`).
   The reads that span orgs on purpose (which orgs the store holds) are in CROSS_ORG.
2. Outside `connector/store/`, nothing imports a store function that takes a session (or a
   session factory): code reaches the store through `OrgUnit(sessions, org_id)` and the
   repositories it hands out, already bound to the org, whose methods take no org id. Nor
   does anything import the store's modules themselves, or SQLAlchemy's query builders.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STORE = ROOT / "connector" / "store"
PRODUCT = ("calc", "mappings", "connector", "webapp", "devorg")
QUERY_BUILDERS = {"select", "update", "delete", "insert"}
STORE_QUERY_CALLS = QUERY_BUILDERS | {"text"}  # raw SQL too, inside the store
# Reads that span orgs on purpose: which orgs the store holds (sign-in, the CLI's --org
# default, the demo chooser); reached only through connector.store.unit.OrgDirectory.
CROSS_ORG = {
    "mapping_versions.known_org_ids",
    "plans.plan_org_ids",
    # The org registry itself (docs/orgs.md): which orgs are registered, re-encrypting every
    # org's secrets with a new key, and connect attempts, which belong to no org until the
    # callback names one. Reached only through connector.store.orgs.OrgRegistry.
    "orgs.records",
    "orgs.reseal_all",
    "orgs.save_attempt",
    "orgs.take_attempt",
    # The orgs an admin connected from an org's Org page (a family: subsidiaries, sandboxes),
    # listed on that page only; matched by the registry's `connected_by` of that org.
    "org_reads.connected_from",
}


def _is_org_name(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "org_id" for n in ast.walk(node))


def _filters_by_org(fn: ast.FunctionDef) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "org_id" for s in sides):
                return True
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "in_"
                and isinstance(func.value, ast.Attribute)
                and func.value.attr == "org_id"
            ):
                return True
            if any(k.arg == "org_id" for k in node.keywords):
                return True
            if any(_is_org_name(a) for a in node.args):
                return True
        if isinstance(node, ast.Dict) and any(
            isinstance(k, ast.Constant) and k.value == "org_id" for k in node.keys
        ):
            return True
    return False


def _builds_query(fn: ast.FunctionDef) -> bool:
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in STORE_QUERY_CALLS:
            return True
        if (
            isinstance(func, ast.Attribute)
            and func.attr in {"get", "query"}
            and isinstance(func.value, ast.Name)
            and func.value.id == "session"
        ):
            return True
    return False


def unscoped_queries(module: str, source: str) -> list[str]:
    """Functions of a store module that build a query without filtering by the org."""
    tree = ast.parse(source)
    return [
        f"{module}.{node.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and _builds_query(node)
        and not _filters_by_org(node)
        and f"{module}.{node.name}" not in CROSS_ORG
    ]


def _session_functions() -> dict[str, set[str]]:
    """Per store module, its module-level functions whose first parameter is a session."""
    found: dict[str, set[str]] = {}
    for path in sorted(STORE.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef):
                params = [*node.args.posonlyargs, *node.args.args]
                if params and params[0].arg in {"session", "sessions"}:
                    found.setdefault(path.stem, set()).add(node.name)
    return found


SESSION_FUNCTIONS = _session_functions()


def store_reach(rel: str, source: str) -> list[str]:
    """How a module outside the store reaches past OrgUnit (empty when it does not)."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            problems += [
                f"{rel}: import {a.name}"
                for a in node.names
                if a.name.startswith("connector.store.")
            ]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "connector.store":
                problems += [f"{rel}: from connector.store import {a.name}" for a in node.names]
            elif node.module.startswith("connector.store."):
                module = node.module.rsplit(".", 1)[1]
                problems += [
                    f"{rel}: imports {module}.{a.name}, a store function taking a session"
                    for a in node.names
                    if a.name in SESSION_FUNCTIONS.get(module, set())
                ]
            elif node.module.split(".")[0] == "sqlalchemy":
                problems += [
                    f"{rel}: imports sqlalchemy's {a.name}"
                    for a in node.names
                    if a.name in QUERY_BUILDERS
                ]
    return problems


def _outside_store() -> list[tuple[str, str]]:
    found = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith("connector/store/"):
                found.append((rel, path.read_text()))
    return found


def test_there_are_store_queries_and_callers_to_check() -> None:
    assert len(list(STORE.glob("*.py"))) > 10
    assert {"people", "results", "repositories"} <= set(SESSION_FUNCTIONS)
    assert len(_outside_store()) > 100


@pytest.mark.parametrize("path", sorted(STORE.glob("*.py")), ids=lambda p: p.name)
def test_every_store_query_filters_by_its_org(path: Path) -> None:
    assert unscoped_queries(path.stem, path.read_text()) == []


def test_nothing_outside_the_store_reaches_past_the_org_unit() -> None:
    problems = [p for rel, source in _outside_store() for p in store_reach(rel, source)]
    assert problems == []


def test_the_tenancy_checks_catch_a_violation() -> None:
    # A query that forgot its org, and one that only selects the org column: both caught.
    forgot = (
        "def people(session, *, org_id, ids):\n"
        "    return session.scalars(select(CanonicalRep).where(CanonicalRep.id.in_(ids)))\n"
        "def orgs(session):\n"
        "    return session.scalars(select(CanonicalRep.org_id))\n"
        "def one(session, *, org_id, rep_id):\n"
        "    return session.get(CanonicalRep, rep_id)\n"
        "def raw(session, *, org_id):\n"
        "    return session.execute(text('SELECT id FROM canonical_reps'))\n"
    )
    assert unscoped_queries("people", forgot) == [
        "people.people",
        "people.orgs",
        "people.one",
        "people.raw",
    ]
    scoped = (
        "def people(session, *, org_id, ids):\n"
        "    q = select(CanonicalRep).where(CanonicalRep.org_id == org_id)\n"
        "    return session.scalars(q.where(CanonicalRep.id.in_(ids)))\n"
        "def one(session, *, org_id, rep_id):\n"
        "    return session.get(CanonicalRep, (org_id, rep_id))\n"
    )
    assert unscoped_queries("people", scoped) == []
    # Code outside the store calling a store function with an org id by hand, importing a
    # store module, or building its own query: each is reported.
    planted = (
        "from connector.store.people import Person, people\n"
        "import connector.store.results\n"
        "from connector.store import roles\n"
        "from sqlalchemy import select\n"
        "def page(session, org_id):\n"
        "    return people(session, org_id=org_id, ids=['005A'])\n"
    )
    assert store_reach("webapp/page.py", planted) == [
        "webapp/page.py: imports people.people, a store function taking a session",
        "webapp/page.py: import connector.store.results",
        "webapp/page.py: from connector.store import roles",
        "webapp/page.py: imports sqlalchemy's select",
    ]
    allowed = (
        "from connector.store.people import Person\n"
        "from connector.store.unit import OrgUnit\n"
        "def page(sessions, org):\n"
        "    with OrgUnit(sessions, org) as unit:\n"
        "        return unit.people.people(ids=['005A'])\n"
    )
    assert store_reach("webapp/page.py", allowed) == []
