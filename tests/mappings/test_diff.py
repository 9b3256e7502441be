"""Path-level differences between two mapping versions."""

from __future__ import annotations

from mappings.defaults import default_mapping
from mappings.diff import Change, diff_documents
from mappings.loader import document_from_data, document_to_data


def test_same_document_has_no_changes() -> None:
    assert diff_documents(default_mapping(), default_mapping()) == []


def test_changes_added_removed_and_changed() -> None:
    data = document_to_data(default_mapping())
    data["deal"]["won"] = {"field": "StageName", "in": ["Closed Won", "Signed"]}
    data["deal"]["fields"]["amount"]["required"] = True
    data["deal"]["fields"]["name"] = {"source": "Name", "required": True}
    data["rep"]["attributes"]["segment"] = "Department"
    del data["writeback"]["earnings_ytd"]
    del data["team_member"]
    changed = document_from_data(data)
    assert [str(c) for c in diff_documents(default_mapping(), changed)] == [
        "+ rep.attributes.segment: {'source': 'Department'}",
        "+ deal.fields.name.required: True",
        "~ deal.fields.amount.required: 'when_won' -> True",
        "~ deal.won.field: 'IsWon' -> 'StageName'",
        "+ deal.won.in: ['Closed Won', 'Signed']",
        "- team_member: {'object': 'OpportunityTeamMember', 'fields': {'deal_id': {'source': "
        "'OpportunityId'}, 'rep_id': {'source': 'UserId'}, 'role': {'source': 'TeamMemberRole'}}}",
        "- writeback.earnings_ytd: 'User.Earnings_To_Date__c'",
    ]
    assert diff_documents(changed, default_mapping())[0] == Change(
        "rep.attributes.segment", "removed", before={"source": "Department"}
    )
