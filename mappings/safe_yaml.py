"""The one YAML loader for admin-uploaded documents (mappings, plans, API bodies).

PyYAML's safe loader still expands anchors and aliases: a few kilobytes of nested aliases
("billion laughs") grow into gigabytes of data, and a deeply nested document exhausts the
recursion of its composer. Uploaded documents are written by people, so this loader refuses
what people never need: anchors and aliases, nesting deeper than MAX_DEPTH, documents larger
than MAX_BYTES, and a key given twice in one mapping (PyYAML silently keeps the last one).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from mappings.errors import MappingError, Problem

MAX_BYTES = 1_000_000
MAX_DEPTH = 64
LIMIT_SIZE = "document size"
LIMIT_DEPTH = "nesting depth"
LIMIT_ALIASES = "anchors and aliases"
LIMIT_DUPLICATES = "duplicate key"


class YamlError(MappingError):
    """Text that is not a YAML/JSON document we accept. `limit` names the limit it broke;
    `syntax` is True for text that is not YAML at all (False: a refused limit or a value that
    cannot mean what its form says, such as 2026-02-30)."""

    def __init__(
        self,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
        limit: str | None = None,
        syntax: bool = False,
    ) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        self.limit = limit
        self.syntax = syntax
        super().__init__([Problem(f"line {line}" if line else "", problem)])


class _Refused(yaml.YAMLError):
    def __init__(self, problem: str, node_or_event: Any, limit: str | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = getattr(node_or_event, "start_mark", None)
        self.limit = limit


class _Loader(yaml.SafeLoader):
    """SafeLoader without anchors or aliases, with a depth limit and unique keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(
                "anchors and aliases (&name, *name) are not accepted; write each value out",
                event,
                LIMIT_ALIASES,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    f"nesting depth limit: deeper than {MAX_DEPTH} levels", event, LIMIT_DEPTH
                )
            node: Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
            # Text that looks typed but is not (2026-02-30, `!!int 0x`) fails in the
            # constructor with a plain Python error and no line; name the value and its line.
            value = str(node.value if isinstance(node, ScalarNode) else node.tag)[:60]
            what = "not a real date" if node.tag.endswith(":timestamp") else "cannot read"
            raise _Refused(f"{what}: {value!r} ({exc})", node, None) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                first = f"first on line {seen[key]}; duplicate keys are not accepted"
                raise _Refused(
                    f"duplicate key {key!r} ({first})",
                    key_node,
                    LIMIT_DUPLICATES,
                )
            seen[key] = line
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


def load_yaml(text: str) -> Any:
    """Plain data from YAML or JSON text (JSON is YAML); YamlError names the line and the
    limit broken, before any large allocation."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise YamlError(
            f"document size limit: larger than {MAX_BYTES:,} bytes",
            limit=LIMIT_SIZE,
        )
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        return loader.get_single_data()
    except _Refused as exc:
        mark = exc.problem_mark
        raise YamlError(
            exc.problem,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            limit=exc.limit,
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlError(
            str(problem),
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            syntax=True,
        ) from None
    except RecursionError:
        # Unreachable below MAX_DEPTH; kept so no input can end in a traceback.
        raise YamlError(
            f"nesting depth limit: deeper than {MAX_DEPTH} levels", limit=LIMIT_DEPTH
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
