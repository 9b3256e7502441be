"""Against the strict devorg the integration user may edit only the write-back fields its
permission set grants: a mapping that targets another field fails validation before any
data is pulled, naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

import mappings
from connector.pull.describes import load_describes
from connector.salesforce.errors import InvalidMapping
from mappings.loader import load_mapping

from .conftest import running_org  # type: ignore[import-not-found]

DEFAULT = Path(mappings.__file__).parent / "default_mapping.yaml"


def test_mapping_targeting_a_field_the_integration_user_cannot_edit_fails(
    tmp_path: Path,
) -> None:
    text = DEFAULT.read_text()
    with running_org(tmp_path) as org:
        assert load_describes(org.deps.gateway, load_mapping(text))  # the shipped one fits
        # Opportunity.Term_Months__c is read-only in Quotaflow_Integration.
        bad = text.replace(
            "deal_commission: Opportunity.Estimated_Commission__c",
            "deal_commission: Opportunity.Term_Months__c",
        )
        with pytest.raises(InvalidMapping, match="Term_Months__c is not updateable"):
            load_describes(org.deps.gateway, load_mapping(bad))


def test_mapping_reading_a_field_the_integration_user_cannot_see_fails(tmp_path: Path) -> None:
    # Opportunity.Gross_Margin__c exists in the org but Quotaflow_Integration does not grant
    # read access: describe leaves it out, so the mapping fails before any data is pulled
    # (a query naming it would be INVALID_FIELD "No such column").
    text = DEFAULT.read_text().replace(
        "\nsplit:\n",
        "  attributes:\n    margin: {source: Gross_Margin__c, type: decimal}\n\nsplit:\n",
    )
    assert "Gross_Margin__c" in text
    with running_org(tmp_path) as org:
        with pytest.raises(InvalidMapping, match="Gross_Margin__c"):
            load_describes(org.deps.gateway, load_mapping(text))
        soql = "SELECT Id, Gross_Margin__c FROM Opportunity LIMIT 1"
        assert org.client.query(soql)  # a System Administrator sees it
