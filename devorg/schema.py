"""The devorg's sObjects: field specs, Salesforce describe JSON, SQLite tables and record ids."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class FieldSpec:
    """One field of an sObject, as describe reports it."""

    name: str
    type: str
    label: str
    custom: bool = False
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    filterable: bool = True
    precision: int = 0
    scale: int = 0
    length: int = 0
    picklist_values: tuple[str, ...] = ()
    restricted_picklist: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    default_value: object = None


@dataclass(frozen=True)
class ObjectSpec:
    """One sObject: its describe header and fields."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    custom: bool
    fields: tuple[FieldSpec, ...]
    deletable: bool
    queryable: bool = True

    def field(self, name: str) -> FieldSpec | None:
        """The field called `name`, case-insensitively (SOQL and REST ignore case)."""
        return _field_index(self).get(name.lower())

    def relationship(self, name: str) -> FieldSpec | None:
        """The reference field whose relationship name is `name` (case-insensitive)."""
        low = name.lower()
        for spec in self.fields:
            if spec.relationship_name and spec.relationship_name.lower() == low:
                return spec
        return None

    @property
    def has_is_deleted(self) -> bool:
        """Whether rows can be soft-deleted (Users, Profiles, ... cannot)."""
        return self.field("IsDeleted") is not None


_FIELD_INDEX: dict[str, dict[str, FieldSpec]] = {}


def _field_index(obj: ObjectSpec) -> dict[str, FieldSpec]:
    index = _FIELD_INDEX.get(obj.name)
    if index is None:
        index = {spec.name.lower(): spec for spec in obj.fields}
        _FIELD_INDEX[obj.name] = index
    return index


_TEXT_LENGTH = {"string": 255, "picklist": 255, "email": 80, "phone": 40, "url": 255}


def _label(name: str) -> str:
    base = name.removesuffix("__c").replace("_", " ")
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2] + " ID"
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", base)


def _f(name: str, type_: str, **kw: Any) -> FieldSpec:
    kw.setdefault("label", _label(name))
    kw.setdefault("custom", name.endswith("__c"))
    if type_ in _TEXT_LENGTH:
        kw.setdefault("length", _TEXT_LENGTH[type_])
    if type_ == "boolean":
        # Booleans are never null in Salesforce; they default to false.
        kw.setdefault("nillable", False)
        kw.setdefault("default_value", False)
    if "picklist_values" in kw:
        kw["picklist_values"] = tuple(kw["picklist_values"])
    return FieldSpec(name=name, type=type_, **kw)


def _ref(name: str, target: str, rel: str, **kw: Any) -> FieldSpec:
    return _f(name, "reference", length=18, reference_to=(target,), relationship_name=rel, **kw)


_RO = {"createable": False, "updateable": False}
_CURRENCIES = ("USD", "EUR", "GBP")
FAMILIES = ("Platform", "Analytics", "Services")

# StageName -> (default Probability, IsClosed, IsWon): Salesforce's standard sales process.
STAGES: Mapping[str, tuple[int, bool, bool]] = MappingProxyType(
    {
        "Prospecting": (10, False, False),
        "Qualification": (10, False, False),
        "Needs Analysis": (20, False, False),
        "Proposal/Price Quote": (75, False, False),
        "Negotiation/Review": (90, False, False),
        "Closed Won": (100, True, True),
        "Closed Lost": (0, True, False),
    }
)
SPIFF_STATUSES = ("Not Eligible", "Eligible", "Qualified", "Paid")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
ACCOUNT_TYPES = ("Prospect", "Customer - Direct", "Customer - Channel", "Partner")
INDUSTRIES = ("Technology", "Finance", "Healthcare", "Manufacturing", "Retail", "Energy", "Media")
# Salesforce's User.UserType values (the user license decides it).
USER_TYPES = (
    "Standard", "PowerPartner", "PowerCustomerSuccess", "CustomerSuccess", "Guest",
    "CspLitePortal", "CsnOnly", "SelfService", "AutomatedProcess", "CloudIntegrationUser",
)  # fmt: skip
# Opportunity.ForecastCategoryName; a stage brings its default (closed won: Closed, closed
# lost: Omitted, open stages of the standard sales process: Pipeline).
FORECAST_CATEGORIES = ("Omitted", "Pipeline", "Best Case", "Commit", "Closed")
ORGANIZATION_TYPES = (
    "Developer Edition", "Enterprise Edition", "Unlimited Edition", "Professional Edition",
    "Base Edition", "Team Edition",
)  # fmt: skip
# Custom fields of the customer's own, not Quotaflow's package (force-app does not ship them,
# and Quotaflow_Integration cannot read them).
CUSTOMER_FIELDS = frozenset({"Opportunity.Gross_Margin__c"})
TEAM_ROLES = (
    "Account Manager",
    "Sales Engineer",
    "Executive Sponsor",
    "Channel Manager",
    "Lead Qualifier",
)


