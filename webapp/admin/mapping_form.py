"""The mapping editor's form: a document as one row per field mapping, and back.

Input names are the document paths (`deal.fields.amount.source`), so a validation problem at
`deal.fields.amount.source` (or below it) lands beside the input of that name. A source that
starts with `=` is an expression over canonical fields (`=amount * 12 / term_months`);
transforms are written as YAML (`[to_decimal]`, `[{op: round, places: 2}]`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from mappings.errors import Problem
from mappings.loader import document_to_data
from mappings.registry import RESULTS, TARGET_NAMES, TARGETS
from mappings.safe_yaml import YamlError, load_yaml
from mappings.schema import MappingDocument

LABELS = {"rep": "Reps", "deal": "Deals", "split": "Splits", "team_member": "Team members"}
OPTIONAL = ("split", "team_member")
PARTS = ("source", "transforms", "required", "default", "type")
_ATTRIBUTE_KEY = re.compile(r"^(rep|deal)\.attributes\.([^.]+)\.source$")
_MUST_MAP = re.compile(r"^(\w+) must be mapped$")


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...").strip()


@dataclass
class Row:
    """One field mapping: canonical field (or attribute), source or expression, transforms."""

    target: str
    section: str  # fields | attributes
    name: str
    source: str = ""
    transforms: str = ""
    required: str = ""  # "" | "true" | "when_won"
    default: str = ""
    type: str = "string"
    value_type: str = ""
    is_new: bool = False

    @property
    def path(self) -> str:
        """The document path of this row, e.g. `deal.fields.amount`."""
        return f"{self.target}.new" if self.is_new else f"{self.target}.{self.section}.{self.name}"

    def key(self, part: str) -> str:
        """The form input name of one part of the row."""
        return f"{self.path}.{part}"

    def is_set(self) -> bool:
        """Whether the row maps anything (an empty row leaves the field unmapped)."""
        return bool(self.source or self.transforms or self.default or self.required)

    @classmethod
    def from_spec(cls, target: str, section: str, name: str, spec: Any) -> Row:
        """A row from the compact document form (`Name` or `{source: ..., transforms: ...}`)."""
        spec = {"source": spec} if isinstance(spec, str) else dict(spec)
        source = spec.get("source") or ("=" + spec["expr"] if spec.get("expr") else "")
        required = spec.get("required", False)
        return cls(
            target,
            section,
            name,
            source=source,
            transforms=_flow(spec["transforms"]) if spec.get("transforms") else "",
            required="true" if required is True else (required or ""),
            default=_flow(spec["default"]) if spec.get("default") is not None else "",
            type=spec.get("type", "string"),
        )


@dataclass
class Section:
    """One target (rep, deal, split, team member): its object, rows and (deals) won rule."""

    target: str
    object: str
    rows: list[Row]
    won_field: str = ""
    won_in: str = ""

    @property
    def label(self) -> str:
        """The heading of the section."""
        return LABELS[self.target]

    @property
    def allows_attributes(self) -> bool:
        """Whether custom attributes can be added."""
        return TARGETS[self.target].allows_attributes  # type: ignore[index]


@dataclass
class Editor:
    """The whole form."""

    name: str
    description: str
    sections: list[Section]
    writeback: list[tuple[str, str, str]] = field(default_factory=list)  # result, value, help

    @classmethod
    def from_document(cls, doc: MappingDocument) -> Editor:
        """The form showing `doc`."""
        data = document_to_data(doc)
        sections = []
        for target in TARGET_NAMES:
            part = data.get(target) or {}
            rows = _field_rows(target, part.get("fields", {}))
            for name, spec in part.get("attributes", {}).items():
                rows.append(Row.from_spec(target, "attributes", name, spec))
            won = part.get("won") or {}
            sections.append(
                Section(
                    target,
                    part.get("object", ""),
                    rows,
                    won_field=won.get("field", ""),
                    won_in=", ".join(won.get("in") or ()),
                )
            )
            _add_new_row(sections[-1])
        wb = data.get("writeback", {})
        writeback = [(n, wb.get(n, ""), r.description) for n, r in RESULTS.items()]
        return cls(data.get("name", ""), data.get("description", ""), sections, writeback)

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Editor:
        """The form as submitted."""
        sections = []
        for target in TARGET_NAMES:
            rows = [_row_from_form(form, r) for r in _field_rows(target, {})]
            for key in form:
                match = _ATTRIBUTE_KEY.match(key)
                if match and match.group(1) == target:
                    rows.append(_row_from_form(form, Row(target, "attributes", match.group(2))))
            section = Section(
                target,
                form.get(f"{target}.object", "").strip(),
                rows,
                won_field=form.get(f"{target}.won.field", "").strip(),
                won_in=form.get(f"{target}.won.in", "").strip(),
            )
            _add_new_row(section, form)
            sections.append(section)
        writeback = [
            (n, form.get(f"writeback.{n}", "").strip(), r.description) for n, r in RESULTS.items()
        ]
        return cls(form.get("name", "").strip(), form.get("description", ""), sections, writeback)

    def to_data(self) -> tuple[dict[str, Any], list[Problem]]:
        """The document data the form describes, and problems of the form itself."""
        data: dict[str, Any] = {"format": 1, "name": self.name, "description": self.description}
        problems: list[Problem] = []
        for section in self.sections:
            part = _section_data(section, problems)
            if part is not None:
                data[section.target] = part
        data["writeback"] = {n: v for n, v, _ in self.writeback if v}
        return data, problems

    def place(self, problems: Iterable[Problem]) -> tuple[dict[str, list[str]], list[Problem]]:
        """Problems by the input they belong beside, and those that belong to no input."""
        aliases = self._aliases()
        placed: dict[str, list[str]] = {}
        unplaced: list[Problem] = []
        for problem in problems:
            key = _input_for(problem, aliases)
            if key is None:
                unplaced.append(problem)
            else:
                placed.setdefault(key, []).append(problem.message)
        return placed, unplaced

    def _aliases(self) -> dict[str, str]:
        found = {"name": "name", "description": "description"}
        for section in self.sections:
            t = section.target
            found[f"{t}.object"] = f"{t}.object"
            found[f"{t}.won"] = found[f"{t}.won.field"] = f"{t}.won.field"
            found[f"{t}.won.in"] = f"{t}.won.in"
            for row in section.rows:
                main = row.key("name") if row.is_new else row.key("source")
                doc_path = f"{t}.{row.section}.{row.name}" if row.is_new else row.path
                found[doc_path] = found[f"{doc_path}.source"] = main
                found[f"{doc_path}.expr"] = row.key("source")
                for part in PARTS[1:]:
                    found[f"{doc_path}.{part}"] = row.key(part)
                for part in (*PARTS, "name"):
                    found.setdefault(row.key(part), row.key(part))
        for name in RESULTS:
            found[f"writeback.{name}"] = f"writeback.{name}"
        return found


def _field_rows(target: str, specs: Mapping[str, Any]) -> list[Row]:
    rows = []
    for name, canonical in TARGETS[target].fields.items():  # type: ignore[index]
        if target == "deal" and name == "is_won":
            continue  # from the won rule
        row = Row.from_spec(target, "fields", name, specs[name]) if name in specs else None
        row = row or Row(target, "fields", name)
        row.value_type = canonical.type
        rows.append(row)
    return rows


def _add_new_row(section: Section, form: Mapping[str, str] | None = None) -> None:
    if not section.allows_attributes:
        return
    row = Row(section.target, "attributes", "", is_new=True)
    if form is not None:
        row = _row_from_form(form, row)
        row.name = form.get(row.key("name"), "").strip()
    section.rows.append(row)


def _row_from_form(form: Mapping[str, str], row: Row) -> Row:
    row.source = form.get(row.key("source"), "").strip()
    row.transforms = form.get(row.key("transforms"), "").strip()
    row.required = form.get(row.key("required"), "").strip()
    row.default = form.get(row.key("default"), "").strip()
    row.type = form.get(row.key("type"), "string").strip() or "string"
    return row


def _section_data(section: Section, problems: list[Problem]) -> dict[str, Any] | None:
    t = section.target
    if not section.object and t in OPTIONAL:
        return None  # an optional object left out
    if not section.object:
        problems.append(Problem(f"{t}.object", "give the Salesforce object (e.g. User)"))
    part: dict[str, Any] = {"object": section.object, "fields": {}}
    for row in section.rows:
        if not row.is_set():
            continue
        if row.is_new and not row.name:
            problems.append(Problem(row.key("name"), "give the new attribute a name"))
            continue
        part.setdefault(row.section, {})[row.name] = _spec(row, problems)
    if t == "deal":
        won: dict[str, Any] = {"field": section.won_field}
        if section.won_in:
            won["in"] = [v.strip() for v in section.won_in.split(",") if v.strip()]
        part["won"] = won
    return part


def _spec(row: Row, problems: list[Problem]) -> dict[str, Any]:
    path = f"{row.target}.{row.section}.{row.name}"
    spec: dict[str, Any] = {}
    if row.source.startswith("="):
        spec["expr"] = row.source[1:].strip()
    elif row.source:
        spec["source"] = row.source
    if row.transforms:
        transforms = _yaml(row.transforms, f"{path}.transforms", problems)
        spec["transforms"] = transforms if isinstance(transforms, list) else [transforms]
    if row.required:
        spec["required"] = True if row.required == "true" else row.required
    if row.default:
        spec["default"] = _yaml(row.default, f"{path}.default", problems)
    if row.section == "attributes":
        spec["type"] = row.type
    return spec


def _yaml(text: str, path: str, problems: list[Problem]) -> Any:
    try:
        return load_yaml(text)
    except YamlError as exc:
        message = f"not valid YAML: {exc.problem}" if exc.syntax else exc.problem
        problems.append(Problem(path, message))
        return None


def _input_for(problem: Problem, aliases: Mapping[str, str]) -> str | None:
    path = problem.path
    must = _MUST_MAP.match(problem.message)
    if must and path.endswith(".fields"):
        path = f"{path}.{must.group(1)}"
    while path:
        if path in aliases:
            return aliases[path]
        path = path.rpartition(".")[0]
    return None
