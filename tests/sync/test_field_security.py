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