def _head(deletable: bool) -> tuple[FieldSpec, ...]:
    id_field = _f("Id", "id", nillable=False, length=18, label="Record ID", **_RO)
    if not deletable:
        return (id_field,)
    return (id_field, _f("IsDeleted", "boolean", label="Deleted", **_RO))


def _audit() -> tuple[FieldSpec, ...]:
    return (
        _f("CreatedDate", "datetime", nillable=False, **_RO),
        _ref("CreatedById", "User", "CreatedBy", nillable=False, **_RO),
        _f("LastModifiedDate", "datetime", nillable=False, **_RO),
        _ref("LastModifiedById", "User", "LastModifiedBy", nillable=False, **_RO),
        _f("SystemModstamp", "datetime", nillable=False, label="System Modstamp", **_RO),
    )


def _obj(name: str, prefix: str, fields: Iterable[FieldSpec], **kw: Any) -> ObjectSpec:
    deletable = kw.pop("deletable", True)
    label = kw.pop("label", _label(name))
    return ObjectSpec(
        name=name,
        label=label,
        label_plural=kw.pop("label_plural", label + "s"),
        key_prefix=prefix,
        custom=False,
        fields=_head(deletable) + tuple(fields) + _audit(),
        deletable=deletable,
        **kw,
    )


def _currency(name: str, **kw: Any) -> FieldSpec:
    return _f(name, "currency", precision=16, scale=2, **kw)


# The catalogue reads best as a table, one field per line.
# fmt: off
def _iso() -> FieldSpec:
    return _f("CurrencyIsoCode", "picklist", length=3, picklist_values=_CURRENCIES,
              restricted_picklist=True, label="Currency ISO Code", default_value="USD")


_ZONES = ("America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Berlin",
          "Asia/Singapore", "GMT")


def _user_fields() -> tuple[FieldSpec, ...]:
    return (
        _f("Username", "string", length=80, nillable=False),
        _f("FirstName", "string", length=40),
        _f("LastName", "string", length=80, nillable=False),
        _f("Name", "string", length=121, label="Full Name", **_RO),
        _f("Email", "email", length=128, nillable=False),
        _f("Title", "string", length=80),
        _f("Department", "string", length=80),
        _f("IsActive", "boolean", label="Active", default_value=True),
        _ref("ManagerId", "User", "Manager"),
        _ref("ProfileId", "Profile", "Profile", nillable=False),
        _iso(),
        _f("TimeZoneSidKey", "picklist", length=40, nillable=False, label="Time Zone",
           picklist_values=_ZONES),
        _f("Comp_Plan__c", "string", length=80),
        _f("Hire_Date__c", "date"),
        _f("End_Date__c", "date"),
        _currency("Quota__c"),
        _currency("Target_Incentive__c"),
        _f("Region__c", "picklist", picklist_values=("NA", "EMEA", "APAC")),
        _f("Quota_Attainment__c", "percent", precision=6, scale=2),
        _currency("Earnings_To_Date__c"),
        # Set by the user's license: people are Standard; Salesforce also returns its own
        # Automated Process and integration users, site guests, Chatter Free (CsnOnly) and
        # partner/portal users on every User query.
        _f("UserType", "picklist", length=40, label="User Type", picklist_values=USER_TYPES,
           restricted_picklist=True, **_RO),
    )


