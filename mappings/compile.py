"""Compile a mapping document once into plain functions that map raw Salesforce records,
plus what to pull for each object and where results are written back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from calc.model import Deal, Rep, Split, TeamMember
from mappings import schema as s
from mappings.convert import Raw
from mappings.errors import MappingError
from mappings.record_mapper import RecordMapper
from mappings.records import EMPTY_CONTEXT, MappingContext, RecordIssue
from mappings.registry import RESULTS, TargetName
from mappings.structure import structure_problems

ALWAYS_PULLED = ("Id", "SystemModstamp")
__all__ = ["ALWAYS_PULLED", "CompiledMapping", "RecordMapper", "WritebackField", "compile_mapping"]


@dataclass(frozen=True, slots=True)
class WritebackField:
    """One write-back target: which result goes to which object field."""

    result: str
    target: TargetName
    object_name: str
    field: str


def _unique(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.casefold(), name)
    return tuple(seen.values())


class CompiledMapping:
    """A mapping document as plain functions, plus what to pull and where to write back."""

    def __init__(self, doc: s.MappingDocument) -> None:
        self.document = doc
        self.mappers: dict[TargetName, RecordMapper] = {
            target: RecordMapper(target, mapping) for target, mapping in doc.targets().items()
        }
        self._by_object = {p.object_name.casefold(): p for p in self.mappers.values()}
        self.writeback_targets: tuple[WritebackField, ...] = tuple(
            WritebackField(name, RESULTS[name].target, wb.object, wb.field)
            for name, wb in doc.writeback.items()
        )

    def objects(self) -> tuple[str, ...]:
        """The Salesforce objects this mapping reads, rep and deal first."""
        return tuple(p.object_name for p in self.mappers.values())

    def mapper_for(self, object_name: str) -> RecordMapper:
        """The record mapper of a Salesforce object; KeyError if the mapping does not read it."""
        return self._by_object[object_name.casefold()]

    def fields_to_pull(self, object_name: str) -> tuple[str, ...]:
        """SOQL field list: Id, SystemModstamp, mapped inputs, this object's write-back fields."""
        mapper = self.mapper_for(object_name)
        writeback = [
            w.field
            for w in self.writeback_targets
            if w.object_name.casefold() == object_name.casefold()
        ]
        return _unique([*ALWAYS_PULLED, *sorted(mapper.input_paths), *writeback])

    def input_hash(self, raw: Raw, object_name: str | None = None) -> str:
        """Stable hash of the mapped inputs of `raw` (object from its `attributes` if not given)."""
        if object_name is None:
            attrs = raw.get("attributes")
            object_name = str(attrs.get("type")) if isinstance(attrs, Mapping) else ""
        return self.mapper_for(object_name).input_hash(raw)

    def map_record(self, object_name: str, raw: Raw, ctx: MappingContext = EMPTY_CONTEXT) -> Any:
        """Map a record of any mapped object."""
        return self.mapper_for(object_name).map(raw, ctx)

    def map_rep(self, raw: Raw, ctx: MappingContext = EMPTY_CONTEXT) -> Rep | RecordIssue:
        """A User (or the rep object) to a Rep."""
        result: Rep | RecordIssue = self.mappers["rep"].map(raw, ctx)
        return result

    def map_deal(self, raw: Raw, ctx: MappingContext = EMPTY_CONTEXT) -> Deal | RecordIssue:
        """An Opportunity (or the deal object) to a Deal."""
        result: Deal | RecordIssue = self.mappers["deal"].map(raw, ctx)
        return result

    def map_split(self, raw: Raw, ctx: MappingContext = EMPTY_CONTEXT) -> Split | RecordIssue:
        """An OpportunitySplit to a Split (KeyError if the mapping has no split section)."""
        result: Split | RecordIssue = self.mappers["split"].map(raw, ctx)
        return result

    def map_team_member(
        self, raw: Raw, ctx: MappingContext = EMPTY_CONTEXT
    ) -> TeamMember | RecordIssue:
        """An OpportunityTeamMember to a TeamMember (KeyError if not mapped)."""
        result: TeamMember | RecordIssue = self.mappers["team_member"].map(raw, ctx)
        return result


def compile_mapping(doc: s.MappingDocument) -> CompiledMapping:
    """Compile once; raises MappingError if the document has structural problems."""
    problems = structure_problems(doc)
    if problems:
        raise MappingError(problems)
    return CompiledMapping(doc)
