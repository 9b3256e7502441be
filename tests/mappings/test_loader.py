"""Loading and writing mapping documents: unknown keys refused, every error with its path."""

from __future__ import annotations

import pytest

from mappings.defaults import default_mapping, default_mapping_text
from mappings.errors import MappingError
from mappings.loader import dump_mapping, load_mapping

MINIMAL = """
rep: {object: User, fields: {id: Id}}
deal: {object: Opportunity, won: {field: IsWon}, fields: {id: Id}}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(MappingError) as caught:
        load_mapping(text, source="m.yaml")
    assert str(caught.value).startswith("m.yaml: ")
    return [str(p) for p in caught.value.problems]


def test_minimal_document_loads_with_shorthands() -> None:
    doc = load_mapping(MINIMAL)
    assert doc.rep.fields["id"].source == "Id"
    assert doc.split is None and doc.writeback == {}


def test_json_is_accepted() -> None:
    doc = load_mapping(
        '{"rep": {"object": "User", "fields": {"id": "Id"}},'
        ' "deal": {"object": "Opportunity", "won": {"field": "StageName", "in": ["Signed"]},'
        ' "fields": {"id": "Id"}}}'
    )
    assert doc.deal.won.in_ == ["Signed"]


def test_unknown_keys_and_bad_values_are_all_reported_with_paths() -> None:
    text = """
rep:
  object: User
  colour: blue
  fields:
    id: Id
    quota: {source: Quota__c, transforms: [to_decmal]}
    plan_id: {source: "Comp Plan"}
deal:
  object: Opportunity
  won: {field: IsWon}
  fields:
    id: Id
    acv: {source: Amount, transforms: [{op: arith, operator: "*"}]}
    amount: {source: Amount, required: sometimes}
writeback:
  spiff_status: {object: Opportunity}
"""
    found = problems_of(text)
    assert "rep.colour: Extra inputs are not permitted" in found
    assert any(p.startswith("rep.fields.quota.transforms.0: Input tag 'to_decmal'") for p in found)
    assert any(p.startswith("rep.fields.plan_id.source: ") and "'Comp Plan'" in p for p in found)
    assert "deal.fields.acv.transforms.1: " not in found
    assert any(p.startswith("deal.fields.acv.transforms.0: give exactly one of") for p in found)
    assert any(p.startswith("deal.fields.amount.required") for p in found)
    assert "writeback.spiff_status.field: Field required" in found
    assert len(found) >= 7


def test_structural_problems_reported_together() -> None:
    text = """
rep:
  object: User
  fields: {email: {source: Email, required: when_won}, quotas: Quota__c}
  attributes: {Region: Region__c, name: Name}
deal:
  object: Opportunity
  won: {field: IsWon}
  fields:
    id: Id
    is_won: IsWon
    acv: {expr: amount * 12 / term}
    tcv: {expr: "amount *"}
    quantity: {expr: stage * 2}
    close_date:
      source: CloseDate
      default: someday
      transforms: [{op: to_date, timezone: Mars/Base}]
writeback:
  bonus_paid: User.Bonus__c
  attainment_pct: Opportunity.Quota_Attainment__c
"""
    found = problems_of(text)
    expected = [
        "rep.fields.quotas: unknown canonical field",
        "rep.fields: id must be mapped",
        "rep.fields.email.required: when_won applies to deal fields only",
        "rep.attributes.Region: attribute names are lower_case",
        "rep.attributes.name: name is a canonical field",
        "deal.fields.is_won: is_won comes from the `won` rule",
        "deal.fields.acv.expr: term is not a canonical field or attribute",
        "deal.fields.tcv.expr: cannot parse",
        "deal.fields.quantity.expr: stage is a string, arithmetic needs a decimal",
        "deal.fields.close_date.transforms.0.timezone: unknown time zone 'Mars/Base'",
        "deal.fields.close_date.default: not a date",
        "writeback.bonus_paid: unknown result",
        "writeback.attainment_pct.object: attainment_pct belongs on the rep object User",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in found), (start, found)
    assert len(found) == len(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rep: [1, 2", "line "),
        ("- just a list", "a mapping document is a mapping"),
        ("", "a mapping document is a mapping"),
        ("deal: {}", "rep: Field required"),
    ],
)
def test_unreadable_documents(text: str, expected: str) -> None:
    assert any(expected in p for p in problems_of(text))


def test_expressions_only_allow_arithmetic() -> None:
    text = MINIMAL.replace("IsWon}, fields: {id: Id}}", "IsWon}, fields: {id: Id, acv: {expr: X}}}")
    text = text.replace("expr: X", "expr: \"__import__('os')\"")
    found = problems_of(text)
    assert found == [
        "deal.fields.acv.expr: only numbers, field names, + - * / and parentheses are allowed, "
        "not \"__import__('os')\""
    ]


def test_export_then_import_gives_the_same_document() -> None:
    doc = default_mapping()
    for fmt in ("yaml", "json"):
        text = dump_mapping(doc, fmt=fmt)
        assert load_mapping(text) == doc
        assert dump_mapping(load_mapping(text), fmt=fmt) == text


def test_export_keeps_scalars_exact() -> None:
    text = MINIMAL.replace(
        "won: {field: IsWon}, fields: {id: Id}}\n",
        "won: {field: IsWon}, "
        "fields: {id: Id, quantity: {source: Q__c, default: 0.1}, "
        "cancel_date: {source: C__c, default: 2026-01-31}, "
        "type: {transforms: [{op: constant, value: '2026-01-31'}]}}}\n",
    )
    doc = load_mapping(text)
    for fmt in ("yaml", "json"):
        again = load_mapping(dump_mapping(doc, fmt=fmt))
        assert again == doc
        assert again.deal.fields["quantity"].default == doc.deal.fields["quantity"].default


def test_shipped_default_mapping_loads() -> None:
    assert "won: {field: IsWon}" in default_mapping_text()
    doc = default_mapping()
    assert doc.deal.fields["amount"].required == "when_won"
    assert set(doc.writeback) == {
        "attainment_pct",
        "earnings_ytd",
        "deal_commission",
        "spiff_status",
    }


def test_split_type_map_must_give_revenue_or_overlay() -> None:
    text = (
        MINIMAL
        + """
split:
  object: OpportunitySplit
  fields:
    deal_id: OpportunityId
    rep_id: SplitOwnerId
    percent: SplitPercentage
    split_type:
      source: SplitType.DeveloperName
      transforms: [{op: picklist, map: {Revenue: revenue, Overlay: Overlay}, default: other}]
"""
    )
    where = "split.fields.split_type.transforms.0: "
    assert problems_of(text) == [
        where + "Overlay -> 'Overlay': must be one of revenue, overlay",
        where + "default -> 'other': must be one of revenue, overlay",
    ]