def _opportunity_fields() -> tuple[FieldSpec, ...]:
    return (
        _f("Name", "string", length=120, nillable=False, label="Opportunity Name"),
        _ref("AccountId", "Account", "Account"),
        _ref("OwnerId", "User", "Owner", nillable=False),
        _currency("Amount"),
        _f("CloseDate", "date", nillable=False),
        _f("StageName", "picklist", length=40, nillable=False, label="Stage",
           picklist_values=tuple(STAGES)),
        _f("Probability", "percent", precision=3, scale=0, label="Probability (%)"),
        _f("IsClosed", "boolean", label="Closed", **_RO),
        _f("IsWon", "boolean", label="Won", **_RO),
        _f("Type", "picklist", label="Opportunity Type",
           picklist_values=("New Business", "Renewal", "Upsell")),
        _f("LeadSource", "picklist", label="Lead Source", picklist_values=LEAD_SOURCES),
        _f("TotalOpportunityQuantity", "double", precision=18, scale=2, label="Quantity"),
        _iso(),
        _f("Description", "textarea", length=32000, filterable=False),
        _f("Product_Family__c", "picklist", picklist_values=FAMILIES),
        _f("Term_Months__c", "double", precision=3, scale=0),
        _f("Cancel_Date__c", "date"),
        _currency("Estimated_Commission__c"),
        _f("SPIFF_Status__c", "picklist", label="SPIFF Status", picklist_values=SPIFF_STATUSES,
           restricted_picklist=True),
        _ref("RecordTypeId", "RecordType", "RecordType", label="Record Type ID"),
        _f("ForecastCategoryName", "picklist", length=40, label="Forecast Category",
           picklist_values=FORECAST_CATEGORIES),
        _ref("Pricebook2Id", "Pricebook2", "Pricebook2", label="Price Book ID"),
        _f("HasOpportunityLineItem", "boolean", label="Has Line Item", **_RO),
        # A field of the customer's own that Quotaflow's permission set does not grant: the
        # integration user can neither see it in describe nor query it.
        _currency("Gross_Margin__c"),
    )


def _organization_fields() -> tuple[FieldSpec, ...]:
    return (
        _f("Name", "string", length=80, nillable=False, **_RO),
        _f("Division", "string", length=80, **_RO),
        _f("Country", "string", length=80, **_RO),
        _f("DefaultLocaleSidKey", "picklist", length=40, nillable=False, label="Locale",
           picklist_values=("en_US", "en_GB", "de_DE", "fr_FR", "ja_JP"), **_RO),
        _f("LanguageLocaleKey", "picklist", length=40, nillable=False, label="Language",
           picklist_values=("en_US", "de", "fr", "ja"), **_RO),
        _f("TimeZoneSidKey", "picklist", length=40, nillable=False, label="Time Zone",
           picklist_values=_ZONES, **_RO),
        _f("FiscalYearStartMonth", "int", label="Fiscal Year Starts In", **_RO),
        _f("UsesStartDateAsFiscalYearName", "boolean", label="Fiscal Year Name by Start", **_RO),
        _f("IsSandbox", "boolean", label="Is Sandbox", **_RO),
        _f("OrganizationType", "picklist", length=40, label="Edition",
           picklist_values=ORGANIZATION_TYPES, **_RO),
        _f("InstanceName", "string", length=5, label="Instance Name", **_RO),
        _f("NamespacePrefix", "string", length=15, label="Namespace Prefix", **_RO),
        _f("TrialExpirationDate", "datetime", label="Trial Expiration Date", **_RO),
        _f("DefaultOpportunityAccess", "picklist", length=40, label="Default Opportunity Access",
           picklist_values=("None", "Read", "Edit"), **_RO),
    )


