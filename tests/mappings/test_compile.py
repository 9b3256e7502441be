"""Mapping raw query JSON to canonical records with the default mapping and variants of it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from calc.model import Deal, Rep, Split, TeamMember
from mappings.compile import CompiledMapping, compile_mapping
from mappings.defaults import default_mapping
from mappings.errors import MappingError
from mappings.loader import document_from_data, document_to_data
from mappings.records import MappingContext, RecordIssue
from mappings.schema import MappingDocument


def opportunity(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "attributes": {
            "type": "Opportunity",
            "url": "/services/data/v62.0/sobjects/Opportunity/006A",
        },
        "Id": "006000000000001AAA",
        "SystemModstamp": "2026-03-31T17:04:05.000+0000",
        "Name": "Acme renewal",
        "OwnerId": "005000000000001AAA",
        "Amount": 120000.0,
        "CloseDate": "2026-03-31",
        "StageName": "Closed Won",
        "IsWon": True,
        "IsClosed": True,
        "Type": "Renewal",
        "Product_Family__c": "Analytics",
        "TotalOpportunityQuantity": 10.0,
        "Term_Months__c": 24.0,
        "Cancel_Date__c": None,
        "CurrencyIsoCode": "USD",
        "Estimated_Commission__c": None,
        "SPIFF_Status__c": None,
    }
    raw.update(changes)
    return raw


def user(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "attributes": {"type": "User", "url": "/services/data/v62.0/sobjects/User/005A"},
        "Id": "005000000000001AAA",
        "Name": "Ada Lovelace",
        "Email": "ada@example.com",
        "ManagerId": "005000000000002AAA",
        "IsActive": True,
        "Hire_Date__c": "2026-02-15",
        "End_Date__c": None,
        "Comp_Plan__c": "ae",
        "Quota__c": 250000.0,
        "Target_Incentive__c": 25000.0,
        "CurrencyIsoCode": "usd",
        "Region__c": "EMEA",
        "Quota_Attainment__c": 48.0,
    }
    raw.update(changes)
    return raw


def test_maps_a_won_opportunity(compiled: CompiledMapping) -> None:
    deal = compiled.map_deal(opportunity())
    assert deal == Deal(
        id="006000000000001AAA", name="Acme renewal", owner_id="005000000000001AAA",
        amount=Decimal("120000.0"), close_date=date(2026, 3, 31), is_won=True, is_closed=True,
        stage="Closed Won", type="Renewal", product_family="Analytics", quantity=Decimal(10),
        acv=Decimal("60000.00"), tcv=Decimal("120000.0"), term_months=Decimal(24),
        cancel_date=None, currency="USD",
    )  # fmt: skip


def test_maps_a_user_with_attributes(compiled: CompiledMapping) -> None:
    rep = compiled.map_rep(user())
    assert isinstance(rep, Rep)
    assert (rep.id, rep.name, rep.manager_id, rep.plan_id) == (
        "005000000000001AAA", "Ada Lovelace", "005000000000002AAA", "ae",
    )  # fmt: skip
    assert (rep.hire_date, rep.end_date, rep.quota, rep.target_incentive) == (
        date(2026, 2, 15), None, Decimal("250000.0"), Decimal("25000.0"),
    )  # fmt: skip
    assert rep.currency == "USD"
    assert rep.attributes == {"region": "EMEA"}


def test_maps_splits_and_team_members(compiled: CompiledMapping) -> None:
    split = compiled.map_split(
        {"Id": "04g1", "OpportunityId": "006A", "SplitOwnerId": "005B", "SplitPercentage": 50.0,
         "SplitType": {"attributes": {"type": "OpportunitySplitType"}, "DeveloperName": "Overlay"}}
    )  # fmt: skip
    assert split == Split(
        deal_id="006A", rep_id="005B", percent=Decimal("50.0"), split_type="overlay"
    )
    member = compiled.map_team_member(
        {
            "Id": "00q1",
            "OpportunityId": "006A",
            "UserId": "005C",
            "TeamMemberRole": "Sales Engineer",
        }
    )
    assert member == TeamMember(deal_id="006A", rep_id="005C", role="Sales Engineer")


def test_unknown_split_type_is_an_issue(compiled: CompiledMapping) -> None:
    issue = compiled.map_split(
        {"Id": "04g2", "OpportunityId": "006A", "SplitOwnerId": "005B", "SplitPercentage": 50.0,
         "SplitType": {"DeveloperName": "Custom_Split"}}
    )  # fmt: skip
    assert isinstance(issue, RecordIssue)
    assert (issue.object_name, issue.record_id, issue.field) == (
        "OpportunitySplit",
        "04g2",
        "split_type",
    )
    assert "'Custom_Split' is not one of Revenue, Overlay" in issue.reason


def test_null_amount_on_open_deal_is_zero(compiled: CompiledMapping) -> None:
    deal = compiled.map_deal(
        opportunity(Amount=None, IsWon=False, IsClosed=False, StageName="Prospecting")
    )
    assert isinstance(deal, Deal)
    assert deal.amount == Decimal(0)


def test_null_amount_on_won_deal_is_an_issue(compiled: CompiledMapping) -> None:
    issue = compiled.map_deal(opportunity(Amount=None))
    assert issue == RecordIssue(
        object_name="Opportunity", record_id="006000000000001AAA", field="amount",
        reason="amount (Amount) is required on a won deal but is null",
        code="REQUIRED_VALUE_MISSING",
    )  # fmt: skip


def test_missing_term_leaves_acv_null(compiled: CompiledMapping) -> None:
    deal = compiled.map_deal(opportunity(Term_Months__c=None))
    assert isinstance(deal, Deal)
    assert deal.acv is None and deal.tcv == Decimal("120000.0")


def test_every_bad_field_is_reported_never_raised(compiled: CompiledMapping) -> None:
    issue = compiled.map_deal(opportunity(CloseDate="31/03/2026", OwnerId=None, Term_Months__c=0))
    assert isinstance(issue, RecordIssue)
    assert issue.field == "owner_id"
    assert "owner_id (OwnerId) is required but is null" in issue.reason
    assert "close_date (CloseDate): '31/03/2026' is not a date" in issue.reason
    assert "division by zero" in issue.reason


@pytest.mark.parametrize(
    "raw",
    [{}, {"Id": None}, {"Id": 5, "OwnerId": ["x"]}, {"Id": "006X", "Amount": {"a": 1}}],
)
def test_garbage_records_become_issues(compiled: CompiledMapping, raw: dict[str, Any]) -> None:
    assert isinstance(compiled.map_deal(raw), RecordIssue)


def _doc_with(changes: dict[str, Any]) -> dict[str, Any]:
    data = document_to_data(default_mapping())
    for path, value in changes.items():
        node = data
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    return data


def test_won_rule_from_stage_list_in_any_case() -> None:
    data = _doc_with({"deal.won": {"field": "StageName", "in": ["Closed Won", "Signed"]}})
    mapping = compile_mapping(document_from_data(data))
    assert mapping.map_deal(opportunity(StageName="SIGNED", IsWon=False)).is_won is True  # type: ignore[union-attr]
    assert mapping.map_deal(opportunity(StageName="Prospecting", IsWon=True)).is_won is False  # type: ignore[union-attr]
    assert "StageName" in mapping.fields_to_pull("Opportunity")


def test_amount_converted_with_org_rates() -> None:
    data = _doc_with(
        {
            "deal.fields.amount": {
                "source": "Amount",
                "transforms": ["to_decimal", {"op": "convert_currency"}],
            }
        }
    )
    mapping = compile_mapping(document_from_data(data))
    ctx = MappingContext.from_currency_types(
        [{"IsoCode": "USD", "ConversionRate": 1, "IsCorporate": True},
         {"IsoCode": "EUR", "ConversionRate": 0.8}]
    )  # fmt: skip
    deal = mapping.map_deal(opportunity(Amount=80000.0, CurrencyIsoCode="EUR"), ctx)
    assert isinstance(deal, Deal)
    assert deal.amount == Decimal(100000)
    assert deal.acv == Decimal("50000.00")  # derived from the converted amount
    issue = mapping.map_deal(opportunity(CurrencyIsoCode="CHF"), ctx)
    assert isinstance(issue, RecordIssue) and "no conversion rate for currency CHF" in issue.reason


def test_text_amount_with_thousands_separator() -> None:
    data = _doc_with(
        {"deal.fields.amount": {"source": "Amount_Text__c", "transforms": ["to_decimal"]}}
    )
    mapping = compile_mapping(document_from_data(data))
    deal = mapping.map_deal(opportunity(Amount_Text__c="1,250,000.00"))
    assert isinstance(deal, Deal) and deal.amount == Decimal("1250000.00")


def test_fields_to_pull(compiled: CompiledMapping) -> None:
    assert compiled.fields_to_pull("OpportunitySplit") == (
        "Id", "SystemModstamp", "OpportunityId", "SplitOwnerId", "SplitPercentage",
        "SplitType.DeveloperName",
    )  # fmt: skip
    opp = compiled.fields_to_pull("opportunity")  # object names are case-insensitive
    assert opp[:2] == ("Id", "SystemModstamp")
    assert {
        "Amount",
        "IsWon",
        "Term_Months__c",
        "Estimated_Commission__c",
        "SPIFF_Status__c",
    } <= set(opp)
    assert "Description" not in opp  # only what the mapping needs crosses the wire
    assert len(opp) == len({f.lower() for f in opp})


def test_writeback_targets(compiled: CompiledMapping) -> None:
    assert [(w.result, w.object_name, w.field) for w in compiled.writeback_targets] == [
        ("attainment_pct", "User", "Quota_Attainment__c"),
        ("earnings_ytd", "User", "Earnings_To_Date__c"),
        ("deal_commission", "Opportunity", "Estimated_Commission__c"),
        ("spiff_status", "Opportunity", "SPIFF_Status__c"),
    ]


def test_input_hash_ignores_our_own_writeback(compiled: CompiledMapping) -> None:
    before = opportunity()
    echo = opportunity(
        Estimated_Commission__c=4800.0, SPIFF_Status__c="Eligible",
        SystemModstamp="2026-04-01T09:00:00.000+0000",
    )  # fmt: skip
    assert compiled.input_hash(echo) == compiled.input_hash(before)
    assert compiled.input_hash(opportunity(Amount=120000.01)) != compiled.input_hash(before)
    assert compiled.input_hash(user(), "User") == compiled.input_hash(
        user(Quota_Attainment__c=99.0), "User"
    )
    assert len(compiled.input_hash(before)) == 64


def test_compile_refuses_a_cycle() -> None:
    data = _doc_with(
        {"deal.fields.tcv": {"expr": "acv * term_months / 12"},
         "deal.fields.acv": {"expr": "tcv * 12 / term_months"}}
    )  # fmt: skip
    doc = MappingDocument.model_validate(data)  # schema only: the loader would refuse it
    with pytest.raises(MappingError, match="cycle: acv -> tcv -> acv"):
        compile_mapping(doc)
    with pytest.raises(MappingError, match="cycle"):
        document_from_data(data)


def test_expressions_can_use_custom_attributes() -> None:
    data = _doc_with(
        {"deal.attributes": {"list_price": {"source": "List_Price__c", "type": "decimal"},
                             "segment": "Account.Type"},
         "deal.fields.acv": {"expr": "list_price * 12 / term_months"}}
    )  # fmt: skip
    mapping = compile_mapping(document_from_data(data))
    deal = mapping.map_deal(opportunity(List_Price__c="48,000", Account={"Type": "Customer"}))
    assert isinstance(deal, Deal)
    assert deal.acv == Decimal(24000)
    assert deal.attributes == {"list_price": Decimal(48000), "segment": "Customer"}
    assert "Account.Type" in mapping.fields_to_pull("Opportunity")
