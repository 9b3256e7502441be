"""Strict YAML reading for plan and mapping documents: duplicate keys and impossible dates fail.

PyYAML's safe loader lets the last of two equal keys win silently (a plan with two `rate:`
keys pays the second) and raises a bare ValueError, with no line, for `2026-02-30`. Both
become a `yaml.MarkedYAMLError` naming the line and column, like a syntax error.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode


class StrictYamlError(yaml.MarkedYAMLError):
    """A document that parses but cannot mean one thing (its `problem` says why)."""


class _StrictLoader(yaml.SafeLoader):
    pass


def _mapping(loader: _StrictLoader, node: Node, deep: bool = False) -> dict[Any, Any]:
    assert isinstance(node, MappingNode)
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *base` then an explicit key overrides it: that is allowed
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, Hashable):
            if key in seen:
                raise StrictYamlError(
                    problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
                )
            seen.add(key)
    return loader.construct_mapping(node, deep=deep)


def _timestamp(loader: _StrictLoader, node: Node) -> Any:
    assert isinstance(node, ScalarNode)
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError as exc:
        raise StrictYamlError(
            problem=f"not a real date: {node.value!r} ({exc})", problem_mark=node.start_mark
        ) from None


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def strict_load(text: str) -> Any:
    """Parse YAML or JSON text; yaml.YAMLError on bad syntax, a duplicate key or a bad date."""
    return yaml.load(text, Loader=_StrictLoader)