# Task.Status and Priority: the standard TaskStatus and TaskPriority values of a new org;
# "Completed" is the one closed status (Task.IsClosed follows it).
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else",
                 "Deferred")
TASK_CLOSED_STATUSES = frozenset({"Completed"})
TASK_PRIORITIES = ("High", "Normal", "Low")


def _task_fields() -> tuple[FieldSpec, ...]:
    # The standard fields of the Object Reference's Task a client sets through the API, and the
    # read-only ones Salesforce derives from them. WhatId is polymorphic (the related record:
    # an Account or Opportunity here); WhoId names a Contact or Lead, which this org lacks, so
    # any id given for it is refused as Salesforce refuses an id of the wrong object.
    return (
        _f("Subject", "combobox", length=255),
        _f("ActivityDate", "date", label="Due Date Only"),
        _f("Status", "picklist", length=40, nillable=False, picklist_values=TASK_STATUSES,
           default_value="Not Started"),
        _f("Priority", "picklist", length=40, nillable=False, picklist_values=TASK_PRIORITIES,
           default_value="Normal"),
        _f("IsHighPriority", "boolean", label="High Priority", **_RO),
        _ref("OwnerId", "User", "Owner", nillable=False, label="Assigned To ID"),
        _f("Description", "textarea", length=32000, filterable=False),
        _f("WhoId", "reference", length=18, reference_to=("Contact", "Lead"),
           relationship_name="Who", label="Name ID"),
        _f("WhatId", "reference", length=18, reference_to=("Account", "Opportunity"),
           relationship_name="What", label="Related To ID"),
        _ref("AccountId", "Account", "Account", label="Account ID", **_RO),
        _f("IsClosed", "boolean", label="Closed", **_RO),
    )


