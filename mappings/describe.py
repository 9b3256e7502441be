"""Case-insensitive lookups over Salesforce describe JSON (`GET /sobjects/X/describe`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Describes = Mapping[str, Mapping[str, Any]]
Kind = Literal["string", "number", "boolean", "date", "datetime", "any"]

_KINDS: Mapping[str, Kind] = {
    **dict.fromkeys(
        (
            "string", "picklist", "multipicklist", "textarea", "email", "phone", "url", "id",
            "reference", "combobox", "encryptedstring",
        ),
        "string",
    ),
    **dict.fromkeys(("currency", "double", "percent", "int", "long"), "number"),
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
}  # fmt: skip


def kind_of(field: Mapping[str, Any]) -> Kind:
    """The value kind a describe field type arrives as in query JSON."""
    return _KINDS.get(str(field.get("type", "")), "any")


def picklist_values(field: Mapping[str, Any], *, active_only: bool = False) -> list[str]:
    """The picklist values of a describe field."""
    values = field.get("picklistValues") or []
    return [str(v.get("value")) for v in values if not active_only or v.get("active", True)]


@dataclass(frozen=True, slots=True)
class Resolved:
    """A source path resolved against the describes, or the reason it could not be."""

    field: Mapping[str, Any] | None
    problem: str | None = None


class DescribeIndex:
    """Objects, fields and relationships of an org's describes, looked up case-insensitively."""

    def __init__(self, describes: Describes) -> None:
        self._objects = {name.casefold(): d for name, d in describes.items()}
        self._fields: dict[str, dict[str, Mapping[str, Any]]] = {}
        self._relations: dict[str, dict[str, Mapping[str, Any]]] = {}
        for key, describe in self._objects.items():
            fields = describe.get("fields") or []
            self._fields[key] = {str(f["name"]).casefold(): f for f in fields}
            self._relations[key] = {
                str(f["relationshipName"]).casefold(): f
                for f in fields
                if f.get("relationshipName")
            }

    def has(self, object_name: str) -> bool:
        """Whether the org's describe of `object_name` was given."""
        return object_name.casefold() in self._objects

    def describe(self, object_name: str) -> Mapping[str, Any] | None:
        """The describe JSON of an object, if given."""
        return self._objects.get(object_name.casefold())

    def field(self, object_name: str, name: str) -> Mapping[str, Any] | None:
        """A field's describe, if the object has it."""
        return self._fields.get(object_name.casefold(), {}).get(name.casefold())

    def resolve(self, object_name: str, path: str) -> Resolved:
        """Follow `Account.Industry` through relationship names to the final field."""
        parts = path.split(".")
        current = object_name
        for rel in parts[:-1]:
            if not self.has(current):
                return Resolved(None, f"no describe of {current} to check {path}")
            ref = self._relations[current.casefold()].get(rel.casefold())
            if ref is None:
                return Resolved(None, f"{current} has no relationship {rel!r}")
            if ref["relationshipName"] != rel:
                return Resolved(
                    None, f"write {ref['relationshipName']!r}, as the org spells it, not {rel!r}"
                )
            targets = ref.get("referenceTo") or []
            if not targets:
                return Resolved(None, f"{current}.{rel} refers to no object")
            current = str(targets[0])
        if not self.has(current):
            return Resolved(None, f"no describe of {current} to check {path}")
        found = self.field(current, parts[-1])
        if found is None:
            return Resolved(None, f"{current} has no field {parts[-1]!r}")
        if found["name"] != parts[-1]:
            # Query JSON uses the describe's spelling; another case would read as always null.
            return Resolved(
                None, f"write {found['name']!r}, as the org spells it, not {parts[-1]!r}"
            )
        return Resolved(found)

    def parents_needed(self, object_name: str, path: str) -> str | None:
        """The object whose describe is still missing to check `path`, if any."""
        resolved = self.resolve(object_name, path)
        prefix = "no describe of "
        if resolved.problem and resolved.problem.startswith(prefix):
            return resolved.problem[len(prefix) :].split(" ", 1)[0]
        return None
