"""The object, field and user permissions of force-app's Quotaflow_Integration permission set
(`force-app/main/default/permissionsets/Quotaflow_Integration.permissionset-meta.xml`; a test
keeps the two equal). The other Quotaflow permission sets belong to people who use the web
app, not the API, so the devorg stores no permissions for them."""

from __future__ import annotations

from devorg.permissions import PermissionSetGrants

_READ_ONLY = (
    "Opportunity.Amount", "Opportunity.Cancel_Date__c", "Opportunity.Product_Family__c",
    "Opportunity.Term_Months__c", "Opportunity.TotalOpportunityQuantity", "Opportunity.Type",
    "User.Comp_Plan__c", "User.End_Date__c", "User.Hire_Date__c", "User.Quota__c",
    "User.Region__c", "User.Target_Incentive__c",
)  # fmt: skip
_EDITABLE = (
    "Opportunity.Estimated_Commission__c", "Opportunity.SPIFF_Status__c",
    "User.Earnings_To_Date__c", "User.Quota_Attainment__c",
)  # fmt: skip

INTEGRATION = PermissionSetGrants(
    # (read, create, edit, delete)
    objects={"Account": (True, False, False, False), "Opportunity": (True, False, True, False)},
    fields={
        **{name: (True, False) for name in _READ_ONLY},
        **{name: (True, True) for name in _EDITABLE},
    },
    user_permissions=(
        "ApiEnabled",
        "EditTask",
        "ManageInternalUsers",
        "ViewAllUsers",
        "ViewRoles",
        "ViewSetup",
    ),
)
GRANTS = {"Quotaflow_Integration": INTEGRATION}