def _build_objects() -> dict[str, ObjectSpec]:
    objs = [
        _obj("Profile", "00e", [_f("Name", "string", nillable=False)], deletable=False),
        _obj("User", "005", _user_fields(), deletable=False),
        _obj("Account", "001", [
            _f("Name", "string", nillable=False, label="Account Name"),
            _f("Type", "picklist", label="Account Type", picklist_values=ACCOUNT_TYPES),
            _f("Industry", "picklist", picklist_values=INDUSTRIES),
            _f("BillingCountry", "string", length=80),
            _ref("OwnerId", "User", "Owner", nillable=False), _iso()]),
        _obj("Product2", "01t", [
            _f("Name", "string", nillable=False, label="Product Name"),
            _f("ProductCode", "string"),
            _f("Family", "picklist", label="Product Family", picklist_values=FAMILIES),
            _f("IsActive", "boolean", label="Active", default_value=True)],
            label="Product", label_plural="Products"),
        _obj("CurrencyType", "02c", [
            _f("IsoCode", "picklist", length=3, nillable=False, picklist_values=_CURRENCIES,
               label="Currency ISO Code"),
            _f("ConversionRate", "double", precision=18, scale=6, nillable=False),
            _f("IsCorporate", "boolean", label="Corporate Currency"),
            _f("IsActive", "boolean", label="Active", default_value=True)],
            deletable=False, label="Currency", label_plural="Currencies"),
        # Advanced currency management: each rate applies from StartDate up to the next
        # StartDate of the same currency (NextStartDate, read-only, kept by Salesforce).
        # No IsDeleted, and not createable through the API (Salesforce allows update and
        # delete; the devorg updates only).
        _obj("DatedConversionRate", "04w", [
            _f("IsoCode", "picklist", length=3, nillable=False, picklist_values=_CURRENCIES,
               restricted_picklist=True, label="Currency ISO Code"),
            _f("ConversionRate", "double", precision=18, scale=6, nillable=False,
               label="Exchange Rate"),
            _f("StartDate", "date", nillable=False, label="Date"),
            _f("NextStartDate", "date", label="Next Start Date", **_RO)],
            deletable=False, label="Dated Conversion Rate"),
        _obj("Opportunity", "006", _opportunity_fields(), label_plural="Opportunities"),
        _obj("Organization", "00D", _organization_fields(), deletable=False,
             label_plural="Organizations"),
        _obj("RecordType", "012", [
            _f("Name", "string", length=80, nillable=False, label="Record Type Name"),
            _f("DeveloperName", "string", length=80, nillable=False, label="Record Type Name"),
            _f("NamespacePrefix", "string", length=15, **_RO),
            _f("Description", "string", length=255),
            _f("SobjectType", "picklist", length=40, nillable=False, label="SObject Type Name",
               picklist_values=("Account", "Opportunity")),
            _f("IsActive", "boolean", label="Active", default_value=True)],
            deletable=False, label="Record Type"),
        _obj("Pricebook2", "01s", [
            _f("Name", "string", nillable=False, label="Price Book Name"),
            _f("Description", "string"),
            _f("IsActive", "boolean", label="Active", default_value=True),
            _f("IsStandard", "boolean", label="Is Standard Price Book", **_RO)],
            label="Price Book", label_plural="Price Books"),
        _obj("OpportunitySplitType", "149", [
            _f("DeveloperName", "string", length=80, nillable=False, label="Name"),
            _f("MasterLabel", "string", length=80, nillable=False, label="Label"),
            _f("IsTotalValidated", "boolean", label="Must Total 100%"),
            _f("IsActive", "boolean", label="Active", default_value=True)],
            deletable=False, label="Opportunity Split Type"),
        _obj("OpportunitySplit", "04g", [
            _ref("OpportunityId", "Opportunity", "Opportunity", nillable=False),
            _ref("SplitOwnerId", "User", "SplitOwner", nillable=False, label="Team Member ID"),
            _f("SplitPercentage", "percent", precision=5, scale=2, nillable=False,
               label="Percent (%)"),
            _ref("SplitTypeId", "OpportunitySplitType", "SplitType", nillable=False),
            _currency("SplitAmount", label="Amount", **_RO),
            _f("SplitNote", "string", label="Note")],
            label="Opportunity Split"),
        _obj("OpportunityTeamMember", "00q", [
            _ref("OpportunityId", "Opportunity", "Opportunity", nillable=False),
            _ref("UserId", "User", "User", nillable=False),
            _f("TeamMemberRole", "picklist", length=40, label="Team Role",
               picklist_values=TEAM_ROLES),
            _f("OpportunityAccessLevel", "picklist", length=40, nillable=False,
               picklist_values=("Read", "Edit"), restricted_picklist=True,
               label="Opportunity Access", default_value="Read")],
            label="Opportunity Team Member"),
        _obj("OpportunityLineItem", "00k", [
            _ref("OpportunityId", "Opportunity", "Opportunity", nillable=False),
            _ref("Product2Id", "Product2", "Product2"),
            _f("Quantity", "double", precision=12, scale=2, nillable=False),
            _currency("UnitPrice", label="Sales Price"),
            _currency("TotalPrice", label="Total Price")],
            label="Opportunity Product"),
        _obj("PermissionSet", "0PS", [
            _f("Name", "string", length=80, nillable=False),
            _f("Label", "string", length=80, nillable=False),
            _f("Description", "string", length=255),
            # Profiles own a hidden permission set each; ours are standalone ones.
            _f("IsOwnedByProfile", "boolean", label="Is Owned By Profile", **_RO)],
            deletable=False),
        _obj("PermissionSetAssignment", "0Pa", [
            _ref("AssigneeId", "User", "Assignee", nillable=False, label="Assignee ID"),
            _ref("PermissionSetId", "PermissionSet", "PermissionSet", nillable=False)],
            deletable=False),
        _obj("Task", "00T", _task_fields()),
    ]
    return {obj.name: obj for obj in objs}
