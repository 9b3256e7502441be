"""Read and write mapping documents (YAML or JSON), with every error prefixed by its path."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from mappings.errors import MappingError, Problem
from mappings.safe_yaml import YamlError, load_yaml
from mappings.schema import MappingDocument
from mappings.structure import structure_problems

Format = Literal["yaml", "json"]


def parse_text(text: str, *, source: str = "") -> Any:
    """YAML or JSON text (JSON is YAML) to plain data; MappingError if unreadable."""
    try:
        return load_yaml(text)
    except YamlError as exc:
        where = f"line {exc.line}" if exc.line else ""
        message = f"not valid YAML/JSON: {exc.problem}" if exc.syntax else exc.problem
        raise MappingError([Problem(where, message)], source=source) from None


def load_mapping(text: str, *, source: str = "") -> MappingDocument:
    """Parse and check a mapping document; MappingError lists every problem with its path."""
    return document_from_data(parse_text(text, source=source), source=source)


def document_from_data(data: Any, *, source: str = "") -> MappingDocument:
    """Validate already-parsed data as a mapping document (schema, then structure)."""
    if not isinstance(data, dict):
        raise MappingError(
            [Problem("", "a mapping document is a mapping (YAML keys)")], source=source
        )
    try:
        doc = MappingDocument.model_validate(data)
    except ValidationError as exc:
        raise MappingError(_pydantic_problems(exc), source=source) from None
    problems = structure_problems(doc)
    if problems:
        raise MappingError(problems, source=source)
    return doc


def _pydantic_problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        # Discriminated unions add the tag (`...transforms.0.to_decimal.thousands`); drop it.
        loc = [p for i, p in enumerate(loc) if not (i >= 2 and loc[i - 2] == "transforms")]
        message = error["msg"].removeprefix("Value error, ")
        problems.append(Problem(".".join(loc), message))
    return problems


def document_to_data(doc: MappingDocument) -> dict[str, Any]:
    """Plain data in the compact form people write (shorthands where nothing else is set)."""
    data: dict[str, Any] = {"format": doc.format}
    data.update(doc.model_dump(mode="python", by_alias=True, exclude_defaults=True))
    for target in ("rep", "deal", "split", "team_member"):
        section = data.get(target)
        if not section:
            continue
        for group in ("fields", "attributes"):
            for name, spec in section.get(group, {}).items():
                section[group][name] = _compact_spec(spec)
    for name, wb in data.get("writeback", {}).items():
        data["writeback"][name] = f"{wb['object']}.{wb['field']}"
    plain: dict[str, Any] = _plain(data)
    return plain


def _compact_spec(spec: dict[str, Any]) -> Any:
    transforms = spec.get("transforms")
    if transforms:
        spec["transforms"] = [t["op"] if list(t) == ["op"] else t for t in transforms]
    if list(spec) == ["source"]:
        return spec["source"]
    return spec


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0 and abs(value) < 10**15:
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    return value


def dump_mapping(doc: MappingDocument, *, fmt: Format = "yaml") -> str:
    """The document as YAML (default) or JSON text; loading it back gives an equal document."""
    data = document_to_data(doc)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n"
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
