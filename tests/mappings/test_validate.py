"""Validation against the org's describes: every problem, with its path, all at once."""

from __future__ import annotations

from typing import Any

import pytest

from mappings.defaults import default_mapping
from mappings.errors import MappingError
from mappings.loader import document_to_data
from mappings.schema import MappingDocument
from mappings.validate import check_against_describe, describes_needed, validate_against_describe

from .conftest import field_of

Describes = dict[str, dict[str, Any]]


def messages(doc: MappingDocument, describes: Describes) -> list[str]:
    return [str(p) for p in validate_against_describe(doc, describes)]


def edited(changes: dict[str, Any]) -> MappingDocument:
    """The default mapping with some paths replaced (schema-checked only, like a web form)."""
    data = document_to_data(default_mapping())
    for path, value in changes.items():
        node = data
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    return MappingDocument.model_validate(data)


def test_default_mapping_fits_the_devorg(describes: Describes) -> None:
    assert validate_against_describe(default_mapping(), describes) == []
    check_against_describe(default_mapping(), describes)  # does not raise


def test_every_problem_is_reported_together(describes: Describes) -> None:
    opp, user = describes["Opportunity"], describes["User"]
    opp["fields"] = [f for f in opp["fields"] if f["name"] != "Term_Months__c"]
    field_of(opp, "SPIFF_Status__c")["picklistValues"].pop()  # "Paid" is missing
    field_of(opp, "Estimated_Commission__c")["scale"] = 0
    field_of(user, "Earnings_To_Date__c")["updateable"] = False
    doc = edited(
        {
            "rep.fields.hire_date": {"source": "Quota__c", "transforms": ["to_date"]},
            "rep.fields.quota": {"source": "Hire_Date__c"},
            "rep.fields.email": "email",
            "rep.attributes.region": {"source": "Manager.Regoin__c"},
            "deal.won": {"field": "StageName", "in": ["Closed Won", "Signed"]},
            "deal.fields.is_closed": {"source": "IsClosed", "transforms": ["to_decimal"]},
            "deal.fields.tcv": {"expr": "acv * term_months / 12"},
            "deal.fields.acv": {"expr": "tcv * 12 / term_months"},
            "deal.fields.product_family": {
                "source": "Account.Industry",
                "transforms": [{"op": "coalesce", "sources": ["Family__c"]}],
            },
            "team_member.object": "OpportunityTeam",
        }
    )  # fmt: skip
    found = messages(doc, describes)
    expected = [
        "deal.fields.acv: derived fields refer to each other in a cycle: acv -> tcv -> acv",
        "rep.fields.email.source: write 'Email', as the org spells it, not 'email'",
        "rep.fields.hire_date.transforms.0: to_date cannot take a currency field (Quota__c)",
        "rep.fields.quota: a date value cannot fill a decimal field; add a transform",
        "rep.attributes.region.source: User has no field 'Regoin__c'",
        "deal.fields.is_closed.transforms.0: to_decimal cannot take a boolean field (IsClosed)",
        "deal.fields.term_months.source: Opportunity has no field 'Term_Months__c'",
        "deal.fields.product_family.transforms.0.sources.0: Opportunity has no field 'Family__c'",
        "deal.won.in.1: 'Signed' is not a value of the picklist StageName",
        "team_member.object: the org has no object 'OpportunityTeam' (no describe)",
        "writeback.earnings_ytd.field: Earnings_To_Date__c is not updateable",
        "writeback.deal_commission.field: Estimated_Commission__c keeps 0 decimals; "
        "deal_commission needs 2",
        "writeback.spiff_status.field: SPIFF_Status__c lacks picklist values: Paid",
    ]
    assert sorted(found) == sorted(expected), found


def test_parent_paths_resolve_through_relationships(describes: Describes) -> None:
    doc = edited(
        {"deal.attributes": {"industry": "Account.Industry", "owner_region": "Owner.Region__c",
                             "manager_email": "Owner.Manager.Email", "bad": "Acount.Industry"}}
    )  # fmt: skip
    assert messages(doc, describes) == [
        "deal.attributes.bad.source: Opportunity has no relationship 'Acount'"
    ]
    del describes["Account"]
    assert "deal.attributes.industry.source: no describe of Account to check Account.Industry" in (
        messages(doc, describes)
    )
    assert describes_needed(doc, describes) == {"Account"}


def test_won_rule_shape(describes: Describes) -> None:
    assert messages(edited({"deal.won": {"field": "StageName"}}), describes) == [
        "deal.won: StageName is a picklist; list the won values with `in`"
    ]
    assert messages(edited({"deal.won": {"field": "IsWon", "in": ["true"]}}), describes) == [
        "deal.won.in: IsWon is a checkbox; drop `in`"
    ]
    ok = edited({"deal.won": {"field": "StageName", "in": ["closed won"]}})  # case-insensitive
    assert messages(ok, describes) == []


def test_picklist_map_keys_must_exist(describes: Describes) -> None:
    doc = edited(
        {"deal.fields.type": {"source": "Type",
                              "transforms": [{"op": "picklist", "map": {"Renewal": "renewal",
                                                                        "Expansion": "upsell"}}]}}
    )  # fmt: skip
    assert messages(doc, describes) == [
        "deal.fields.type.transforms.0.map.Expansion: "
        "'Expansion' is not a value of the picklist Type"
    ]


@pytest.mark.parametrize(
    ("result", "target", "expected"),
    [
        ("deal_commission", "Opportunity.Name",
         "Name is a string field; deal_commission needs a number field"),
        ("spiff_status", "Opportunity.Amount",
         "Amount is a currency field; spiff_status needs a picklist or text"),
        ("attainment_pct", "User.Name", "Name is not updateable"),
        ("deal_commission", "Opportunity.IsWon", "IsWon is not updateable"),
        ("deal_commission", "Opportunity.Commission__c",
         "Opportunity has no field 'Commission__c'"),
        ("deal_commission", "Opportunity.Amount",
         "Amount is also a mapped input; writing it would loop"),
        ("spiff_status", "Opportunity.Description", None),  # fits; the allow-list refuses it
    ],
)  # fmt: skip
def test_writeback_targets(
    describes: Describes, result: str, target: str, expected: str | None
) -> None:
    found = messages(edited({f"writeback.{result}": target}), describes)
    path = f"writeback.{result}.field: "
    if expected is None:
        assert [m for m in found if m.startswith(path)] == []
    else:
        assert path + expected in found


def test_clear_error_when_the_org_lacks_a_field(describes: Describes) -> None:
    user = describes["User"]
    user["fields"] = [f for f in user["fields"] if f["name"] != "Comp_Plan__c"]
    with pytest.raises(MappingError) as caught:
        check_against_describe(default_mapping(), describes)
    text = str(caught.value)
    assert text.startswith("mapping 'standard-org' does not fit the org: ")
    assert "rep.fields.plan_id.source: User has no field 'Comp_Plan__c'" in text


def test_describes_needed_walks_parents(describes: Describes) -> None:
    doc = default_mapping()
    assert describes_needed(doc, {}) == {
        "User",
        "Opportunity",
        "OpportunitySplit",
        "OpportunityTeamMember",
    }
    partial = {
        k: describes[k]
        for k in ("User", "Opportunity", "OpportunitySplit", "OpportunityTeamMember")
    }
    assert describes_needed(doc, partial) == {"OpportunitySplitType"}
    assert describes_needed(doc, describes) == set()
