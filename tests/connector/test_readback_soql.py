"""The write-back journal's read-back query: ids must be Salesforce ids, names identifiers."""

from __future__ import annotations

import pytest

from connector.salesforce.soql import fields_by_ids_query


def test_the_query_names_the_fields_and_quotes_the_ids() -> None:
    soql = fields_by_ids_query(
        "Opportunity", ["Estimated_Commission__c", "Id"], ["0065g0000000001AAA", "0065g0000000002"]
    )
    assert soql == (
        "SELECT Id, Estimated_Commission__c FROM Opportunity "
        "WHERE Id IN ('0065g0000000001AAA','0065g0000000002')"
    )


@pytest.mark.parametrize("bad", ["0065g0000000001AA' OR Id != '", "006", "0065g000000000!AAA"])
def test_an_id_that_is_not_a_salesforce_id_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a Salesforce id"):
        fields_by_ids_query("Opportunity", ["Estimated_Commission__c"], [bad])


def test_a_field_name_that_is_not_an_identifier_is_refused() -> None:
    with pytest.raises(ValueError, match="not a field or object name"):
        fields_by_ids_query("Opportunity", ["Amount FROM User --"], ["0065g0000000001AAA"])
