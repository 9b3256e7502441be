"""Differences between two mapping documents, path by path (for version history and review)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mappings.loader import document_to_data
from mappings.schema import MappingDocument

ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class Change:
    """One path whose value differs: added, removed or changed (lists compare as a whole)."""

    path: str
    kind: ChangeKind
    before: Any = None
    after: Any = None

    def __str__(self) -> str:
        if self.kind == "added":
            return f"+ {self.path}: {self.after!r}"
        if self.kind == "removed":
            return f"- {self.path}: {self.before!r}"
        return f"~ {self.path}: {self.before!r} -> {self.after!r}"


def diff_documents(a: MappingDocument, b: MappingDocument) -> list[Change]:
    """What changed from `a` to `b`, in document order, on the compact form people write."""
    return list(_walk("", _expand(document_to_data(a)), _expand(document_to_data(b))))


def _expand(data: Any) -> Any:
    # Compare `name: Name` and `{source: Name, required: true}` field by field.
    if isinstance(data, Mapping):
        out = {key: _expand(value) for key, value in data.items()}
        for section in ("fields", "attributes"):
            entries = out.get(section)
            if isinstance(entries, dict):
                out[section] = {
                    name: {"source": spec} if isinstance(spec, str) else spec
                    for name, spec in entries.items()
                }
        return out
    return data


def _walk(prefix: str, a: Any, b: Any) -> Iterator[Change]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in [*a, *(k for k in b if k not in a)]:
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in b:
                yield Change(path, "removed", before=a[key])
            elif key not in a:
                yield Change(path, "added", after=b[key])
            else:
                yield from _walk(path, a[key], b[key])
    elif a != b or type(a) is not type(b):
        yield Change(prefix, "changed", before=a, after=b)
