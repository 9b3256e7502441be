"""Which Salesforce fields a mapping may write back to: the org's write-back allow-list.

Business rules (docs/security-inputs.md): a mapping may target only the fields force-app ships
for write-back, plus custom fields an admin adds to the org's allow-list explicitly. Never a
standard field (Amount, StageName, OwnerId, Description, ...: a sync would overwrite what
people and other systems keep there), never a field a mapping reads (writing it would feed
our own output back in as input), whatever the allow-list says.
"""

from __future__ import annotations

from collections.abc import Collection

from mappings import schema as s
from mappings.api_names import api_name_problem
from mappings.describe import DescribeIndex, Describes
from mappings.errors import Problem
from mappings.structure import source_paths

FieldKey = tuple[str, str]  # (object API name, field API name), spelled as written

# The fields force-app ships for write-back: the ones its Quotaflow_Integration permission
# set may edit (tests/security/test_writeback_allowlist.py keeps the two equal).
SHIPPED_FIELDS: frozenset[FieldKey] = frozenset(
    {
        ("User", "Quota_Attainment__c"),
        ("User", "Earnings_To_Date__c"),
        ("Opportunity", "Estimated_Commission__c"),
        ("Opportunity", "SPIFF_Status__c"),
    }
)


def is_custom_field(field: str) -> bool:
    """Whether `field` names a custom field (`__c`, with or without a namespace prefix)."""
    return field.casefold().endswith("__c")


def fields_read(doc: s.MappingDocument, describes: Describes | None = None) -> set[FieldKey]:
    """(object, field) pairs the document reads, case-folded. A parent path is followed
    through the describes when given; otherwise its field counts as read on every object."""
    index = DescribeIndex(describes or {})
    read: set[FieldKey] = set()
    for mapping in doc.targets().values():
        for path in source_paths(mapping):
            *relations, field = path.split(".")
            if not relations:
                read.add((mapping.object.casefold(), field.casefold()))
                continue
            owner = _path_owner(index, mapping.object, relations)
            read.add((owner.casefold() if owner else "*", field.casefold()))
    return read


def _path_owner(index: DescribeIndex, obj: str, relations: list[str]) -> str | None:
    current = obj
    for rel in relations:
        describe = index.describe(current)
        if describe is None:
            return None
        found = next(
            (
                f
                for f in describe.get("fields") or []
                if str(f.get("relationshipName") or "").casefold() == rel.casefold()
            ),
            None,
        )
        targets = (found or {}).get("referenceTo") or []
        if not targets:
            return None
        current = str(targets[0])
    return current


def is_read(key: FieldKey, read: Collection[FieldKey]) -> bool:
    """Whether a mapping reads (object, field), given `fields_read`'s answer."""
    obj, field = key[0].casefold(), key[1].casefold()
    return (obj, field) in read or ("*", field) in read


def refusal(obj: str, field: str, *, read: Collection[FieldKey] = ()) -> str | None:
    """Why (obj, field) can never be a write-back target, or None if it may be allow-listed."""
    problem = api_name_problem(obj, what="object API name") or api_name_problem(
        field, what="field API name"
    )
    if problem:
        return problem
    if not is_custom_field(field):
        return (
            f"{obj}.{field} is a standard field; Quotaflow never writes standard fields "
            "(only custom fields ending in __c)"
        )
    if is_read((obj, field), read):
        return f"{obj}.{field} is read by the mapping; writing it would feed results back in"
    return None


def allowlist_problems(
    doc: s.MappingDocument,
    allowed: Collection[FieldKey],
    *,
    describes: Describes | None = None,
) -> list[Problem]:
    """Every write-back target of `doc` that is refused or not on the allow-list `allowed`."""
    read = fields_read(doc, describes)
    problems: list[Problem] = []
    for name, wb in doc.writeback.items():
        path = f"writeback.{name}.field"
        reason = refusal(wb.object, wb.field, read=read)
        if reason is None and (wb.object, wb.field) not in allowed:
            reason = (
                f"{wb.object}.{wb.field} is not on the org's write-back allow-list "
                f"({_listed(allowed)}); an admin can add a custom field on the mapping page"
            )
        if reason is not None:
            problems.append(Problem(path, reason))
    return problems


def _listed(allowed: Collection[FieldKey]) -> str:
    return ", ".join(f"{o}.{f}" for o, f in sorted(allowed)) or "empty"


def is_allowed_target(key: FieldKey, allowed: Collection[FieldKey]) -> bool:
    """The run-time check before a write: on the allow-list and not a standard field."""
    return key in allowed and is_custom_field(key[1]) and api_name_problem(key[1]) is None
