"""Fixtures for mapping tests: the devorg's describes and a compiled default mapping."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from devorg.schema import OBJECTS, describe_sobject
from mappings.compile import CompiledMapping, compile_mapping
from mappings.defaults import default_mapping


@pytest.fixture(scope="session")
def _devorg_describes() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name in OBJECTS:
        describe = describe_sobject(name, base_url="https://devorg.test", api_version="62.0")
        assert describe is not None
        found[name] = describe
    return found


@pytest.fixture
def describes(_devorg_describes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Describe JSON of every devorg object (a fresh copy each test may edit)."""
    return copy.deepcopy(_devorg_describes)


@pytest.fixture(scope="session")
def compiled() -> CompiledMapping:
    """The default mapping, compiled."""
    return compile_mapping(default_mapping())


def field_of(describe: dict[str, Any], name: str) -> dict[str, Any]:
    """The describe entry of one field (to edit it in a test)."""
    return next(f for f in describe["fields"] if f["name"] == name)