# fmt: on


OBJECTS: Mapping[str, ObjectSpec] = MappingProxyType(_build_objects())
_BY_LOWER = {name.lower(): obj for name, obj in OBJECTS.items()}
_BY_PREFIX = {obj.key_prefix: obj for obj in OBJECTS.values()}


def get_object(name: str) -> ObjectSpec | None:
    """The sObject called `name`, case-insensitively."""
    return _BY_LOWER.get(name.lower())


def object_for_id(record_id: str) -> ObjectSpec | None:
    """The sObject whose key prefix starts `record_id`."""
    return _BY_PREFIX.get(record_id[:3])


# Storage type per describe type (see the devorg contract).
SQL_TYPES: Mapping[str, str] = MappingProxyType(
    {"datetime": "INTEGER", "boolean": "INTEGER", "int": "INTEGER", "date": "TEXT"}
    | dict.fromkeys(("currency", "double", "percent"), "REAL")
)


def sql_type(field: FieldSpec) -> str:
    """The SQLite column type of a field."""
    return SQL_TYPES.get(field.type, "TEXT")


def create_tables(conn: sqlite3.Connection) -> None:
    """Create every sObject table and its indexes (idempotent)."""
    for obj in OBJECTS.values():
        cols = ", ".join(
            f'"{f.name}" {sql_type(f)}' + (" PRIMARY KEY" if f.name == "Id" else "")
            for f in obj.fields
        )
        conn.execute(f'CREATE TABLE IF NOT EXISTS "{obj.name}" ({cols})')
        # A data directory from an older devorg lacks the fields added since: add them (null).
        have = {str(r[1]) for r in conn.execute(f'PRAGMA table_info("{obj.name}")')}
        for f in obj.fields:
            if f.name not in have:
                conn.execute(f'ALTER TABLE "{obj.name}" ADD COLUMN "{f.name}" {sql_type(f)}')
        conn.execute(
            f'CREATE INDEX IF NOT EXISTS "ix_{obj.name}_modstamp" '
            f'ON "{obj.name}" ("SystemModstamp", "Id")'
        )
        for f in obj.fields:
            if f.type == "reference" and f.name not in ("CreatedById", "LastModifiedById"):
                conn.execute(
                    f'CREATE INDEX IF NOT EXISTS "ix_{obj.name}_{f.name}" '
                    f'ON "{obj.name}" ("{f.name}")'
                )


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# A fake pod id in positions 4-5 and the reserved character, like "a0B5g0" in real ids.
_POD = "5g0"


def id_suffix(id15: str) -> str:
    """Salesforce's 3-character case-safe checksum of a 15-character id."""
    out = []
    for start in (0, 5, 10):
        bits = 0
        for i, ch in enumerate(id15[start : start + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX[bits])
    return "".join(out)


def new_id(object_name: str, n: int) -> str:
    """The deterministic 18-character id of the `n`-th record of an object."""
    prefix = OBJECTS[object_name].key_prefix
    digits = []
    for _ in range(9):
        n, rem = divmod(n, 62)
        digits.append(_B62[rem])
    id15 = prefix + _POD + "".join(reversed(digits))
    return id15 + id_suffix(id15)


def to_id18(record_id: str) -> str:
    """An 18-character id from a 15- or 18-character one."""
    return record_id + id_suffix(record_id) if len(record_id) == 15 else record_id


def describe_sobject(name: str, *, base_url: str, api_version: str) -> dict[str, Any] | None:
    """`GET /sobjects/{name}/describe` JSON, or None for an unknown object."""
    from devorg import schema_describe  # the JSON builders live apart to keep modules small

    return schema_describe.describe_sobject(name, base_url=base_url, api_version=api_version)


def describe_global(*, base_url: str, api_version: str) -> dict[str, Any]:
    """`GET /sobjects/` JSON."""
    from devorg import schema_describe

    return schema_describe.describe_global(base_url=base_url, api_version=api_version)
